"""`callback run` keeps its pieces running: one that ends on its own is started again.

In production a process manager (systemd, a platform running the Procfile) restarts a process
that dies; on one machine `callback run` is that manager. The fault suite found why it must be
(README, Reliability): a Celery worker can die of an upstream bug when Redis goes away, and a
system with no worker takes callbacks that nobody dispatches. A piece that keeps dying is
started at most RESTART_LIMIT times in RESTART_WINDOW_S, then the run stops with its exit code,
so a broken setup fails loudly instead of looping.
"""

from __future__ import annotations

import subprocess
import time
from collections import deque
from collections.abc import Callable

from .system import Piece

RESTART_LIMIT = 5
RESTART_WINDOW_S = 60.0
# How often the pieces are looked at: a dead worker costs at most this much more delay.
POLL_S = 0.5

Launch = Callable[[Piece], "subprocess.Popen[bytes]"]


class GaveUp(Exception):
    """A piece died RESTART_LIMIT times within RESTART_WINDOW_S."""

    def __init__(self, piece: str, code: int) -> None:
        super().__init__(
            f"{piece} exited with code {code} {RESTART_LIMIT} times in {RESTART_WINDOW_S:g} s; "
            "stopping (its log above says why)"
        )
        self.code = code or 1


def supervise(
    pieces: list[Piece],
    running: list[subprocess.Popen[bytes]],
    launch: Launch,
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Restart whichever of `running` (started from `pieces`, same order) ends, until
    interrupted; `running` is updated in place, so the caller stops what is current."""
    restarts: dict[str, deque[float]] = {piece.name: deque() for piece in pieces}
    while True:
        for index, piece in enumerate(pieces):
            code = running[index].poll()
            if code is None:
                continue
            recent, now = restarts[piece.name], clock()
            while recent and now - recent[0] > RESTART_WINDOW_S:
                recent.popleft()
            if len(recent) >= RESTART_LIMIT:
                raise GaveUp(piece.name, code)
            recent.append(now)
            say(f"{piece.name} exited with code {code}; starting it again")
            running[index] = launch(piece)
        time.sleep(POLL_S)
