"""A real Airflow 3 deployment in a temporary ``AIRFLOW_HOME``, run as processes of the venv's ``airflow``.

``airflow scheduler``, ``airflow dag-processor``, ``airflow triggerer`` and ``airflow api-server`` share one
metadata DB, one JWT secret and one environment. By default the executor is the LocalExecutor on a SQLite
file in the home; a :class:`CeleryConfig` makes it the production shape instead: CeleryExecutor with a
Redis broker and a PostgreSQL result backend, ``airflow celery worker`` processes (each with its own
``--celery-hostname``) and a metadata DB given as ``database_url`` (PostgreSQL). Several triggerers can run
at once (``triggerers``), as Airflow's HA triggerers. The shape is sized for a 2-core machine (parallelism 4,
one API worker, one parsing process) and everything listens on 127.0.0.1 only:

* the API server gets ``--host 127.0.0.1`` and a free port;
* the scheduler's and the triggerer's log servers would bind every interface (``serve_logs`` uses
  ``host=""`` with no setting to change it), so they are not started (``--skip-serve-logs``); the API
  server reads task and trigger logs straight from ``$AIRFLOW_HOME/logs``, which all processes share here.
  Their ports are still set to free ones so nothing could clash on the defaults 8793/8794 if they were ever
  started;
* the scheduler's health-check server stays off (the API's ``/monitor/health`` reports the heartbeats);
* Celery workers run with ``--skip-serve-logs`` too (their log server would bind every interface as well).

Each process of a deployment reports its own host name to Airflow when the harness gives it one (every
Celery worker, and every triggerer when there are several): ``[core] hostname_callable`` points at
``airflow_path/phrase_e2e_hostname.py``, as two containers would have two host names. Task instances then
say which worker ran them, and triggerer jobs which triggerer holds a trigger.

Authentication is the simple auth manager with one admin user whose password is written to the passwords file
before the API server starts. The scheduler creates no runs by itself unless ``scheduling`` is on
(``[scheduler] use_job_schedule``): tests trigger exactly the runs they assert on. Asset-triggered runs are
created by the same scheduler step as timetable runs, so a deployment that must show them turns it on, and its
tests keep unpaused timetable DAGs from being scheduled behind their back.

A test may stop one component and start a new process of it (:meth:`AirflowCluster.component_stopped`, e.g.
to restart the triggerer while tasks are deferred), or kill it with SIGKILL, its whole process tree at once,
as a machine or container dies (:meth:`AirflowCluster.component_killed`); the new process is started even if
the test fails.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

from tests.e2e.airflow_api import AirflowApiClient, AirflowApiError
from tests.e2e.managed_process import ManagedProcess, free_port, reap_marked_processes, tail
from tests.e2e.polling import wait_for

AIRFLOW_BIN = Path(sys.executable).with_name("airflow")
MARKER_ENV = "AIRFLOW_PHRASE_E2E_CLUSTER"
AIRFLOW_PATH = Path(__file__).parent / "airflow_path"
"""On every Airflow process's ``PYTHONPATH``: holds the ``hostname_callable`` (``phrase_e2e_hostname``)."""
HOSTNAME_ENV = "AIRFLOW_PHRASE_E2E_HOSTNAME"
"""Same literal as ``airflow_path/phrase_e2e_hostname.py``: the host name a process reports to Airflow."""
COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
"""The components every deployment runs (more triggerers and the Celery workers come on top)."""
ACCESS_LOG_LINE = "[http.access]"
"""The API server logs every request; those lines are left out of failure tails."""
HEALTH_KEYS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


