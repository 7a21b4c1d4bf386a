"""Summary of cosmic-ray sessions: per session the mutants run, killed and surviving, the
score over all of them, and every survivor with its diff.

Usage: python bench/mutation/summary.py SESSION.sqlite...

The score is killed / (killed + survived) over the mutants that ran: those outside the
selected functions or of an excluded operator (the filters mark them `skipped`) are not
mutants of this run. A timeout counts as killed (cosmic-ray's rule: the mutant hung the code).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path


def rows(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT m.module_path, m.operator_name, m.occurrence, m.start_pos_row, "
            "r.worker_outcome, r.test_outcome, r.diff FROM mutation_specs m "
            "LEFT JOIN work_results r ON r.job_id = m.job_id ORDER BY m.module_path, "
            "m.start_pos_row, m.operator_name, m.occurrence"
        ).fetchall()
    finally:
        db.close()


def main(argv: list[str]) -> int:
    total_killed = total_survived = total_pending = 0
    survivors = []
    print(f"{'session':<12} {'mutants':>7} {'killed':>7} {'survived':>8} {'pending':>7}")
    for arg in argv:
        path = Path(arg)
        # outcomes as cosmic-ray stores them: upper case (NORMAL, SKIPPED; KILLED, SURVIVED)
        found = [
            (*r[:4], (r[4] or "").lower() or None, (r[5] or "").lower(), r[6]) for r in rows(path)
        ]
        ran = [r for r in found if r[4] != "skipped"]
        killed = sum(1 for r in ran if r[5] in ("killed", "incompetent"))
        alive = [r for r in ran if r[5] == "survived"]
        pending = sum(1 for r in ran if r[4] is None)
        survivors += [(path.stem, *r) for r in alive]
        total_killed += killed
        total_survived += len(alive)
        total_pending += pending
        print(f"{path.stem:<12} {len(ran):>7} {killed:>7} {len(alive):>8} {pending:>7}")
    done = total_killed + total_survived
    score = 100 * total_killed / done if done else 0.0
    print(
        f"{'all':<12} {done + total_pending:>7} {total_killed:>7} {total_survived:>8} "
        f"{total_pending:>7}"
    )
    print(f"score: {score:.1f}% ({total_killed} of {done} mutants killed)")
    for session, module, operator, occurrence, line, *_, diff in survivors:
        print(f"\n--- survived: {session} {module}:{line} {operator} #{occurrence}")
        print((diff or "").strip())
    return 1 if total_pending else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
