"""The signature on outbound webhooks: `X-Callback-Signature: t=<unix>,v1=<hex>`.

v1 is HMAC-SHA256 with the endpoint's secret over `f"{t}.{body}"`, the raw body bytes as
sent. The timestamp is inside the MAC so a captured request cannot be replayed later with a
fresh `t`; receivers refuse timestamps older than a few minutes. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Callback-Signature"
# How far a receiver should let `t` drift from its own clock (the README's snippet uses it).
TOLERANCE_S = 300


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={_mac(secret, str(timestamp), body)}"


def verify(
    secret: str, header: str | None, body: bytes, now: float, tolerance_s: int = TOLERANCE_S
) -> bool:
    """True when `header` signs `body` with `secret` and its time is within the tolerance."""
    if not header:
        return False
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, value)
    timestamp, given = fields.get("t", ""), fields.get("v1", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(_mac(secret, timestamp, body), given)


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    signed = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
