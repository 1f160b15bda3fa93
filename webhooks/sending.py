"""One signed HTTP POST to a webhook endpoint, and the address rules that guard it.

Signing follows the Standard Webhooks specification (https://www.standardwebhooks.com/):
``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``, ``v1,`` and the
base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed with the secret's bytes (the part after
``whsec_``, base64-decoded), so any Standard Webhooks library verifies it.

Requests are made here with ``http.client`` to the address the host resolved to, checked just
before connecting (DNS can change between saving an endpoint and delivering to it, and a second
look-up could answer differently): no private, loopback, link-local, multicast or reserved
address unless ``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES``; http and https only; bounded connect and read
timeouts; redirects are not followed (a 3xx is a failed attempt); at most
``RESPONSE_BODY_LIMIT`` bytes of the answer are read.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = "OneBacklog-Webhooks/1"


class RefusedUrl(ValueError):
    """The URL may not be delivered to: its scheme, its form, or where its host points."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int
    body: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(*, secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for one message."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def parse(url: str) -> Target:
    """The parts of an endpoint URL, or RefusedUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as bad:
        raise RefusedUrl(f"Not a valid URL: {bad}.") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("Only http and https URLs receive webhooks.")
    if not parts.hostname:
        raise RefusedUrl("The URL names no host.")
    if parts.username or parts.password:
        raise RefusedUrl("Put no credentials in the URL; verify the signature instead.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def refused_reason(address: str) -> str | None:
    """Why an IP address is not a place to deliver to (None if it is public)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, what in (
        ("is_loopback", "a loopback"),
        ("is_private", "a private"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_reserved", "a reserved"),
        ("is_unspecified", "an unspecified"),
    ):
        if getattr(ip, test):
            return f"{what} address ({ip})"
    if not ip.is_global:
        return f"a non-public address ({ip})"
    return None


def resolve(target: Target) -> list[str]:
    """The addresses the host resolves to, all of them allowed, or RefusedUrl."""
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedUrl(f"The host {target.host} does not resolve.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            reason = refused_reason(address)
            if reason:
                raise RefusedUrl(
                    f"{target.host} points to {reason}: webhooks are not sent to private networks "
                    "(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES)."
                )
    return addresses


def check(url: str) -> None:
    """Refuse (RefusedUrl) a URL that could not be delivered to now."""
    resolve(parse(url))


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to an address already checked, naming the host in ``Host``."""

    def __init__(self, target: Target, address: str) -> None:
        super().__init__(target.host, target.port, timeout=settings.WEBHOOKS_CONNECT_TIMEOUT)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), settings.WEBHOOKS_CONNECT_TIMEOUT)
        self.sock.settimeout(settings.WEBHOOKS_READ_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedTls(_Pinned):
    def connect(self) -> None:
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


def post(*, url: str, secret: str, event_id: str, body: bytes, timestamp: int | None = None) -> Outcome:
    """POST ``body`` signed to ``url``; whatever happens, say what (never raises for the network)."""
    started = time.monotonic()

    def outcome(status: int | None = None, error: str = "", text: str = "") -> Outcome:
        return Outcome(status, error[:300], round((time.monotonic() - started) * 1000), text)

    try:
        target = parse(url)
        address = resolve(target)[0]
    except RefusedUrl as refused:
        return outcome(error=str(refused))
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, event_id=event_id, timestamp=timestamp, body=body),
    }
    connection = (_PinnedTls if target.scheme == "https" else _Pinned)(target, address)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_BODY_LIMIT).decode("utf-8", "replace")
        return outcome(response.status, "" if 200 <= response.status < 300 else f"HTTP {response.status}", text)
    except TimeoutError:
        return outcome(error="Timed out waiting for the receiver.")
    except (OSError, http.client.HTTPException) as failed:
        return outcome(error=f"{type(failed).__name__}: {failed}")
    finally:
        connection.close()
