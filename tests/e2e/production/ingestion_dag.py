"""All the production-shape suite knows about the example DAGs, in one place: how a run of the scheduled
ingestion DAG is triggered and told apart, and how its Asset event reaches the report DAG.

Runs are triggered through the REST API with an explicit window and the folder to ingest (Params of
``phrase_connector_ingestion``), so they take every file of that folder in the seed whatever the DAG's own
change detection does. Outcomes are asserted from the emulator's record (its jobs and its request journal)
and from task-instance states, never from log lines or XCom internals.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.e2e.airflow_api import AirflowApiClient
from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.polling import wait_for
from tests.e2e.production.scale_seed import ScaleSeed

REPO_DAGS = Path(__file__).resolve().parents[3] / "dags"
DAG_ID = "phrase_connector_ingestion"
INGEST_TASK = "ingest_file"
REPORT_DAG_ID = "phrase_new_jobs_report"
POOL = "phrase_api"
"""The pool of the ingest tasks (``airflow_phrase.ingestion.settings.POOL``)."""
WINDOW = timedelta(days=7)
"""Every seed file was modified within this before the emulator (re)started."""
REPORT_QUEUE_TIMEOUT = 180.0
"""Seconds for the scheduler to create the asset-triggered report run once the event exists."""


def run_conf(seed: ScaleSeed, folder: str, *, poll_interval: float, now: datetime) -> dict[str, Any]:
    """Params of a run that ingests every file under ``folder`` (recursively) into the seed's project."""
    files = len(seed.files(folder))
    return {
        "connector": seed.connector_name,
        "folder": folder,
        "recursive": True,
        "project_uid": seed.project_uid,
        "target_langs": list(seed.target_langs),
        "window_start": (now - WINDOW).isoformat(),
        "window_end": now.isoformat(),
        "poll_interval": poll_interval,
        "max_files": max(files, 1),
    }


def latest_hourly_interval(moment: datetime) -> tuple[datetime, datetime]:
    """The last whole hour before ``moment``: the interval of the hourly DAG's latest scheduled run."""
    end = moment.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=1), end


class IngestionDag:
    """Drives ``phrase_connector_ingestion`` and ``phrase_new_jobs_report`` on one deployment.

    The scheduler creates runs in this deployment (the report DAG's are asset-triggered). Unpausing the
    hourly DAG (catchup off) makes it create the run of the latest whole hour at once; the first run the
    suite triggers stands in for it (same logical date and data interval, triggered while the DAG is still
    paused), so the scheduler skips that interval. A later scheduled run finds none of the seed's files in
    its hour (they are older), creates no jobs and announces nothing.
    """

    def __init__(self, cluster: AirflowCluster) -> None:
        self.cluster = cluster
        self.api: AirflowApiClient = cluster.api
        self._unpaused = False

    def prepare(self) -> None:
        for dag_id in (DAG_ID, REPORT_DAG_ID):
            self.cluster.wait_for_dag(dag_id, file_hint=dag_id)
        self.api.set_paused(REPORT_DAG_ID, False)  # Asset events queue runs of unpaused DAGs only

    def trigger(self, conf: dict[str, Any]) -> str:
        """Trigger a run with ``conf``; returns its run id."""
        if self._unpaused:
            return str(self.api.trigger_run(DAG_ID, conf=conf)["dag_run_id"])
        interval = latest_hourly_interval(datetime.now(timezone.utc))
        run_id = str(
            self.api.trigger_run(DAG_ID, conf=conf, logical_date=interval[0], data_interval=interval)[
                "dag_run_id"
            ]
        )
        self.api.set_paused(DAG_ID, False)
        self._unpaused = True
        return run_id

    def ingest_tis(self, run_id: str) -> list[dict]:
        return [ti for ti in self.api.task_instances(DAG_ID, run_id) if ti["task_id"] == INGEST_TASK]

    @staticmethod
    def path_of(ti: dict) -> str:
        """The connector path an ingest task instance ingests (its rendered map index, ``folder/file``)."""
        return str(ti["rendered_map_index"])

    def tries(self, run_id: str, map_index: int) -> list[dict]:
        return self.api.task_instance_tries(DAG_ID, run_id, INGEST_TASK, map_index)

    def describe(self, run_id: str) -> str:
        return self.api.describe_task_states(DAG_ID, run_id)

    def wait_for_run(
        self, run_id: str, *, timeout: float, on_poll: Any = None, interval: float = 2.0
    ) -> dict:
        return self.api.wait_for_run(DAG_ID, run_id, timeout=timeout, on_poll=on_poll, interval=interval)

    def producing_event(self, run_id: str) -> dict:
        """The one Asset event the run added (its new jobs)."""
        [event] = self.api.asset_events(source_dag_id=DAG_ID, source_run_id=run_id)
        return event

    def report_runs_of(self, event: dict) -> list[dict]:
        """Asset-triggered report runs that consumed ``event``."""
        return [
            run
            for run in self.api.dag_runs(REPORT_DAG_ID)
            if run["run_type"] == "asset_triggered"
            and event["id"]
            in {e["id"] for e in self.api.upstream_asset_events(REPORT_DAG_ID, run["dag_run_id"])}
        ]

    def wait_for_report(self, run_id: str, *, timeout: float) -> tuple[dict, dict]:
        """Wait for the report run made from the run's Asset event and for it to finish; returns
        ``(event, finished report run)``."""
        event = self.producing_event(run_id)
        report = wait_for(
            lambda: self.report_runs_of(event),
            timeout=REPORT_QUEUE_TIMEOUT,
            what=f"a {REPORT_DAG_ID} run on the Asset event of {run_id}",
            describe_last=lambda: str(self.api.queued_asset_events(REPORT_DAG_ID)),
        )[0]
        finished = self.api.wait_for_run(REPORT_DAG_ID, report["dag_run_id"], timeout=timeout)
        return event, finished

    def upstream_event_ids(self, report_run_id: str) -> list[int]:
        return [e["id"] for e in self.api.upstream_asset_events(REPORT_DAG_ID, report_run_id)]
