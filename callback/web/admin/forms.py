"""Turning HTML form posts into the payloads the admin services take, and errors back into
inline messages, so the pages and the JSON API share one set of rules."""

from __future__ import annotations

from typing import Any

from flask import request

from ...services.admin_errors import AdminError
from ...services.admin_validation import DAYS, hours_text


def errors_of(error: AdminError) -> dict[str, str]:
    """{field: message} for the template; an error without a field shows at the top."""
    return {error.field or "_form": error.message}


def lines(name: str) -> list[str]:
    """A textarea with one value per line (or comma-separated), blanks dropped."""
    raw = request.form.get(name, "")
    return [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]


def ids(name: str) -> list[int]:
    return [int(v) for v in request.form.getlist(name) if v.isdigit()]


def hours_from_form() -> dict[str, str] | None:
    """The week as the services accept it (text per day), or None without fixed hours."""
    if request.form.get("fixed_hours") != "on":
        return None
    return {day: request.form.get(f"hours-{day}", "") for day in DAYS}


def hours_for_form(hours: dict[str, Any] | None) -> dict[str, str]:
    return {day: hours_text(spans) for day, spans in (hours or {}).items() if day in DAYS}


def submitted_hours() -> dict[str, str]:
    return {day: request.form.get(f"hours-{day}", "") for day in DAYS}
