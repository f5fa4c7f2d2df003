"""A request while closed is called back at the next opening, by the real worker and beat.

Time is compressed by configuration, not by freezing clocks across processes: the shop
opens at the next whole minute, so "17:01, call me tomorrow at 9:00" takes under a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from support.system import RunningSystem

from callback.hours import DAYS
from callback.models import Widget
from callback.services import context


def test_an_asap_request_while_closed_is_called_at_the_next_opening(sys: RunningSystem):
    agent, customer = "+37255570001", "+37255570002"
    sys.sim.phone(agent, outcome="answer", answer_after=1, digits="1")
    sys.sim.phone(customer, outcome="answer", answer_after=1, hangup_after=5)
    key = sys.shop("ordered", [agent])
    now = datetime.now(UTC)
    opening = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if opening - now < timedelta(seconds=10):  # leave time to post before it opens
        opening += timedelta(minutes=1)
    closing = opening + timedelta(minutes=10)
    end = "24:00" if closing.date() != opening.date() else f"{closing:%H:%M}"
    with sys.app_context(), context.transaction() as session:
        widget = session.scalars(select(Widget).where(Widget.public_key == key)).one()
        widget.hours = {DAYS[opening.weekday()]: [[f"{opening:%H:%M}", end]]}
        widget.time_zone = "UTC"

    accepted = sys.request(key, customer, page_title="Blue Kettle")
    assert accepted["status"] == "scheduled"
    assert datetime.fromisoformat(accepted["scheduled_for"]) == opening

    wait = (opening - datetime.now(UTC)).total_seconds() + 30
    view = sys.wait_for_status(accepted, ("connected", "completed", "failed"), timeout=wait)
    assert view["status"] in ("connected", "completed")
    timeline = {e["type"]: datetime.fromisoformat(e["at"]) for e in reversed(view["events"])}
    assert timeline["due"] >= opening  # not a second early
    assert timeline["dispatched"] - opening < timedelta(seconds=10)  # the beat sweeps every 2 s
