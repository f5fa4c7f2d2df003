"""Widgets as the admin manages them: key, origins, countries, texts, look, triggers, hours,
the rule, and per-page routes to other rules.

The JSON layout inside the widget's columns is the one `callback.services.widget_config`
documents and reads: texts per language in `texts`, triggers plus a `display` object
(`position`, `colors`) in `triggers`, the week plus `holidays` in `hours`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import i18n
from ..models import RoutingRule, Widget, WidgetRoute
from ..phone import NumberPolicy
from . import admin_validation as check
from . import context
from .admin_errors import AdminError, NotFound
from .widget_config import RULES as TRIGGER_RULES

POSITIONS = ("right", "left")
COLOR_NAMES = ("accent", "text")
DEFAULT_COLORS = {"accent": "#0b6bcb", "text": "#ffffff"}
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{3,43}$")
_PATTERN = re.compile(r"^[/*][\x21-\x7e]*$")
ALWAYS = {day: [["00:00", "24:00"]] for day in check.DAYS}


def text_keys() -> tuple[str, ...]:
    return (*i18n.builtin_texts("en").keys(), "privacy_url")


def widget_json(widget: Widget, routes: list[WidgetRoute]) -> dict[str, Any]:
    triggers = dict(widget.triggers or {})
    display = triggers.pop("display", None) or {}
    stored_hours = dict(widget.hours) if widget.hours is not None else None
    holidays = stored_hours.pop("holidays", []) if stored_hours is not None else []
    return {
        "id": widget.id,
        "name": widget.name,
        "public_key": widget.public_key,
        "allowed_origins": list(widget.allowed_origins),
        "default_region": widget.default_region,
        "allowed_countries": list(widget.allowed_countries),
        "language": widget.language,
        "texts": widget.texts or {},
        "colors": {**DEFAULT_COLORS, **(display.get("colors") or {})},
        "position": display.get("position", "right"),
        "triggers": triggers,
        "hours": None if stored_hours == ALWAYS and holidays else stored_hours,
        "holidays": holidays,
        "time_zone": widget.time_zone,
        "routing_rule_id": widget.routing_rule_id,
        "daily_call_cap": widget.daily_call_cap,
        "blocked_prefixes": list(widget.blocked_prefixes),
        "routes": [
            {"url_pattern": r.url_pattern, "rule_id": r.rule_id, "position": r.position}
            for r in routes
        ],
        "created_at": widget.created_at.isoformat(),
    }


def _routes(session: Session, widget_ids: list[int]) -> dict[int, list[WidgetRoute]]:
    found: dict[int, list[WidgetRoute]] = {w: [] for w in widget_ids}
    if widget_ids:
        query = (
            select(WidgetRoute)
            .where(WidgetRoute.widget_id.in_(widget_ids))
            .order_by(WidgetRoute.position)
        )
        for route in session.scalars(query):
            found[route.widget_id].append(route)
    return found


def list_widgets() -> list[dict[str, Any]]:
    with context.transaction() as session:
        widgets = list(session.scalars(select(Widget).order_by(Widget.name, Widget.id)))
        routes = _routes(session, [w.id for w in widgets])
        return [widget_json(w, routes[w.id]) for w in widgets]


def get_widget(widget_id: int) -> dict[str, Any]:
    with context.transaction() as session:
        widget = _widget(session, widget_id)
        return widget_json(widget, _routes(session, [widget.id])[widget.id])


def _widget(session: Session, widget_id: int) -> Widget:
    widget = session.get(Widget, widget_id)
    if widget is None:
        raise NotFound("widget", widget_id)
    return widget


def create_widget(payload: Any) -> dict[str, Any]:
    """Add a widget: `name` and `routing_rule_id` required, everything else optional."""
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required=True)
    key = check.text(payload, "public_key", 43)
    if key is not None and not _KEY.match(key):
        raise AdminError(
            "invalid_public_key", "A key is 3-43 letters, digits, '-' or '_'.", "public_key"
        )
    if "routing_rule_id" not in payload:
        raise AdminError("missing_routing_rule_id", "Choose the rule.", "routing_rule_id")
    with context.transaction() as session:
        if key and session.scalar(select(Widget.id).where(Widget.public_key == key)):
            raise AdminError("key_taken", f"A widget with key {key!r} exists.", "public_key")
        widget = Widget(name=name, default_region="EE", allowed_countries=["EE"])
        if key:
            widget.public_key = key
        _apply(session, widget, payload)
        if widget.routing_rule_id is None:
            raise AdminError("missing_routing_rule_id", "Choose the rule.", "routing_rule_id")
        session.add(widget)
        session.flush()
        if "routes" in payload:
            _replace_routes(session, widget, payload["routes"])
        return widget_json(widget, _routes(session, [widget.id])[widget.id])


def update_widget(widget_id: int, payload: Any) -> dict[str, Any]:
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required="name" in payload)
    with context.transaction() as session:
        widget = _widget(session, widget_id)
        if name is not None:
            widget.name = name
        _apply(session, widget, payload)
        if "routes" in payload:
            _replace_routes(session, widget, payload["routes"])
        session.flush()
        return widget_json(widget, _routes(session, [widget.id])[widget.id])


def set_routes(widget_id: int, payload: Any) -> dict[str, Any]:
    payload = check.require_object(payload)
    if "routes" not in payload:
        raise AdminError("missing_routes", "'routes' is required.", "routes")
    return update_widget(widget_id, {"routes": payload["routes"]})


def _apply(session: Session, widget: Widget, payload: Mapping[str, Any]) -> None:
    region = payload.get("default_region", widget.default_region)
    countries = payload.get("allowed_countries", widget.allowed_countries)
    region, countries = _countries(region, countries)
    widget.default_region, widget.allowed_countries = region, countries
    if "allowed_origins" in payload:
        widget.allowed_origins = _origins(payload["allowed_origins"])
    if "language" in payload:
        language = payload["language"]
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise AdminError("invalid_language", "A language code like en or et.", "language")
        widget.language = language
    if "texts" in payload:
        widget.texts = _texts(payload["texts"])
    if "triggers" in payload:
        display = (widget.triggers or {}).get("display")
        widget.triggers = {
            **_triggers(payload["triggers"]),
            **({"display": display} if display else {}),
        }
    if "colors" in payload or "position" in payload:
        widget.triggers = {**(widget.triggers or {}), "display": _display(widget, payload)}
    if "time_zone" in payload:
        widget.time_zone = check.time_zone(payload["time_zone"])
    if "hours" in payload or "holidays" in payload:
        widget.hours = _schedule(widget, payload)
    cap = check.integer(payload, "daily_call_cap", 1, 100_000)
    if cap is not None:
        widget.daily_call_cap = cap
    if "blocked_prefixes" in payload:
        widget.blocked_prefixes = _blocked(payload["blocked_prefixes"])
    rule_id = check.integer(payload, "routing_rule_id", 1, check.MAX_ID)
    if rule_id is not None:
        if session.get(RoutingRule, rule_id) is None:
            raise AdminError("unknown_rule", f"There is no rule {rule_id}.", "routing_rule_id")
        widget.routing_rule_id = rule_id


def _countries(region: Any, countries: Any) -> tuple[str, list[str]]:
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise AdminError(
            "invalid_region", "The default region is a country code like EE.", "default_region"
        )
    if not isinstance(countries, list) or not all(isinstance(c, str) for c in countries):
        raise AdminError(
            "invalid_countries", "Countries are a list of codes like EE.", "allowed_countries"
        )
    cleaned = sorted({c.strip().upper() for c in countries if c.strip()})
    try:
        NumberPolicy.create(allowed_countries=cleaned)
    except ValueError as error:
        raise AdminError("invalid_countries", str(error), "allowed_countries") from None
    if not cleaned:
        raise AdminError(
            "invalid_countries", "Allow at least one country to call.", "allowed_countries"
        )
    return region.upper(), cleaned


def _origins(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AdminError(
            "invalid_origins", "Origins are a list like https://shop.example.", "allowed_origins"
        )
    out: list[str] = []
    for raw in value:
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise AdminError(
                "invalid_origins",
                f"{raw!r} is not an origin; write scheme and host, like https://shop.example.",
                "allowed_origins",
            )
        if origin not in out:
            out.append(origin)
    return out


def _texts(value: Any) -> dict[str, dict[str, str]]:
    if not isinstance(value, Mapping):
        raise AdminError("invalid_texts", "Texts are an object keyed by language.", "texts")
    keys = set(text_keys())
    out: dict[str, dict[str, str]] = {}
    for language, texts in value.items():
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise AdminError("invalid_texts", f"{language!r} is not a language code.", "texts")
        if not isinstance(texts, Mapping):
            raise AdminError("invalid_texts", f"texts.{language} must be an object.", "texts")
        for key, text in texts.items():
            if key not in keys:
                raise AdminError("invalid_texts", f"Unknown text key {key!r}.", "texts")
            if not isinstance(text, str) or len(text) > 500:
                raise AdminError(
                    "invalid_texts", f"texts.{language}.{key}: text up to 500 characters.", "texts"
                )
        out[language] = {k: v for k, v in texts.items() if v.strip()}
    return out


def _triggers(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise AdminError("invalid_triggers", "Triggers are a JSON object.", "triggers")
    unknown = set(value) - {"threshold", "snooze_days", "rules"}
    if unknown:
        raise AdminError(
            "invalid_triggers", f"Unknown trigger setting {sorted(unknown)[0]!r}.", "triggers"
        )
    out: dict[str, Any] = {}
    for name, high in (("threshold", 100), ("snooze_days", 365)):
        if name in value:
            number = value[name]
            if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= high:
                raise AdminError(
                    "invalid_triggers", f"'{name}' is a whole number from 0 to {high}.", "triggers"
                )
            out[name] = number
    rules = value.get("rules", [])
    if not isinstance(rules, list):
        raise AdminError("invalid_triggers", "'rules' is a list.", "triggers")
    out["rules"] = [_trigger_rule(i, rule) for i, rule in enumerate(rules)]
    return out


def _trigger_rule(index: int, rule: Any) -> dict[str, Any]:
    where = f"rules[{index}]"
    if not isinstance(rule, Mapping) or rule.get("type") not in TRIGGER_RULES:
        raise AdminError(
            "invalid_triggers",
            f"{where}: 'type' must be one of {', '.join(TRIGGER_RULES)}.",
            "triggers",
        )
    params = TRIGGER_RULES[rule["type"]]
    for name, item in rule.items():
        if name in ("type",):
            continue
        kind = "int" if name == "score" else params.get(name)
        if kind is None:
            raise AdminError(
                "invalid_triggers", f"{where}: {rule['type']} has no setting {name!r}.", "triggers"
            )
        if kind == "int" and (isinstance(item, bool) or not isinstance(item, int) or item < 0):
            raise AdminError(
                "invalid_triggers", f"{where}.{name} is a whole number ≥ 0.", "triggers"
            )
        if kind == "str" and (not isinstance(item, str) or not item or len(item) > 200):
            raise AdminError(
                "invalid_triggers", f"{where}.{name} is text up to 200 characters.", "triggers"
            )
    return dict(rule)


def _display(widget: Widget, payload: Mapping[str, Any]) -> dict[str, Any]:
    display = dict((widget.triggers or {}).get("display") or {})
    if "position" in payload:
        position = payload["position"]
        if position not in POSITIONS:
            raise AdminError("invalid_position", "Position is right or left.", "position")
        display["position"] = position
    if "colors" in payload:
        colors = payload["colors"]
        if not isinstance(colors, Mapping) or set(colors) - set(COLOR_NAMES):
            raise AdminError("invalid_colors", "Colors are accent and text.", "colors")
        for name, value in colors.items():
            if not isinstance(value, str) or not _COLOR.match(value):
                raise AdminError("invalid_colors", f"{name}: a colour like #0b6bcb.", "colors")
        display["colors"] = {**display.get("colors", {}), **colors}
    return display


def _schedule(widget: Widget, payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The week (None = always open) plus holidays, in the layout `callback.hours` reads."""
    current = dict(widget.hours) if widget.hours is not None else None
    old_holidays = current.pop("holidays", []) if current is not None else []
    week = check.weekly_hours(payload["hours"]) if "hours" in payload else current
    holidays = (
        check.iso_dates(payload["holidays"], "holidays") if "holidays" in payload else old_holidays
    )
    if week == ALWAYS:
        week = None
    if not holidays:
        return week
    # Holidays need a stored week to sit beside: "always open" is written out day by day.
    return {**(week if week is not None else ALWAYS), "holidays": holidays}


