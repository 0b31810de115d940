"""Fixtures of the production-shape suite (``shape.py``): CeleryExecutor on PostgreSQL and Redis, two Celery
workers, two triggerers, and the Phrase emulator process on a generated seed.

One deployment serves the whole package (its fixtures are package-scoped: they are torn down when the
package's last test is done, before the rest of the e2e tests start theirs): a fresh PostgreSQL database
(dropped afterwards, even on failure), the Celery broker in one Redis database number with a queue of its
own (its keys removed afterwards), and these processes, all on 127.0.0.1: scheduler, dag-processor,
api-server, two triggerers (HA) and two Celery workers (distinct ``--celery-hostname``).

Parameters (environment variables):

* ``AIRFLOW_PHRASE_E2E_FILES``: files in the scale test's folder (default 200; ``make bench`` runs 1,000);
* ``AIRFLOW_PHRASE_E2E_FAULT_FILES``: files in each fault test's folder (default 12);
* ``AIRFLOW_PHRASE_E2E_POSTGRES_URL``, ``AIRFLOW_PHRASE_E2E_REDIS_URL``: see ``../backing_services.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.airflow_cluster import AirflowCluster, child_environment
from tests.e2e.backing_services import PostgresDatabase, RedisDatabase, postgres_database
from tests.e2e.emulator_process import EmulatorProcess
from tests.e2e.production.ingestion_dag import IngestionDag
from tests.e2e.production.scale_seed import ScaleSeed, fault_file_count, scale_file_count, write_seed
from tests.e2e.production.shape import DATABASE_DRIVER, production_config

EMULATOR_TASK_DELAY = 8.0
"""Seconds a connector download takes in the emulator (as in ``tests/e2e/conftest.py``: a trigger must not
fire within a second of the deferral, apache/airflow#67287)."""
EMULATOR_IMPORT_DELAY = 8.0


@pytest.fixture(scope="package")
def production_workdir(e2e_workdir: Path) -> Path:
    path = e2e_workdir / "production"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="package")
def scale_seed(production_workdir: Path) -> ScaleSeed:
    """The generated seed (``AIRFLOW_PHRASE_E2E_FILES`` scale files, ``..._FAULT_FILES`` per fault folder)."""
    return write_seed(
        production_workdir / "seed.json",
        scale_files=scale_file_count(),
        fault_files=fault_file_count(),
    )


@pytest.fixture(scope="package")
def metadata_database() -> Iterator[PostgresDatabase]:
    """A fresh PostgreSQL database for this session's deployment, dropped afterwards whatever happened."""
    with postgres_database() as database:
        yield database


@pytest.fixture(scope="package")
def broker_database() -> RedisDatabase:
    database = RedisDatabase.from_env()
    database.check()
    return database


@pytest.fixture(scope="package")
def production_emulator(
    production_workdir: Path, e2e_marker: str, scale_seed: ScaleSeed
) -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess(
        production_workdir,
        env=child_environment(f"{e2e_marker}-production-emulator"),
        task_delay=EMULATOR_TASK_DELAY,
        import_delay=EMULATOR_IMPORT_DELAY,
        seed=scale_seed.path,
    )
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="package")
def celery_cluster(
    production_workdir: Path,
    e2e_marker: str,
    metadata_database: PostgresDatabase,
    broker_database: RedisDatabase,
    production_emulator: EmulatorProcess,
) -> Iterator[AirflowCluster]:
    """The production shape, running, with ``phrase_tms_default`` pointed at the emulator and the pool
    ``phrase_api`` created; the scheduler creates runs (the report DAG's are asset-triggered)."""
    marker = f"{e2e_marker}-production-airflow"
    config = production_config(
        home=production_workdir / "airflow-home",
        marker=marker,
        database_url=metadata_database.url(DATABASE_DRIVER),
        broker_url=broker_database.url,
        phrase_connection=production_emulator.connection_uri_json(),
    )
    cluster = AirflowCluster(config)
    try:
        cluster.start(ready_timeout=240.0)
        yield cluster
    finally:
        cluster.stop()
        broker_database.remove_keys_of(marker[:8])
    assert not cluster.leftovers, f"processes survived the Airflow shutdown: {cluster.leftovers}"
    assert not broker_database.keys_of(marker[:8]), "the deployment's keys are still in the broker database"


@pytest.fixture(scope="package")
def ingestion(celery_cluster: AirflowCluster) -> IngestionDag:
    """The example DAGs, parsed; the report DAG unpaused (it runs on the ingestion's Asset events)."""
    dag = IngestionDag(celery_cluster)
    dag.prepare()
    return dag


@pytest.fixture
def emulator(production_emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The emulator, re-seeded (no download task, job or journal entry of an earlier test), with its
    config restored afterwards (a test may slow its downloads down)."""
    previous = production_emulator.config()
    production_emulator.reset()
    try:
        yield production_emulator
    finally:
        production_emulator.configure(
            task_delay=previous["task_delay"], import_delay=previous["import_delay"]
        )
