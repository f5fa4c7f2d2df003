"""The supervisor's bookkeeping, on stand-in processes: which piece is restarted, how often,
and when it gives up. (tests/integration/test_run_command.py kills a real worker.)"""

from __future__ import annotations

from typing import Any

import pytest

from callback import supervisor
from callback.supervisor import RESTART_LIMIT, RESTART_WINDOW_S, GaveUp, supervise
from callback.system import Piece


class Stub:
    """A process that has exited with `code`, or runs (None)."""

    def __init__(self, code: int | None) -> None:
        self.code = code

    def poll(self) -> int | None:
        return self.code


class Stop(Exception):
    """Ends the supervision loop after a number of rounds."""


@pytest.fixture
def rounds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each loop round's sleep counts a round; the test says how many to run."""
    done = [0]

    def sleep(_seconds: float) -> None:
        done[0] += 1
        if done[0] >= done_limit[0]:
            raise Stop

    done_limit = [1]
    monkeypatch.setattr(supervisor.time, "sleep", sleep)
    return done_limit


def test_a_piece_that_ended_is_started_again_in_its_place(rounds: list[int]) -> None:
    pieces = [Piece("web", ["gunicorn"]), Piece("worker", ["celery"])]
    web, replacement = Stub(None), Stub(None)
    running: list[Any] = [web, Stub(-9)]
    launched, said = [], []

    def launch(piece: Piece) -> Any:
        launched.append(piece.name)
        return replacement

    with pytest.raises(Stop):
        supervise(pieces, running, launch, said.append)
    assert launched == ["worker"]
    assert running == [web, replacement]
    assert said == ["worker exited with code -9; starting it again"]


def test_a_piece_that_keeps_dying_stops_the_run(rounds: list[int]) -> None:
    rounds[0] = 100
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0  # every death one second after the last: all within the window
        return now[0]

    launched = []

    def launch(piece: Piece) -> Any:
        launched.append(piece.name)
        return Stub(1)

    with pytest.raises(GaveUp, match="worker exited with code 1 5 times") as gave_up:
        supervise([Piece("worker", ["celery"])], [Stub(1)], launch, lambda _: None, clock)
    assert len(launched) == RESTART_LIMIT and gave_up.value.code == 1


def test_deaths_further_apart_than_the_window_never_stop_it(rounds: list[int]) -> None:
    rounds[0] = 4 * RESTART_LIMIT
    now = [0.0]

    def clock() -> float:
        now[0] += RESTART_WINDOW_S / (RESTART_LIMIT - 1)  # one death too few per window
        return now[0]

    with pytest.raises(Stop):
        supervise([Piece("beat", ["celery"])], [Stub(1)], lambda _: Stub(1), lambda _: None, clock)
