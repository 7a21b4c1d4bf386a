"""`execreport --help` against a bare typer app with five commands.

    python bench/bench_help.py [runs]

Prints the median wall time of each over `runs` fresh processes and their ratio.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = '''
import typer
app = typer.Typer(add_completion=False)
for name in ("run", "build", "preview", "plugins", "check"):
    def command(config: str = "", as_of: str = "") -> None:
        """A command."""
    app.command(name)(command)
app()
'''


def timed(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE)
        timed([sys.executable, str(bare), "--help"], 2)  # warm the file cache
        base = timed([sys.executable, str(bare), "--help"], runs)
        ours = timed([sys.executable, "-m", "execreport", "--help"], runs)
    print(f"bare typer app (5 commands) --help: {base * 1000:.0f} ms (median of {runs})")
    print(f"execreport --help:                  {ours * 1000:.0f} ms (median of {runs})")
    print(f"ratio: {ours / base:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
