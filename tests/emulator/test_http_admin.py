"""The admin surface: off by default, and each of its routes through ``AdminClient``."""

from __future__ import annotations

import pytest
import requests

from airflow_phrase.emulator import EmulatorConfig, EmulatorHandle, running_emulator
from airflow_phrase.emulator.admin_client import EmulatorAdminError
from airflow_phrase.emulator.state import ManualClock
from tests.emulator.conftest import API_TOKEN, TASK_DELAY, WEBSITE, PhraseApi
from tests.emulator.test_http_endpoints import assert_error


def test_admin_surface_is_off_by_default() -> None:
    with running_emulator(EmulatorConfig()) as emu:
        for method, path in (
            ("GET", "/journal"),
            ("GET", "/state"),
            ("POST", "/reset"),
            ("PUT", "/faults"),
            ("PATCH", "/config"),
        ):
            response = requests.request(method, f"{emu.root_url}/__emulator__{path}", json={}, timeout=10)
            assert_error(response, 404, "NotFound")
        with pytest.raises(EmulatorAdminError, match="enable_admin=True"):
            emu.admin.snapshot()
        # The Phrase API itself works as usual.
        assert PhraseApi(emu).get("/api2/v1/auth/whoAmI").status_code == 200


def test_journal_entries_and_since(emu: EmulatorHandle, api: PhraseApi) -> None:
    api.get(
        "/api2/v1/connectorAsyncTasks",
        params=[("projectUid", WEBSITE), ("taskType", "DOWNLOAD"), ("taskType", "UPLOAD")],
    )
    api.get("/api2/v1/connectors/1001")
    first, second = emu.admin.journal()
    assert (first.method, first.path, first.status) == ("GET", "/api2/v1/connectorAsyncTasks", 200)
    assert first.query == {"projectUid": [WEBSITE], "taskType": ["DOWNLOAD", "UPLOAD"]}
    assert first.param("projectUid") == WEBSITE and first.param("missing") is None
    assert first.duration_ms >= 0 and first.seq < second.seq
    assert [e.path for e in emu.admin.journal(since=first.seq)] == ["/api2/v1/connectors/1001"]
    raw = requests.get(emu.root_url + "/__emulator__/journal", timeout=10).json()["entries"][0]
    assert set(raw) == {
        "seq",
        "time",
        "method",
        "path",
        "query",
        "status",
        "durationMs",
        "fault",
        "userAgent",
        "authScheme",
    }
    emu.admin.clear_journal()
    assert emu.admin.journal() == []
    api.get("/api2/v1/connectors/1001")
    assert emu.admin.journal()[0].seq > second.seq  # seq keeps counting after a clear


def test_admin_calls_are_not_journaled(emu: EmulatorHandle) -> None:
    emu.admin.snapshot()
    emu.admin.journal()
    assert emu.admin.journal() == []


def test_configure(emu: EmulatorHandle, api: PhraseApi, clock: ManualClock) -> None:
    config = emu.admin.configure(task_delay=0.5, import_delay=0.25)
    assert (config["task_delay"], config["import_delay"]) == (0.5, 0.25)
    task_id = api.start_download("docs/guides/install.md")
    clock.advance(0.5)
    assert api.tasks()["content"][0]["status"] == "SUCCESS"
    assert emu.state.config.task_delay == 0.5
    for bad in ({"port": 1}, {"enable_admin": False}, {"task_delay": -1}, {"nonsense": 1}):
        with pytest.raises(EmulatorAdminError, match="HTTP 400"):
            emu.admin.configure(**bad)
    assert task_id


def test_reset_and_snapshot(emu: EmulatorHandle, api: PhraseApi, clock: ManualClock) -> None:
    task_id = api.start_download("docs/guides/install.md")
    clock.advance(TASK_DELAY)
    created = api.create_jobs(WEBSITE, task_id, {"targetLangs": ["de", "ja"]}).json()
    snapshot = emu.admin.snapshot()
    assert [(t["id"], t["status"], t["projectUid"]) for t in snapshot["downloadTasks"]] == [
        (task_id, "SUCCESS", WEBSITE)
    ]
    assert [
        (j["uid"], j["projectUid"], j["filename"], j["targetLang"], j["workflowLevel"], j["downloadTaskId"])
        for j in snapshot["jobs"]
    ] == [
        (created["jobs"][0]["uid"], WEBSITE, "install.md", "de", 1, task_id),
        (created["jobs"][1]["uid"], WEBSITE, "install.md", "ja", 1, task_id),
    ]
    assert [a["id"] for a in snapshot["asyncRequests"]] == [created["asyncRequest"]["id"]]
    emu.admin.set_faults([{"path": ".*", "probability": 1, "fault": {"status": 500}}])
    emu.admin.reset()
    assert emu.admin.snapshot() == {"downloadTasks": [], "jobs": [], "asyncRequests": [], "exports": []}
    assert emu.admin.journal() == []
    assert api.get("/api2/v1/connectors").status_code == 200  # faults cleared


def test_expire_unknown_token(emu: EmulatorHandle) -> None:
    with pytest.raises(EmulatorAdminError) as caught:
        emu.admin.expire_token("secret-token-value")
    assert "secret-token-value" not in str(caught.value)
    emu.admin.expire_token(API_TOKEN)
    assert PhraseApi(emu).get("/api2/v1/auth/whoAmI").status_code == 401
