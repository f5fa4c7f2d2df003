"""Small conversions every report shares: durations, offsets as text, JSON-ready values."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def seconds(delta: timedelta) -> float:
    """A duration in seconds to the millisecond; clocks of two processes never make it negative."""
    return round(max(delta.total_seconds(), 0.0), 3)


def format_offset(offset_s: float) -> str:
    """ "+0.02 s", "+6.3 s", "+125 s": as precise as a reader of a timeline needs."""
    if offset_s < 1:
        text = f"{offset_s:.2f}".rstrip("0").rstrip(".")
    elif offset_s < 100:
        text = f"{offset_s:.1f}".rstrip("0").rstrip(".")
    else:
        text = f"{offset_s:.0f}"
    return f"+{text or '0'} s"


def jsonable(value: Any) -> Any:
    """Dataclass dicts (from `asdict`) with datetimes as ISO 8601 strings."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
