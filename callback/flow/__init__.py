"""The callback state machine: transitions as data, one pure function to apply them.

`transition(state, event)` takes the current `CallbackState` and one `Event` and returns an
`Outcome`: the next state, the `Action`s the shell must carry out, and the outcome's `kind`.
Nothing here does I/O. The shell around it — a webhook, a Celery task, the beat — loads the
state, calls `transition`, persists the new state and the event in one transaction, then carries
out the actions (carrier calls, agent reservations, enqueues) after the commit.

Carriers deliver status callbacks late, twice and out of order, and timers race with webhooks,
so those are ordinary inputs here, not errors. Every input gets an explicit outcome kind and this
module never raises on one:

- `applied`: the event moved the flow on (or was recorded with no change); persist `state`.
- `duplicate`: an event with the same `dedupe_key` was already applied; change nothing.
- `ignored_late`: the event is about something that no longer matters (a leg that lost the race,
  a timer that fired after the flow moved on, anything after a terminal status). The state is
  unchanged, but the outcome may carry clean-up actions, e.g. `HangUpLeg` for an agent who
  pressed 1 after another agent already took the callback.
- `illegal`: the event contradicts the state (a customer answering before any agent accepted).
  The state is unchanged; the shell logs it loudly.

Only `applied` outcomes return a new state; for the other kinds `outcome.state is state`, so the
shell has nothing to write.

Conventions the shell must follow:

- Agent-leg events (`dispatched`, `agent_*`, `lease_expired`) carry the agent leg's id.
- Customer events (`customer_*`, `call_ended`) carry the id of the *accepted agent leg* whose
  `<Dial>` rang the customer (Twilio's ParentCallSid); that is how an event from an earlier
  attempt is told apart from the current one. The customer call's own sid may go in `data`.
- Apply `dispatched` (and commit) before placing the carrier call, so that no status callback
  can arrive for a leg the state does not know yet.
- `transition` only tests `event.dedupe_key in state.seen_keys`: the shell may load just that
  one key (a unique index on (callback, dedupe_key) also closes the race between two webhook
  workers).
- A `duplicate` carries no actions. A webhook that is retried answers from the current state,
  as it did the first time (e.g. a repeated accept from the winning leg serves the `<Dial>`).

Layout: `vocabulary` (statuses, events, reasons, the state), `actions` (what the shell
does), `table` (the transitions as data) and `transition` (the pure function).
"""

from __future__ import annotations

from .actions import (
    Action,
    CancelOtherLegs,
    Complete,
    DialCustomer,
    EnqueueDispatch,
    Fail,
    HangUpLeg,
    MarkAgentOnCall,
    MarkAgentWrapUp,
    PromptAgent,
    ReleaseAgent,
    Reschedule,
    RingNextAgents,
    ScheduleRetry,
    WatchLeg,
)
from .table import (
    LATE,
    NO_AGENT,
    TRANSITIONS,
    Guard,
    Rule,
)
from .transition import (
    Outcome,
    transition,
)
from .vocabulary import (
    AGENT_LEG_ENDINGS,
    AGENT_LEG_EVENTS,
    ALREADY_TAKEN,
    CUSTOMER_EVENTS,
    DEFAULT_MAX_CUSTOMER_ATTEMPTS,
    DEFAULT_RETRY_DELAY_S,
    LEG_EVENTS,
    NO_LONGER_NEEDED,
    PUBLIC_STATUSES,
    TERMINAL_STATUSES,
    CallbackState,
    Event,
    EventType,
    OutcomeKind,
    Reason,
    Status,
)

__all__ = [
    "AGENT_LEG_ENDINGS",
    "AGENT_LEG_EVENTS",
    "ALREADY_TAKEN",
    "CUSTOMER_EVENTS",
    "DEFAULT_MAX_CUSTOMER_ATTEMPTS",
    "DEFAULT_RETRY_DELAY_S",
    "LATE",
    "LEG_EVENTS",
    "NO_AGENT",
    "NO_LONGER_NEEDED",
    "PUBLIC_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "Action",
    "CallbackState",
    "CancelOtherLegs",
    "Complete",
    "DialCustomer",
    "EnqueueDispatch",
    "Event",
    "EventType",
    "Fail",
    "Guard",
    "HangUpLeg",
    "MarkAgentOnCall",
    "MarkAgentWrapUp",
    "Outcome",
    "OutcomeKind",
    "PromptAgent",
    "Reason",
    "ReleaseAgent",
    "Reschedule",
    "RingNextAgents",
    "Rule",
    "ScheduleRetry",
    "Status",
    "WatchLeg",
    "transition",
]
