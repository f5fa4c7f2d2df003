"""CSV exports: the period's callbacks (numbers masked) and the per-agent table.

Page titles and URLs come from visitors' browsers, so any cell that a spreadsheet would read as
a formula (starting with =, +, -, @, tab or carriage return) is prefixed with an apostrophe
(OWASP's advice against CSV injection); the masked numbers, which start with "+", get it too.
Callback ids are ours (URL-safe tokens that may start with "-") and are written as they are, so
an export can be joined back to the API.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from ...phone import mask
from .stats import AgentStats, PeriodCallback

CALLBACK_COLUMNS = (
    "id",
    "created_at",
    "widget",
    "status",
    "reason",
    "agent",
    "phone",
    "page_title",
    "page_url",
    "time_to_connect_s",
    "duration_s",
)
AGENT_COLUMNS = (
    "agent_id",
    "agent",
    "rung",
    "answered",
    "accepted",
    "missed",
    "canceled",
    "answer_rate",
    "accept_rate",
    "mean_answer_s",
    "connected",
    "talk_time_s",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Verbatim(str):
    """A value we generated ourselves, such as an id: never a formula, written unchanged."""


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if isinstance(value, Verbatim):
        return text
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def callbacks_csv(callbacks: Iterable[PeriodCallback]) -> str:
    return _table(
        CALLBACK_COLUMNS,
        (
            (
                Verbatim(c.id),
                c.created_at,
                c.widget,
                c.status,
                c.reason,
                c.agent,
                mask(c.phone),
                c.page_title,
                c.page_url,
                c.time_to_connect_s,
                c.duration_s,
            )
            for c in callbacks
        ),
    )


def agents_csv(agents: Iterable[AgentStats]) -> str:
    return _table(
        AGENT_COLUMNS,
        (
            (
                a.agent_id,
                a.name,
                a.rung,
                a.answered,
                a.accepted,
                a.missed,
                a.canceled,
                a.answer_rate,
                a.accept_rate,
                a.mean_answer_s,
                a.connected,
                a.talk_time_s,
            )
            for a in agents
        ),
    )


def _table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue()
