"""`execreport build` against a bare DuckDB script computing the same CFO and accounting
figures from the same files. Prints wall time, peak memory and their ratio.

    python bench/bench_build.py                 # 4 entities x 1,000,000 rows, then 1 x 10,000
    python bench/bench_build.py --entities 2 --rows 200000

Data is generated once (deterministic) under bench/data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# runs a command and prints its wall time and peak RSS (a fresh process per measurement,
# so RUSAGE_CHILDREN is that command's alone)
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr.decode()[-2000:])
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measure(argv: list[str], repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout))
    best = min(runs, key=lambda r: r["wall"])
    return {"wall": best["wall"], "rss_mb": max(r["rss_mb"] for r in runs)}


def dataset(entities: int, rows: int) -> Path:
    folder = HERE / "data" / f"{entities}x{rows}"
    if not (folder / "execreport.toml").exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                str(folder),
                "--entities",
                str(entities),
                "--rows",
                str(rows),
            ],
            check=True,
        )
    return folder


def compare(entities: int, rows: int, repeat: int) -> None:
    folder = dataset(entities, rows)
    cfg = folder / "execreport.toml"
    bare = measure(
        [sys.executable, str(HERE / "bare_duckdb.py"), str(folder), "2025-03-31"], repeat
    )
    ours = measure(
        [
            sys.executable,
            "-m",
            "execreport",
            "build",
            "--json",
            "-q",
            "--config",
            str(cfg),
            "--role",
            "cfo",
            "--role",
            "accounting",
        ],
        repeat,
    )
    print(f"{entities} x {rows:,} rows (cfo + accounting, best of {repeat}):")
    print(f"  bare DuckDB script  {bare['wall']:7.2f} s  peak {bare['rss_mb']:7.0f} MB")
    print(f"  execreport build    {ours['wall']:7.2f} s  peak {ours['rss_mb']:7.0f} MB")
    print(
        f"  ratio               {ours['wall'] / bare['wall']:7.2f}x (target <= 1.5x, "
        f"peak < 1024 MB)"
    )


def small(repeat: int) -> None:
    folder = dataset(1, 10_000)
    cfg = folder / "execreport.toml"
    for path in (folder / "archive.sqlite3", folder / "outbox"):
        subprocess.run(["rm", "-rf", str(path)], check=True)
    run = measure(
        [
            sys.executable,
            "-m",
            "execreport",
            "run",
            "-q",
            "--config",
            str(cfg),
            "--resend",
            "--all",
        ],
        repeat,
    )
    print(
        f"1 x 10,000 rows, `execreport run` end to end (all five roles, outbox, best of "
        f"{repeat}): {run['wall']:.2f} s, peak {run['rss_mb']:.0f} MB (target < 1 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    compare(args.entities, args.rows, args.repeat)
    small(args.repeat)


if __name__ == "__main__":
    main()
