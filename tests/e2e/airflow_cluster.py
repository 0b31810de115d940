"""A real Airflow 3 deployment in a temporary ``AIRFLOW_HOME``, run as processes of the venv's ``airflow``.

``airflow scheduler`` (LocalExecutor), ``airflow dag-processor``, ``airflow triggerer`` and
``airflow api-server`` share one SQLite metadata DB, one JWT secret and one environment. The shape is sized
for a 2-core machine (parallelism 4, one API worker, one parsing process) and everything listens on 127.0.0.1
only:

* the API server gets ``--host 127.0.0.1`` and a free port;
* the scheduler's and the triggerer's log servers would bind every interface (``serve_logs`` uses
  ``host=""`` with no setting to change it), so they are not started (``--skip-serve-logs``); the API
  server reads task and trigger logs straight from ``$AIRFLOW_HOME/logs``, which all processes share here.
  Their ports are still set to free ones so nothing could clash on the defaults 8793/8794 if they were ever
  started;
* the scheduler's health-check server stays off (the API's ``/monitor/health`` reports the heartbeats).

Authentication is the simple auth manager with one admin user whose password is written to the passwords file
before the API server starts. The scheduler creates no runs by itself unless ``scheduling`` is on
(``[scheduler] use_job_schedule``): tests trigger exactly the runs they assert on. Asset-triggered runs are
created by the same scheduler step as timetable runs, so a deployment that must show them turns it on, and its
tests keep unpaused timetable DAGs from being scheduled behind their back.

A test may stop one component and start a new process of it (:meth:`AirflowCluster.component_stopped`, e.g.
to restart the triggerer while tasks are deferred); the new process is started even if the test fails.
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

from tests.e2e.airflow_api import AirflowApiClient, AirflowApiError
from tests.e2e.managed_process import ManagedProcess, free_port, reap_marked_processes, tail
from tests.e2e.polling import wait_for

AIRFLOW_BIN = Path(sys.executable).with_name("airflow")
MARKER_ENV = "AIRFLOW_PHRASE_E2E_CLUSTER"
COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
ACCESS_LOG_LINE = "[http.access]"
"""The API server logs every request; those lines are left out of failure tails."""
HEALTH_KEYS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}


def child_environment(marker: str) -> dict[str, str]:
    """This process's environment without any ``AIRFLOW*`` setting (the test session's own throwaway
    home must not leak in), the venv's ``bin`` first on ``PATH`` and the harness marker set."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    path = os.pathsep.join([str(AIRFLOW_BIN.parent), inherited.get("PATH", "")])
    return {**inherited, "PATH": path, "PYTHONUNBUFFERED": "1", MARKER_ENV: marker}


