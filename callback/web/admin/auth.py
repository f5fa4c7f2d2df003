"""Who is asking, and may they: sessions for the admin pages, tokens for the admin API.

- `login_required(*roles)` guards an HTML view: without a session it redirects to the login
  page; with the wrong role it answers 403.
- `token_required(scope, roles=...)` guards a JSON view under `/api/v1/admin/`: an
  `Authorization: Bearer cbk_…` token, or the admin pages' own session cookie. Missing or
  invalid credentials are 401, a missing scope or role 403, always in the error shape.
  A cookie-authenticated unsafe request (POST, PUT, PATCH, DELETE) must carry the CSRF token
  in `X-CSRFToken` (the token from the pages' `<meta name="csrf-token">`); token-authenticated
  requests need none, because a browser never attaches a bearer token on its own.
- `current_user()` is the principal of the request (a `callback.services.accounts.Principal`:
  `user_id`, `email`, `role`, `agent_id`, `scopes`, `is_manager`), or None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from ...models import MANAGER_ROLES, Role
from ...services.accounts import Principal, token_principal, user_principal
from ..errors import error_response

__all__ = [
    "ANY_ROLE",
    "MANAGER_ROLES",
    "current_user",
    "log_in",
    "log_out",
    "login_required",
    "safe_next",
    "token_required",
]

P = ParamSpec("P")
R = TypeVar("R")

ANY_ROLE: tuple[str, ...] = tuple(role.value for role in Role)
_SESSION_USER = "uid"
_SESSION_KEY = "ukey"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def current_user() -> Principal | None:
    """The signed-in user of this request (session cookie or, in the API, a token)."""
    if "admin_principal" not in g:
        g.admin_principal = _session_principal()
    return cast(Principal | None, g.admin_principal)


def _session_principal() -> Principal | None:
    user_id, key = session.get(_SESSION_USER), session.get(_SESSION_KEY)
    if not isinstance(user_id, int) or not isinstance(key, str):
        return None
    return user_principal(user_id, key)


def log_in(principal: Principal) -> None:
    # A fresh session on every login: nothing set before it (by anyone) survives.
    session.clear()
    session.permanent = True
    session[_SESSION_USER] = principal.user_id
    session[_SESSION_KEY] = principal.session_key
    g.admin_principal = principal


def log_out() -> None:
    session.clear()
    g.admin_principal = None


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this site under /admin, never another host."""
    default = url_for("admin.index")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or "\\" in target:
        return default
    return target


def login_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """An HTML view for signed-in users (of `roles`, or any role when none are given)."""
    allowed = set(roles or ANY_ROLE)

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            user = current_user()
            if user is None:
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            if user.role not in allowed:
                return render_template("admin/forbidden.html"), 403
            return view(*args, **kwargs)

        # The OpenAPI document gives such a view its security and 401/403 answers
        # (web/openapi.py), so its docstring need not repeat them.
        guarded.requires_token = True  # type: ignore[attr-defined]
        return guarded

    return decorate


def token_required(
    scope: str, roles: Iterable[str] = ANY_ROLE
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """A JSON view for API tokens holding `scope` (or a signed-in session) of one of `roles`.

    `roles` defaults to every role: a view that agents may use must still limit what they see
    (`current_user().agent_id`). Configuration changes pass `roles=MANAGER_ROLES`.
    """
    allowed = set(roles)

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            principal, failure = _api_principal()
            if failure is not None:
                return failure
            assert principal is not None
            if scope not in principal.scopes:
                return error_response(
                    403, "insufficient_scope", f"This token lacks the '{scope}' scope."
                )
            if principal.role not in allowed:
                return error_response(
                    403, "forbidden", f"The {principal.role} role may not do this."
                )
            return view(*args, **kwargs)

        # The OpenAPI document gives such a view its security and 401/403 answers
        # (web/openapi.py), so its docstring need not repeat them.
        guarded.requires_token = True  # type: ignore[attr-defined]
        return guarded

    return decorate


def _api_principal() -> tuple[Principal | None, Any]:
    header = request.headers.get("Authorization", "")
    if header:
        kind, _, credential = header.partition(" ")
        principal = token_principal(credential.strip()) if kind.lower() == "bearer" else None
        if principal is None:
            return None, _unauthorized("invalid_token", "The API token is invalid or revoked.")
        g.admin_principal = principal
        return principal, None
    principal = current_user()
    if principal is None:
        return None, _unauthorized(
            "unauthorized", "Send an API token: 'Authorization: Bearer cbk_…'."
        )
    if request.method in _UNSAFE:
        # Raises CSRFError (answered 403 in the error shape) when the token is missing or wrong.
        current_app.extensions["csrf"].protect()
    return principal, None


def _unauthorized(code: str, message: str) -> Any:
    response = error_response(401, code, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="callback-admin"'
    return response


def is_manager(principal: Principal | None) -> bool:
    return principal is not None and principal.role in MANAGER_ROLES
