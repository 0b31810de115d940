"""Benchmark: API calls and wall time of N waiting connector tasks, coalesced vs. one poll per trigger.

Run ``python -m benchmarks.bench_coalescing [--sizes 1,10,100,1000] [--window 3] [--poll-interval 0.5]``,
or call :func:`run_benchmark` and print :func:`format_results`.

For each N, in the same run and against the same emulator (a separate process on 127.0.0.1, so the server
does not compete with the clients for the GIL), N download tasks are started that stay ``NEW`` for the
whole benchmark, and both sides wait on them for the same ``window`` (the waiters' deadline):

* **coalesced**: N :class:`~airflow_phrase.triggers.connector_task.PhraseConnectorTaskTrigger` in one
  event loop, as in one triggerer process: they share one ``connectorAsyncTasks`` poll per interval;
* **baseline**: N naive waiters in one event loop, each with its own hook polling
  ``connectorAsyncTasks`` for its own task every interval (what a trigger without coalescing does).

A fixed window (instead of tasks that finish) makes both sides wait exactly as long, however long it
took to start the N downloads. *Calls* are counted from the emulator's request journal; *wall* is the
time until all N waiters have reported (the window plus whatever the client could not keep up with).
The emulator's rate limit is lifted, so the baseline's cost shows as calls, not as 429 back-off; against
real Phrase (6000 requests per minute) the baseline with 1,000 tasks would be rate limited at any
interval under 10 s. Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DEFAULT_SIZES = (1, 10, 100, 1000)
CONN_ID = "phrase_bench"
PROJECT = "prjWebsite000000000001"
CONNECTOR = "1001"
FILE = ("docs/guides", "install.md")
TASKS_PATH = "/api2/v1/connectorAsyncTasks"
API_TOKEN = "demo-api-token-0123456789"  # the emulator seed's public demo token
NEVER = 86_400.0  # task_delay: the tasks stay NEW for the whole benchmark


@dataclass(frozen=True)
class Measurement:
    calls: int
    seconds: float
    #: Waiters that reported the end of the window (a "timeout" event / their deadline).
    reported: int


@dataclass(frozen=True)
class BenchResult:
    waiting: int
    coalesced: Measurement
    baseline: Measurement

    @property
    def call_ratio(self) -> float:
        return self.baseline.calls / max(1, self.coalesced.calls)

    @property
    def time_ratio(self) -> float:
        return self.baseline.seconds / max(1e-9, self.coalesced.seconds)


@contextmanager
def emulator_process(task_delay: float = NEVER) -> Iterator[str]:
    """Start ``python -m airflow_phrase.emulator`` on 127.0.0.1; yield its root URL; stop it (by pid)."""
    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as tmp:
        port_file = Path(tmp) / "port"
        command = [
            sys.executable, "-m", "airflow_phrase.emulator", "--host", "127.0.0.1", "--port", "0",
            "--enable-admin", "--task-delay", str(task_delay), "--rate-limit-per-minute", "100000000",
            "--port-file", str(port_file),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not port_file.exists():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"the emulator exited: {process.stderr.read().decode() if process.stderr else ''}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start within 60 s")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{int(port_file.read_text().strip())}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start_tasks(count: int) -> list[str]:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    hook = PhraseTmsHook(CONN_ID)
    try:
        remote = hook.resolve_remote_file(CONNECTOR, *FILE)
        return [
            hook.start_connector_download(remote.connector_id, remote.encoded_folder, remote.encoded_name).id
            for _ in range(count)
        ]
    finally:
        hook.close()


async def _coalesced(
    task_ids: list[str], *, interval: float, created_after: datetime, deadline: float
) -> int:
    from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger

    async def wait(task_id: str) -> bool:
        trigger = PhraseConnectorTaskTrigger(
            phrase_conn_id=CONN_ID,
            project_uid=PROJECT,
            download_task_id=task_id,
            poll_interval=interval,
            deadline=deadline,
            created_after=created_after.isoformat(),
            # Poll at once, as the baseline does (the one-interval first-poll delay is not measured here).
            not_before=time.time(),
        )
        events = [event.payload async for event in trigger.run()]
        return events[0]["status"] == "timeout"

    return sum(await asyncio.gather(*(wait(task_id) for task_id in task_ids)))


async def _uncoalesced(
    task_ids: list[str], *, interval: float, created_after: datetime, deadline: float
) -> int:
    """The baseline: every waiter polls for itself with its own hook (one trigger = one poll per interval)."""
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    async def wait(task_id: str) -> bool:
        async with PhraseTmsHook(CONN_ID) as hook:
            while True:
                state = await hook.a_get_connector_task_state(PROJECT, task_id, created_after=created_after)
                if state is not None and state.is_finished:
                    return False
                left = deadline - time.time()
                if left <= 0:
                    return True
                await asyncio.sleep(min(interval, left))

    return sum(await asyncio.gather(*(wait(task_id) for task_id in task_ids)))


def _measure(
    admin: Any, task_ids: list[str], *, coalesce: bool, interval: float, window: float
) -> Measurement:
    created_after = datetime.now(timezone.utc) - timedelta(hours=1)
    since = max((entry.seq for entry in admin.journal()), default=0)
    waiter = _coalesced if coalesce else _uncoalesced
    started = time.monotonic()
    deadline = time.time() + window
    reported = asyncio.run(
        waiter(task_ids, interval=interval, created_after=created_after, deadline=deadline)
    )
    seconds = time.monotonic() - started
    entries = admin.journal(since=since)
    if entries and entries[0].seq != since + 1:
        print(
            f"warning: the emulator journal overflowed; call counts for N={len(task_ids)} are too low",
            file=sys.stderr,
        )
    calls = sum(1 for entry in entries if entry.method == "GET" and entry.path == TASKS_PATH)
    return Measurement(calls=calls, seconds=seconds, reported=reported)


def run_benchmark(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    window: float = 3.0,
    poll_interval: float = 0.5,
) -> list[BenchResult]:
    """Measure coalesced vs. uncoalesced waiting for each N in ``sizes`` (see the module docstring)."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-home-"))
    # The emulator is local: poll faster than the floor real Phrase needs ([phrase_tms] min_poll_interval).
    os.environ.setdefault("AIRFLOW__PHRASE_TMS__MIN_POLL_INTERVAL", "0.05")
    from airflow_phrase.emulator.admin_client import AdminClient

    results = []
    with emulator_process() as root_url:
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
            {"conn_type": "phrase_tms", "host": f"{root_url}/web", "password": API_TOKEN,
             "extra": {"auth_type": "api_token"}}
        )  # fmt: skip
        admin = AdminClient(root_url, timeout=60)
        for waiting in sizes:
            admin.reset()
            task_ids = _start_tasks(waiting)  # the same N never-finishing tasks for both sides
            coalesced = _measure(admin, task_ids, coalesce=True, interval=poll_interval, window=window)
            baseline = _measure(admin, task_ids, coalesce=False, interval=poll_interval, window=window)
            results.append(BenchResult(waiting=waiting, coalesced=coalesced, baseline=baseline))
    return results


