"""Benchmark: status calls per interval for N jobs waiting to be completed, coalesced vs one poll per job.

Run ``python -m benchmarks.bench_job_status [--jobs 1000] [--window 3] [--poll-interval 1]``.

The emulator runs in this process (its own thread and event loop; admin on, rate limit lifted). Three
real jobs are created over HTTP (download, create job, import) and cloned to N jobs of one project that
stay ``NEW`` for the whole window. Both sides then wait on all N jobs for the same ``window``:

* **coalesced**: N :class:`~airflow_phrase.triggers.job_status.PhraseJobStatusTrigger` (one job each,
  as N deferred tasks would) in one event loop, as in one triggerer: they share one paged listing of
  the project's jobs in the statuses that end a wait, per interval;
* **baseline**: N naive waiters in one event loop, each reading its own job
  (``GET /api2/v1/projects/{p}/jobs/{j}``) every interval: what a wait without coalescing costs.

Calls are counted from the emulator's journal and divided by the intervals the window spans. The
coalesced listing costs one page per 50 jobs that have already ended (at least one): the last line shows
the pages of one listing once all N jobs are completed. Figures are printed, never asserted.

**Large history** (``--history 5000 --history-waiting 10``): a long-lived project holds thousands of jobs
completed long ago. On a fresh emulator, ``--history`` jobs are ``COMPLETED`` and ``--history-waiting``
stay ``NEW``; printed beside each other, the calls of one poll of

* **the listing** (what the poller did before): every page of the jobs in the statuses that end a wait
  (``GET /api2/v2/projects/{p}/jobs?status=...``), one page per 50 jobs of history;
* **the choice** (what it does now): page 0, then the search for the waited jobs
  (``POST /api2/v1/projects/{p}/jobs/search``) when that is shorter than the rest of the listing,
  measured over a window of coalesced triggers (one per waiting job).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from typing import Any

CONN_ID = "phrase_bench_status"
PROJECT = "prjWebsite000000000001"
API_TOKEN = "demo-api-token-0123456789"  # the emulator seed's public demo token
LISTING = re.compile(r"^/api2/v2/projects/[^/]+/jobs$")
ONE_JOB = re.compile(r"^/api2/v1/projects/[^/]+/jobs/[^/]+$")
SEARCH = re.compile(r"^/api2/v1/projects/[^/]+/jobs/search$")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_job_status", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--window", type=float, default=3.0, help="seconds both sides wait")
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--history", type=int, default=5000, help="jobs COMPLETED long ago (large history)")
    parser.add_argument("--history-waiting", type=int, default=10, help="jobs waited for (large history)")
    return parser.parse_args(list(argv) if argv is not None else None)


def _connection(base_url: str) -> None:
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {
            "conn_type": "phrase_tms",
            "host": base_url,
            "password": API_TOKEN,
            "extra": {"auth_type": "api_token", "max_wait_seconds": 0.2},
        }
    )
    os.environ.setdefault("AIRFLOW__PHRASE_TMS__MIN_POLL_INTERVAL", "0.01")


def _make_jobs(emulator: Any, count: int) -> list[str]:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.models import JobCreateRequest

    hook = PhraseTmsHook(CONN_ID)
    try:
        remote = hook.resolve_remote_file("1001", "docs/guides", "install.md")
        task = hook.start_connector_download(remote.connector_id, remote.encoded_folder, remote.encoded_name)
        hook.wait_for_download(
            PROJECT, task.id, created_after=None, poll_interval=0.05, deadline=time.time() + 30
        )
        created = hook.create_job_from_connector_task(PROJECT, task.id, JobCreateRequest(target_langs=["de"]))
        template = created.jobs[0].uid
        hook.wait_for_jobs_import(
            PROJECT, [template], jobs_label="bench", poll_interval=0.05, deadline=time.time() + 30
        )
    finally:
        hook.close()
    state = emulator.services.state
    uids = state.clone_jobs(template, count, prefix="jobBench")
    state.remove_job(template)
    return uids


def _count(emulator: Any, since: int, pattern: re.Pattern[str], method: str = "GET") -> int:
    return sum(
        1 for e in emulator.services.journal.entries(since) if e.method == method and pattern.match(e.path)
    )


def _history_figures(emulator: Any, history: int, waiting: int, interval: float) -> tuple[int, float, int]:
    """``(calls of one full listing, calls per poll of the choice, polls)`` in a project with ``history``
    completed jobs and ``waiting`` jobs waited for (a fresh emulator state)."""
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.triggers.job_status import listing_options

    emulator.reset()
    emulator.admin.configure(job_completion_delay=None)
    uids = _make_jobs(emulator, history + waiting)
    for uid in uids[:history]:
        emulator.services.state.script_job(uid, status="COMPLETED")
    waited = uids[history:]
    level, statuses = listing_options(["COMPLETED"], None)
    since = _last_seq(emulator)
    hook = PhraseTmsHook(CONN_ID)
    try:
        sum(1 for _ in hook.iter_jobs(PROJECT, statuses=statuses, workflow_level=level, page_size=50))
    finally:
        hook.close()
    listing = _count(emulator, since, LISTING)
    since = _last_seq(emulator)
    asyncio.run(_coalesced(waited, 2.5 * interval, interval))
    polls = sum(
        1
        for e in emulator.services.journal.entries(since)
        if e.method == "GET" and LISTING.match(e.path) and e.param("pageNumber") in ("0", None)
    )
    calls = _count(emulator, since, LISTING) + _count(emulator, since, SEARCH, "POST")
    return listing, calls / max(polls, 1), polls


def _last_seq(emulator: Any) -> int:
    entries = emulator.services.journal.entries()
    return entries[-1].seq if entries else 0


async def _coalesced(uids: list[str], window: float, interval: float) -> float:
    from airflow_phrase.triggers.job_status import PhraseJobStatusTrigger

    deadline = time.time() + window
    started = time.monotonic()

    async def one(uid: str) -> None:
        trigger = PhraseJobStatusTrigger(
            CONN_ID, PROJECT, [uid], poll_interval=interval, deadline=deadline, not_before=time.time()
        )
        async for _ in trigger.run():
            pass

    await asyncio.gather(*(one(uid) for uid in uids))
    return time.monotonic() - started


async def _baseline(uids: list[str], window: float, interval: float) -> float:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    deadline = time.time() + window
    started = time.monotonic()
    async with PhraseTmsHook(CONN_ID) as hook:

        async def one(uid: str) -> None:
            while time.time() < deadline:
                job = await hook.a_get_job(PROJECT, uid)
                if job.status == "COMPLETED":
                    return
                await asyncio.sleep(min(interval, max(0.0, deadline - time.time())))

        await asyncio.gather(*(one(uid) for uid in uids))
    return time.monotonic() - started


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Thousands of trigger log lines would drown the figures.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    logging.disable(logging.WARNING)
    from airflow_phrase.emulator.config import EmulatorConfig
    from airflow_phrase.emulator.server import running_emulator

    config = EmulatorConfig(enable_admin=True, rate_limit_per_minute=10_000_000, import_delay=0.0)
    with running_emulator(config) as emulator:
        _connection(emulator.base_url)
        uids = _make_jobs(emulator, args.jobs)
        since = _last_seq(emulator)
        wall = asyncio.run(_coalesced(uids, args.window, args.poll_interval))
        coalesced = _count(emulator, since, LISTING)
        since = _last_seq(emulator)
        base_wall = asyncio.run(_baseline(uids, args.window, args.poll_interval))
        baseline = _count(emulator, since, ONE_JOB)
        emulator.admin.configure(job_completion_delay=0.0)  # every job is COMPLETED from now on
        since = _last_seq(emulator)
        asyncio.run(_coalesced(uids, 0.01 + args.poll_interval, args.poll_interval))
        all_done = _count(emulator, since, LISTING)
        listing, choice, polls = _history_figures(
            emulator, args.history, args.history_waiting, args.poll_interval
        )
    intervals = args.window / args.poll_interval
    print(
        f"{args.jobs} jobs waiting to be COMPLETED, "
        f"poll interval {args.poll_interval:g} s, window {args.window:g} s"
    )
    print(f"{'':<34}{'calls':>8}{'per interval':>14}{'wall s':>9}")
    print(f"{'coalesced trigger (shared poll)':<34}{coalesced:>8}{coalesced / intervals:>14.1f}{wall:>9.1f}")
    print(f"{'baseline (one GET per job)':<34}{baseline:>8}{baseline / intervals:>14.1f}{base_wall:>9.1f}")
    print(
        f"(the baseline asks for {args.jobs} GETs per interval; fewer means the in-process emulator could "
        "not answer them all in time: against Phrase, 6,000 calls a minute, it would be rate limited)"
    )
    print(f"one coalesced listing once all {args.jobs} jobs are COMPLETED: {all_done} page call(s)")
    print()
    print(
        f"large history: {args.history} jobs COMPLETED long ago, {args.history_waiting} waiting "
        f"(calls per poll interval; the choice over {polls} poll(s))"
    )
    print(f"{'listing every page (before)':<34}{listing:>8}")
    print(f"{'page 0, then search (now)':<34}{choice:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
