"""`GET /api/openapi.json`: every `/api/` endpoint of the app, public and admin.

Built with apispec from the app's own URL map, so a new endpoint cannot be left out: each
`/api/` rule becomes a path (converted by apispec-webframeworks' Flask plugin), its operations
read from the YAML after `---` in the view's docstring. Public endpoints whose views carry no
YAML are documented in `openapi_schemas.PUBLIC_OPERATIONS`; anything still undocumented is
listed with `x-undocumented: true` rather than silently dropped (a test looks for those).
The document is built once per app, on first request.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, Response, current_app, jsonify

from .openapi_schemas import PUBLIC_OPERATIONS, RESPONSES, SCHEMAS, SECURITY_SCHEMES

bp = Blueprint("openapi", __name__)

TITLE = "Callback API"
VERSION = "1"
OPENAPI_VERSION = "3.0.3"
_IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
# Flask's "<converter:name>" (or "<name>") in a rule.
_PATH_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# What every view behind `token_required` has, unless its docstring says otherwise.
_TOKEN_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"cookieAuth": []}]
_TOKEN_RESPONSES = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    """This document.
    ---
    get:
      tags: [meta]
      summary: The OpenAPI document of every public and admin endpoint
      responses:
        200:
          description: OpenAPI 3 JSON
          content:
            application/json:
              schema: {type: object}
    """
    spec = current_app.extensions.get("openapi_spec")
    if spec is None:
        spec = current_app.extensions["openapi_spec"] = build_spec(current_app)
    return jsonify(spec)


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version=OPENAPI_VERSION,
        info={
            "description": "The public API the widget uses, and the admin API. Admin calls "
            "take `Authorization: Bearer cbk_…` (a token from /admin/tokens) or the admin "
            "session cookie with `X-CSRFToken` on unsafe methods. Errors are "
            '`{"error": {"code", "message", "field"}}`.'
        },
    )
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for name, response in RESPONSES.items():
        spec.components.response(name, response)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)

    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        path = FlaskPlugin.flaskpath2openapi(rule.rule)
        view = app.view_functions[rule.endpoint]
        documented = load_operations_from_docstring(view.__doc__ or "")
        for method in sorted((rule.methods or set()) - _IGNORED_METHODS):
            verb = method.lower()
            operation = documented.get(verb) or PUBLIC_OPERATIONS.get((verb, path))
            if operation is None:
                summary = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
                operation = {
                    "summary": summary,
                    "x-undocumented": True,
                    "responses": {"default": {"description": "Not documented yet"}},
                }
            if getattr(view, "requires_token", False):
                operation = _admin_defaults(operation, verb, rule.rule)
            paths.setdefault(path, {})[verb] = {
                "operationId": f"{rule.endpoint}.{verb}",
                **operation,
            }
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _admin_defaults(operation: dict[str, Any], verb: str, rule: str) -> dict[str, Any]:
    """What every admin view (behind `token_required`) has unless its docstring says otherwise:
    the token or session security, 401 and 403, its path parameters and 404 when it has any,
    and 400 (not JSON) and 422 (invalid) when it takes a body."""
    path_parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if converter in ("int", "id") else "string"},
        }
        for converter, name in _PATH_ARGUMENT.findall(rule)
    ]
    responses = dict(_TOKEN_RESPONSES)
    if path_parameters:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    if verb in ("post", "put", "patch"):
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
        responses["422"] = {"$ref": "#/components/responses/Invalid"}
    declared = operation.get("parameters", [])
    named = {parameter.get("name") for parameter in declared}
    parameters = [p for p in path_parameters if p["name"] not in named] + declared
    defaults: dict[str, Any] = {"security": _TOKEN_SECURITY, **operation}
    defaults["responses"] = {**responses, **operation.get("responses", {})}
    if parameters:
        defaults["parameters"] = parameters
    return defaults
