"""The README's receiver, run as written, accepts our deliveries (verifying them with the
``standardwebhooks`` package), handles a redelivered event once, and refuses a forged one."""

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from webhooks import sending
from webhooks.models import Delivery
from webhooks.services import deliveries_due_hand_out, delivery_redeliver, endpoint_create

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    section = README.read_text().split("**Verifying a delivery**", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


@pytest.fixture
def running_receiver(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = tmp_path / "receiver.py"
    script.write_text(readme_receiver())
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" + "AAAAAAAAAAA="
    process = subprocess.Popen(  # noqa: S603 - the README's own script
        [sys.executable, str(script)],
        env={"WEBHOOK_SECRET": secret, "PORT": str(port), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, process.stderr.read() if process.poll() is not None else "no start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/", secret, process
    process.terminate()
    process.wait(timeout=10)


def test_the_readme_receiver_verifies_our_deliveries(running_receiver, product, owner, local_receivers, make_story):
    url, secret, process = running_receiver
    endpoint = endpoint_create(product=product, actor=owner, url=url, events=["item.created"])
    endpoint.secret = secret
    endpoint.save()
    item = make_story("Read me")
    deliveries_due_hand_out()
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.DELIVERED
    assert delivery.last_status == 204
    delivery_redeliver(delivery=delivery, actor=owner)  # the same event again: handled once
    deliveries_due_hand_out()
    assert Delivery.objects.get().last_status == 204

    forged = sending.post(url=url, secret="whsec_" + "B" * 44, event_id="msg_forged", body=b'{"type":"x"}')
    assert forged.status_code == 400
    process.terminate()
    out, _ = process.communicate(timeout=10)
    assert out.splitlines() == [f"item.created {item.key}"]
