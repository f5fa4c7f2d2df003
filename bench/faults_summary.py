"""Print the fault-injection results (bench/results/faults-*.json) as the README's table.

The suite (tests/faults) writes one row per fault and backend; this turns them into
Markdown: `.venv/bin/python bench/faults_summary.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def rows() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(RESULTS.glob("faults-*.json")):
        data = json.loads(path.read_text())
        found += [(data["backend"], row) for row in data["rows"]]
    return found


def table() -> str:
    lines = [
        "| fault | stores | trials | accepted | lost | customer called twice | "
        "double-booked | worst recovery | outcomes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for backend, row in sorted(rows(), key=lambda item: (item[1]["fault"], item[0])):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))
        if row.get("note"):
            outcomes += f" ({row['note']})"
        lines.append(
            f"| {row['fault']} | {backend} | {row['trials']} | {row['accepted']} | {row['lost']} "
            f"| {row['duplicated']} | {row['double_booked']} | {row['worst_recovery_s']:.1f} s "
            f"| {outcomes} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
