"""What rendering the report templates adds to a build.

    python bench/bench_templates.py [runs]

Builds the five reports on the examples `runs` times in one process and measures the time
spent inside `render_template` (Jinja2: loading, compiling on first use, rendering) against
the whole build. The first build includes importing jinja2 and compiling every template; the
others use the compiled templates, as a long-running worker or a second `run` in the same
Lambda does. Prints both, in milliseconds, and the share of the build.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    import execreport.templates as templates
    from execreport.config import load_config
    from execreport.pipeline import build

    spent: list[float] = []
    original = templates.render_file

    def timed_render(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    templates.render_file = timed_render  # type: ignore[assignment]
    config = load_config(ROOT / "examples" / "execreport.toml")
    rows = []
    for _ in range(runs):
        spent.clear()
        start = time.perf_counter()
        result = build(config)
        total = time.perf_counter() - start
        rows.append((sum(spent), total, len(spent)))
    roles = [i.role.name for i in result.items]
    first, rest = rows[0], rows[1:] or rows
    warm_templates = statistics.median(r[0] for r in rest)
    warm_total = statistics.median(r[1] for r in rest)
    print(f"roles built: {', '.join(roles)}; templates rendered per build: {first[2]}")
    print(
        f"first build: templates {first[0] * 1000:.1f} ms of {first[1] * 1000:.0f} ms "
        f"({first[0] / first[1]:.1%})"
    )
    print(
        f"later builds (median of {len(rest)}): templates {warm_templates * 1000:.1f} ms of "
        f"{warm_total * 1000:.0f} ms ({warm_templates / warm_total:.1%})"
    )
    print("target: templates add < 100 ms to a build")


if __name__ == "__main__":
    main()
