"""Per-page routing inside a widget: callbacks from pages matching a URL pattern use another rule.

Routes are tried in `position` order; the first whose pattern matches the page's URL path
wins, and a page that matches none uses the widget's own `routing_rule_id`
(see `callback.routing.selection.rule_for`). To reorder, replace the list (positions are unique).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class WidgetRoute(Base):
    __tablename__ = "widget_routes"
    __table_args__ = (UniqueConstraint("widget_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    widget_id: Mapped[int] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    # A glob matched against the page URL's path: "/product/*", "/sale/*/shoes", "/checkout".
    url_pattern: Mapped[str] = mapped_column(String(300))
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<WidgetRoute widget={self.widget_id} {self.url_pattern!r} -> rule {self.rule_id}>"
