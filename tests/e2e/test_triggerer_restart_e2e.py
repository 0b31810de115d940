"""A restarted triggerer creates nothing twice: ``phrase_manual_ingestion`` on a real Airflow deployment, its
triggerer stopped while every ingest task is deferred on a Phrase download, then started again.

The run ingests the seed's ``Marketing Drive`` files (a connector, and so download tasks, the other end-to-end
test never touches) into the ``Website`` project. Once each ingest task is deferred and the old triggerer has
polled for it, the triggerer process is stopped (SIGTERM through the harness). While none runs, the tasks stay
deferred and nobody polls Phrase; a new triggerer then rebuilds the triggers from their serialized kwargs and
the run finishes. Since the triggers only read (``GET connectorAsyncTasks``), the emulator must have seen
exactly one download and one job creation per file, and hold exactly one job per target language for each.

The hourly DAG is kept paused, so no scheduled run touches the emulator behind the test's back. The report
DAG is unpaused and consumes this run's Asset event at once: Airflow bundles every event since the previous
asset-triggered run into the next one, so an event left behind would land in another test's report run.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.airflow_api import AirflowApiClient
from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.emulator_process import EmulatorProcess
from tests.e2e.polling import wait_for
from tests.e2e.task_timeline import TaskTimeline

pytestmark = pytest.mark.e2e

DAG_ID = "phrase_manual_ingestion"
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / f"{DAG_ID}.py"
HOURLY_DAG_ID = "phrase_connector_ingestion"
REPORT_DAG_ID = "phrase_new_jobs_report"
INGEST_TASK = "ingest_file"
SUMMARY_TASK = "summarize"
CONNECTOR_NAME = "Marketing Drive"
FOLDER = "Campaigns"
PROJECT_UID = "prjWebsite000000000001"
TARGET_LANGS = ["de", "fr_fr", "ja"]
POLL_INTERVAL = 1.0
"""The ingest tasks' ``poll_interval`` (seconds): how often a running triggerer lists connector tasks."""
DOWNLOAD_DELAY = 30.0
"""Seconds each connector download of this test takes in the emulator: it must outlast the wait until every
ingest task is deferred, so that the triggerer is stopped with every download still running."""
QUIET_POLL_INTERVALS = 4
"""Poll intervals the test watches with no triggerer running: none may bring a poll or resume a task."""
DEFERRED_TIMEOUT = 120.0
RUN_TIMEOUT = 240.0
REPORT_QUEUE_TIMEOUT = 120.0

POLL_PATH = "/api2/v1/connectorAsyncTasks"
DOWNLOAD_PATH = re.compile(
    r"/api2/v2/connectors/(?P<connector>[^/]+)/folders/[0-9a-f]+/files/(?P<file>[0-9a-f]+)"
)
LOGIN_PATH = "/api2/v3/auth/login"
CREATE_JOBS_PATH = f"/api2/v1/projects/{PROJECT_UID}/jobs/connectorTask"
WAITING_LINE = "Waiting for Phrase connector download task"
"""What :class:`~airflow_phrase.triggers.connector_task.PhraseConnectorTaskTrigger` logs when it starts."""
FIRED_LINE = "Trigger fired event"
"""What Airflow's triggerer logs in a trigger's log when the trigger yields its event."""


@dataclass(frozen=True)
class SeedConnector:
    connector_id: str
    paths: frozenset[str]
    """Full connector paths of the files under ``FOLDER``."""

    def relative(self, path: str) -> str:
        return path.removeprefix(f"{FOLDER}/")


def seed_connector() -> SeedConnector:
    """The ``Marketing Drive`` connector of the shipped seed: its id and its files under ``FOLDER``, all of
    which ingest cleanly (no download or import failure in the seed)."""
    seed = json.loads(resources.files("airflow_phrase.emulator").joinpath("seeds/demo.json").read_text())
    (connector,) = [c for c in seed["connectors"] if c["name"] == CONNECTOR_NAME]
    files = [f for f in connector["files"] if f["path"].startswith(f"{FOLDER}/")]
    assert files and not [f for f in files if "download" in f or "import" in f], files
    return SeedConnector(connector_id=str(connector["id"]), paths=frozenset(f["path"] for f in files))