def format_results(results: Sequence[BenchResult], *, window: float, poll_interval: float) -> str:
    lines = [
        f"N connector download tasks of one project, waited on for {window:g} s "
        f"(poll interval {poll_interval:g} s)",
        f"{'N':>6} | {'calls coalesced':>15} {'calls baseline':>14} {'ratio':>8} | "
        f"{'wall coalesced':>14} {'wall baseline':>13} {'ratio':>7} | reported",
    ]
    for r in results:
        lines.append(
            f"{r.waiting:>6} | {r.coalesced.calls:>15} {r.baseline.calls:>14} {r.call_ratio:>7.1f}x | "
            f"{r.coalesced.seconds:>13.2f}s {r.baseline.seconds:>12.2f}s {r.time_ratio:>6.2f}x | "
            f"{r.coalesced.reported}/{r.waiting}, {r.baseline.reported}/{r.waiting}"
        )
    lines.append("ratio = baseline / coalesced (higher: coalescing saves more). Figures vary by machine.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_coalescing", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated N values")
    parser.add_argument("--window", type=float, default=3.0, help="seconds both sides wait (their deadline)")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--verbose", action="store_true", help="show the triggers' and the hook's log lines")
    args = parser.parse_args(argv)
    if not args.verbose:  # one "waiting for task ..." line per trigger drowns the table
        logging.getLogger("airflow_phrase").setLevel(logging.WARNING)
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    results = run_benchmark(sizes, window=args.window, poll_interval=args.poll_interval)
    print(format_results(results, window=args.window, poll_interval=args.poll_interval))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
