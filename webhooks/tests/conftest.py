"""A real HTTP receiver for webhook tests: a thread running ``http.server`` on 127.0.0.1, port 0.

Each request takes the next planned answer (a status, optionally after a delay); once the plan is
used up it answers 200. Every request is kept: path, headers and body.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backlog.services.items import item_create
from webhooks.models import SUBSCRIBABLE
from webhooks.services import endpoint_create


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    plan: deque = field(default_factory=deque)  # (status, delay seconds, extra headers)
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def answer(self, status: int, *, delay: float = 0.0, times: int = 1, headers: dict | None = None) -> None:
        for _ in range(times):
            self.plan.append((status, delay, headers or {}))


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, delay, headers = receiver.plan.popleft() if receiver.plan else (200, 0.0, {})
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                payload = b"ok" * 2000 if status == 200 else b"no"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    found = Receiver(server)
    server.RequestHandlerClass = _handler(found)
    server.daemon_threads = True
    # Polled every 10 ms for the shutdown (the default half second was a quarter of a second of
    # waiting at the end of each test using it).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_receivers(settings):
    """The test receiver is on loopback: allow private addresses, with short timeouts."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_CONNECT_TIMEOUT = 1.0
    settings.WEBHOOKS_READ_TIMEOUT = 0.5


@pytest.fixture
def endpoint(product, owner, receiver, local_receivers):
    return endpoint_create(product=product, actor=owner, url=receiver.url, events=list(SUBSCRIBABLE))


@pytest.fixture
def make_story(product, owner):
    def make(title: str = "A story"):
        return item_create(product=product, actor=owner, kind="story", title=title)

    return make
