"""A TCP proxy the tests can break: cut every connection and refuse new ones, or stall them.

The system under test reaches Redis or PostgreSQL through it, so a test can take the server
"away" for N seconds without touching the real server (which other test runs share):

- `down()` closes every open connection and resets new ones until `up()`: a crashed or
  restarting server;
- `stall()` keeps connections open but forwards nothing until `up()`: a server that hangs
  (as under `CLIENT PAUSE` or a stop-the-world pause).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    @classmethod
    def for_url(cls, url: str, default_port: int) -> tuple[TcpProxy, str]:
        """A proxy in front of the server of `url`, and the same URL pointing at the proxy."""
        parsed = urlparse(url)
        proxy = cls(parsed.hostname or "127.0.0.1", parsed.port or default_port)
        auth = parsed.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
        return proxy, urlunparse(parsed._replace(netloc=netloc))

    def down(self) -> None:
        with self._lock:
            self._refusing = True
            self._flowing.set()
            self._close_all()

    def stall(self) -> None:
        self._flowing.clear()

    def up(self) -> None:
        with self._lock:
            self._refusing = False
        self._flowing.set()

    @contextmanager
    def outage(self, kind: str = "down") -> Iterator[None]:
        (self.down if kind == "down" else self.stall)()
        try:
            yield
        finally:
            self.up()

    def close(self) -> None:
        self._closed = True
        self.up()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            self._close_all()

    # -- the plumbing ------------------------------------------------------------------------

    def _close_all(self) -> None:
        for sock in list(self._open):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self._open.clear()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
            if refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()  # a stall holds the bytes back (bounded by up())
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                # shutdown() first: close() alone does not send FIN while the other pump is
                # still blocked in recv() on the socket, and the server would wait for ever
                # (a PostgreSQL backend left idle in transaction, holding its row locks).
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