def child_environment(marker: str) -> dict[str, str]:
    """This process's environment without any ``AIRFLOW*`` setting (the test session's own throwaway
    home must not leak in), the venv's ``bin`` first on ``PATH`` and the harness marker set."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    path = os.pathsep.join([str(AIRFLOW_BIN.parent), inherited.get("PATH", "")])
    return {**inherited, "PATH": path, "PYTHONUNBUFFERED": "1", MARKER_ENV: marker}


@dataclass(frozen=True)
class CeleryConfig:
    """The CeleryExecutor of a deployment: where its queue and results live, and its workers."""

    broker_url: str
    """e.g. ``redis://127.0.0.1:6379/9``: one Redis database number, never shared with another use."""
    result_backend: str
    """e.g. ``db+postgresql+psycopg2://postgres@127.0.0.1:5432/<db>`` (the metadata DB)."""
    queue: str
    """``[operators] default_queue``: every task is sent there and the workers consume only it, so
    deployments sharing a broker database (another test session) never take each other's tasks."""
    workers: int = 2
    concurrency: int = 2
    """``--concurrency`` of each worker: task processes it runs at once."""


@dataclass(frozen=True)
class AirflowClusterConfig:
    """What a test chooses about the deployment; everything else is fixed by the harness."""

    home: Path
    dag_bundles: Mapping[str, Path]
    """Bundle name → folder (each a ``LocalDagBundle``), e.g. ``{"repo-dags": REPO / "dags"}``."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for every process, e.g. ``AIRFLOW_CONN_PHRASE_TMS_DEFAULT``; it overrides the
    harness's settings (e.g. ``AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT``)."""
    pools: Mapping[str, int] = field(default_factory=dict)
    pools_including_deferred: frozenset[str] = frozenset()
    """Pools whose slots deferred tasks keep (``--include-deferred``), e.g. ``phrase_api``."""
    parallelism: int = 4
    scheduling: bool = False
    """``[scheduler] use_job_schedule``: let the scheduler create runs (timetable and asset-triggered)."""
    username: str = "admin"
    password: str = "admin"
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Value of ``MARKER_ENV`` in every process started for this deployment (the orphan sweep's key)."""
    database_url: str | None = None
    """``[database] sql_alchemy_conn``; None: a SQLite file in the home (LocalExecutor only)."""
    celery: CeleryConfig | None = None
    """None: the LocalExecutor."""
    triggerers: int = 1
    triggerer_capacity: int = 50
    """``airflow triggerer --capacity``: triggers one triggerer runs at once."""


@dataclass(frozen=True)
class Component:
    """One long-running process of the deployment."""

    name: str
    """``scheduler``, ``dag-processor``, ``api-server``, ``triggerer`` (``triggerer-2``), ``worker-1``."""
    argv: tuple[str, ...]
    """Arguments of ``airflow``."""
    hostname: str | None = None
    """What the process reports to Airflow as its host name (the Celery node name of a worker); None: the
    machine's."""

    @property
    def is_triggerer(self) -> bool:
        return self.name.startswith("triggerer")

    @property
    def is_worker(self) -> bool:
        return self.name.startswith("worker-")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC, as Airflow stores them)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass
class ComponentOutage:
    """One stop (or kill) and restart of a component by :meth:`AirflowCluster.component_stopped` or
    :meth:`AirflowCluster.component_killed`."""

    name: str
    old_pid: int
    stopped_at: datetime
    """When the old process had exited (every process of its tree gone)."""
    restarted_at: datetime | None = None
    """When the new process was started (set when the ``with`` block ends)."""
    new_pid: int | None = None
    killed_pids: tuple[int, ...] = ()
    """Every process of the old tree that was killed (a kill only)."""