def _blocked(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AdminError(
            "invalid_blocked_prefixes", "A list of prefixes like +3729.", "blocked_prefixes"
        )
    try:
        return list(NumberPolicy.create(blocked=[v for v in value if v.strip()]).blocked)
    except ValueError as error:
        raise AdminError("invalid_blocked_prefixes", str(error), "blocked_prefixes") from None


def _replace_routes(session: Session, widget: Widget, value: Any) -> None:
    if not isinstance(value, list):
        raise AdminError("invalid_routes", "Routes are a list of {url_pattern, rule_id}.", "routes")
    cleaned: list[tuple[str, int]] = []
    for index, route in enumerate(value):
        where = f"routes[{index}]"
        if not isinstance(route, Mapping):
            raise AdminError("invalid_routes", f"{where} must be an object.", "routes")
        pattern = route.get("url_pattern")
        if (
            not isinstance(pattern, str)
            or not _PATTERN.match(pattern.strip())
            or len(pattern) > 300
        ):
            raise AdminError(
                "invalid_routes",
                f"{where}: a URL path pattern starting with / or *, like /product/*.",
                "routes",
            )
        rule_id = route.get("rule_id")
        if (
            isinstance(rule_id, bool)
            or not isinstance(rule_id, int)
            or not 0 < rule_id <= check.MAX_ID
        ):
            raise AdminError("invalid_routes", f"{where}: rule_id must be a rule's id.", "routes")
        if session.get(RoutingRule, rule_id) is None:
            raise AdminError("unknown_rule", f"{where}: there is no rule {rule_id}.", "routes")
        cleaned.append((pattern.strip(), rule_id))
    for old in session.scalars(select(WidgetRoute).where(WidgetRoute.widget_id == widget.id)):
        session.delete(old)
    session.flush()
    for position, (pattern, rule_id) in enumerate(cleaned, start=1):
        session.add(
            WidgetRoute(
                widget_id=widget.id, url_pattern=pattern, rule_id=rule_id, position=position
            )
        )
    session.flush()
