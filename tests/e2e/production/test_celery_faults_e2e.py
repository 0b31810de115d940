"""The production shape under faults: a Celery worker, a triggerer or the scheduler dies mid-run.

Each test ingests its own folder of the generated seed with ``phrase_connector_ingestion`` and ends with the
same proof from the emulator's record: every file has exactly one download task and one job per target
language, and the emulator saw exactly one download POST and one create-job POST per file (nothing lost,
duplicated or repeated); the run's Asset event triggers exactly one ``phrase_new_jobs_report`` run.

* **Worker killed**: the first create-job calls are answered late (after Phrase created the jobs), and the
  worker running most of them is killed (SIGKILL to its whole process tree) while they wait for the
  answer. Airflow notices the missing heartbeats, retries those tasks on the other worker, and the retries
  find the jobs in Phrase instead of creating them again.
* **Triggerer killed**: two triggerers share the deferred ingests; the one holding most of them is killed
  while every download is still running. The survivor takes their triggers over (they only read), and the
  tasks resume without a retry.
* **Scheduler restarted**: the scheduler is stopped mid-run and a new one started once tasks moved without
  it; it adopts the Celery tasks of its predecessor and the run completes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.emulator_process import EmulatorProcess
from tests.e2e.polling import wait_for
from tests.e2e.production.ingestion_dag import DAG_ID, INGEST_TASK, REPORT_DAG_ID, IngestionDag, run_conf
from tests.e2e.production.phrase_record import (
    CREATE_POST,
    JournalRecorder,
    PhraseRecord,
    assert_ingested_once,
)
from tests.e2e.production.scale_seed import FAULT_FOLDERS, ScaleSeed
from tests.e2e.task_timeline import TaskTimeline

# pytest-timeout's limit (pyproject) must not cut a test short before its own deadlines below.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

POLL_INTERVAL = 2.0
RUN_TIMEOUT = 600.0
"""A killed worker's tasks wait for the heartbeat timeout (30 s here) and the DAG's retry delay (1 min)."""
FAULT_TIMEOUT = 240.0
"""Seconds to wait for the moment a fault is injected."""
REPORT_TIMEOUT = 300.0
SLOW_CREATES = 6
"""The first create-job POSTs answered late in the worker test (one per worker slot)."""
SLOW_CREATE_SECONDS = 45.0
"""How late: less than the hook's request timeout (60 s), more than the wait for the worker to die."""
TRIGGERER_TEST_DOWNLOAD_DELAY = 60.0
"""Seconds each download takes in the triggerer test: longer than it takes every ingest task to defer."""


@pytest.fixture
def run_of_folder(
    celery_cluster: AirflowCluster, ingestion: IngestionDag, emulator: EmulatorProcess, scale_seed: ScaleSeed
) -> Iterator[RunOfFolder]:
    yield RunOfFolder(celery_cluster, ingestion, emulator, scale_seed)


