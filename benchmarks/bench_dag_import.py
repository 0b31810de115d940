"""Benchmark: what importing a DAG file that uses the provider's operators adds to DAG parsing.

Run ``python -m benchmarks.bench_dag_import [--pairs 9]``.

Airflow's dag-processor parses DAG files over and over, in processes that have Airflow (the Task SDK)
loaded already. Two DAG files of the same shape (operator → sensor → operator → operator) are imported,
each in a fresh interpreter that has imported ``airflow.sdk`` first:

* **phrase**: ``benchmarks/dags/phrase_shape.py``, the provider's download, sensor, create-job and
  ingest operators;
* **core**: ``benchmarks/dags/core_shape.py``, the same shape in the standard provider's
  ``PythonOperator`` and ``PythonSensor`` (the baseline).

The figure is the CPU time of the DAG file's import (its own imports and building the DAG; CPU rather
than wall time, so other processes on the machine disturb it less). Runs are paired (core and phrase
back to back, alternating which goes first) and the *added* milliseconds are the median of the pairs'
differences. The goal is at most :data:`BUDGET_MS` added. For scale, the import of the provider's
operator and sensor modules alone (no DAG) is measured in the same pairs. Figures are printed, never
asserted. The modules the phrase DAG loads beyond what the core DAG loads are listed too
(``airflow_phrase`` itself aside).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DAGS = Path(__file__).resolve().parent / "dags"
PHRASE_DAG = "phrase_shape"
CORE_DAG = "core_shape"
#: What ``phrase_shape`` imports from the provider, imported without a DAG (the provider's own cost).
PROVIDER_MODULES = (
    "airflow_phrase.operators.download",
    "airflow_phrase.operators.create_job",
    "airflow_phrase.operators.ingest",
    "airflow_phrase.sensors.connector_task",
)
BUDGET_MS = 50.0

#: Runs in a fresh interpreter: Airflow first (as in the dag-processor), then the DAG file, timed.
_PROBE = """
import importlib, json, sys, time
import airflow.sdk
before = set(sys.modules)
sys.path.insert(0, {dags!r})
started = time.process_time()
for name in {names!r}:
    importlib.import_module(name)
elapsed = time.process_time() - started
print(json.dumps({{"ms": elapsed * 1000, "modules": sorted(set(sys.modules) - before)}}))
"""


@dataclass(frozen=True)
class Sample:
    ms: float
    modules: frozenset[str]


@dataclass(frozen=True)
class Result:
    core_ms: list[float]
    phrase_ms: list[float]
    provider_ms: list[float]
    added_ms: list[float]
    extra_modules: list[str]

    @property
    def added_median(self) -> float:
        return statistics.median(self.added_ms)


def measure(names: Sequence[str], env: dict[str, str]) -> Sample:
    """Import ``names`` (a DAG module, or modules) in a fresh interpreter; the import's CPU time and the
    modules it loaded."""
    code = _PROBE.format(dags=str(DAGS), names=list(names))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    return Sample(ms=float(payload["ms"]), modules=frozenset(payload["modules"]))


def run_benchmark(pairs: int = 9) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-dag-import-") as home:
        env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        measure([CORE_DAG], env)  # warm the OS file cache and write AIRFLOW_HOME's config once
        core: list[Sample] = []
        phrase: list[Sample] = []
        provider: list[Sample] = []
        for index in range(pairs):
            order = (CORE_DAG, PHRASE_DAG) if index % 2 == 0 else (PHRASE_DAG, CORE_DAG)
            samples = {name: measure([name], env) for name in order}
            core.append(samples[CORE_DAG])
            phrase.append(samples[PHRASE_DAG])
            provider.append(measure(PROVIDER_MODULES, env))
    extra = sorted(
        module
        for module in phrase[-1].modules - core[-1].modules
        if not module.startswith(("airflow_phrase", PHRASE_DAG))
    )
    return Result(
        core_ms=[s.ms for s in core],
        phrase_ms=[s.ms for s in phrase],
        provider_ms=[s.ms for s in provider],
        added_ms=[p.ms - c.ms for p, c in zip(phrase, core, strict=True)],
        extra_modules=extra,
    )


def format_result(result: Result) -> str:
    core = statistics.median(result.core_ms)
    phrase = statistics.median(result.phrase_ms)
    lines = [
        f"DAG file import, median of {len(result.added_ms)} paired runs (airflow.sdk loaded first):",
        f"  core operators (baseline)  {core:7.1f} ms",
        f"  phrase operators           {phrase:7.1f} ms",
        f"  (the provider's operator and sensor modules alone, no DAG: "
        f"{statistics.median(result.provider_ms):.1f} ms)",
        f"  added by the provider      {result.added_median:7.1f} ms  (goal: <= {BUDGET_MS:g} ms; "
        f"pairs ranged {min(result.added_ms):.1f} to {max(result.added_ms):.1f} ms)",
        "  modules the phrase DAG loads beyond the core DAG (airflow_phrase aside): "
        + (", ".join(result.extra_modules) or "none"),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=9, help="paired runs (default 9)")
    args = parser.parse_args(argv)
    print(format_result(run_benchmark(args.pairs)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
