"""``phrase_connector_ingestion`` end to end: a real Airflow deployment against the Phrase emulator process.

Triggered through the REST API over a window that covers every file of the seed's ``Docs Git`` connector
under ``docs/``, so the run meets all three kinds of file-level failure the seed holds (a conversion
error, a file the connector cannot fetch, an import that fails) next to the files that ingest cleanly.
What is expected is derived from the seed file itself, not from the DAG's own report.

The run's Asset event then triggers ``phrase_new_jobs_report`` through the scheduler (the Asset wiring of
the example DAGs), and running the interval again announces nothing, so nothing more is triggered.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
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

DAG_ID = "phrase_connector_ingestion"
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / f"{DAG_ID}.py"
INGEST_TASK = "ingest_file"
SUMMARY_TASK = "summarize"
PROJECT_UID = "prjWebsite000000000001"
TARGET_LANGS = ["de", "fr_fr", "ja"]
CONNECTOR_NAME = "Docs Git"
FOLDER = "docs"
RUN_TIMEOUT = 300.0
REPORT_DAG_ID = "phrase_new_jobs_report"
REPORT_TASK = "report"
REPORT_QUEUE_TIMEOUT = 120.0
"""Seconds for the scheduler to create the asset-triggered report run once the event exists."""

#: Seed outcome → the summary's failure category for that file.
SEED_FAILURES = {
    ("download", "CONVERTER_ERROR"): "conversion_failed",
    ("download", "ERROR"): "remote_file_error",
    ("import", "ERROR"): "import_failed",
}


@dataclass(frozen=True)
class SeedExpectation:
    """What the seed says should happen to each file under ``docs/`` of the ``Docs Git`` connector."""

    ingested: frozenset[str]
    failures: dict[str, str]  # path -> failure category

    @property
    def all_paths(self) -> set[str]:
        return set(self.ingested) | set(self.failures)


def seed_expectation() -> SeedExpectation:
    seed = json.loads(resources.files("airflow_phrase.emulator").joinpath("seeds/demo.json").read_text())
    (connector,) = [c for c in seed["connectors"] if c["name"] == CONNECTOR_NAME]
    ingested, failures = set(), {}
    for file in connector["files"]:
        if not file["path"].startswith(f"{FOLDER}/"):
            continue
        failure = next(
            (
                SEED_FAILURES[(stage, file[stage]["status"])]
                for stage in ("download", "import")
                if stage in file
            ),
            None,
        )
        if failure is None:
            ingested.add(file["path"])
        else:
            failures[file["path"]] = failure
    return SeedExpectation(ingested=frozenset(ingested), failures=failures)


@pytest.fixture
def emulator(emulator_process: EmulatorProcess | None) -> Iterator[EmulatorProcess]:
    if emulator_process is None:
        pytest.skip("the Phrase emulator CLI (python -m airflow_phrase.emulator) is not in this checkout")
    emulator_process.reset()
    yield emulator_process


def jobs_by_path(emulator: EmulatorProcess) -> dict[str, list[dict[str, Any]]]:
    """The emulator's jobs in the project, grouped by the connector path they were created from."""
    state = emulator.state()
    path_of_task = {str(task["id"]): task["path"] for task in state["downloadTasks"]}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in state["jobs"]:
        if job["projectUid"] == PROJECT_UID:
            grouped[path_of_task.get(str(job["downloadTaskId"]), "?")].append(job)
    return grouped


def asset_triggered_runs(api: AirflowApiClient, earlier: frozenset[str] = frozenset()) -> list[dict]:
    """Asset-triggered runs of the report DAG, leaving out the ``earlier`` run ids."""
    return [
        run
        for run in api.dag_runs(REPORT_DAG_ID)
        if run["run_type"] == "asset_triggered" and run["dag_run_id"] not in earlier
    ]


def latest_hourly_interval(moment: datetime) -> tuple[datetime, datetime]:
    """The last whole hour before ``moment``: the interval of the hourly DAG's latest scheduled run."""
    end = moment.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=1), end


def attempt_logs(cluster: AirflowCluster, run_id: str, map_index: int) -> dict[int, str]:
    """``{try number: task log text}`` of one mapped ingest task (the triggerer's logs left out)."""
    logs = {}
    for path in cluster.task_log_files(DAG_ID, run_id, INGEST_TASK):
        if (
            f"map_index={map_index}" in path.parts
            and path.name.startswith("attempt=")
            and path.suffix == ".log"
        ):
            stem = path.name.removeprefix("attempt=").removesuffix(".log")
            if stem.isdigit():
                logs[int(stem)] = path.read_text(encoding="utf-8", errors="replace")
    return logs


