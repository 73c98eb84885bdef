"""`make bench`: every benchmark, each figure beside its floor measured in the same run.

Runs the registration-day HTTP benchmark (enroll and drop vs the floor endpoint) on SQLite
with 2 workers and on PostgreSQL with 2 and 4, then the engine-level enroll, the catalog, every
page at full size, the roster CSV and the bulk import benchmarks, prints their lines and writes
them to docs/benchmarks.md with a description of the machine.
"""
from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = [
    ["registration_day.py", "--backend", "sqlite", "--workers", "2"],
    ["registration_day.py", "--backend", "postgresql", "--workers", "2"],
    ["registration_day.py", "--backend", "postgresql", "--workers", "4"],
    ["enroll.py"],
    ["enroll.py", "--backend", "postgresql"],
    ["catalog_page.py", "--courses", "2000"],
    ["pages.py"],
    ["roster_csv.py"],
    ["import_csv.py"],
]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) // (1024 * 1024) for line in
                   Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return (f"{os.cpu_count()} cores ({cpu}), {memory} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}")


def main() -> int:
    out = []
    for run in RUNS:
        command = [sys.executable, str(ROOT / "benchmarks" / run[0]), *run[1:]]
        print(f"$ benchmarks/{' '.join(run)}", flush=True)
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        text = done.stdout.strip() or done.stderr.strip().splitlines()[-1]
        print(text, flush=True)
        out.append((" ".join(run), text, done.returncode))
    lines = ["# Benchmarks", "",
             f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}.", "",
             "Rerun with `make bench` (it prints the same figures). Each figure stands beside "
             "a floor measured in the same run on the same database: ratios travel between "
             "machines better than absolute numbers.", ""]
    for command, text, code in out:
        lines += [f"## `benchmarks/{command}`" + ("" if code == 0 else f" (exit {code})"), "",
                  "```", text, "```", ""]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
