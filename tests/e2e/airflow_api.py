"""A small client for the Airflow 3 REST API (v2), as an operator or a CI job would drive it.

Authentication is the simple auth manager's ``POST /auth/token`` (user name + password → JWT, sent as a
bearer token); the token is fetched again once if the API answers 401.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import requests

from tests.e2e.polling import wait_for

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
UNFINISHED_TI_STATES = frozenset(
    {None, "scheduled", "queued", "running", "deferred", "up_for_retry", "up_for_reschedule", "restarting"}
)


class AirflowApiError(RuntimeError):
    """A non-2xx answer from the Airflow API (status, method, path and the response body)."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        request = response.request
        super().__init__(
            f"{request.method} {request.path_url} -> {response.status_code}: {response.text[:500]}"
        )


class AirflowServerError(AirflowApiError):
    """A 5xx answer from the Airflow API."""


ASSET_EVENTS_RETRY_SECONDS = 30.0
"""How long listings of Asset events retry a 5xx (see ``AirflowApiClient._read_events``)."""


class AirflowApiClient:
    """The REST calls the end-to-end tests need, against ``root_url`` (e.g. ``http://127.0.0.1:PORT``)."""

    def __init__(self, root_url: str, username: str, password: str, *, timeout: float = 30.0) -> None:
        self.root_url = root_url.rstrip("/")
        self._username = username
        self._password = password
        self._timeout = timeout
        self._session = requests.Session()
        self._token: str | None = None

    def __repr__(self) -> str:  # never show the password or the token
        return f"AirflowApiClient({self.root_url!r}, user={self._username!r})"

    def close(self) -> None:
        self._session.close()

    # -- plumbing -------------------------------------------------------------------------------------

    def login(self) -> None:
        response = self._session.post(
            f"{self.root_url}/auth/token",
            json={"username": self._username, "password": self._password},
            timeout=self._timeout,
        )
        if not response.ok:
            raise AirflowApiError(response)
        self._token = response.json()["access_token"]

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``method`` ``/api/v2`` + ``path``; returns the decoded JSON body (None when empty)."""
        if self._token is None:
            self.login()
        response = self._send(method, path, **kwargs)
        if response.status_code == 401:
            self.login()
            response = self._send(method, path, **kwargs)
        if response.status_code >= 500:
            raise AirflowServerError(response)
        if not response.ok:
            raise AirflowApiError(response)
        if not response.content:
            return None
        return response.json()

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        return self._session.request(
            method, f"{self.root_url}/api/v2{path}", headers=headers, timeout=self._timeout, **kwargs
        )

    def _paginate(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        offset = 0
        while True:
            page = self.request("GET", path, params={**(params or {}), "limit": 100, "offset": offset})
            items = page[key]
            yield from items
            offset += len(items)
            if not items or offset >= page.get("total_entries", 0):
                return

    # -- health and DAGs ------------------------------------------------------------------------------

    def health(self) -> dict:
        """``/api/v2/monitor/health`` (no authentication needed)."""
        response = self._session.get(f"{self.root_url}/api/v2/monitor/health", timeout=self._timeout)
        if not response.ok:
            raise AirflowApiError(response)
        result: dict = response.json()
        return result

    def get_dag(self, dag_id: str) -> dict | None:
        """The DAG as the API knows it, or None while the dag-processor has not serialised it yet."""
        try:
            result: dict = self.request("GET", f"/dags/{dag_id}")
        except AirflowApiError as exc:
            if exc.status == 404:
                return None
            raise
        return result

    def event_logs(self, **filters: str) -> list[dict]:
        """Audit log entries (``/eventLogs``), e.g. ``event_logs(dag_id=..., event="state mismatch")``."""
        return list(self._paginate("/eventLogs", "event_logs", filters))

    def jobs(self, **filters: str | bool) -> list[dict]:
        """The first 100 jobs (``/jobs``), e.g. ``jobs(job_type="TriggererJob", is_alive=True)``: id,
        hostname, state, latest_heartbeat... (``is_alive`` filters each page after the query, so its pages
        cannot be walked by offset; a test deployment has far fewer jobs of a type.)"""
        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in filters.items()}
        jobs: list[dict] = self.request("GET", "/jobs", params={**params, "limit": 100})["jobs"]
        return jobs

    def pool(self, name: str) -> dict:
        """One pool: ``slots``, ``occupied_slots``, ``running_slots``, ``deferred_slots``..."""
        result: dict = self.request("GET", f"/pools/{name}")
        return result

    def import_errors(self) -> list[dict]:
        return list(self._paginate("/importErrors", "import_errors"))

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        result: dict = self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})
        return result

    # -- runs -----------------------------------------------------------------------------------------

    def trigger_run(
        self,
        dag_id: str,
        *,
        conf: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        logical_date: datetime | None = None,
        data_interval: tuple[datetime, datetime] | None = None,
    ) -> dict:
        """Trigger a run now. Its ``logical_date`` (default: now) gives it a data interval through the DAG's
        timetable, unless ``data_interval`` (start, end) is given."""
        body: dict[str, Any] = {
            "logical_date": (logical_date or datetime.now(timezone.utc)).isoformat(),
            "conf": dict(conf or {}),
        }
        if data_interval is not None:
            body["data_interval_start"], body["data_interval_end"] = (m.isoformat() for m in data_interval)
        if run_id is not None:
            body["dag_run_id"] = run_id
        result: dict = self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return result

    def dag_runs(self, dag_id: str) -> list[dict]:
        """Every run of the DAG, oldest first (``run_type`` says manual, scheduled, asset_triggered...)."""
        return list(self._paginate(f"/dags/{dag_id}/dagRuns", "dag_runs", {"order_by": "id"}))

    def get_run(self, dag_id: str, run_id: str) -> dict:
        result: dict = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return result

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float,
        states: frozenset[str] = TERMINAL_RUN_STATES,
        on_poll: Callable[[dict], object] | None = None,
        interval: float = 1.0,
    ) -> dict:
        """Poll the run until its state is in ``states``; ``on_poll(run)`` sees every intermediate answer."""
        last: dict[str, Any] = {}

        def probe() -> dict | None:
            run = self.get_run(dag_id, run_id)
            last["run"] = run
            if on_poll is not None:
                on_poll(run)
            return run if run["state"] in states else None

        return wait_for(
            probe,
            timeout=timeout,
            interval=interval,
            what=f"DAG run {dag_id}/{run_id} to reach {sorted(states)}",
            describe_last=lambda: (
                f"run state {last.get('run', {}).get('state')!r}; "
                + self.describe_task_states(dag_id, run_id)
            ),
        )

    def clear_run(self, dag_id: str, run_id: str) -> Any:
        """Clear every task of the run (the run goes back to queued and runs again)."""
        return self.request("POST", f"/dags/{dag_id}/dagRuns/{run_id}/clear", json={"dry_run": False})

    # -- assets ---------------------------------------------------------------------------------------

    def asset_events(self, **filters: str) -> list[dict]:
        """Asset events (``/assets/events``), e.g. ``asset_events(source_dag_id=..., source_run_id=...)``."""
        return self._read_events(
            "GET /assets/events", lambda: list(self._paginate("/assets/events", "asset_events", filters))
        )

    def upstream_asset_events(self, dag_id: str, run_id: str) -> list[dict]:
        """The Asset events an asset-triggered run consumed."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/upstreamAssetEvents"
        return self._read_events(f"GET {path}", lambda: self.request("GET", path)["asset_events"])

    def _read_events(self, what: str, read: Callable[[], list[dict]]) -> list[dict]:
        """``read()``, retrying a 5xx for up to :data:`ASSET_EVENTS_RETRY_SECONDS`.

        Airflow 3.3.2 answers 500 to a listing of Asset events while a run one of them created is still
        queued: the run's ``start_date`` is NULL and fails the response model (apache/airflow#71360, fixed
        upstream by apache/airflow#71361). That happens right after an event triggered a run, until the
        scheduler starts it.
        """
        (events,) = wait_for(
            lambda: (read(),),
            timeout=ASSET_EVENTS_RETRY_SECONDS,
            what=f"{what} to answer without a server error",
            transient=(AirflowServerError,),
        )
        return events

    def queued_asset_events(self, dag_id: str) -> list[dict]:
        """Asset events waiting to trigger a run of ``dag_id`` (the asset-DAG-run queue)."""
        page = self.request("GET", f"/dags/{dag_id}/assets/queuedEvents")
        queued: list[dict] = page["queued_events"]
        return queued

    # -- task instances -------------------------------------------------------------------------------

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """Every task instance of the run, mapped ones included (one row per ``map_index``)."""
        return list(self._paginate(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", "task_instances"))

    def describe_task_states(self, dag_id: str, run_id: str) -> str:
        try:
            rows = self.task_instances(dag_id, run_id)
        except (requests.RequestException, AirflowApiError) as exc:
            return f"(task instances unavailable: {exc})"
        return ", ".join(f"{ti['task_id']}[{ti['map_index']}]={ti['state']}" for ti in rows)

    def task_instance_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict]:
        """The try history of one task instance (every try, the current one included)."""
        page = self.request(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries"
        )
        tries: list[dict] = page["task_instances"]
        return tries

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """The task's log for one try as text (the triggerer's part of a deferred try included)."""
        page = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"map_index": map_index, "full_content": "true"},
            headers={"Accept": "application/json"},
        )
        content = page.get("content", [])
        if isinstance(content, str):
            return content
        return "\n".join(
            str(entry.get("event", entry)) if isinstance(entry, dict) else str(entry) for entry in content
        )

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        entry = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"map_index": map_index, "deserialize": "true"},
        )
        return entry["value"]
