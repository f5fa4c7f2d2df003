"""What the visitor told us besides the number: their language and SMS consent.

Intake keeps both on the callback's first event, `requested` (see `services.intake._context`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Event


@dataclass(frozen=True)
class Visitor:
    language: str | None = None
    sms_consent: bool = False

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Visitor:
        language = data.get("language")
        # Only a literal true is consent: a missing or malformed value never is.
        return cls(
            language=language if isinstance(language, str) else None,
            sms_consent=data.get("sms_consent") is True,
        )


def visitor_of(session: Session, callback_id: str) -> Visitor:
    data = session.scalar(
        select(Event.data)
        .where(Event.callback_id == callback_id, Event.type == "requested")
        .order_by(Event.id)
        .limit(1)
    )
    return Visitor.from_data(data or {})
