"""The address rules (SSRF) and the signature, at save time and at delivery time."""

import base64
import hashlib
import hmac

import pytest
from django.core.exceptions import ValidationError
from standardwebhooks import Webhook

from webhooks import sending
from webhooks.models import Endpoint
from webhooks.services import endpoint_create, endpoint_update

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://2130706433/hook",  # 127.0.0.1 in decimal
    "http://0x7f000001/hook",  # in hexadecimal
    "http://017700000001/hook",  # in octal
    "http://127.1/hook",  # shortened
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",  # unique local
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(sending.RefusedUrl, match="private networks"):
        sending.check(url)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "http:///nohost", "http://u:p@8.8.8.8/"],
)
def test_only_plain_http_and_https_urls(url):
    with pytest.raises(sending.RefusedUrl):
        sending.check(url)


def test_public_addresses_pass():
    sending.check("https://8.8.8.8/hook")
    sending.check("http://[2001:4860:4860::8888]:8080/hook")


def test_the_setting_allows_private_addresses(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    sending.check("http://127.0.0.1:9/hook")
    sending.check("http://[::1]/hook")


def test_saving_refuses_a_private_url_and_keeps_the_old_one(settings, product, owner):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as refused:
        endpoint_create(product=product, actor=owner, url="http://2130706433:8000/", events=["item.created"])
    assert "loopback" in refused.value.message_dict["url"][0]
    assert not Endpoint.objects.exists()
    endpoint = endpoint_create(product=product, actor=owner, url="https://8.8.8.8/in", events=["item.created"])
    with pytest.raises(ValidationError):
        endpoint_update(endpoint=endpoint, actor=owner, changes={"url": "http://[::1]/"})
    endpoint.refresh_from_db()
    assert endpoint.url == "https://8.8.8.8/in"


def test_delivery_to_a_refused_address_sends_nothing(settings, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    outcome = sending.post(url=receiver.url, secret="whsec_" + "A" * 44, event_id="msg_1", body=b"{}")
    assert outcome.status_code is None
    assert "loopback" in outcome.error
    assert receiver.requests == []


def test_the_signature_is_the_standard_webhooks_one(settings, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    secret = Endpoint._meta.get_field("secret").default()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    body = b'{"type":"item.created","data":{}}'
    outcome = sending.post(url=receiver.url + "?x=1", secret=secret, event_id="msg_42", body=body)
    assert outcome.succeeded
    [request] = receiver.requests
    assert request.path == "/hook?x=1"
    assert Webhook(secret).verify(request.body, request.headers) == {"type": "item.created", "data": {}}
    # The same, by hand: base64 HMAC-SHA256 of "id.timestamp.body" with the secret's bytes.
    signed = f"msg_42.{request.headers['webhook-timestamp']}.".encode() + body
    digest = hmac.new(base64.b64decode(secret[6:]), signed, hashlib.sha256).digest()
    assert request.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_a_closed_port_is_an_error_not_an_exception(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    outcome = sending.post(url="http://127.0.0.1:9/", secret="whsec_" + "A" * 44, event_id="msg_1", body=b"{}")
    assert outcome.status_code is None
    assert "Connection" in outcome.error or "refused" in outcome.error.lower()
