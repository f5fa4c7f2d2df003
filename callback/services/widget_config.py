"""The public widget config (`GET /api/v1/widgets/{key}`) and the widget's allowed origins.

Where a widget's settings live (no columns of their own; the JSON columns hold them):

- `Widget.texts` — the admin's text overrides per language:
  `{"et": {"title": "Küsimusi?", "privacy_url": "https://shop.example/et/privaatsus"}, ...}`.
  Keys are those of `callback/i18n/en.json`; a language present here but not built in (say
  "sv") is offered too, on top of the English defaults.
- `Widget.triggers` — when and how the widget shows itself on a page:
  `{"threshold": 1, "snooze_days": 7, "rules": [{"type": "time_on_page", "seconds": 20,
  "score": 1}, ...], "display": {"position": "right" | "left", "colors": {"accent": "#0b6bcb",
  "text": "#ffffff"}, "privacy_url": "https://shop.example/privacy"}}`.
  Rule types and their parameters are listed in `RULES` below; unknown types are dropped.
- `Widget.hours` — the weekly opening hours (`callback.hours`), plus an optional
  `"holidays": ["2026-12-24", ...]` list; `Widget.time_zone` is their IANA zone.

Everything read from the JSON columns is re-validated here before it reaches a page: the widget
sets colours through CSSOM, and a value that is not a colour must never get that far.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import phonenumbers
from sqlalchemy import select

from .. import hours, i18n
from ..models import CallbackRequest, Widget
from . import context, queue

__all__ = ["DEFAULT_TRIGGERS", "RULES", "callback_origins", "config_for", "widget_origins"]

SLOT_COUNT = 6

# Rule type -> its parameters and their kinds ("int" clamped to >= 0, "str" up to 200 chars).
RULES: dict[str, dict[str, str]] = {
    "time_on_page": {"seconds": "int"},
    "time_on_site": {"seconds": "int"},
    "pages_viewed": {"count": "int"},
    "product_pages": {"pattern": "str", "selector": "str", "count": "int"},
    "compare": {"selector": "str"},
    "scroll_depth": {"percent": "int"},
    "exit_intent": {},
    "idle": {"seconds": "int"},
    "returning": {},
    "url": {"pattern": "str"},
    "utm": {"source": "str", "medium": "str", "campaign": "str"},
}
DEFAULT_TRIGGERS: dict[str, Any] = {
    "threshold": 1,
    "snooze_days": 7,
    "rules": [{"type": "time_on_page", "seconds": 40}, {"type": "exit_intent"}],
}
DEFAULT_COLORS = {"accent": "#0b6bcb", "text": "#ffffff"}
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_LANGUAGE_KEY = re.compile(r"^[a-z]{2,3}$")


def config_for(key: str, wanted_languages: list[str]) -> dict[str, Any] | None:
    """The widget's public config in the best of `wanted_languages`; None for an unknown key."""
    now = context.now()
    with context.reading() as session:
        widget = session.scalars(select(Widget).where(Widget.public_key == key)).one_or_none()
        if widget is None:
            return None
        agent_free, eta = queue.availability(session, widget.routing_rule_id, now)
        week, holidays = hours.split_schedule(widget.hours)
        open_now = hours.is_open(week, widget.time_zone, now, holidays)
        overrides = {k: v for k, v in (widget.texts or {}).items() if _LANGUAGE_KEY.match(k)}
        language = i18n.choose_language(
            wanted_languages, (*i18n.LANGUAGES, *overrides), widget.language
        )
        texts = i18n.merged(language, overrides.get(language))
        triggers = dict(widget.triggers or {}) or DEFAULT_TRIGGERS
        display: dict[str, Any] = triggers.get("display") or {}
        if not isinstance(display, dict):
            display = {}
        bookable = open_now and agent_free
        next_opening = (
            None if open_now else hours.next_opening(week, widget.time_zone, now, holidays)
        )
        return {
            "key": widget.public_key,
            "language": language,
            "texts": {k: v for k, v in texts.items() if k != "privacy_url"},
            "colors": _colors(display.get("colors")),
            "position": "left" if display.get("position") == "left" else "right",
            "triggers": _triggers(triggers),
            "open_now": open_now,
            "next_opening": next_opening.isoformat() if next_opening else None,
            "slots": []
            if bookable
            else [
                s.isoformat()
                for s in hours.slots(week, widget.time_zone, now, holidays, count=SLOT_COUNT)
            ],
            "agent_free": agent_free,
            "eta_seconds": eta if open_now else None,
            "countries": [_country(code) for code in widget.allowed_countries],
            "region": widget.default_region,
            "privacy_url": _url(texts.get("privacy_url") or display.get("privacy_url")),
        }


def widget_origins(key: str) -> list[str] | None:
    """The widget's allowed origins; None for an unknown key."""
    with context.reading() as session:
        origins = session.scalar(select(Widget.allowed_origins).where(Widget.public_key == key))
        return None if origins is None else list(origins)


def callback_origins(callback_id: str) -> list[str] | None:
    """The allowed origins of the widget a callback came through; None for an unknown id."""
    with context.reading() as session:
        origins = session.scalar(
            select(Widget.allowed_origins)
            .join(CallbackRequest, CallbackRequest.widget_id == Widget.id)
            .where(CallbackRequest.id == callback_id)
        )
        return None if origins is None else list(origins)


def _triggers(stored: Mapping[str, Any]) -> dict[str, Any]:
    rules = []
    for raw in stored.get("rules") or ():
        if not isinstance(raw, dict) or raw.get("type") not in RULES:
            continue
        rule: dict[str, Any] = {"type": raw["type"], "score": _int(raw.get("score"), 1)}
        for name, kind in RULES[raw["type"]].items():
            value = raw.get(name)
            if kind == "int" and value is not None:
                rule[name] = _int(value, 0)
            elif kind == "str" and isinstance(value, str) and value:
                rule[name] = value[:200]
        rules.append(rule)
    return {
        "threshold": max(1, _int(stored.get("threshold"), 1)),
        "snooze_days": _int(stored.get("snooze_days"), 7),
        "rules": rules,
    }


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return max(0, min(int(value), 10**6))


def _colors(stored: Any) -> dict[str, str]:
    colors = dict(DEFAULT_COLORS)
    if isinstance(stored, dict):
        for name in colors:
            value = stored.get(name)
            if isinstance(value, str) and _COLOR.match(value):
                colors[name] = value
    return colors


def _url(value: Any) -> str | None:
    if isinstance(value, str) and re.match(r"^(https?://|/)[^\s\"'<>]*$", value):
        return value
    return None


@cache
def _country(region: str) -> dict[str, str]:
    """What the phone field needs to prefix a number typed in national form."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return {
        "code": region,
        "dial": f"+{phonenumbers.country_code_for_region(region)}",
        "trunk": (metadata.national_prefix if metadata else None) or "",
    }
