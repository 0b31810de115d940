"""The production shape the suite runs, as data: what ``tests/test_docker_config.py`` compares with
``docker/`` (executor, metadata DB and result backend drivers, broker, components, pool, connection).

CeleryExecutor; PostgreSQL (psycopg2) as metadata DB and, with the ``db+`` prefix, as Celery result backend;
Redis as broker; a scheduler, a dag-processor, an api-server, two triggerers (HA) and two Celery workers; the
pool ``phrase_api`` and the connection ``phrase_tms_default``. The worker concurrency is sized for a 2-core
machine, and the fault-detection intervals are tuned down from Airflow's defaults so that a dead worker,
triggerer or scheduler is noticed within seconds rather than minutes (docker/ keeps Airflow's defaults).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.airflow_cluster import AirflowClusterConfig, CeleryConfig
from tests.e2e.production.ingestion_dag import POOL, REPO_DAGS

CONNECTION_ENV = "AIRFLOW_CONN_PHRASE_TMS_DEFAULT"
DATABASE_DRIVER = "postgresql+psycopg2"
"""SQLAlchemy dialect and driver of the metadata DB (the result backend adds ``db+`` in front)."""

WORKERS = 2
WORKER_CONCURRENCY = 4
"""Task processes per Celery worker: 8 at once on a 2-core machine, most of them waiting on HTTP."""
POOL_SLOTS = WORKERS * WORKER_CONCURRENCY
"""``phrase_api``: ingest tasks running or queued at once (deferred ones hold no slot)."""
TRIGGERERS = 2
TRIGGERER_CAPACITY = 200

CELERY_SETTINGS = {
    # Celery workers import the provider once, before they fork their task processes: each task's parse
    # of its DAG file then skips importing it again (~0.5 s of CPU per task on the 2-core machine).
    "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({"imports": ["airflow_phrase.operators.ingest"]}),
}
"""Celery settings docker/ sets to the same values (``tests/test_docker_config.py`` compares them)."""

FAULT_DETECTION = {
    # A task whose worker died stops heartbeating: failed (and retried) after this many seconds.
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    # A task sent to a worker that died before starting it is sent again after this many seconds (also the
    # lifetime of the workload's token while it waits in the queue: keep it above any real queueing time).
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "180",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "15",
    # A restarted scheduler adopts the tasks its predecessor queued at its next check.
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
    # A triggerer whose heartbeat is older than this is dead: another one takes its triggers.
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
}


def production_config(
    *, home: Path, marker: str, database_url: str, broker_url: str, phrase_connection: str
) -> AirflowClusterConfig:
    """The deployment: ``database_url`` is the metadata DB (``postgresql+psycopg2://...``), ``broker_url``
    one Redis database number, ``phrase_connection`` the JSON of ``phrase_tms_default``."""
    return AirflowClusterConfig(
        home=home,
        dag_bundles={"repo-dags": REPO_DAGS},
        env={CONNECTION_ENV: phrase_connection, **CELERY_SETTINGS, **FAULT_DETECTION},
        pools={POOL: POOL_SLOTS},
        parallelism=WORKERS * WORKER_CONCURRENCY,
        # The scheduler creates runs: phrase_new_jobs_report's are asset-triggered.
        scheduling=True,
        marker=marker,
        database_url=database_url,
        celery=CeleryConfig(
            broker_url=broker_url,
            result_backend=f"db+{database_url}",
            queue=f"phrase-e2e-{marker[:8]}",
            workers=WORKERS,
            concurrency=WORKER_CONCURRENCY,
        ),
        triggerers=TRIGGERERS,
        triggerer_capacity=TRIGGERER_CAPACITY,
    )