@pytest.fixture
def emulator(emulator_process: EmulatorProcess | None) -> Iterator[EmulatorProcess]:
    """The emulator, re-seeded, with slow downloads for this test only (its config is restored after)."""
    if emulator_process is None:
        pytest.skip("the Phrase emulator CLI (python -m airflow_phrase.emulator) is not in this checkout")
    previous = emulator_process.config()["task_delay"]
    emulator_process.reset()
    emulator_process.configure(task_delay=DOWNLOAD_DELAY)
    try:
        yield emulator_process
    finally:
        emulator_process.configure(task_delay=previous)


@pytest.fixture
def dags_of_this_test(airflow_cluster: AirflowCluster) -> Iterator[AirflowApiClient]:
    """Pause the hourly DAG (no scheduled run may touch the emulator meanwhile), unpause ``DAG_ID`` and the
    report DAG; afterwards all three are paused, as created.

    The report DAG runs on this test's Asset event now: an event no report run consumed would be bundled
    into the next asset-triggered report run (Airflow takes every event since the previous one), another
    test's."""
    api = airflow_cluster.api
    for dag_id in (DAG_ID, REPORT_DAG_ID, HOURLY_DAG_ID):
        airflow_cluster.wait_for_dag(dag_id, file_hint=dag_id)
    api.set_paused(HOURLY_DAG_ID, True)
    api.set_paused(REPORT_DAG_ID, False)
    api.set_paused(DAG_ID, False)
    try:
        yield api
    finally:
        for dag_id in (DAG_ID, REPORT_DAG_ID):
            api.set_paused(dag_id, True)


def last_seq(emulator: EmulatorProcess) -> int:
    return max((entry["seq"] for entry in emulator.journal()), default=0)


def polls(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["method"] == "GET" and e["path"] == POLL_PATH]


def ingest_tis(api: AirflowApiClient, run_id: str) -> list[dict]:
    return [ti for ti in api.task_instances(DAG_ID, run_id) if ti["task_id"] == INGEST_TASK]


def trigger_logs(cluster: AirflowCluster, run_id: str) -> dict[int, dict[int, Path]]:
    """``{map index: {triggerer job id: trigger log file}}`` of the run's ingest tasks (the triggerer writes
    ``attempt=N.log.trigger.<its job id>.log`` next to the task's log)."""
    found: dict[int, dict[int, Path]] = {}
    for path in cluster.task_log_files(DAG_ID, run_id, INGEST_TASK):
        if ".trigger." not in path.name:
            continue
        (index_part,) = [part for part in path.parts if part.startswith("map_index=")]
        job_id = int(path.name.rsplit(".trigger.", 1)[1].removesuffix(".log"))
        found.setdefault(int(index_part.removeprefix("map_index=")), {})[job_id] = path
    return found


