"""SQLAlchemy models, one module per aggregate. Importing this package only defines classes."""

from .agent import Agent, AgentState, Presence
from .base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from .callback import LIVE_STATUSES, CallbackRequest, CallbackStatus, new_callback_id
from .event import Event
from .leg import Leg, LegKind
from .routing import DEFAULT_WHISPER, RoutingRule, RuleMember, Strategy
from .widget import Widget, new_public_key

__all__ = [
    "DEFAULT_WHISPER",
    "LIVE_STATUSES",
    "NAMING_CONVENTION",
    "Agent",
    "AgentState",
    "Base",
    "CallbackRequest",
    "CallbackStatus",
    "Event",
    "Leg",
    "LegKind",
    "Presence",
    "RoutingRule",
    "RuleMember",
    "Strategy",
    "UTCDateTime",
    "Widget",
    "new_callback_id",
    "new_public_key",
    "utcnow",
]
