"""Reading a widget's page routes for `selection.rule_for` (the one query dispatch needs).

Dispatch picks the rule of a callback with:

    rule_id = rule_for(widget_routes(session, callback.widget_id),
                       widget.routing_rule_id, callback.page_url)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import WidgetRoute
from .selection import Route

__all__ = ["widget_routes"]


def widget_routes(session: Session, widget_id: int) -> list[Route]:
    """The widget's routes in position order (one indexed SELECT; most widgets have none)."""
    rows = session.execute(
        select(WidgetRoute.url_pattern, WidgetRoute.rule_id, WidgetRoute.position)
        .where(WidgetRoute.widget_id == widget_id)
        .order_by(WidgetRoute.position)
    )
    return [Route(pattern, rule_id, position) for pattern, rule_id, position in rows]
