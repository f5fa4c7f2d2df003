"""The people in the simulated day: when callbacks arrive, how agents and customers answer.

Every draw is keyed by what it is about — (seed, callback, agent) for an agent's response to
a callback, (seed, callback) for the customer — and taken from its own `random.Random` seeded
with that key. So every strategy sees the same arrivals and the same agent answers the same
callback in the same way, whichever order the strategy rings them in (common random numbers):
differences between strategies come from the strategies, not from luck. An agent rung twice
for one callback (a second round) responds the same way both times, as the simulator's
phones (one behaviour per number) do in the real-system cross-check.

Why these distributions (the defaults of `Model`):

- Arrivals: a Poisson process over an 8-hour day whose rate follows an hourly profile (a
  morning ramp, a lunch dip, an afternoon peak), scaled to `callbacks_per_day`. Callbacks
  from a widget are independent visitors, so Poisson within an hour.
- Agents: `absent_share` of them (15 %) are online but never pick up (at lunch, in a meeting,
  phone on silent) — the failure hedging exists for; which agents, and so their positions
  in the rule, is drawn per day. The others miss a call now and then (`miss_rate`, 10 %: it
  rings out), reject it (`busy_rate`, 3 %, after 1-4 s) or answer and press nothing
  (`decline_rate`, 2 %); otherwise they answer after a log-normal delay, median 5 s, sigma 0.4
  (5th-95th percentile about 2.6-9.6 s: design.md's "network setup + human, 3-10 s"), each
  agent faster or slower than that by their own factor (log-normal, sigma 0.25). After the
  whisper they press 1 after a log-normal delay, median 1 s, sigma 0.5 (0.4-2.3 s).
- The whisper lasts as long as the simulator takes to speak the product's own whisper text
  (`callback.telephony.twiml`) for the page title `page_title`: 150 words a minute.
- Customers asked for the call seconds ago and expect it: they answer after a log-normal
  delay, median 4.5 s, sigma 0.3 (2.8-7.3 s: design.md's "3-8 s"); by default every customer
  answers (`customer_no_answer_rate` 0): one who does not is the same loss under every
  strategy and says nothing about routing. Conversations last a log-normal 150 s (sigma 0.6).

The defaults give 12 agents about 35 % occupancy at 600 callbacks a day.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from callback.phone import mask
from callback.simulator import twiml as sim_twiml
from callback.simulator.verbs import speech_seconds
from callback.telephony import twiml

# An hour's callbacks relative to the day's mean, 09:00-17:00.
HOURLY_PROFILE = (0.6, 0.9, 1.2, 1.0, 0.8, 1.1, 1.3, 1.1)
EXAMPLE_CUSTOMER = "+37255550123"


@dataclass(frozen=True)
class Model:
    agents: int = 12
    callbacks_per_day: int = 600
    day_hours: float = 8.0
    absent_share: float = 0.15
    miss_rate: float = 0.10
    busy_rate: float = 0.03
    decline_rate: float = 0.02
    answer_median_s: float = 5.0
    answer_sigma: float = 0.4
    agent_speed_sigma: float = 0.25
    busy_after_s: tuple[float, float] = (1.0, 4.0)
    press_median_s: float = 1.0
    press_sigma: float = 0.5
    customer_answer_median_s: float = 4.5
    customer_answer_sigma: float = 0.3
    customer_no_answer_rate: float = 0.0
    talk_median_s: float = 150.0
    talk_sigma: float = 0.6
    page_title: str = "Blue Kettle 1.7 l"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AgentResponse:
    """How one agent responds when rung for one callback."""

    kind: str  # answer | no-answer | busy | decline (answers, presses nothing)
    after_s: float = 0.0  # ringing before answering (answer, decline) or rejecting (busy)
    press_after_s: float = 0.0  # after the whisper ends, until 1 is pressed (answer)


@dataclass(frozen=True)
class CustomerResponse:
    answers: bool
    after_s: float
    talk_s: float


def _rng(*key: object) -> random.Random:
    return random.Random(":".join(str(part) for part in key))


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def arrivals(model: Model, seed: int) -> list[float]:
    """Request times in seconds since the day's start (Poisson, hourly rates)."""
    rng = _rng(seed, "arrivals")
    hours = max(1, math.ceil(model.day_hours))
    profile = [HOURLY_PROFILE[h % len(HOURLY_PROFILE)] for h in range(hours)]
    scale = model.callbacks_per_day / model.day_hours / (sum(profile) / hours)
    times: list[float] = []
    for hour, weight in enumerate(profile):
        end = min(model.day_hours, hour + 1) * 3600
        at = hour * 3600.0
        while True:
            at += rng.expovariate(scale * weight / 3600)
            if at >= end:
                break
            times.append(at)
    return times


@cache
def absent_agents(model: Model, seed: int) -> frozenset[int]:
    """Which agents (1-based positions) never pick up that day."""
    count = round(model.absent_share * model.agents)
    return frozenset(_rng(seed, "absent").sample(range(1, model.agents + 1), count))


@cache
def agent_speed(seed: int, agent: int, sigma: float) -> float:
    return _rng(seed, "speed", agent).lognormvariate(0.0, sigma)


def agent_response(model: Model, seed: int, callback: int, agent: int) -> AgentResponse:
    if agent in absent_agents(model, seed):
        return AgentResponse("no-answer")
    rng = _rng(seed, "agent", callback, agent)
    roll = rng.random()
    if roll < model.miss_rate:
        return AgentResponse("no-answer")
    if roll < model.miss_rate + model.busy_rate:
        return AgentResponse("busy", after_s=round(rng.uniform(*model.busy_after_s), 2))
    median = model.answer_median_s * agent_speed(seed, agent, model.agent_speed_sigma)
    after = round(_lognormal(rng, median, model.answer_sigma), 2)
    if roll < model.miss_rate + model.busy_rate + model.decline_rate:
        return AgentResponse("decline", after_s=after)
    press = round(_lognormal(rng, model.press_median_s, model.press_sigma), 2)
    return AgentResponse("answer", after_s=after, press_after_s=press)


def customer_response(model: Model, seed: int, callback: int) -> CustomerResponse:
    rng = _rng(seed, "customer", callback)
    answers = rng.random() >= model.customer_no_answer_rate
    after = round(_lognormal(rng, model.customer_answer_median_s, model.customer_answer_sigma), 2)
    talk = round(_lognormal(rng, model.talk_median_s, model.talk_sigma), 1)
    return CustomerResponse(answers, after, talk)


@dataclass(frozen=True)
class Whisper:
    """What the agent hears on answering, timed as the simulator speaks it."""

    speech_s: float  # the whisper inside the <Gather>
    gather_timeout_s: float  # how long the Gather waits for a key after it
    goodbye_s: float  # the words before the hang-up when no key came


@cache
def whisper(page_title: str, template: str = twiml.DEFAULT_WHISPER_TEMPLATE) -> Whisper:
    """Parse the product's own answer document with the simulator's TwiML parser."""
    text = twiml.whisper_text(template, page_title, mask(EXAMPLE_CUSTOMER))
    verbs = sim_twiml.parse(twiml.agent_whisper(text, "https://example.invalid/accept"))
    gather = next(v for v in verbs if isinstance(v, sim_twiml.Gather))
    goodbye = [v for v in verbs if isinstance(v, sim_twiml.Say)]
    spoken = sum(speech_seconds(p.text) for p in gather.prompts if isinstance(p, sim_twiml.Say))
    return Whisper(
        speech_s=spoken,
        gather_timeout_s=gather.timeout,
        goodbye_s=sum(speech_seconds(say.text) for say in goodbye),
    )