@pytest.mark.skipif(not DAG_FILE.exists(), reason=f"{DAG_FILE} is not in this checkout yet")
def test_restarted_triggerer_resumes_deferred_ingests_without_creating_anything_twice(
    airflow_cluster: AirflowCluster, dags_of_this_test: AirflowApiClient, emulator: EmulatorProcess
) -> None:
    api = dags_of_this_test
    seed = seed_connector()
    conf: dict[str, Any] = {
        "connector": CONNECTOR_NAME,
        "folder": FOLDER,
        "files": sorted(seed.relative(path) for path in seed.paths),
        "project_uid": PROJECT_UID,
        "target_langs": TARGET_LANGS,
        "poll_interval": POLL_INTERVAL,
    }
    run_id = api.trigger_run(DAG_ID, conf=conf)["dag_run_id"]
    timeline = TaskTimeline(api, DAG_ID, run_id)
    started = time.monotonic()

    # --- every ingest task deferred, its trigger running in the old triggerer, which has polled for it
    def all_deferred_and_polled() -> list[dict] | None:
        timeline.record()
        tis = ingest_tis(api, run_id)
        if len(tis) != len(seed.paths) or any(ti["state"] != "deferred" for ti in tis):
            return None
        journal = emulator.journal()
        downloads = [e for e in journal if e["method"] == "POST" and DOWNLOAD_PATH.fullmatch(e["path"])]
        last_download = max((e["seq"] for e in downloads), default=None)
        if last_download is None or not [e for e in polls(journal) if e["seq"] > last_download]:
            return None
        logs = trigger_logs(airflow_cluster, run_id)
        return tis if {ti["map_index"] for ti in tis} <= set(logs) else None

    wait_for(
        all_deferred_and_polled,
        timeout=DEFERRED_TIMEOUT,
        what="every ingest task to be deferred and polled for by the triggerer",
        describe_last=lambda: f"{timeline.describe()}\n{polls(emulator.journal())[-3:]}",
    )
    deferred_after = time.monotonic() - started
    old_trigger_jobs = {index: set(logs) for index, logs in trigger_logs(airflow_cluster, run_id).items()}
    pending_at_stop = {t["path"]: t["status"] for t in emulator.state()["downloadTasks"]}
    assert set(pending_at_stop.values()) == {"NEW"}, pending_at_stop  # the stop interrupts real waits

    # --- no triggerer: the tasks stay deferred and nobody polls Phrase
    with airflow_cluster.component_stopped("triggerer") as outage:
        quiet_from = last_seq(emulator)
        quiet_started = time.monotonic()

        def quiet_for_a_while() -> bool:
            still = {ti["map_index"]: ti["state"] for ti in ingest_tis(api, run_id)}
            assert set(still.values()) == {"deferred"}, f"a task moved with no triggerer running: {still}"
            polled = polls(emulator.journal(since=quiet_from))
            assert not polled, f"Phrase was polled with no triggerer running: {polled}"
            triggerer = api.health().get("triggerer", {})
            return (
                triggerer.get("status") != "healthy"
                and time.monotonic() - quiet_started >= QUIET_POLL_INTERVALS * POLL_INTERVAL
            )

        wait_for(
            quiet_for_a_while,
            timeout=60,
            what=f"{QUIET_POLL_INTERVALS} poll intervals with no triggerer (and Airflow reporting none)",
            describe_last=lambda: str(api.health()),
        )
        restart_from = last_seq(emulator)
        downloads_at_restart = {t["path"]: t["status"] for t in emulator.state()["downloadTasks"]}
    resumed_after = time.monotonic() - started

    run = api.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT, on_poll=timeline.record)
    print(
        f"deferred after {deferred_after:.0f}s; triggerer pid {outage.old_pid} -> {outage.new_pid}, healthy "
        f"again after {resumed_after:.0f}s; downloads at the restart: {downloads_at_restart}; run "
        f"{run['state']} after {time.monotonic() - started:.0f}s\ntimeline: {timeline.describe()}"
    )
    assert run["state"] == "success", f"{api.describe_task_states(DAG_ID, run_id)}\n{timeline.describe()}"

    # --- the emulator: one download task per file, and from it one job per target language
    state = emulator.state()
    tasks = [t for t in state["downloadTasks"] if str(t["connectorId"]) == seed.connector_id]
    task_of_path = {t["path"]: str(t["id"]) for t in tasks}
    assert sorted(t["path"] for t in tasks) == sorted(seed.paths), tasks
    jobs = [job for job in state["jobs"] if job["projectUid"] == PROJECT_UID]
    for path, task_id in task_of_path.items():
        langs = sorted(job["targetLang"] for job in jobs if str(job["downloadTaskId"]) == task_id)
        assert langs == sorted(TARGET_LANGS), (path, jobs)
    assert len(jobs) == len(seed.paths) * len(TARGET_LANGS), jobs

    # --- the journal: exactly one download POST and one create-job POST per file; the restart repeated none
    journal = emulator.journal()
    download_posts = [
        (match["connector"], bytes.fromhex(match["file"]).decode())
        for e in journal
        if e["method"] == "POST" and (match := DOWNLOAD_PATH.fullmatch(e["path"]))
    ]
    assert sorted(download_posts) == sorted((seed.connector_id, p) for p in seed.paths), download_posts
    path_of_task = {task_id: path for path, task_id in task_of_path.items()}
    create_posts = [
        path_of_task.get(e["query"]["downloadTaskId"][0], "?")
        for e in journal
        if e["method"] == "POST" and e["path"] == CREATE_JOBS_PATH
    ]
    assert sorted(create_posts) == sorted(seed.paths), create_posts
    other_writes = [
        (e["method"], e["path"])
        for e in journal
        if e["method"] != "GET"
        and e["path"] != LOGIN_PATH
        and e["path"] != CREATE_JOBS_PATH
        and not DOWNLOAD_PATH.fullmatch(e["path"])
    ]
    assert not other_writes, f"calls other than reads, logins, downloads and job creations: {other_writes}"

    # --- the old triggerer waited for every download and was stopped before any of its triggers fired
    logs_by_index = trigger_logs(airflow_cluster, run_id)
    for index, jobs_before in old_trigger_jobs.items():
        text = "\n".join(logs_by_index[index][job].read_text(errors="replace") for job in jobs_before)
        assert WAITING_LINE in text and FIRED_LINE not in text, f"map index {index}, old triggerer:\n{text}"

    # --- the waits resumed only in the new triggerer: it polled again, and only then were jobs created
    # (jobs are created once a download trigger has fired)
    polls_after_restart = polls(emulator.journal(since=restart_from))
    assert polls_after_restart, "no connectorAsyncTasks poll after the restart"
    create_seqs = [e["seq"] for e in journal if e["method"] == "POST" and e["path"] == CREATE_JOBS_PATH]
    assert min(create_seqs) > polls_after_restart[0]["seq"], (create_seqs, polls_after_restart)
    summary = {f["path"]: f for f in api.xcom(DAG_ID, run_id, SUMMARY_TASK)["files"]}
    assert set(summary) == set(seed.paths), summary
    final_tis = {ti["map_index"]: ti for ti in ingest_tis(api, run_id)}
    for path, outcome in summary.items():
        index = outcome["map_index"]
        # Each task used the download it started before the restart, and the restart cost it no retry.
        assert outcome["state"] == "success" and outcome["reused"] is None, outcome
        assert final_tis[index]["try_number"] == 1, (path, final_tis[index], timeline.describe())
        # Airflow names a trigger log after the try and the triggerer's job, so the import trigger's log
        # replaces that of the download trigger rebuilt in the same triggerer: only the file is evidence.
        new_triggerers = set(logs_by_index.get(index, {})) - old_trigger_jobs[index]
        assert new_triggerers, f"{path}: none of its triggers ran in the new triggerer ({logs_by_index})"

    # --- the run announced its new jobs in one Asset event, which a report run consumed (alone) at once
    [event] = api.asset_events(source_dag_id=DAG_ID, source_run_id=run_id)
    assert sorted(event["extra"]["job_uids"]) == sorted(job["uid"] for job in jobs), event

    def report_run_of_event() -> dict | None:
        for report_run in api.dag_runs(REPORT_DAG_ID):
            if report_run["run_type"] == "asset_triggered" and event["id"] in {
                e["id"] for e in api.upstream_asset_events(REPORT_DAG_ID, report_run["dag_run_id"])
            }:
                return report_run
        return None

    report_run_id = wait_for(
        report_run_of_event, timeout=REPORT_QUEUE_TIMEOUT, what=f"a {REPORT_DAG_ID} run on {event}"
    )["dag_run_id"]
    report_run = api.wait_for_run(REPORT_DAG_ID, report_run_id, timeout=RUN_TIMEOUT)
    assert report_run["state"] == "success", api.describe_task_states(REPORT_DAG_ID, report_run_id)
    assert [e["id"] for e in api.upstream_asset_events(REPORT_DAG_ID, report_run_id)] == [event["id"]]
