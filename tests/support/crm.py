"""A CRM of the test's own: a real HTTP server on 127.0.0.1 that records every webhook POST
and answers scripted status codes in turn, then 200 (429 comes with Retry-After: 7)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .receiver import QuietHandler


@dataclass(frozen=True)
class Hit:
    body: bytes
    headers: dict[str, str]
    answered: int  # the status code the CRM answered this request with

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def status(self) -> str:
        return str(self.document["status"])


class Crm:
    def __init__(self, *script: int) -> None:
        self._lock = threading.Lock()
        self._script = list(script)
        self.hits: list[Hit] = []
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks/callback"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, *codes: int) -> None:
        """The status codes for the next requests, in turn."""
        with self._lock:
            self._script = list(codes)

    def received(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def accepted(self) -> list[Hit]:
        return [hit for hit in self.received() if hit.answered == 200]

    def stop(self) -> None:
        self._server.shutdown()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            code = self._script.pop(0) if self._script else 200
            self.hits.append(Hit(request.get_data(), dict(request.headers), code))
        headers = {"Retry-After": "7"} if code == 429 else {}
        body = "thanks" if code < 300 else "no"
        return Response(body, status=code, headers=headers)(environ, start_response)
