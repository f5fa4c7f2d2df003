"""The append-only event timeline of a callback (statistics and debugging read it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Event


def record(session: Session, callback_id: str, type_: str, at: datetime, **data: Any) -> None:
    session.add(Event(callback_id=callback_id, type=type_, at=at, data=data))


def events_of(session: Session, callback_id: str) -> list[Event]:
    return list(
        session.scalars(
            select(Event).where(Event.callback_id == callback_id).order_by(Event.at, Event.id)
        )
    )