@dataclass(frozen=True)
class AirflowClusterConfig:
    """What a test chooses about the deployment; everything else is fixed by the harness."""

    home: Path
    dag_bundles: Mapping[str, Path]
    """Bundle name → folder (each a ``LocalDagBundle``), e.g. ``{"repo-dags": REPO / "dags"}``."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for every process, e.g. ``AIRFLOW_CONN_PHRASE_TMS_DEFAULT``."""
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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC, as Airflow stores them)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass
class ComponentOutage:
    """One stop and restart of a component by :meth:`AirflowCluster.component_stopped`."""

    name: str
    old_pid: int
    stopped_at: datetime
    """When the old process had exited (every process of its tree gone)."""
    restarted_at: datetime | None = None
    """When the new process was started (set when the ``with`` block ends)."""
    new_pid: int | None = None


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
        self.env = self._build_env()
        self.processes: dict[str, ManagedProcess] = {}
        self.api = AirflowApiClient(self.api_root, config.username, config.password)
        self.leftovers: list[str] = []

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
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
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
            "AIRFLOW__TRIGGERER__CAPACITY": "50",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        }
        return {**child_environment(self.marker), "AIRFLOW_HOME": str(self.home), **settings, **cfg.env}

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
        """Prepare the home, start every component and wait until the API reports all of them healthy."""
        self.prepare()
        for name in COMPONENTS:
            self.start_component(name)
        self.wait_until_ready(ready_timeout)

    def _argv(self, name: str) -> list[str]:
        argv = {
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
            "api-server": [
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.api_port),
                "--workers",
                "1",
            ],
        }
        return [str(AIRFLOW_BIN), *argv[name]]

    def start_component(self, name: str) -> ManagedProcess:
        """Start one component (a fresh process; its log file is appended to). Does not wait for it."""
        if name in self.processes:
            raise RuntimeError(f"airflow {name} is already running (pid {self.processes[name].pid})")
        process = ManagedProcess(
            name, self._argv(name), env=self.env, log_path=self.log_dir / f"{name}.log", cwd=self.home
        )
        self.processes[name] = process
        return process

    def stop_component(self, name: str) -> None:
        """Stop one component as :meth:`stop` would (SIGTERM, SIGKILL after a deadline) and forget it."""
        process = self.processes.pop(name, None)
        if process is not None:
            process.stop()

    @contextlib.contextmanager
    def component_stopped(self, name: str, ready_timeout: float = 120.0) -> Iterator[ComponentOutage]:
        """Stop a heartbeating component (e.g. the triggerer) for the duration of the ``with`` block, then
        start a new process of it and wait until the API reports it healthy with a heartbeat newer than
        the restart.

        The new process is started even when the block raises (the rest of the session needs it); it is
        only waited for when the block succeeded. The yielded :class:`ComponentOutage` records the moments
        the old process was gone and the new one started.
        """
        health_key = HEALTH_KEYS[name]
        old_pid = self.processes[name].pid
        self.stop_component(name)
        outage = ComponentOutage(name=name, old_pid=old_pid, stopped_at=utcnow())
        try:
            yield outage
        finally:
            outage.restarted_at = utcnow()
            outage.new_pid = self.start_component(name).pid
        self.wait_for_heartbeat(health_key, after=outage.restarted_at, timeout=ready_timeout)

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

    def stop(self) -> None:
        """Stop every component (SIGTERM, then SIGKILL after a deadline), then sweep any orphan left behind.

        Orphans found by the sweep are killed and recorded in :attr:`leftovers`."""
        self.api.close()
        for name in reversed(COMPONENTS):
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
        """The API answers, the scheduler, triggerer and dag-processor heartbeat, and the admin can log in."""
        last: dict[str, object] = {}

        def probe() -> bool:
            self._check_alive()
            health = self.api.health()
            last["health"] = health
            return all(health.get(key, {}).get("status") == "healthy" for key in HEALTH_KEYS.values())

        try:
            wait_for(
                probe, timeout=timeout, what="every Airflow component to report healthy",
                transient=(requests.ConnectionError, AirflowApiError),
                describe_last=lambda: f"{last.get('health')}\n{self.log_tails()}",
            )  # fmt: skip
            self.api.login()
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
        for name in only or COMPONENTS:
            text = tail(self.log_dir / f"{name}.log", lines, skip=ACCESS_LOG_LINE)
            parts.append(f"----- airflow {name} (last {lines} lines) -----\n{text}")
        return "\n".join(parts)

    def listening_sockets(self) -> list[tuple[str, int, str, int]]:
        """(component, pid, ip, port) of every listening TCP socket owned by any process of the cluster."""
        return [
            (name, pid, ip, port)
            for name, process in self.processes.items()
            for pid, ip, port in process.listening_sockets()
        ]

    def task_log_files(self, dag_id: str, run_id: str, task_id: str) -> list[Path]:
        """Log files written for a task in a run (``*.trigger.<job>.log`` ones come from the triggerer)."""
        run_dir = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return sorted(path for path in run_dir.rglob("*") if path.is_file()) if run_dir.exists() else []