class AirflowCluster:
    """Prepare, start, wait for, drive (via :attr:`api`) and stop one Airflow deployment.

    Use as a context manager, or call :meth:`start` and always :meth:`stop` (idempotent) in a finalizer.
    """

    def __init__(self, config: AirflowClusterConfig) -> None:
        self.config = config
        self.home = config.home
        self.log_dir = self.home / "process-logs"
        self.api_port = free_port()
        self.api_root = f"http://127.0.0.1:{self.api_port}"
        self.marker = config.marker
        self.components = {component.name: component for component in self._components()}
        self.env = self._build_env()
        self.processes: dict[str, ManagedProcess] = {}
        self.api = AirflowApiClient(self.api_root, config.username, config.password)
        self.leftovers: list[str] = []

    # -- shape ----------------------------------------------------------------------------------------

    def _components(self) -> list[Component]:
        cfg = self.config
        suffix = self.marker[:8]
        triggerer_argv = ("triggerer", "--skip-serve-logs", "--capacity", str(cfg.triggerer_capacity))
        components = [
            Component("scheduler", ("scheduler", "--skip-serve-logs")),
            Component("dag-processor", ("dag-processor",)),
        ]
        for number in range(1, cfg.triggerers + 1):
            name = "triggerer" if number == 1 else f"triggerer-{number}"
            # Several triggerers must be told apart in their jobs (which one holds a trigger).
            hostname = f"triggerer-{number}-{suffix}" if cfg.triggerers > 1 else None
            components.append(Component(name, triggerer_argv, hostname))
        components.append(
            Component(
                "api-server",
                ("api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"),
            )
        )
        if cfg.celery is not None:
            for number in range(1, cfg.celery.workers + 1):
                # The Celery node name is the worker's Airflow host name too; unique per deployment, as a
                # worker refuses to start while a node of its name answers on the broker.
                hostname = f"worker-{number}-{suffix}"
                argv = (
                    "celery", "worker", "--celery-hostname", hostname,
                    "--concurrency", str(cfg.celery.concurrency), "--queues", cfg.celery.queue,
                    "--skip-serve-logs", "--without-mingle", "--without-gossip",
                )  # fmt: skip
                components.append(Component(f"worker-{number}", argv, hostname))
        return components

    @property
    def triggerer_names(self) -> list[str]:
        return [name for name, component in self.components.items() if component.is_triggerer]

    @property
    def worker_names(self) -> list[str]:
        return [name for name, component in self.components.items() if component.is_worker]

    def hostname(self, name: str) -> str | None:
        """The host name component ``name`` reports to Airflow (None: the machine's)."""
        return self.components[name].hostname

    # -- environment ----------------------------------------------------------------------------------

    def _build_env(self) -> dict[str, str]:
        cfg = self.config
        bundles = [
            {"name": name, "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
             "kwargs": {"path": str(folder), "refresh_interval": 5}}
            for name, folder in cfg.dag_bundles.items()
        ]  # fmt: skip
        first_folder = next(iter(cfg.dag_bundles.values()))
        settings = {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(cfg.parallelism),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(first_folder),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{cfg.username}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_root}/execution/",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "phrase_e2e_hostname.hostname",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": cfg.database_url or f"sqlite:///{self.home}/airflow.db",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.api_root,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(cfg.scheduling),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__TRIGGERER__CAPACITY": str(cfg.triggerer_capacity),
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        }
        if cfg.celery is not None:
            settings.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                    "AIRFLOW__CELERY__BROKER_URL": cfg.celery.broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": cfg.celery.result_backend,
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(cfg.celery.concurrency),
                    "AIRFLOW__OPERATORS__DEFAULT_QUEUE": cfg.celery.queue,
                }
            )
        inherited = child_environment(self.marker)
        python_path = os.pathsep.join(p for p in (str(AIRFLOW_PATH), inherited.get("PYTHONPATH")) if p)
        return {**inherited, "PYTHONPATH": python_path, "AIRFLOW_HOME": str(self.home), **settings, **cfg.env}

    @property
    def passwords_file(self) -> Path:
        return self.home / "simple_auth_manager_passwords.json"

    # -- lifecycle ------------------------------------------------------------------------------------

    def __enter__(self) -> AirflowCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def prepare(self) -> None:
        """Write the passwords file, migrate the DB and create the pools (CLI, before any process runs)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.passwords_file.write_text(json.dumps({self.config.username: self.config.password}))
        self.passwords_file.chmod(0o600)
        self._cli("db", "migrate")
        if self.config.pools:  # one `airflow pools import` instead of a `pools set` (~10 s) per pool
            pools_file = self.home / "pools.json"
            pools = {
                name: {
                    "slots": slots,
                    "description": f"{name} (end-to-end tests)",
                    "include_deferred": name in self.config.pools_including_deferred,
                }
                for name, slots in self.config.pools.items()
            }
            pools_file.write_text(json.dumps(pools))
            self._cli("pools", "import", str(pools_file))

    def start(self, ready_timeout: float = 180.0) -> None:
        """Prepare the home, start every component and wait until all of them are up (the API reports the
        heartbeats of the scheduler, every triggerer and the dag-processor; every Celery worker answers)."""
        self.prepare()
        for name in self.components:
            self.start_component(name)
        self.wait_until_ready(ready_timeout)

    def start_component(self, name: str) -> ManagedProcess:
        """Start one component (a fresh process; its log file is appended to). Does not wait for it."""
        if name in self.processes:
            raise RuntimeError(f"airflow {name} is already running (pid {self.processes[name].pid})")
        component = self.components[name]
        env = dict(self.env)
        if component.hostname is not None:
            env[HOSTNAME_ENV] = component.hostname
        process = ManagedProcess(
            name,
            [str(AIRFLOW_BIN), *component.argv],
            env=env,
            log_path=self.log_dir / f"{name}.log",
            cwd=self.home,
        )
        self.processes[name] = process
        return process

    def stop_component(self, name: str) -> None:
        """Stop one component as :meth:`stop` would (SIGTERM, SIGKILL after a deadline) and forget it."""
        process = self.processes.pop(name, None)
        if process is not None:
            process.stop()

    def kill_component(self, name: str) -> tuple[int, ...]:
        """SIGKILL one component's whole process tree at once (its task processes too), as a machine dies;
        forget it. Returns the pids killed."""
        return self.processes.pop(name).kill()

    @contextlib.contextmanager
    def component_stopped(self, name: str, ready_timeout: float = 120.0) -> Iterator[ComponentOutage]:
        """Stop a component (e.g. the triggerer) for the duration of the ``with`` block, then start a new
        process of it and wait until it is up again: a heartbeat newer than the restart reported by the
        API (a Celery worker: it answers a ping).

        The new process is started even when the block raises (the rest of the session needs it); it is
        only waited for when the block succeeded. The yielded :class:`ComponentOutage` records the moments
        the old process was gone and the new one started.
        """
        old_pid = self.processes[name].pid
        self.stop_component(name)
        outage = ComponentOutage(name=name, old_pid=old_pid, stopped_at=utcnow())
        with self._restarted_after(outage, ready_timeout):
            yield outage

    @contextlib.contextmanager
    def component_killed(self, name: str, ready_timeout: float = 120.0) -> Iterator[ComponentOutage]:
        """Like :meth:`component_stopped`, but the component dies at once: SIGKILL to every process of its
        tree (see :meth:`kill_component`); no shutdown code of Airflow's runs."""
        old_pid = self.processes[name].pid
        killed = self.kill_component(name)
        outage = ComponentOutage(name=name, old_pid=old_pid, stopped_at=utcnow(), killed_pids=killed)
        with self._restarted_after(outage, ready_timeout):
            yield outage

    @contextlib.contextmanager
    def _restarted_after(self, outage: ComponentOutage, ready_timeout: float) -> Iterator[None]:
        try:
            yield
        finally:
            outage.restarted_at = utcnow()
            outage.new_pid = self.start_component(outage.name).pid
        self.wait_for_component(outage.name, after=outage.restarted_at, timeout=ready_timeout)

    def wait_for_component(self, name: str, *, after: datetime, timeout: float) -> None:
        """Wait until component ``name`` is up: a Celery worker answers a ping; a triggerer among several
        has an alive job under its host name that heartbeat after ``after``; any other heartbeating
        component is reported healthy by the API with a heartbeat after ``after``."""
        component = self.components[name]
        if component.is_worker:
            self.wait_for_workers([name], timeout=timeout)
        elif component.is_triggerer and component.hostname is not None:
            self.wait_for_triggerer_jobs([name], after=after, timeout=timeout)
        else:
            self.wait_for_heartbeat(HEALTH_KEYS[name], after=after, timeout=timeout)

    def wait_for_heartbeat(self, health_key: str, *, after: datetime, timeout: float) -> dict:
        """Poll the API's health until ``health_key`` (e.g. ``"triggerer"``) is healthy with its latest
        heartbeat later than ``after``; returns that health entry."""
        last: dict[str, object] = {}

        def probe() -> dict | None:
            self._check_alive()
            entry: dict = self.api.health().get(health_key) or {}
            last["entry"] = entry
            beat = entry.get(f"latest_{health_key}_heartbeat")
            fresh = beat is not None and as_utc(datetime.fromisoformat(beat)) > after
            return entry if fresh and entry.get("status") == "healthy" else None

        return wait_for(
            probe, timeout=timeout, what=f"a {health_key} heartbeat after {after.isoformat()}",
            transient=(requests.ConnectionError, AirflowApiError),
            describe_last=lambda: f"{last.get('entry')}\n{self.log_tails()}",
        )  # fmt: skip

    def alive_triggerer_jobs(self) -> dict[str, dict]:
        """Host name → the alive ``TriggererJob`` of that host (the newest heartbeat), from the REST API."""
        jobs: dict[str, dict] = {}
        for job in self.api.jobs(job_type="TriggererJob", is_alive=True):
            known = jobs.get(job["hostname"])
            if known is None or (job["latest_heartbeat"] or "") > (known["latest_heartbeat"] or ""):
                jobs[job["hostname"]] = job
        return jobs

    def wait_for_triggerer_jobs(
        self, names: list[str], *, after: datetime, timeout: float
    ) -> dict[str, dict]:
        """Wait until each triggerer in ``names`` has an alive job that heartbeat after ``after``; returns
        component name → job."""
        last: dict[str, object] = {}

        def probe() -> dict[str, dict] | None:
            self._check_alive()
            alive = self.alive_triggerer_jobs()
            last["alive"] = alive
            found: dict[str, dict] = {}
            for name in names:
                job = alive.get(self.hostname(name) or "") or {}
                beat = job.get("latest_heartbeat")
                if not beat or as_utc(datetime.fromisoformat(beat)) <= after:
                    return None
                found[name] = job
            return found

        return wait_for(
            probe, timeout=timeout, what=f"alive triggerer jobs of {names} after {after.isoformat()}",
            transient=(requests.ConnectionError, AirflowApiError),
            describe_last=lambda: f"{last.get('alive')}\n{self.log_tails(only=names)}",
        )  # fmt: skip

    def ping_workers(self, names: list[str], timeout: float = 1.0) -> set[str]:
        """Names among ``names`` of the Celery workers that answer a ping through the broker now."""
        from celery import Celery

        assert self.config.celery is not None, "this deployment runs no Celery workers"
        by_node = {f"celery@{self.hostname(name)}": name for name in names}
        app = Celery(broker=self.config.celery.broker_url)
        try:
            replies = app.control.ping(destination=list(by_node), timeout=timeout)
        finally:
            app.close()
        return {by_node[node] for reply in replies for node in reply if node in by_node}

    def wait_for_workers(self, names: list[str], *, timeout: float) -> None:
        """Wait until every Celery worker in ``names`` answers a ping."""
        last: dict[str, object] = {}

        def probe() -> bool:
            self._check_alive()
            answered = self.ping_workers(names)
            last["answered"] = answered
            return answered == set(names)

        wait_for(
            probe, timeout=timeout, what=f"Celery workers {names} to answer a ping",
            describe_last=lambda: f"answered: {last.get('answered')}\n{self.log_tails(only=names)}",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop every component (SIGTERM, then SIGKILL after a deadline), then sweep any orphan left behind.

        Orphans found by the sweep are killed and recorded in :attr:`leftovers`."""
        self.api.close()
        for name in reversed(self.components):
            process = self.processes.pop(name, None)
            if process is not None:
                process.stop()
        self.leftovers.extend(reap_marked_processes(MARKER_ENV, self.marker))

    def _cli(self, *args: str, timeout: float = 600.0) -> str:
        result = subprocess.run(
            [str(AIRFLOW_BIN), *args], env=self.env, cwd=self.home,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(
                f"`airflow {' '.join(args)}` exited {result.returncode}:\n{result.stdout[-3000:]}\n"
                f"{result.stderr[-3000:]}"
            )
        return result.stdout

    # -- readiness ------------------------------------------------------------------------------------

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if not process.is_running():
                raise RuntimeError(
                    f"airflow {name} exited with {process.returncode}\n{self.log_tails(only=[name])}"
                )

    def health(self) -> dict:
        return self.api.health()

    def wait_until_ready(self, timeout: float) -> None:
        """The API answers, the scheduler, triggerer(s) and dag-processor heartbeat, every Celery worker
        answers a ping, and the admin can log in."""
        last: dict[str, object] = {}
        started = utcnow()

        def probe() -> bool:
            self._check_alive()
            health = self.api.health()
            last["health"] = health
            return all(health.get(key, {}).get("status") == "healthy" for key in HEALTH_KEYS.values())

        def healthy() -> object:
            return wait_for(
                probe, timeout=timeout, what="every Airflow component to report healthy",
                transient=(requests.ConnectionError, AirflowApiError),
                describe_last=lambda: f"{last.get('health')}\n{self.log_tails()}",
            )  # fmt: skip

        waits: list[Callable[[], object]] = [healthy, self.api.login]
        if len(self.triggerer_names) > 1:
            waits.append(
                lambda: self.wait_for_triggerer_jobs(self.triggerer_names, after=started, timeout=timeout)
            )
        if self.worker_names:
            waits.append(lambda: self.wait_for_workers(self.worker_names, timeout=timeout))
        try:
            for wait in waits:
                wait()
        except Exception:
            self.stop()
            raise

    def wait_for_dag(self, dag_id: str, *, file_hint: str, timeout: float = 120.0) -> dict:
        """Poll ``GET /dags/{dag_id}`` until the dag-processor has parsed it; fail fast on an import error
        of a file whose name contains ``file_hint``."""

        def probe() -> dict | None:
            self._check_alive()
            dag = self.api.get_dag(dag_id)
            if dag is None:
                errors = [e for e in self.api.import_errors() if file_hint in e.get("filename", "")]
                if errors:
                    raise AssertionError(f"DAG import errors while waiting for {dag_id!r}: {errors}")
            return dag

        return wait_for(
            probe, timeout=timeout, what=f"DAG {dag_id!r} to be parsed",
            describe_last=lambda: self.log_tails(only=["dag-processor"]),
        )  # fmt: skip

    # -- inspection -----------------------------------------------------------------------------------

    def log_tails(self, lines: int = 60, only: list[str] | None = None) -> str:
        """The end of each component's log, for failure messages."""
        parts = []
        for name in only or self.components:
            text = tail(self.log_dir / f"{name}.log", lines, skip=ACCESS_LOG_LINE)
            parts.append(f"----- airflow {name} (last {lines} lines) -----\n{text}")
        return "\n".join(parts)

    def listening_sockets(
        self, also: Mapping[str, ManagedProcess] | None = None
    ) -> list[tuple[str, int, str, int]]:
        """(component, pid, ip, port) of every listening TCP socket owned by any process of the cluster, or
        of the processes in ``also`` (name → process, e.g. ``{"emulator": emulator.process}``)."""
        return [
            (name, pid, ip, port)
            for name, process in {**self.processes, **(also or {})}.items()
            for pid, ip, port in process.listening_sockets()
        ]

    def assert_listening_on_loopback_only(self, also: Mapping[str, ManagedProcess] | None = None) -> None:
        """The API server listens on its port, and no process (the cluster's or ``also``) listens beyond
        127.0.0.1."""
        sockets = self.listening_sockets(also)
        assert ("api-server", self.api_port) in {(name, port) for name, _, _, port in sockets}, sockets
        exposed = [entry for entry in sockets if entry[2] != "127.0.0.1"]
        assert not exposed, f"listening beyond loopback: {exposed}"

    def task_log_files(self, dag_id: str, run_id: str, task_id: str) -> list[Path]:
        """Log files written for a task in a run (``*.trigger.<job>.log`` ones come from the triggerer)."""
        run_dir = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return sorted(path for path in run_dir.rglob("*") if path.is_file()) if run_dir.exists() else []