class RunOfFolder:
    """One run of the ingestion DAG over a fault folder: trigger, watch, and the common final proof."""

    def __init__(
        self, cluster: AirflowCluster, ingestion: IngestionDag, emulator: EmulatorProcess, seed: ScaleSeed
    ) -> None:
        self.cluster, self.ingestion, self.emulator, self.seed = cluster, ingestion, emulator, seed
        self.recorder = JournalRecorder(emulator)
        self.run_id = ""
        self.paths: tuple[str, ...] = ()
        self.timeline: TaskTimeline | None = None
        self.started = 0.0

    def trigger(self, scenario: str) -> str:
        folder = FAULT_FOLDERS[scenario]
        self.paths = self.seed.files(folder)
        self.started = time.monotonic()
        conf = run_conf(self.seed, folder, poll_interval=POLL_INTERVAL, now=datetime.now(timezone.utc))
        self.run_id = self.ingestion.trigger(conf)
        self.timeline = TaskTimeline(self.cluster.api, DAG_ID, self.run_id)
        return self.run_id

    def tis(self) -> list[dict]:
        assert self.timeline is not None
        self.timeline.record()
        self.recorder.record()
        return self.ingestion.ingest_tis(self.run_id)

    def record(self) -> PhraseRecord:
        return PhraseRecord.read(
            self.emulator, connector_id=self.seed.connector_id, project_uid=self.seed.project_uid
        )

    def describe(self) -> str:
        return f"{self.ingestion.describe(self.run_id)}\n{self.timeline.describe() if self.timeline else ''}"

    def wait_until(self, condition: str, probe: object) -> object:
        return wait_for(
            probe,  # type: ignore[arg-type]
            timeout=FAULT_TIMEOUT,
            interval=1.0,
            what=condition,
            describe_last=self.describe,
        )

    def finish(self) -> PhraseRecord:
        """Wait for the run; assert it succeeded, ingested each file exactly once and made one report run."""
        assert self.timeline is not None
        timeline = self.timeline

        def on_poll(_: object) -> None:
            timeline.record()
            self.recorder.record()

        run = self.ingestion.wait_for_run(self.run_id, timeout=RUN_TIMEOUT, on_poll=on_poll)
        assert run["state"] == "success", self.describe()
        print(f"\n[{self.run_id}] {len(self.paths)} files in {time.monotonic() - self.started:.0f} s")
        record = assert_ingested_once(self.emulator, self.recorder.record(), self.seed, self.paths)
        event, report = self.ingestion.wait_for_report(self.run_id, timeout=REPORT_TIMEOUT)
        assert report["state"] == "success", self.cluster.api.describe_task_states(
            REPORT_DAG_ID, report["dag_run_id"]
        )
        assert self.ingestion.upstream_event_ids(report["dag_run_id"]) == [event["id"]]
        assert [r["dag_run_id"] for r in self.ingestion.report_runs_of(event)] == [report["dag_run_id"]]
        return record


def test_killed_worker_tasks_are_retried_on_the_other_worker_without_duplicating_jobs(
    celery_cluster: AirflowCluster, run_of_folder: RunOfFolder
) -> None:
    run, emulator, ingestion = run_of_folder, run_of_folder.emulator, run_of_folder.ingestion
    # Phrase creates the jobs at once but answers the first create calls late: a worker dying meanwhile
    # leaves jobs its tasks never heard of.
    late = {"delaySeconds": SLOW_CREATE_SECONDS, "afterHandler": True}
    emulator.set_faults([{"method": "POST", "path": CREATE_POST.pattern, "sequence": [late] * SLOW_CREATES}])
    run.trigger("worker-kill")
    host_of = {celery_cluster.hostname(name): name for name in celery_cluster.worker_names}

    def waiting_for_created_jobs() -> dict[str, list[dict]] | None:
        """Worker → its running ingest tasks, once some are waiting for the answer to a create call that
        already created their jobs."""
        tis = run.tis()
        record = run.record()
        running: dict[str, list[dict]] = {name: [] for name in celery_cluster.worker_names}
        waiting: Counter[str] = Counter()
        for ti in tis:
            if ti["state"] == "running" and ti["hostname"] in host_of:
                running[host_of[ti["hostname"]]].append(ti)
                if record.jobs_by_path.get(ingestion.path_of(ti)):
                    waiting[host_of[ti["hostname"]]] += 1
        return running if waiting and max(waiting.values()) >= 2 else None

    running = run.wait_until("ingest tasks waiting on a late create-job answer", waiting_for_created_jobs)
    assert isinstance(running, dict)
    victim = max(running, key=lambda name: len(running[name]))
    (survivor,) = set(celery_cluster.worker_names) - {victim}
    killed = {ti["map_index"]: ingestion.path_of(ti) for ti in running[victim]}

    with celery_cluster.component_killed(victim) as outage:
        record = run.finish()
    print(f"killed {victim} (pids {outage.killed_pids}) running {sorted(killed.values())}")

    # Each killed task failed on the dead worker and succeeded in a later try on the other one, which found
    # the jobs the dead try had created (assert_ingested_once: no second create call, one job per language).
    for map_index, path in killed.items():
        tries = ingestion.tries(run.run_id, map_index)
        hosts = [(t["try_number"], t["hostname"], t["state"]) for t in tries]
        assert tries[-1]["state"] == "success" and tries[-1]["try_number"] >= 2, (path, hosts)
        assert tries[-1]["hostname"] == celery_cluster.hostname(survivor), (path, hosts)
        assert any(t["hostname"] == celery_cluster.hostname(victim) for t in tries[:-1]), (path, hosts)
        assert record.languages(path) == sorted(run.seed.target_langs)


