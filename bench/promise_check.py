"""The simulated day checked against the real system: the same callbacks, real processes.

For each strategy checked, a rule of its own (`check-<strategy>`, the settings under test)
with `model.agents` agents and a widget ringing it. Callbacks are posted one at a time: before
each, every agent's phone in the simulator is scripted with that agent's drawn response to
this callback (`promise_model.agent_response`: no answer, busy, answer without a key, or
answer after x s and press 1 y s after the whisper) and the customer's phone with the
customer's; after it, the script waits until the callback has ended and every agent is free
again. The strategies run side by side, each on its own thread with its own agents.

The simulation then runs each of those callbacks alone (every agent free, as in the real
run) with the same draws, and the two are compared callback by callback: time to connect
(POST sent → the customer's phone answering, the simulator's clock) and who took the call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from common import System, http_session, read, seed_rule, summary_ms, valid_mobiles
from promise_model import AgentResponse, Model, agent_response, customer_response
from promise_sim import Day, Rule
from sqlalchemy import func, select

from callback.models import Agent, CallbackRequest, Leg, RoutingRule, RuleMember

CUSTOMER_TALK_S = 1.0  # the check's customers hang up soon: the next callback can start
SETTLED = ("completed", "failed", "canceled", "scheduled")
AGENT_BASE = 56300000
CUSTOMER_BASE = 55700000


def agent_phone(response: AgentResponse) -> dict[str, Any]:
    """The simulator phone behaviour that responds as drawn."""
    match response.kind:
        case "answer":
            return {
                "outcome": "answer",
                "answer_after": response.after_s,
                "digits": "1",
                "press_after": response.press_after_s,
            }
        case "decline":
            return {"outcome": "answer", "answer_after": response.after_s, "digits": ""}
        case "busy":
            return {"outcome": "busy", "answer_after": response.after_s}
    return {"outcome": "no-answer"}


def run_check(
    system: System,
    model: Model,
    seed: int,
    rules: Sequence[Rule],
    count: int,
    sim_offset_s: float,
) -> dict[str, Any]:
    """Post `count` callbacks per rule on the real system and compare with the simulation."""
    posted: dict[str, list[tuple[int, float, str, str]]] = {}
    errors: list[str] = []
    threads = []
    for number, rule in enumerate(rules):
        name = f"check-{rule.strategy}"
        agents = valid_mobiles(AGENT_BASE + 10000 * number, model.agents)
        customers = valid_mobiles(CUSTOMER_BASE + 10000 * number, count)
        seed_rule(
            system,
            name,
            agents,
            widget=name,
            strategy=rule.strategy,
            ring_timeout=rule.ring_timeout,
            hedge_after=rule.hedge_after,
            simultaneous_count=rule.simultaneous_count,
            max_rounds=rule.max_rounds,
            whisper_template=rule.whisper_template,
        )
        posted[name] = []

        def work(rule: Rule = rule, name: str = name, agents=agents, customers=customers) -> None:
            try:
                _post_one_by_one(system, model, seed, name, agents, customers, posted[name])
            except Exception as exc:  # reported in the result, not lost on a thread
                errors.append(f"{rule.strategy}: {type(exc).__name__}: {exc}")

        threads.append(threading.Thread(target=work, name=name, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=count * 120 + 60)
    calls = system.sim_calls()
    by_rule = {}
    for rule in rules:
        name = f"check-{rule.strategy}"
        by_rule[rule.strategy] = _compare(
            system, model, seed, rule, name, posted[name], calls, sim_offset_s
        )
    return {"callbacks_per_strategy": count, "errors": errors, "strategies": by_rule}


def _post_one_by_one(
    system: System,
    model: Model,
    seed: int,
    widget: str,
    agents: list[str],
    customers: list[str],
    posted: list[tuple[int, float, str, str]],
) -> None:
    http = http_session()
    try:
        for index, customer in enumerate(customers):
            for position, phone in enumerate(agents, start=1):
                behaviour = agent_phone(agent_response(model, seed, index, position))
                _put_phone(system, http, phone, behaviour)
            answer = customer_response(model, seed, index)
            _put_phone(
                system,
                http,
                customer,
                {
                    "outcome": "answer" if answer.answers else "no-answer",
                    "answer_after": answer.after_s,
                    "digits": "",
                    "hangup_after": CUSTOMER_TALK_S,
                },
            )
            sent = time.time()
            response = http.post(
                f"{system.web_url}/api/v1/callbacks",
                json={"widget": widget, "phone": customer, "page_title": model.page_title},
                timeout=10,
            )
            response.raise_for_status()
            callback_id = response.json()["id"]
            posted.append((index, sent, callback_id, customer))
            last = index == len(customers) - 1
            _wait_until_idle(system, widget, callback_id, agents_too=not last)
    finally:
        http.close()


def _put_phone(system: System, http: Any, number: str, behaviour: dict[str, Any]) -> None:
    response = http.put(f"{system.sim_url}/sim/phones/{number}", json=behaviour, timeout=5)
    response.raise_for_status()


def _wait_until_idle(
    system: System, rule: str, callback_id: str, agents_too: bool, timeout: float = 150
) -> None:
    """Until the callback has ended and (if asked) every agent of the rule is free again."""
    engine = system.engine()
    status = select(CallbackRequest.status).where(CallbackRequest.id == callback_id)
    busy = (
        select(func.count())
        .select_from(Agent)
        .join(RuleMember, RuleMember.agent_id == Agent.id)
        .join(RoutingRule, RoutingRule.id == RuleMember.rule_id)
        .where(RoutingRule.name == rule, Agent.state != "available")
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if read(engine, status)[0][0] in SETTLED and (
                not agents_too or read(engine, busy)[0][0] == 0
            ):
                return
            time.sleep(0.25)
        raise TimeoutError(f"callback {callback_id} on {rule} did not settle in {timeout} s")
    finally:
        engine.dispose()


def _compare(
    system: System,
    model: Model,
    seed: int,
    rule: Rule,
    name: str,
    posted: list[tuple[int, float, str, str]],
    calls: list[dict[str, Any]],
    sim_offset_s: float,
) -> dict[str, Any]:
    engine = system.engine()
    ids = [callback_id for _, _, callback_id, _ in posted]
    positions = dict(
        read(
            engine,
            select(RuleMember.agent_id, RuleMember.position)
            .join(RoutingRule, RoutingRule.id == RuleMember.rule_id)
            .where(RoutingRule.name == name),
        )
    )
    legs = read(
        engine,
        select(Leg.callback_id, Leg.id, Leg.agent_id)
        .where(Leg.kind == "agent", Leg.callback_id.in_(ids))
        .order_by(Leg.id),
    )
    accepted = dict(
        read(
            engine,
            select(CallbackRequest.id, CallbackRequest.accepted_leg_id).where(
                CallbackRequest.id.in_(ids)
            ),
        )
    )
    engine.dispose()
    rung: dict[str, list[int]] = {}
    winner: dict[str, int | None] = {}
    for callback_id, leg_id, agent_id in legs:
        rung.setdefault(callback_id, []).append(positions.get(agent_id, 0))
        if accepted.get(callback_id) == leg_id:
            winner[callback_id] = positions.get(agent_id)
    answered_at: dict[str, float] = {}
    for call in calls:
        if call["direction"] != "outbound-dial":
            continue
        moments = [h["at"] for h in call["history"] if h["status"] == "in-progress"]
        if moments:
            answered_at[call["to"]] = datetime.fromisoformat(moments[0]).timestamp() - sim_offset_s

    samples = []
    for index, sent, callback_id, customer in posted:
        simulated = Day(model, rule, seed, [(index, 0.0)]).run()[0]
        sim_winner = next((leg.agent.position for leg in simulated.legs if leg.won), None)
        real = answered_at.get(customer)
        samples.append(
            {
                "callback": index,
                "real_s": None if real is None else round(real - sent, 3),
                "simulated_s": None
                if simulated.time_to_connect is None
                else round(simulated.time_to_connect, 3),
                "real_agents_rung": rung.get(callback_id, []),
                "simulated_agents_rung": [leg.agent.position for leg in simulated.legs],
                "real_winner": winner.get(callback_id),
                "simulated_winner": sim_winner,
            }
        )
    both = [s for s in samples if s["real_s"] is not None and s["simulated_s"] is not None]
    differences = [s["real_s"] - s["simulated_s"] for s in both]
    return {
        "rule": rule.label,
        "callbacks": len(samples),
        "connected_real": sum(1 for s in samples if s["real_s"] is not None),
        "connected_simulated": sum(1 for s in samples if s["simulated_s"] is not None),
        "same_winner": sum(1 for s in samples if s["real_winner"] == s["simulated_winner"]),
        "same_agents_rung": sum(
            1 for s in samples if s["real_agents_rung"] == s["simulated_agents_rung"]
        ),
        "real_minus_simulated": summary_ms(differences),
        "abs_difference": summary_ms([abs(d) for d in differences]),
        "samples": samples,
    }