@pytest.mark.skipif(not DAG_FILE.exists(), reason=f"{DAG_FILE} is not in this checkout yet")
def test_ingestion_run_creates_each_job_once_defers_and_isolates_failures(
    airflow_cluster: AirflowCluster, emulator: EmulatorProcess
) -> None:
    api = airflow_cluster.api
    expected = seed_expectation()
    assert expected.ingested and len(expected.failures) == 3, expected  # the seed this test is about

    airflow_cluster.wait_for_dag(DAG_ID, file_hint=DAG_ID)
    airflow_cluster.wait_for_dag(REPORT_DAG_ID, file_hint=REPORT_DAG_ID)
    # Report runs made by tests that ran before (each consumed its own test's events: an event left
    # unconsumed would be bundled into this test's report run, the first one after it).
    earlier_report_runs = frozenset(run["dag_run_id"] for run in api.dag_runs(REPORT_DAG_ID))
    # Asset events queue runs of unpaused DAGs only.
    api.set_paused(REPORT_DAG_ID, False)
    now = datetime.now(timezone.utc)
    conf = {
        # Every docs/ file of the seed is modified within the last week (relative to the emulator start).
        "window_start": (now - timedelta(days=7)).isoformat(),
        "window_end": now.isoformat(),
        "poll_interval": 1.0,
    }
    # The scheduler creates runs here (the report's runs are asset-triggered). Unpausing this hourly DAG
    # (catchup off) makes it create the run of the latest whole hour at once, and that window may hold seed
    # files. Our run, triggered while the DAG is still paused with that run's logical date (the interval's
    # start) and data interval, stands in for it: the scheduler skips a logical date that already has a
    # run. A later hour's run would only find files this run already ingested: no jobs, no Asset event.
    interval = latest_hourly_interval(now)
    triggered = api.trigger_run(DAG_ID, conf=conf, logical_date=interval[0], data_interval=interval)
    run_id = triggered["dag_run_id"]
    api.set_paused(DAG_ID, False)
    timeline = TaskTimeline(api, DAG_ID, run_id)
    run = api.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT, on_poll=timeline.record)
    mismatches = api.event_logs(dag_id=DAG_ID, run_id=run_id, event="state mismatch")
    print(f"ingest timeline: {timeline.describe()}\nAirflow stale-event retries: {len(mismatches)}")
    assert run["state"] == "success", f"{api.describe_task_states(DAG_ID, run_id)}\n{timeline.describe()}"
    # Only this run announced new jobs: no run the scheduler made took the seed's files first.
    announcers = {event["source_run_id"] for event in api.asset_events(source_dag_id=DAG_ID)}
    assert announcers == {run_id}, api.dag_runs(DAG_ID)

    # --- the DAG's own report: every eligible file, each failure reported as expected, nothing else
    summary = api.xcom(DAG_ID, run_id, SUMMARY_TASK)
    outcomes = {f["path"]: f for f in summary["files"]}
    assert set(outcomes) == expected.all_paths
    assert {p for p, f in outcomes.items() if f["state"] == "success"} == set(expected.ingested)
    reported_failures = {p: f["failure"]["category"] for p, f in outcomes.items() if f["state"] != "success"}
    assert reported_failures == expected.failures

    # --- the emulator: exactly one job per target language for each ingested file, no duplicates anywhere
    jobs = jobs_by_path(emulator)
    for path in expected.ingested:
        assert sorted(job["targetLang"] for job in jobs[path]) == TARGET_LANGS, (path, jobs[path])
    for path, category in expected.failures.items():
        langs = Counter(job["targetLang"] for job in jobs.get(path, []))
        if category == "import_failed":  # its jobs exist (their import failed), once each
            assert set(langs) <= set(TARGET_LANGS) and set(langs.values()) <= {1}, (path, jobs[path])
        else:  # the download failed: nothing to create jobs from
            assert not langs, (path, jobs[path])
    assert not (set(jobs) - expected.all_paths), f"jobs for files outside the window: {set(jobs)}"
    job_uids_first_run = {job["uid"] for js in jobs.values() for job in js}
    summary_uids = {job["uid"] for f in outcomes.values() for job in f["jobs"]}
    assert summary_uids == {job["uid"] for path in expected.ingested for job in jobs[path]}

    # --- each failing file ended alone, in its own mapped task, and Phrase's verdict was not retried:
    # it shows in exactly one try's log, the last one. (An earlier try may have been ended by Airflow's
    # stale-event race, see conftest.EMULATOR_TASK_DELAY; the DAG's retries and idempotency absorb that.)
    ingest_tis = {
        ti["map_index"]: ti for ti in api.task_instances(DAG_ID, run_id) if ti["task_id"] == INGEST_TASK
    }
    path_of_index = {f["map_index"]: p for p, f in outcomes.items()}
    assert set(ingest_tis) == set(path_of_index)
    for index, ti in ingest_tis.items():
        path = path_of_index[index]
        # Phrase's verdict on a file ends its task skipped (reason in its label), not failed.
        assert ti["state"] == ("skipped" if path in expected.failures else "success"), (path, ti["state"])
        if path in expected.failures:
            verdict = outcomes[path]["failure"]["message"][:60]
            logs = attempt_logs(airflow_cluster, run_id, index)
            with_verdict = [attempt for attempt, text in logs.items() if verdict in text]
            assert with_verdict == [ti["try_number"]], (path, verdict, sorted(logs), with_verdict)

    # --- the ingest tasks waited in the triggerer, not on a worker
    for index in ingest_tis:
        trigger_logs = [
            p for p in airflow_cluster.task_log_files(DAG_ID, run_id, INGEST_TASK)
            if f"map_index={index}" in p.parts and ".trigger." in p.name
        ]  # fmt: skip
        assert trigger_logs, f"{path_of_index[index]}: no trigger ran for it (it never deferred)"
    assert timeline.seen_in("deferred", INGEST_TASK), f"no ingest task seen deferred: {timeline.describe()}"

    # --- the project's Asset got one event listing the new jobs, and it triggered the report DAG
    new_uids = sorted(summary_uids)
    [event] = api.asset_events(source_dag_id=DAG_ID)
    emulator_host = emulator.base_url.split("//", 1)[1].split("/", 1)[0]
    assert event["uri"] == f"phrase://{emulator_host}/projects/{PROJECT_UID}", event
    assert (event["source_run_id"], event["source_task_id"]) == (run_id, SUMMARY_TASK)
    assert sorted(event["extra"]["job_uids"]) == new_uids
    report_run = wait_for(
        lambda: asset_triggered_runs(api, earlier_report_runs),
        timeout=REPORT_QUEUE_TIMEOUT,
        what=f"the Asset event to trigger a run of {REPORT_DAG_ID}",
        describe_last=lambda: (
            f"runs {api.dag_runs(REPORT_DAG_ID)}; queued {api.queued_asset_events(REPORT_DAG_ID)}"
        ),
    )[0]
    report_run_id = report_run["dag_run_id"]
    report_done = api.wait_for_run(REPORT_DAG_ID, report_run_id, timeout=RUN_TIMEOUT)
    assert report_done["state"] == "success", api.describe_task_states(REPORT_DAG_ID, report_run_id)
    [consumed] = api.upstream_asset_events(REPORT_DAG_ID, report_run_id)
    assert consumed["id"] == event["id"]
    report = api.xcom(REPORT_DAG_ID, report_run_id, REPORT_TASK)
    assert sorted(row["uid"] for row in report["jobs"]) == new_uids
    assert {row["project_uid"] for row in report["jobs"]} == {PROJECT_UID}

    # --- clearing the run and running it again creates nothing new
    api.clear_run(DAG_ID, run_id)
    rerun = api.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
    assert rerun["state"] == "success", api.describe_task_states(DAG_ID, run_id)
    jobs_after = jobs_by_path(emulator)
    assert {job["uid"] for js in jobs_after.values() for job in js} == job_uids_first_run
    summary_again = {f["path"]: f for f in api.xcom(DAG_ID, run_id, SUMMARY_TASK)["files"]}
    for path in expected.ingested:
        assert summary_again[path]["reused"] == "jobs", summary_again[path]

    # --- ... and announces nothing, so nothing more is queued for the report DAG. An event would be
    # registered, and a run queued for the report DAG, when summarize succeeds: before the run is done.
    assert [e["id"] for e in api.asset_events(source_dag_id=DAG_ID)] == [event["id"]]
    assert api.queued_asset_events(REPORT_DAG_ID) == []
    later_runs = [
        r["dag_run_id"] for r in api.dag_runs(REPORT_DAG_ID) if r["dag_run_id"] not in earlier_report_runs
    ]
    assert later_runs == [report_run_id]

    # --- the report counted the one event it ran on. (A run's triggering events are listed under their
    # Asset and again under each alias they came through: the same event must be counted once.)
    assert report["events"] == 1, f"the report counted {report['events']} events for one"
