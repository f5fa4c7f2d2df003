"""The statistics page: numbers, charts drawn as inline SVG on the server, CSV links.

Charts are plain SVG built here (no chart library, nothing fetched at run time, and the CSP
allows no inline script or style anyway): the geometry is computed in Python and the template
only draws rectangles and text with presentation attributes. Every chart has a <title>, a
<desc> and a data table next to it for screen readers and for copying the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from ...services import context, reporting
from ...services.reporting import ReportError, Statistics
from ...services.reporting.filters import parse_id
from ...services.reporting.history import filter_choices
from ...services.reporting.stats import WEEKDAYS, widget_zone
from .api_reports import viewer
from .auth import current_user, login_required
from .board import secure_page

bp = Blueprint("admin_stats", __name__, url_prefix="/admin")
bp.after_request(secure_page)

# Drawing area of every chart, in SVG user units (the SVG scales to the page width).
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 30
# The admin stylesheet's colours: accent for counts, "bad" for what broke the promise.
BAR_COLOUR, LATE_COLOUR = "#1f6feb", "#cf222e"
PERIOD_FIELDS = ("from", "to", "tz", "widget")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    colour: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    bars: list[Bar]
    gridlines: list[tuple[float, int]]  # (y, value)
    x_labels: list[tuple[float, str]]  # (x of the label's centre, text)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: float = LEFT


def bar_chart(
    id_: str,
    title: str,
    description: str,
    labels: list[str],
    values: list[int],
    colours: list[str] | None = None,
    label_every: int = 1,
) -> Chart:
    top = _nice_ceiling(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    gap = min(4.0, slot * 0.2)
    bars, x_labels = [], []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = plot_h * value / top
        x = LEFT + index * slot
        bars.append(
            Bar(
                x=round(x + gap / 2, 2),
                y=round(TOP + plot_h - height, 2),
                width=round(slot - gap, 2),
                height=round(height, 2),
                label=label,
                value=value,
                colour=(colours or [])[index] if colours else BAR_COLOUR,
            )
        )
        if index % label_every == 0:
            x_labels.append((round(x + slot / 2, 2), label))
    step = _grid_step(top)
    gridlines = [(round(TOP + plot_h - plot_h * v / top, 2), v) for v in range(0, top + 1, step)]
    return Chart(id_, title, description, bars, gridlines, x_labels)


def charts_for(stats: Statistics) -> list[Chart]:
    promise = reporting.PROMISE_S
    buckets = stats.time_to_connect
    return [
        bar_chart(
            "chart-time-to-connect",
            "Time to connect",
            f"How many callbacks reached the customer within each 2-second band; bands past "
            f"{promise:g} s (red) broke the promise. p50 {_s(stats.p50_s)}, p95 {_s(stats.p95_s)}.",
            [b.label for b in buckets],
            [b.count for b in buckets],
            [LATE_COLOUR if (b.high_s or 1e9) > promise else BAR_COLOUR for b in buckets],
            label_every=2,
        ),
        bar_chart(
            "chart-by-hour",
            "Callbacks by hour of day",
            f"Callbacks requested in each hour of the day ({stats.tz}).",
            [f"{hour:02d}" for hour in range(24)],
            stats.by_hour,
            label_every=3,
        ),
        bar_chart(
            "chart-by-weekday",
            "Callbacks by weekday",
            f"Callbacks requested on each day of the week ({stats.tz}).",
            list(WEEKDAYS),
            stats.by_weekday,
        ),
    ]


@bp.get("/stats")
@login_required()
def stats() -> ResponseReturnValue:
    error: ReportError | None = None
    found: Statistics | None = None
    user = current_user()
    with context.reading() as session:
        widgets, _ = filter_choices(session)
        try:
            widget_id = parse_id(request.args, "widget")
            zone = widget_zone(session, widget_id) if widget_id is not None else "UTC"
            period = reporting.parse_period(request.args, context.now(), zone)
            found = reporting.statistics(session, period, context.now(), viewer(), widget_id)
        except ReportError as bad:
            error = bad
    args = {k: v for k, v in request.args.items() if k in PERIOD_FIELDS and v}
    body = render_template(
        "admin/stats.html",
        stats=found,
        charts=charts_for(found) if found else [],
        error=error,
        args=request.args,
        widgets=widgets,
        own_only=user is not None and not user.is_manager,
        csv_callbacks="/api/v1/admin/stats.csv?" + urlencode({**args, "table": "callbacks"}),
        csv_agents="/api/v1/admin/stats.csv?" + urlencode({**args, "table": "agents"}),
        promise_s=reporting.PROMISE_S,
    )
    return body, 422 if error else 200


def _nice_ceiling(value: int) -> int:
    """The y-axis top: the value rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude


def _grid_step(top: int) -> int:
    """At most five gridlines above zero, at round values."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if top / (factor * magnitude) <= 5:
                return factor * magnitude
        magnitude *= 10


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"
