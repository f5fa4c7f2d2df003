"""With the database unreachable, the public API answers 503 in the error shape, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from support.app import running_app
from support.ports import free_port


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"  # nothing listens
    with running_app(closed, tmp_path) as app:
        yield app


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/callbacks", {"widget": "demo", "phone": "+37255550199"}),
        ("get", "/api/v1/callbacks/abc?token=x", None),
        ("get", "/api/v1/widgets/demo", None),
    ],
)
def test_a_database_that_is_down_is_503_with_retry_after(
    app: Flask, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = getattr(app.test_client(), method)(path, json=body)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