def test_killed_triggerer_triggers_are_taken_over_by_the_other_one_and_nothing_is_repeated(
    celery_cluster: AirflowCluster, run_of_folder: RunOfFolder
) -> None:
    run, emulator, ingestion = run_of_folder, run_of_folder.emulator, run_of_folder.ingestion
    emulator.configure(task_delay=TRIGGERER_TEST_DOWNLOAD_DELAY)
    run.trigger("triggerer-kill")
    by_host = {celery_cluster.hostname(name): name for name in celery_cluster.triggerer_names}

    def all_deferred() -> dict[str, list[dict]] | None:
        """Triggerer → the ingest tasks whose trigger it runs, once every ingest task is deferred."""
        tis = run.tis()
        if len(tis) != len(run.paths) or any(ti["state"] != "deferred" for ti in tis):
            return None
        held: dict[str, list[dict]] = {name: [] for name in celery_cluster.triggerer_names}
        for ti in tis:
            job = ti.get("triggerer_job") or {}
            if job.get("hostname") not in by_host:
                return None  # not picked up by a triggerer yet
            held[by_host[job["hostname"]]].append(ti)
        return held

    held = run.wait_until("every ingest task deferred, each trigger held by a triggerer", all_deferred)
    assert isinstance(held, dict)
    assert {t["status"] for t in emulator.state()["downloadTasks"]} == {"NEW"}  # every wait is real
    victim = max(held, key=lambda name: len(held[name]))
    (survivor,) = set(celery_cluster.triggerer_names) - {victim}
    jobs_before = celery_cluster.alive_triggerer_jobs()
    victim_job = jobs_before[celery_cluster.hostname(victim)]["id"]
    survivor_job = jobs_before[celery_cluster.hostname(survivor)]["id"]
    orphaned = {ti["map_index"]: ingestion.path_of(ti) for ti in held[victim]}

    with celery_cluster.component_killed(victim):
        record = run.finish()
    print(f"killed {victim} holding {len(orphaned)} of {len(run.paths)} triggers; {survivor} took them over")

    # The orphaned waits resumed from the survivor: each task's trigger log names the survivor's job, and
    # no task needed a retry (its one try deferred, resumed and succeeded).
    for map_index, path in orphaned.items():
        tries = ingestion.tries(run.run_id, map_index)
        assert [(t["try_number"], t["state"]) for t in tries] == [(1, "success")], (path, tries)
        trigger_jobs = {
            int(p.name.rsplit(".trigger.", 1)[1].removesuffix(".log"))
            for p in celery_cluster.task_log_files(DAG_ID, run.run_id, INGEST_TASK)
            if f"map_index={map_index}" in p.parts and ".trigger." in p.name
        }
        assert survivor_job in trigger_jobs, (path, trigger_jobs, victim_job, survivor_job)
        assert record.languages(path) == sorted(run.seed.target_langs)


def test_scheduler_restarted_mid_run_the_run_completes(
    celery_cluster: AirflowCluster, run_of_folder: RunOfFolder
) -> None:
    run = run_of_folder
    run.trigger("scheduler-restart")

    def mid_run() -> dict[int, str] | None:
        """Map index → state, once some ingest tasks are deferred and some have not finished their first
        part yet."""
        states = {ti["map_index"]: str(ti["state"]) for ti in run.tis()}
        deferred = [i for i, state in states.items() if state == "deferred"]
        waiting = [i for i, state in states.items() if state in {"None", "scheduled", "queued", "running"}]
        return states if len(states) == len(run.paths) and deferred and waiting else None

    before = run.wait_until("a run with deferred and not yet started ingest tasks", mid_run)
    assert isinstance(before, dict)
    with celery_cluster.component_stopped("scheduler") as outage:
        # The run goes on without a scheduler (Celery tasks finish, triggers fire): wait until it moved.
        def moved_states() -> dict[int, str]:
            now = {ti["map_index"]: str(ti["state"]) for ti in run.tis()}
            return {index: state for index, state in now.items() if state != before.get(index)}

        moved = run.wait_until("an ingest task to change state with no scheduler running", moved_states)
    print(f"scheduler pid {outage.old_pid} -> {outage.new_pid}; moved while it was down: {moved}")
    run.finish()
