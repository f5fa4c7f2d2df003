"""SQLAlchemy models, one module per aggregate. Importing this package only defines classes."""

from .agent import Agent, AgentState, Presence
from .base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from .callback import LIVE_STATUSES, CallbackRequest, CallbackStatus, new_callback_id
from .daily_count import WidgetDailyCount
from .event import Event
from .leg import Leg, LegKind
from .notification import (
    DeliveryStatus,
    MessageChannel,
    MessageKind,
    MessageStatus,
    OutgoingMessage,
    StatusChange,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .routing import DEFAULT_WHISPER, RoutingRule, RuleMember, Strategy
from .team import Team, TeamMember
from .user import MANAGER_ROLES, ApiToken, Role, Scope, User
from .widget import Widget, new_public_key
from .widget_route import WidgetRoute

__all__ = [
    "DEFAULT_WHISPER",
    "LIVE_STATUSES",
    "MANAGER_ROLES",
    "NAMING_CONVENTION",
    "Agent",
    "AgentState",
    "ApiToken",
    "Base",
    "CallbackRequest",
    "CallbackStatus",
    "DeliveryStatus",
    "Event",
    "Leg",
    "LegKind",
    "MessageChannel",
    "MessageKind",
    "MessageStatus",
    "OutgoingMessage",
    "Presence",
    "Role",
    "RoutingRule",
    "RuleMember",
    "Scope",
    "StatusChange",
    "Strategy",
    "Team",
    "TeamMember",
    "UTCDateTime",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Widget",
    "WidgetDailyCount",
    "WidgetRoute",
    "new_callback_id",
    "new_public_key",
    "utcnow",
]
