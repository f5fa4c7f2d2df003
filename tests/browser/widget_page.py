"""What the browser tests share: the host site, fresh numbers, contexts that record events."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Locator, Page
from support.ports import free_port

# Phones ring and people answer 10x faster than real time; the widget's timers run in real time.
TIME_SCALE = 10
PAGES = Path(__file__).parent / "pages"
EVENTS = ("shown", "open", "close", "submitted", "status", "error")
RECORD_EVENTS = "window.__events = [];" + "".join(
    f"addEventListener('callback:{name}', function (e) {{"
    f" window.__events.push({{name: '{name}', detail: e.detail}}); }});"
    for name in EVENTS
)
_numbers = itertools.count(200)


def number() -> str:
    """A fresh valid Estonian mobile number for each phone in each test."""
    return f"+372556{next(_numbers):05d}"


@dataclass
class HostSite:
    """A shop's site on its own origin: pages registered by the tests, files from `pages/`."""

    web_url: str
    port: int = field(default_factory=free_port)
    pages: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page(
        self,
        path: str,
        key: str | None,
        body: str = "",
        head: str = "",
        lang: str | None = "en",
        title: str = "Host page",
        csp: str | None = None,
        web_url: str | None = None,
    ) -> str:
        """Register an HTML page embedding the widget `key` (None: no widget); its URL.

        `web_url`: the Callback server to load the widget from (and so talk to), if not the
        running system's own web process."""
        embed = (
            f'<script async src="{web_url or self.web_url}/widget.js" data-widget="{key}"></script>'
            if key
            else ""
        )
        lang_attr = f' lang="{lang}"' if lang else ""
        html = (
            f"<!doctype html><html{lang_attr}><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title>{head}{embed}</head><body>{body}</body></html>"
        )
        headers = {"Content-Security-Policy": csp} if csp else {}
        self.pages[path.split("?")[0]] = (html, headers)
        return self.origin + path

    def serve(self) -> ThreadingHTTPServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path in site.pages:
                    text, headers = site.pages[path]
                    self._send(200, "text/html; charset=utf-8", text.encode(), headers)
                elif (PAGES / path.lstrip("/")).is_file() and ".." not in path:
                    kind = "text/css" if path.endswith(".css") else "text/plain"
                    self._send(200, kind, (PAGES / path.lstrip("/")).read_bytes(), {})
                else:
                    self._send(404, "text/plain", b"not found", {})

            def _send(self, status: int, kind: str, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return ThreadingHTTPServer(("127.0.0.1", self.port), Handler)


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    options.setdefault("viewport", {"width": 1280, "height": 800})
    options.setdefault("locale", "en-US")
    ctx = browser.new_context(**options)
    ctx.add_init_script(RECORD_EVENTS)
    ctx.set_default_timeout(10_000)
    return ctx


def events(page: Page, name: str | None = None) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = page.evaluate("window.__events")
    return [e for e in recorded if name is None or e["name"] == name]


class Visitor:
    """One visitor of the host site in one browser context: pages, tabs, the widget's parts."""

    def __init__(self, ctx: BrowserContext, site: HostSite, key: str) -> None:
        self.ctx, self.site, self.key = ctx, site, key
        self.page = ctx.new_page()

    def go(self, path: str, body: str = "", **options: Any) -> Page:
        """Open `path` (a page embedding the widget) and wait until the widget is on it."""
        self.page.goto(self.site.page(path, self.key, body=body, **options))
        self.launcher.wait_for()
        return self.page

    def new_tab(self) -> Page:
        """A new tab: same visitor (localStorage), new session (sessionStorage)."""
        self.page = self.ctx.new_page()
        return self.page

    @property
    def launcher(self) -> Locator:
        return self.page.locator("callback-widget .fab")

    @property
    def panel(self) -> Locator:
        return self.page.locator("callback-widget [role=dialog]")

    def opened(self) -> list[dict[str, Any]]:
        return [e["detail"] for e in events(self.page, "open")]
