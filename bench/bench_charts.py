"""The five example reports built with their charts, end to end, as a user runs it:
`execreport run --dry-run` on a copy of examples/ builds every report, draws its charts and
makes each message (the dry run states its size). Prints the best wall time of a few runs,
and the sizes of the HTML parts and the charts.

    python bench/bench_charts.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import email
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from email import policy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(EXAMPLES / "data", root / "data")
        shutil.copy(EXAMPLES / "execreport.toml", root / "execreport.toml")
        cfg = str(root / "execreport.toml")
        walls, cpus = [], []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "execreport", "run", "--dry-run", "-q", "--config", cfg],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        # on a shared machine the wall time counts the others' load; the CPU time does not
        print(
            f"build + charts + messages, 5 reports: wall best {min(walls):.2f} s, "
            f"CPU (user+sys) best {min(cpus):.2f} s, load average {os.getloadavg()[0]:.1f}"
        )
        subprocess.run(
            [sys.executable, "-m", "execreport", "run", "-q", "--config", cfg],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for eml in sorted((root / "outbox").glob("*.eml")):
            msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
            html = msg.get_body(("html",)).get_content().encode()
            pngs = [len(p.get_content()) for p in msg.walk() if p.get_content_type() == "image/png"]
            print(
                f"{eml.name.split('-v')[0]:11} message {eml.stat().st_size / 1024:6.1f} KiB  "
                f"html {len(html) / 1024:5.1f} KiB  charts {[round(n / 1024, 1) for n in pngs]} KiB"
            )


if __name__ == "__main__":
    main()
