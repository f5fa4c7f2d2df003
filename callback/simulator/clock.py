"""Simulated time: every scripted delay runs `time_scale` times faster.

The simulator reports its own clock (date_created, start_time, Timestamp …)
so that durations stay consistent with the delays it scripted: at
`--time-scale 20` a phone that answers after 4 s shows a 4 s ring in the call
log, while only 0.2 s of wall time passed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SimClock:
    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time scale must be positive")
        self.time_scale = time_scale
        self._wall_start = datetime.now(UTC)
        self._mono_start = time.monotonic()

    def seconds(self) -> float:
        """Simulated seconds since the simulator started (monotonic)."""
        return (time.monotonic() - self._mono_start) * self.time_scale

    def now(self) -> datetime:
        return self._wall_start + timedelta(seconds=self.seconds())

    def at_monotonic(self, monotonic: float) -> datetime:
        """The simulated time at a reading of time.monotonic()."""
        return self._wall_start + timedelta(
            seconds=(monotonic - self._mono_start) * self.time_scale
        )

    def to_wall(self, sim_seconds: float) -> float:
        """How long to really wait for `sim_seconds` of simulated time."""
        return max(0.0, sim_seconds) / self.time_scale
