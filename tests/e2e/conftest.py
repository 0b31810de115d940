"""Fixtures for the end-to-end tests: one Phrase emulator process and one real Airflow deployment per session.

The deployment parses two DAG bundles: ``e2e-probe`` (``tests/e2e/probe_dags``, the harness's own deferrable
probe) and ``repo-dags`` (the repository's ``dags/``). Both are started lazily, only when an e2e test asks for
them, and stopped in finalizers whatever happens; the session fails if any process of theirs survives.
When a test using the deployment fails, the tail of every component's log is attached to its report.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.e2e.airflow_cluster import MARKER_ENV, AirflowCluster, AirflowClusterConfig, child_environment
from tests.e2e.emulator_process import EmulatorProcess, emulator_cli_available
from tests.e2e.managed_process import marked_processes

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO_DAGS = REPO_ROOT / "dags"
PROBE_DAGS = Path(__file__).parent / "probe_dags"
PROBE_POOL = "e2e_probe_single_slot"
"""The one-slot pool of ``probe_dags/e2e_deferral_probe.py`` (same literal there)."""
PHRASE_POOL = "phrase_api"
PHRASE_POOL_SLOTS = 4
EMULATOR_TASK_DELAY = 8.0
"""Seconds a connector download (and a job import) takes in the emulator: long enough that every ingest
task defers, and that a trigger does not fire before the scheduler has processed the executor event of the
worker that deferred. Airflow 3.3.2 fails a task whose trigger fired so fast that the resumed try is already
``queued`` when that stale event arrives ("state mismatch", apache/airflow#67287; the 3.3.2 guard covers
only ``scheduled``); the DAG's retries recover from it, but each costs the retry delay."""
EMULATOR_IMPORT_DELAY = 8.0


@pytest.fixture(scope="session")
def e2e_marker() -> str:
    """Prefix of the environment marker every process started by this session's harness carries (the
    emulator and the Airflow deployment each get their own value, so one's sweep never touches the other)."""
    return uuid.uuid4().hex


@pytest.fixture(scope="session")
def e2e_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def emulator_process(e2e_workdir: Path, e2e_marker: str) -> Iterator[EmulatorProcess | None]:
    """The Phrase emulator CLI on a free loopback port (None while the emulator CLI does not exist yet)."""
    if not emulator_cli_available():
        yield None
        return
    emulator = EmulatorProcess(
        e2e_workdir,
        env=child_environment(f"{e2e_marker}-emulator"),
        task_delay=EMULATOR_TASK_DELAY,
        import_delay=EMULATOR_IMPORT_DELAY,
    )
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def airflow_cluster(
    e2e_workdir: Path, e2e_marker: str, emulator_process: EmulatorProcess | None
) -> Iterator[AirflowCluster]:
    """A running Airflow (scheduler, dag-processor, triggerer, api-server) with ``phrase_tms_default``
    pointed at the emulator process and the ``phrase_api`` pool created."""
    # The connection list's Test button (the browser test presses it) is off unless enabled.
    env = {
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        # phrase_translation_delivery reads it when parsed: status looks every 3 s, not every minute.
        "PHRASE_DELIVERY_POLL_INTERVAL": "3",
    }
    if emulator_process is not None:
        env["AIRFLOW_CONN_PHRASE_TMS_DEFAULT"] = emulator_process.connection_uri_json()
    REPO_DAGS.mkdir(exist_ok=True)
    config = AirflowClusterConfig(
        home=e2e_workdir / "airflow-home",
        dag_bundles={"e2e-probe": PROBE_DAGS, "repo-dags": REPO_DAGS},
        env=env,
        pools={PHRASE_POOL: PHRASE_POOL_SLOTS, PROBE_POOL: 1},
        # phrase_api caps the ingests in flight, waiting ones included (see the README); the probe's pool
        # shows that deferring frees a slot.
        pools_including_deferred=frozenset({PHRASE_POOL}),
        marker=f"{e2e_marker}-airflow",
        # phrase_new_jobs_report runs on the ingestion's Asset events; the scheduler creates those runs only
        # with scheduling on. Every DAG starts paused; the probe DAG has no schedule.
        scheduling=True,
    )
    cluster = AirflowCluster(config)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
    assert not cluster.leftovers, f"processes survived the Airflow shutdown: {cluster.leftovers}"


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_behind(e2e_marker: str) -> Iterator[None]:
    """After every e2e fixture is torn down, no process started by the harness may still exist."""
    yield
    survivors = marked_processes(MARKER_ENV, e2e_marker, prefix=True)
    assert not survivors, f"end-to-end processes still running: {[p.pid for p in survivors]}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    """On failure, attach the tail of every Airflow component's (and the emulator's) log to the report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    clusters = {id(v): v for v in funcargs.values() if isinstance(v, AirflowCluster)}
    for cluster in clusters.values():
        report.sections.append(("airflow process logs (tails)", cluster.log_tails(lines=80)))
    emulators = {id(v): v for v in funcargs.values() if isinstance(v, EmulatorProcess)}
    for emulator in emulators.values():
        report.sections.append(("Phrase emulator log (tail)", emulator.process.tail(40)))
