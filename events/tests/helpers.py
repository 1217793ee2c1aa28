"""Shared by the events tests: a real HTTP receiver on 127.0.0.1, and the webhooks
module switched on for a tenant."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from plans.services import entitlements_changed, tenant_plan_change


def webhooks_on(tenant, on: bool = True) -> None:
    """Give the tenant the webhooks module (an override on its plan), effective now."""
    fresh = type(tenant).objects.get(pk=tenant.pk)  # the shared fixture's object stays as it was
    overrides = dict(fresh.overrides or {})
    overrides["modules"] = {**overrides.get("modules", {}), "webhooks": on}
    tenant_plan_change(tenant=fresh, overrides=overrides)
    # Inside a test's transaction the on-commit invalidation would never run.
    entitlements_changed()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; `answers[path]` gives the statuses to answer in turn (the
    last one repeats), 200 by default; `slow[path]` seconds to wait before answering."""

    base: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    body: dict[str, bytes] = field(default_factory=dict)
    headers_out: dict[str, dict[str, str]] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [request for request in self.requests if request.path == path]

    def wait(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out; received {[(r.path, r.headers.get('webhook-id')) for r in self.requests]}")


def receiver_start() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                served = len([r for r in receiver.requests if r.path == self.path])
                statuses = receiver.answers.get(self.path, [200])
                code = statuses[min(served, len(statuses)) - 1]
            time.sleep(receiver.slow.get(self.path, 0))
            self.send_response(code)
            for name, value in receiver.headers_out.get(self.path, {}).items():
                self.send_header(name, value)
            reply = receiver.body.get(self.path, b"ok")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
