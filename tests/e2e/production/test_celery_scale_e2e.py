"""The production shape at scale: ``phrase_connector_ingestion`` over a folder of 200+ files (nested folders,
names in several languages) on CeleryExecutor with PostgreSQL and Redis, two workers and two triggerers.

The run completes; the emulator holds exactly one download task and one job per target language for every
file, and saw exactly one download POST and one create POST per file; the ingest tasks ran on both Celery
workers; more of them waited deferred at once than there are worker slots (deferral freed the slots); the
run's Asset event triggered exactly one ``phrase_new_jobs_report`` run. Wall time, API calls per file and
status calls per poll interval are printed, never asserted (``make bench`` runs this test at 1,000 files).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.emulator_process import EmulatorProcess
from tests.e2e.production.ingestion_dag import (
    DAG_ID,
    POOL,
    REPORT_DAG_ID,
    IngestionDag,
    run_conf,
)
from tests.e2e.production.phrase_record import JournalRecorder, assert_ingested_once, run_figures
from tests.e2e.production.scale_seed import SCALE_FOLDER, ScaleSeed, scale_file_count
from tests.e2e.production.shape import POOL_SLOTS, WORKER_CONCURRENCY, WORKERS
from tests.e2e.task_timeline import TaskTimeline

POLL_INTERVAL = 2.0
"""The ingest tasks' ``poll_interval`` (seconds)."""
RUN_SECONDS_PER_FILE = 5.0
"""Generous deadline per file (the run's timeout grows with the file count)."""
DOWNLOAD_DELAY = 20.0
IMPORT_DELAY = 10.0
"""Seconds each download and each job import take in the emulator here: while tasks wait that long, many
more of them are deferred at once than there are worker slots, unless waiting held a slot."""
REPORT_TIMEOUT = 300.0
FIGURES_ENV = "AIRFLOW_PHRASE_E2E_FIGURES"
"""If set: a file the test writes its figures to, as JSON (for the benchmark)."""
RUN_TIMEOUT = 300 + RUN_SECONDS_PER_FILE * scale_file_count()

# pytest-timeout's limit (pyproject) covers the deployment's start (package fixtures), the run and the report.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(RUN_TIMEOUT + REPORT_TIMEOUT + 300)]


def test_scheduled_ingestion_of_many_files_runs_once_per_file_on_both_workers(
    celery_cluster: AirflowCluster, ingestion: IngestionDag, emulator: EmulatorProcess, scale_seed: ScaleSeed
) -> None:
    api = celery_cluster.api
    paths = scale_seed.files(SCALE_FOLDER)
    emulator.configure(task_delay=DOWNLOAD_DELAY, import_delay=IMPORT_DELAY)
    recorder = JournalRecorder(emulator)
    pool_samples: list[tuple[int, int]] = []  # (occupied, deferred) slots of the pool at each poll
    started = time.monotonic()
    run_id = ingestion.trigger(
        run_conf(scale_seed, SCALE_FOLDER, poll_interval=POLL_INTERVAL, now=datetime.now(timezone.utc))
    )
    timeline = TaskTimeline(api, DAG_ID, run_id)

    def on_poll(_: object) -> None:
        timeline.record()
        recorder.record()
        pool = api.pool(POOL)
        pool_samples.append((int(pool["occupied_slots"]), int(pool["deferred_slots"])))

    run = ingestion.wait_for_run(run_id, timeout=RUN_TIMEOUT, on_poll=on_poll)
    wall = time.monotonic() - started
    entries = recorder.record()
    assert run["state"] == "success", f"{ingestion.describe(run_id)}\n{timeline.describe()}"

    # --- the emulator: one download task and one job per target language for every file, nothing else;
    # it was asked once for each: one download POST and one create POST per file
    record = assert_ingested_once(emulator, entries, scale_seed, paths)

    # --- Celery ran every ingest task, spread over both workers, from this deployment's queue
    tis = ingestion.ingest_tis(run_id)
    assert len(tis) == len(paths) and {ti["state"] for ti in tis} == {"success"}, ingestion.describe(run_id)
    hosts = Counter(ti["hostname"] for ti in tis)
    workers = {celery_cluster.hostname(name) for name in celery_cluster.worker_names}
    assert set(hosts) == workers, hosts
    assert {ti["queue"] for ti in tis} == {celery_cluster.config.celery.queue}  # type: ignore[union-attr]

    # --- deferral freed the slots: more ingest tasks waited at once than the pool and the workers hold,
    # while the pool never had more slots occupied than it has (deferred tasks hold none)
    worker_slots = WORKERS * WORKER_CONCURRENCY
    deferred_peak = timeline.max_simultaneous["deferred"]
    assert deferred_peak > max(POOL_SLOTS, worker_slots), (deferred_peak, timeline.max_simultaneous)
    assert max(deferred for _, deferred in pool_samples) > POOL_SLOTS, pool_samples
    assert max(occupied for occupied, _ in pool_samples) <= POOL_SLOTS, pool_samples

    figures = run_figures(entries, files=len(paths), wall_seconds=wall, poll_interval=POLL_INTERVAL)
    if os.environ.get(FIGURES_ENV):  # benchmarks/bench_celery_scale.py reads them
        figures_json = {**figures.to_json(), "deferred_peak": deferred_peak, "per_worker": dict(hosts)}
        Path(os.environ[FIGURES_ENV]).write_text(json.dumps(figures_json))
    print(
        f"\n[production shape] {figures.describe()}\n"
        f"  ingest tasks per worker (last try): {dict(hosts)}; peak deferred at once: {deferred_peak} "
        f"(pool {POOL_SLOTS} slots, {worker_slots} worker slots); states seen at most at once: "
        f"{dict(timeline.max_simultaneous)}"
    )

    # --- the run's Asset event triggered exactly one report run, which consumed only that event
    event, report = ingestion.wait_for_report(run_id, timeout=REPORT_TIMEOUT)
    assert report["state"] == "success", api.describe_task_states(REPORT_DAG_ID, report["dag_run_id"])
    assert ingestion.upstream_event_ids(report["dag_run_id"]) == [event["id"]]
    assert [r["dag_run_id"] for r in ingestion.report_runs_of(event)] == [report["dag_run_id"]]
    assert sorted(event["extra"]["job_uids"]) == sorted(
        job["uid"] for path in paths for job in record.jobs_by_path[path]
    )
