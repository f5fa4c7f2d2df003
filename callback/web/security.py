"""Security headers on every response, in one `after_request`.

Views and blueprints that know better set their own first (the admin pages' CSP and
`X-Frame-Options: SAMEORIGIN` so the widget preview can be framed by the admin, the demo
shop's CSP, widget.js's caching): everything here is a `setdefault`, so this only fills in
what is missing. What it fills in is the strictest value that still works:

- `X-Content-Type-Options: nosniff` everywhere (no JSON or text read as a script);
- `Referrer-Policy: strict-origin-when-cross-origin` (status links carry a token);
- for everything but HTML pages, `Content-Security-Policy: default-src 'none';
  frame-ancestors 'none'`: a JSON answer or a script needs no resources and no frame;
- for HTML pages without a policy of their own, a same-origin policy;
- `X-Frame-Options: DENY` unless a page allowed framing (the admin's preview);
- `Strict-Transport-Security` when PUBLIC_URL is https (the browser then never tries http).
"""

from __future__ import annotations

from flask import Flask, Response

from ..config import Settings

NON_HTML_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HTML_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app: Flask, settings: Settings) -> None:
    https = settings.public_url.startswith("https://")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        html = response.mimetype == "text/html"
        headers.setdefault("Content-Security-Policy", HTML_CSP if html else NON_HTML_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
