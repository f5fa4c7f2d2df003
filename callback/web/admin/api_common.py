"""Small helpers shared by the admin API views."""

from __future__ import annotations

from typing import Any

from flask import request

from ...services.accounts import Principal
from ...services.admin_errors import AdminError
from .auth import current_user


class BadJson(AdminError):
    status = 400


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 in the error shape for anything else."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # "[[[[…" nested deeper than the parser goes
        payload = None
    if not isinstance(payload, dict):
        raise BadJson("invalid_json", "The body must be a JSON object.")
    return payload


def principal() -> Principal:
    user = current_user()
    assert user is not None, "only called inside token_required views"
    return user


def owns_agent(agent_id: int) -> bool:
    """Managers act on any agent; an agent-role user only on their own."""
    user = principal()
    return user.is_manager or user.agent_id == agent_id
