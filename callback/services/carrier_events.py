"""What the carrier tells us about a leg, turned into flow events and TwiML answers.

Every function here is called by a signed webhook, runs one short transaction
(the callback row locked), answers with TwiML at once and leaves carrier REST
calls to tasks enqueued after the commit (design §1: no slow work in webhooks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import flow
from ..models import CallbackRequest, Leg
from ..phone import mask
from ..telephony import twiml
from . import context, machine

CUSTOMER_RING_TIMEOUT_S = 25

_AGENT_ENDINGS = {
    "completed": flow.EventType.AGENT_DECLINED,  # answered, but no key: voicemail or hang-up
    "no-answer": flow.EventType.AGENT_NO_ANSWER,
    "busy": flow.EventType.AGENT_BUSY,
    "failed": flow.EventType.AGENT_FAILED,
    "canceled": flow.EventType.AGENT_LEG_CANCELED,
}
_CUSTOMER_EVENTS = {
    "ringing": flow.EventType.CUSTOMER_RINGING,
    "in-progress": flow.EventType.CUSTOMER_ANSWERED,
    "no-answer": flow.EventType.CUSTOMER_NO_ANSWER,
    "canceled": flow.EventType.CUSTOMER_NO_ANSWER,
    "busy": flow.EventType.CUSTOMER_BUSY,
    "failed": flow.EventType.CUSTOMER_FAILED,
}
# The Dial action's DialCallStatus, i.e. how the customer leg ended. "completed" means bridged:
# the customer answered and the conversation is over. "canceled" (the agent hung up while the
# customer rang) is left to the agent leg's own status callback, which says so.
_DIAL_OUTCOMES = {
    "completed": flow.EventType.CALL_ENDED,
    "no-answer": flow.EventType.CUSTOMER_NO_ANSWER,
    "busy": flow.EventType.CUSTOMER_BUSY,
    "failed": flow.EventType.CUSTOMER_FAILED,
}


def agent_answered(leg_id: int) -> str:
    """The agent picked up: whisper who is waiting and ask for 1 (or dial at once)."""
    now = context.now()
    with context.transaction() as session:
        found = _load(session, leg_id)
        if found is None:
            return twiml.hang_up()
        callback, leg = found
        leg.answered_at = leg.answered_at or now
        event = flow.Event(flow.EventType.AGENT_ANSWERED, leg_id=str(leg_id))
        _, effects = machine.apply(session, callback, event, now)
        rule = machine.rule_of(session, callback)
        if effects.prompt_agent and not rule.require_keypress:
            document, effects = _accept(session, callback, leg, now)
        else:
            document = _answer_for(effects, leg_id, callback, rule.whisper_template)
        callback_id = callback.id
    effects.run_after_commit(callback_id, answering_leg=leg_id)
    return document


def agent_pressed(leg_id: int, digits: str) -> str:
    """The agent's key: 1 claims the callback for this leg (first wins), anything else declines."""
    now = context.now()
    with context.transaction() as session:
        found = _load(session, leg_id)
        if found is None:
            return twiml.hang_up()
        callback, leg = found
        if digits == "1":
            document, effects = _accept(session, callback, leg, now)
        else:
            event = flow.Event(
                flow.EventType.AGENT_DECLINED, leg_id=str(leg_id), data={"key": digits[:4]}
            )
            _, effects = machine.apply(session, callback, event, now)
            document = twiml.hang_up()
        callback_id = callback.id
    effects.run_after_commit(callback_id, answering_leg=leg_id)
    return document


def _accept(
    session: Session, callback: CallbackRequest, leg: Leg, now: datetime
) -> tuple[str, machine.Effects]:
    """This leg claims the callback; the flow decides whether it is the first to."""
    event = flow.Event(
        flow.EventType.AGENT_ACCEPTED, leg_id=str(leg.id), agent_id=str(leg.agent_id)
    )
    _, effects = machine.apply(session, callback, event, now)
    if effects.dial_customer is None:
        document = twiml.taken_by_colleague()
    else:
        customer = Leg(
            callback_id=callback.id,
            kind="customer",
            agent_id=leg.agent_id,
            reservation=leg.reservation,
            status="queued",
            created_at=now,
        )
        session.add(customer)
        session.flush()
        settings = context.settings()
        query = f"leg={customer.id}&agent_leg={leg.id}"
        document = twiml.connect_customer(
            customer=callback.phone,
            caller_id=settings.twilio_caller_id,
            timeout_s=CUSTOMER_RING_TIMEOUT_S,
            dial_action_url=context.public_url(f"/twilio/customer/dialed?{query}"),
            customer_status_url=context.public_url(f"/twilio/customer/status?{query}"),
        )
    return document, effects


