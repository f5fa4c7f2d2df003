"""The webhook signature: `t=<unix>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>`."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import pytest

from callback.services.notifications.signature import TOLERANCE_S, signature_header, verify

SECRET = "whsec_test"
BODY = b'{"event":"callback.status","id":"abc","status":"queued"}'
T = 1_795_000_000


def test_the_header_is_the_documented_hmac() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, T, BODY) == f"t={T},v1={expected}"


def test_a_signed_body_verifies() -> None:
    assert verify(SECRET, signature_header(SECRET, T, BODY), BODY, now=T + 10)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("whsec_other", BODY, T),  # another endpoint's secret
        (SECRET, BODY.replace(b"queued", b"failed"), T),  # a changed body
        (SECRET, BODY + b" ", T),  # even one byte
        (SECRET, BODY, T + TOLERANCE_S + 1),  # replayed too late
        (SECRET, BODY, T - TOLERANCE_S - 1),  # from the future
    ],
    ids=["wrong-secret", "changed-body", "extra-byte", "too-old", "too-new"],
)
def test_anything_else_does_not(secret: str, body: bytes, now: int) -> None:
    assert not verify(secret, signature_header(SECRET, T, BODY), body, now=now)


@pytest.mark.parametrize(
    "header",
    [None, "", "v1=abc", f"t={T}", f"t=abc,v1={'0' * 64}", f"t={T},v1=", "garbage", f"t=-{T},v1=x"],
)
def test_malformed_headers_do_not_verify(header: str | None) -> None:
    assert not verify(SECRET, header, BODY, now=T)


def test_the_timestamp_is_signed_too() -> None:
    """Moving `t` forward to pass the freshness check breaks the MAC."""
    mac = signature_header(SECRET, T, BODY).split("v1=")[1]
    assert not verify(SECRET, f"t={T + 1000},v1={mac}", BODY, now=T + 1000)


def test_the_readmes_verification_snippet_accepts_our_signature() -> None:
    """The snippet integrators copy must agree with what we send."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Webhooks for CRMs") :]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, object] = {}
    exec(snippet, scope)
    readme_verify = scope["verify"]
    now = int(time.time())

    assert readme_verify(SECRET, signature_header(SECRET, now, BODY), BODY)  # type: ignore[operator]
    assert not readme_verify(SECRET, signature_header(SECRET, now, BODY), BODY + b"x")  # type: ignore[operator]
    assert not readme_verify(SECRET, signature_header(SECRET, now - 3600, BODY), BODY)  # type: ignore[operator]
