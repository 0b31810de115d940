"""Fixtures for the operator tests: the emulator over real loopback HTTP, an API-token connection, and a
recording task instance for calling ``execute`` / ``execute_complete`` directly.

The connection authenticates with the seed's API token, so the emulator's journal holds exactly the
calls the operators make (no login POST in between): tests assert "nothing was sent" and "only GETs".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_phrase.hooks.auth import TOKEN_CACHE
from tests.helpers import use_emulator_connection

WEBSITE = "prjWebsite000000000001"  # targets de, fr_fr, ja; no workflow steps
REVIEW = "prjDocsReview00000001"  # targets de, es; steps Translation (level 1) and Revision (level 2)
CREATE_JOB_PATH = r"/api2/v1/projects/[^/]+/jobs/connectorTask"
DOWNLOAD_PATH = r"/api2/v2/connectors/[^/]+/folders/[^/]+/files/[^/]+"
TASKS_PATH = "/api2/v1/connectorAsyncTasks"


@dataclass
class RecordingTaskInstance:
    """Stands in for the runtime task instance when ``execute`` is called directly: keeps XCom pushes."""

    xcom: dict[str, Any] = field(default_factory=dict)
    pushes: list[str] = field(default_factory=list)
    try_number: int = 1

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value
        self.pushes.append(key)


class MemoryTaskStateStore:
    """Stands in for Airflow's task state store (``context["task_state_store"]``): per task instance,
    kept across tries. Values go through JSON, as Airflow stores them."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    def set(self, key: str, value: Any, **_: Any) -> None:
        self.values[key] = json.dumps(value)

    def delete(self, key: str) -> None:
        self.values.pop(key, None)

    def clear(self) -> None:
        self.values.clear()


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    TOKEN_CACHE.clear()
    yield
    TOKEN_CACHE.clear()


@pytest.fixture
def emulator(phrase_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The session emulator, reset, with ``phrase_tms_default`` pointing at it (API token, fast retries)."""
    use_emulator_connection(
        monkeypatch,
        phrase_emulator.base_url,
        max_attempts=3,
        max_wait_seconds=0.2,
        retry_total_seconds=20,
        request_timeout_seconds=10,
    )
    return phrase_emulator


@pytest.fixture
def ti() -> RecordingTaskInstance:
    return RecordingTaskInstance()


@pytest.fixture
def store() -> MemoryTaskStateStore:
    return MemoryTaskStateStore()


@pytest.fixture
def context(ti: RecordingTaskInstance, store: MemoryTaskStateStore) -> dict[str, Any]:
    return {"ti": ti, "task_instance": ti, "task_state_store": store}


def retry_context(store: MemoryTaskStateStore, try_number: int = 2) -> dict[str, Any]:
    """The context of a later try of the same task instance: a new task instance, the same state store."""
    ti = RecordingTaskInstance(try_number=try_number)
    return {"ti": ti, "task_instance": ti, "task_state_store": store}


def calls(emulator: Any) -> list[tuple[str, str]]:
    """``(method, path)`` of every request the emulator received since the last reset."""
    return [(entry.method, entry.path) for entry in emulator.admin.journal()]


def posts(emulator: Any, path_fragment: str = "") -> list[str]:
    return [path for method, path in calls(emulator) if method == "POST" and path_fragment in path]


def jobs_in(emulator: Any, project_uid: str | None = None) -> list[dict[str, Any]]:
    """The jobs that exist in the emulator (optionally of one project)."""
    jobs = emulator.admin.snapshot()["jobs"]
    return [job for job in jobs if project_uid is None or job["projectUid"] == project_uid]


def start_finished_download(
    emulator: Any, project_uid: str, *, folder: str = "docs/guides", file: str = "install.md"
) -> dict[str, Any]:
    """Start a download through the download operator and wait (bounded) until Phrase finished it.

    Returns the download operator's result; the task may have ended in any state.
    """
    from airflow_phrase.operators.download import PhraseConnectorDownloadOperator

    started = PhraseConnectorDownloadOperator(
        task_id="download", connector="1001", folder=folder, file=file, project_uid=project_uid
    ).execute({"ti": RecordingTaskInstance()})
    finished_state(project_uid, started["download_task_id"])
    return started


def finished_state(project_uid: str, task_id: str) -> Any:
    """Wait (bounded) until the download task finished; its state."""
    import time

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    hook = PhraseTmsHook()
    try:
        state, _ = hook.wait_for_download(
            project_uid, task_id, created_after=None, poll_interval=0.05, deadline=time.time() + 30
        )
    finally:
        hook.close()
    return state


@pytest.fixture
def captured_triggers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The ``serialize()`` of every Phrase trigger a run deferred to (what the triggerer would store)."""
    from airflow_phrase.triggers.async_request import PhraseAsyncRequestTrigger
    from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
    from airflow_phrase.triggers.job_status import PhraseJobStatusTrigger
    from airflow_phrase.triggers.jobs_import import PhraseJobsImportTrigger

    serialized: list[str] = []
    triggers = (
        PhraseConnectorTaskTrigger,
        PhraseAsyncRequestTrigger,
        PhraseJobsImportTrigger,
        PhraseJobStatusTrigger,
    )
    for cls in triggers:
        original = cls.serialize

        def recording(self: Any, _original: Any = original) -> Any:
            result = _original(self)
            serialized.append(json.dumps(result, default=str))
            return result

        monkeypatch.setattr(cls, "serialize", recording)
    yield serialized
