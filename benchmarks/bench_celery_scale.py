"""Benchmark: the production shape at scale, the Celery end-to-end suite's harness at 1,000 files.

Run ``python -m benchmarks.bench_celery_scale [--files 1000] [--baseline-files 100]`` (``python -m
benchmarks`` runs it with the defaults; it needs PostgreSQL and Redis on 127.0.0.1, as ``.ci/run`` starts
them, and takes tens of minutes on 2 cores).

Runs ``tests/e2e/production/test_celery_scale_e2e.py`` (CeleryExecutor on PostgreSQL and Redis, two
workers, two triggerers, the Phrase emulator; a fresh deployment each time) twice in the same run: over
``--baseline-files`` files, then over ``--files`` files, and prints what the test measured for each:
wall time (and per file), Phrase API calls per file and per kind, status calls per poll interval, the
most ingest tasks seen deferred at once, and how the tasks spread over the workers. The smaller run is the
baseline: calls per file should stay flat as the file count grows, and status calls per poll interval
should not grow with the number of waiting files (coalesced polling). The test still asserts what it
always does (every file ingested exactly once, both workers used); the figures are never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TEST = (
    "tests/e2e/production/test_celery_scale_e2e.py"
    "::test_scheduled_ingestion_of_many_files_runs_once_per_file_on_both_workers"
)
FILES_ENV = "AIRFLOW_PHRASE_E2E_FILES"
FAULT_FILES_ENV = "AIRFLOW_PHRASE_E2E_FAULT_FILES"
FIGURES_ENV = "AIRFLOW_PHRASE_E2E_FIGURES"


def run_scale_test(files: int) -> tuple[dict[str, Any] | None, float, str]:
    """Run the scale test over ``files`` files; returns (its figures or None, seconds, output tail)."""
    with tempfile.TemporaryDirectory(prefix="bench-celery-") as folder:
        figures_file = Path(folder) / "figures.json"
        env = {**os.environ, FILES_ENV: str(files), FAULT_FILES_ENV: "1", FIGURES_ENV: str(figures_file)}
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider"],
            cwd=REPO, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        figures = json.loads(figures_file.read_text()) if figures_file.exists() else None
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    return (figures if result.returncode == 0 else None), elapsed, tail


def format_row(figures: dict[str, Any], session_seconds: float) -> str:
    kinds = ", ".join(
        f"{kind} {n / figures['files']:.1f}" for kind, n in sorted(figures["calls_by_kind"].items())
    )
    files, wall = figures["files"], figures["wall_seconds"]
    return (
        f"{files:>6} {wall:>8.0f} {wall / files:>7.2f} "
        f"{figures['calls_per_file']:>10.1f} {figures['status_calls_per_interval']:>13.2f} "
        f"{figures['deferred_peak']:>9} {session_seconds:>9.0f}\n"
        f"       per file: {kinds}; last try per worker: {figures['per_worker']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_celery_scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--files", type=int, default=1000, help="files in the measured run")
    parser.add_argument("--baseline-files", type=int, default=100, help="files in the baseline run")
    args = parser.parse_args(argv)
    print(
        f"{'files':>6} {'wall s':>8} {'s/file':>7} {'calls/file':>10} {'status/intvl':>13} "
        f"{'deferred':>9} {'session s':>9}"
    )
    status = 0
    for files in (args.baseline_files, args.files):
        figures, elapsed, tail = run_scale_test(files)
        if figures is None:
            print(f"{files:>6}  the run failed after {elapsed:.0f} s:\n{tail}")
            status = 1
            continue
        print(format_row(figures, elapsed), flush=True)
    print(
        "wall s: trigger to run success; status/intvl: connector-task and async-request polls per poll "
        "interval; deferred: most ingest tasks seen deferred at once; session s: the whole pytest run "
        "(deployment start and stop included)."
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