def customer_dialed(leg_id: int, params: Mapping[str, str]) -> str:
    """The Dial action on the agent's leg: the bridge ended, or the customer never answered.

    The carrier fetches it when the customer leg is over, before the agent's leg goes on, and
    it is not a status callback that may be lost or overtaken: when the customer leg's own
    final status has not been applied yet, its DialCallStatus settles the attempt.
    """
    dial_status = params.get("DialCallStatus", "")
    event_type = _DIAL_OUTCOMES.get(dial_status)
    if event_type is not None:
        _customer_leg_over(leg_id, event_type, params)
    return twiml.call_ended() if dial_status == "completed" else twiml.customer_unreachable()


def _customer_leg_over(leg_id: int, event_type: flow.EventType, params: Mapping[str, str]) -> None:
    now = context.now()
    with context.transaction() as session:
        found = _load(session, leg_id)
        if found is None or found[1].kind != "customer" or found[1].ended_at is not None:
            return  # unknown, or its own final status was applied first
        callback, leg = found
        agent_leg_id = _partner_leg(session, leg, "agent")
        if agent_leg_id is None:
            return
        # DialCallStatus reads as the leg's own final CallStatus (`completed` = answered).
        status = params["DialCallStatus"]
        outcome = {"CallStatus": status, "CallDuration": params.get("DialCallDuration", "")}
        if status == "completed":
            effects = _customer_talked(session, callback, leg, agent_leg_id, outcome, now)
        else:
            event = _leg_event(event_type, agent_leg_id, outcome, customer_leg=leg_id)
            _, effects = machine.apply(session, callback, event, now)
        _record_leg(leg, status, now)
        callback_id = callback.id
    # The agent's leg is being answered by this very request (it says goodbye and hangs up).
    effects.run_after_commit(callback_id, answering_leg=agent_leg_id)


def _customer_news_pending(session: Session, callback: CallbackRequest, agent_leg: Leg) -> bool:
    """The accepted agent leg ended while its customer leg was dialled and has not ended."""
    if callback.status != flow.Status.AGENT_CONNECTED or callback.accepted_leg_id != agent_leg.id:
        return False
    return _partner_leg(session, agent_leg, "customer", open_only=True) is not None


def _partner_leg(session: Session, leg: Leg, kind: str, *, open_only: bool = False) -> int | None:
    """The `kind` leg of the same attempt as `leg`: an agent leg and the customer leg its
    <Dial> rang share one reservation. `open_only`: only if that leg has not ended."""
    if leg.reservation is None:
        return None
    query = select(Leg.id).where(
        Leg.callback_id == leg.callback_id, Leg.kind == kind, Leg.reservation == leg.reservation
    )
    if open_only:
        query = query.where(Leg.ended_at.is_(None))
    return session.scalar(query)


def _agent_left(session: Session, agent_leg_id: int) -> bool:
    agent_leg = session.get(Leg, agent_leg_id)
    return agent_leg is not None and agent_leg.ended_at is not None


def _customer_talked(
    session: Session,
    callback: CallbackRequest,
    leg: Leg,
    agent_leg_id: int,
    params: Mapping[str, str],
    now: datetime,
) -> machine.Effects:
    """The customer leg ended after an answer: the call is over, never a reason to call again.

    Its `in-progress` callback may have been lost or may still be on its way (status
    callbacks are neither guaranteed nor ordered): then the answer is applied first, dated
    back by the call's duration, so the flow sees answered, then ended.
    """
    if leg.answered_at is None:
        duration = _int(params.get("CallDuration")) or 0
        leg.answered_at = now - timedelta(seconds=duration)
        answered = flow.EventType.CUSTOMER_ANSWERED
        # No actions follow an answer (agent_connected -> connected), so no effects to keep.
        event = _leg_event(answered, agent_leg_id, params, customer_leg=leg.id)
        if machine.apply(session, callback, event, now)[0].applied:
            callback.connected_at = leg.answered_at
    ended = _leg_event(flow.EventType.CALL_ENDED, agent_leg_id, params, customer_leg=leg.id)
    _, effects = machine.apply(session, callback, ended, now)
    return effects


