"""`/api/openapi.json`: a valid OpenAPI 3 document listing every `/api/` route of the app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate
from werkzeug.routing import Rule

IGNORED = {"HEAD", "OPTIONS"}


def api_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]


def openapi_path(rule: Rule) -> str:
    """ "/a/<int:x>/<y>" -> "/a/{x}/{y}", whatever the converter."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()  # type: ignore[no-any-return]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises on any schema violation or broken $ref
    assert document["openapi"].startswith("3.")


def test_every_api_route_and_method_is_listed(app: Flask, document: dict[str, Any]) -> None:
    expected = {
        (openapi_path(rule), method.lower())
        for rule in api_rules(app)
        for method in (rule.methods or set()) - IGNORED
    }
    listed = {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert expected == listed
    # The contract's public endpoints are among them.
    for path, method in (
        ("/api/v1/callbacks", "post"),
        ("/api/v1/callbacks/{callback_id}", "get"),
        ("/api/openapi.json", "get"),
    ):
        assert (path, method) in listed


def test_admin_and_public_endpoints_are_documented(app: Flask, document: dict[str, Any]) -> None:
    ours = {
        openapi_path(rule)
        for rule in api_rules(app)
        if rule.endpoint.split(".")[0] in ("admin_api", "api", "openapi")
    }
    assert ours, "no routes found"
    for path in ours:
        for method, operation in document["paths"][path].items():
            where = f"{method.upper()} {path}"
            assert not operation.get("x-undocumented"), where
            assert operation.get("summary") and operation.get("responses"), where
            if path.startswith("/api/v1/admin/"):
                assert {"401", "403"} <= set(map(str, operation["responses"])), where
                assert operation.get("security"), where
            if method in ("post", "put", "patch") and path.startswith("/api/v1/admin/"):
                assert "422" in map(str, operation["responses"]), where


def test_nothing_is_left_undocumented(document: dict[str, Any]) -> None:
    """Every endpoint of the app documents itself (part B's reports and the widget's config
    included); a new endpoint without YAML after `---` in its docstring fails here."""
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("x-undocumented")
    ]
    assert undocumented == []
