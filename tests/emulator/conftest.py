"""Fixtures for the emulator's own tests: a server on a manual clock, so lifecycles need no waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from airflow_phrase.emulator import EmulatorConfig, EmulatorHandle, running_emulator
from airflow_phrase.emulator.state import ManualClock

API_TOKEN = "demo-api-token-0123456789"
BEARER_TOKEN = "demo-bearer-token-0123456789"
WEBSITE = "prjWebsite000000000001"
REVIEW = "prjDocsReview00000001"
TASK_DELAY = 5.0
IMPORT_DELAY = 3.0
TEST_CONFIG = EmulatorConfig(task_delay=TASK_DELAY, import_delay=IMPORT_DELAY, enable_admin=True)


@pytest.fixture(scope="module")
def _manual_server() -> Iterator[tuple[EmulatorHandle, ManualClock]]:
    clock = ManualClock(datetime.now(timezone.utc))
    with running_emulator(TEST_CONFIG, clock=clock) as emulator:
        yield emulator, clock


@pytest.fixture
def emu(_manual_server: tuple[EmulatorHandle, ManualClock]) -> EmulatorHandle:
    """A module-wide emulator on a manual clock, reset for each test."""
    emulator, _ = _manual_server
    emulator.state.replace_config(TEST_CONFIG)
    emulator.reset()
    return emulator


@pytest.fixture
def clock(_manual_server: tuple[EmulatorHandle, ManualClock]) -> ManualClock:
    return _manual_server[1]


class PhraseApi:
    """A tiny Phrase client for tests: ``requests`` with the demo API token, paths relative to ``/web``."""

    def __init__(self, emulator: EmulatorHandle, token: str = API_TOKEN, scheme: str = "ApiToken") -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"{scheme} {token}"
        self.session.headers["User-Agent"] = "airflow-phrase emulator tests (tests@example.com)"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.emulator.url(path), **{"timeout": 10, **kwargs})

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.emulator.url(path), **{"timeout": 10, **kwargs})

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """The JSON of a call that must answer ``status``."""
        response = self.session.request(method, self.emulator.url(path), timeout=10, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    # --- the steps of the provider's flow -------------------------------------------------------------
    def folder(self, connector_id: str = "1001", encoded: str | None = None, **params: Any) -> Any:
        suffix = f"/{encoded}" if encoded else ""
        return self.ok("GET", f"/api2/v1/connectors/{connector_id}/folders{suffix}", params=params)

    def find(self, path: str, connector_id: str = "1001") -> tuple[str, str]:
        """``(encodedFolder, encodedName)`` of a file, found by browsing as a client would."""
        listing = self.folder(connector_id)
        *folders, name = path.split("/")
        for folder in folders:
            entry = next(f for f in listing["files"] if f["name"] == folder and f["directory"])
            listing = self.folder(connector_id, entry["encodedName"])
        entry = next(f for f in listing["files"] if f["name"] == name and not f["directory"])
        return listing["encodedCurrentFolder"], entry["encodedName"]

    def start_download(self, path: str, connector_id: str = "1001", **body: Any) -> str:
        folder, file = self.find(path, connector_id)
        started = self.ok(
            "POST", f"/api2/v2/connectors/{connector_id}/folders/{folder}/files/{file}", json=body or None
        )
        task_id: str = started["id"]
        return task_id

    def create_jobs(
        self, project_uid: str, task_id: str, body: dict[str, Any] | None = None, **params: Any
    ) -> requests.Response:
        return self.post(
            f"/api2/v1/projects/{project_uid}/jobs/connectorTask",
            params={"downloadTaskId": task_id, **params},
            json=body if body is not None else {"targetLangs": ["de"]},
        )

    def tasks(self, project_uid: str = WEBSITE, **params: Any) -> Any:
        return self.ok("GET", "/api2/v1/connectorAsyncTasks", params={"projectUid": project_uid, **params})


@pytest.fixture
def api(emu: EmulatorHandle) -> PhraseApi:
    return PhraseApi(emu)
