"""A webhook receiver of the test's own: serves scripted TwiML, records every request.

Runs a real HTTP server on 127.0.0.1 in a thread of the test process, so the
simulator (a separate process) reaches it over real HTTP exactly as it would
reach the application.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Received:
    path: str
    method: str
    url: str
    form: dict[str, str]
    args: dict[str, str]
    signature: str | None
    at: float

    @property
    def params(self) -> dict[str, str]:
        return self.form if self.method == "POST" else self.args


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class WebhookReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, Callable[[Received], tuple[int, str]]] = {}
        self.requests: list[Received] = []
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def url(self, path: str) -> str:
        return self.base_url + path

    def twiml(self, path: str, document: str) -> str:
        """Answer `path` with a fixed TwiML document; returns its full URL."""
        return self.respond(path, lambda _: (200, document))

    def respond(self, path: str, handler: Callable[[Received], tuple[int, str]]) -> str:
        with self._lock:
            self._routes[path] = handler
        return self.url(path)

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """Poll until `count` requests reached `path` (or fail after `timeout`)."""
        return wait_until(
            lambda: (r := self.received(path)) and len(r) >= count and r,
            timeout,
            f"{count} request(s) to {path}",
        )

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._routes.clear()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        received = Received(
            path=request.path,
            method=request.method,
            url=request.url,
            form=dict(request.form),
            args=dict(request.args),
            signature=request.headers.get("X-Twilio-Signature"),
            at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(received)
            handler = self._routes.get(request.path)
        if handler is None:
            status, body = 200, "<Response/>"
        else:
            status, body = handler(received)
        return Response(body, status=status, content_type="text/xml")(environ, start_response)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; return it, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)