def agent_status(leg_id: int, params: Mapping[str, str]) -> None:
    status = params.get("CallStatus", "")
    now = context.now()
    with context.transaction() as session:
        # Lock order everywhere: the callback row first, then its legs and agents.
        if (found := _load(session, leg_id)) is None or not _fresh(session, leg_id, params):
            return
        callback, leg = found
        if status == "ringing":
            event_type: flow.EventType | None = flow.EventType.AGENT_RINGING
        elif status in _AGENT_ENDINGS and _customer_news_pending(session, callback, leg):
            # Bridged or not? Only the customer leg can tell (its news may be lost or behind
            # this one): its end, which the carrier brings about now, settles the attempt, or
            # the sweeper does after a grace (sweeper._settle_held_endings).
            event_type = None
        elif status in _AGENT_ENDINGS:
            accepted = callback.accepted_leg_id == leg_id
            # The winning agent hanging up ends the call, bridged or not.
            event_type = flow.EventType.CALL_ENDED if accepted else _AGENT_ENDINGS[status]
        else:
            event_type = None
        effects = machine.Effects()
        if event_type is not None:
            # The flow must see the leg as it was (still ringing) to judge the event.
            _, effects = machine.apply(
                session, callback, _leg_event(event_type, leg_id, params), now
            )
        if status in machine.LEG_FINAL_STATUSES:
            # The agent's call has ended at the carrier: their phone is free. A leg that lost
            # the race or was let go frees its agent now (nothing earlier did while the call
            # was up; the reservation token makes a repeat a no-op); the winner's wrap-up
            # counts from now.
            winner = callback.accepted_leg_id == leg_id
            wrap_up = machine.WRAP_UP_S if winner else 0
            machine.release_leg(session, leg, now, wrap_up_seconds=wrap_up)
        _record_leg(leg, status, now)
        callback_id = callback.id
    effects.run_after_commit(callback_id)


def customer_status(leg_id: int, agent_leg_id: int, params: Mapping[str, str]) -> None:
    status = params.get("CallStatus", "")
    now = context.now()
    with context.transaction() as session:
        # Lock order everywhere: the callback row first, then its legs and agents.
        if (found := _load(session, leg_id)) is None or not _fresh(session, leg_id, params):
            return
        callback, leg = found
        if status == "completed" and _answered(leg, params):
            effects = _customer_talked(session, callback, leg, agent_leg_id, params, now)
        elif status == "completed" or status in _CUSTOMER_EVENTS:
            event_type = _CUSTOMER_EVENTS.get(status, flow.EventType.CUSTOMER_NO_ANSWER)
            if status == "canceled" and _agent_left(session, agent_leg_id):
                # The agent hung up before the customer answered; their ending waited for this.
                event_type = flow.EventType.CALL_ENDED
            if status == "in-progress":
                callback.connected_at = now
            # Customer events carry the agent leg that dialled them (see flow's docstring).
            event = _leg_event(event_type, agent_leg_id, params, customer_leg=leg_id)
            _, effects = machine.apply(session, callback, event, now)
        else:
            return
        _record_leg(leg, status, now)
        callback_id = callback.id
    effects.run_after_commit(callback_id)


def _answered(leg: Leg, params: Mapping[str, str]) -> bool:
    """Seen answered, or ended with a duration: proof even when `in-progress` never came."""
    return leg.answered_at is not None or (_int(params.get("CallDuration")) or 0) > 0


def _record_leg(leg: Leg, status: str, now: datetime) -> None:
    """The carrier's view of the leg, written after the flow has judged the event."""
    if leg.ended_at is not None:
        return  # ended (e.g. told by the Dial action): a late `ringing` must not revive it
    leg.status = status or leg.status
    if status == "in-progress":
        leg.answered_at = leg.answered_at or now
    if status in machine.LEG_FINAL_STATUSES:
        leg.ended_at = leg.ended_at or now


def _leg_event(
    type_: flow.EventType, leg_id: int, params: Mapping[str, str], **data: object
) -> flow.Event:
    duration = params.get("CallDuration")
    return flow.Event(
        type_,
        leg_id=str(leg_id),
        carrier_status=params.get("CallStatus"),
        sequence=_int(params.get("SequenceNumber")),
        data={**data, "duration_s": _int(duration)} if duration else data,
    )


def _fresh(session: Session, leg_id: int, params: Mapping[str, str]) -> bool:
    """Record the callback's sequence number; False for duplicates and stale reorderings."""
    sequence = _int(params.get("SequenceNumber"))
    if sequence is None:
        return session.get(Leg, leg_id) is not None
    statement = (
        update(Leg)
        .where(Leg.id == leg_id, Leg.last_sequence < sequence)
        .values(last_sequence=sequence)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]


def _load(session: Session, leg_id: int) -> tuple[CallbackRequest, Leg] | None:
    leg = session.get(Leg, leg_id)
    if leg is None:
        return None
    callback = machine.lock_callback(session, leg.callback_id)
    return None if callback is None else (callback, leg)


def _answer_for(
    effects: machine.Effects, leg_id: int, callback: CallbackRequest, template: str
) -> str:
    if effects.prompt_agent:
        text = twiml.whisper_text(template, callback.page_title, mask(callback.phone))
        return twiml.agent_whisper(text, context.public_url(f"/twilio/agent/accept?leg={leg_id}"))
    if effects.hang_up.get(leg_id) == flow.ALREADY_TAKEN:
        return twiml.taken_by_colleague()
    return twiml.hang_up()


def _int(value: str | None) -> int | None:
    """A carrier number (sequence, duration) that fits our columns, else None."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 9:
        return None
    return int(value)
