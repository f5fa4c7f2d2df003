"""How many callbacks each widget has accepted on each of its calendar days.

The daily cap (`Widget.daily_call_cap`) is checked against this counter, one upsert per
accepted request, instead of counting the day's callbacks under a lock on the widget: the
count grew with the day's traffic and the lock made a widget's requests queue from their
first statement to their commit. The counter's row is locked only from the upsert, the
last statement before the commit, and only for requests to the same widget.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class WidgetDailyCount(Base):
    __tablename__ = "widget_daily_counts"

    widget_id: Mapped[int] = mapped_column(
        ForeignKey("widgets.id", ondelete="CASCADE"), primary_key=True
    )
    # The widget's local calendar day (its `time_zone`), which is what the cap is per.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
