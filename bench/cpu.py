"""CPU time spent by each part of the running system, read from /proc (Linux).

Latency on a shared 2-core machine depends on everything else that runs; the CPU time a
request costs each process does much less, so it is what tells where the time goes and what
the machine could serve at most. `CpuMeter.take()` before and after a load gives the CPU
seconds each group used in between: the system's own processes with all their children (the
gunicorn workers under their master), and the PostgreSQL and Redis servers, found by name.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_SERVERS = {"postgres": "postgresql", "redis-server": "redis"}


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    name: str
    cpu_s: float


def _processes() -> list[_Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        # "pid (comm) state ppid … utime stime …": comm may hold spaces and parentheses.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS
        found.append(_Proc(int(entry.name), int(fields[1]), name, cpu))
    return found


class CpuMeter:
    """CPU seconds per group: `roots` maps a group name to process ids (with descendants)."""

    def __init__(self, roots: dict[str, Iterable[int]]) -> None:
        self.roots = {name: set(pids) for name, pids in roots.items()}

    def take(self) -> dict[tuple[str, int], float]:
        """CPU seconds so far of every process of every group, by (group, pid)."""
        procs = _processes()
        children: dict[int, list[_Proc]] = defaultdict(list)
        for proc in procs:
            children[proc.ppid].append(proc)
        by_pid = {proc.pid: proc for proc in procs}
        reading: dict[tuple[str, int], float] = {}
        for group, pids in self.roots.items():
            stack = [by_pid[pid] for pid in pids if pid in by_pid]
            while stack:
                proc = stack.pop()
                reading[(group, proc.pid)] = proc.cpu_s
                stack.extend(children[proc.pid])
        for proc in procs:
            server = _SERVERS.get(proc.name)
            if server:
                reading[(server, proc.pid)] = proc.cpu_s
        return reading


def used(
    before: dict[tuple[str, int], float], after: dict[tuple[str, int], float]
) -> dict[str, float]:
    """CPU seconds per group between two readings. A process that started in between counts
    from zero; one that ended in between is missing from `after` and counts nothing (a
    server's connection process that closed: its last moments are lost)."""
    totals: dict[str, float] = defaultdict(float)
    for (group, pid), cpu in after.items():
        totals[group] += cpu - before.get((group, pid), 0.0)
    return {group: round(seconds, 3) for group, seconds in totals.items()}
