"""Injected faults and the rate limit, as a client sees them over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_phrase.emulator import EmulatorHandle
from airflow_phrase.emulator.faults import FaultRule
from airflow_phrase.emulator.state import ManualClock
from tests.emulator.conftest import BEARER_TOKEN, TASK_DELAY, WEBSITE, PhraseApi
from tests.emulator.test_http_endpoints import assert_error

TASKS = "/api2/v1/connectorAsyncTasks"
PARAMS = {"projectUid": WEBSITE}


def faults(emu: EmulatorHandle, *rules: dict[str, Any]) -> None:
    emu.admin.set_faults(list(rules))


def get_tasks(api: PhraseApi, **kwargs: Any) -> requests.Response:
    return api.get(TASKS, params=PARAMS, **kwargs)


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "TooManyRequests"), (500, "InternalError"), (502, "BadGateway"), (503, "ServiceUnavailable")],
)
def test_status_faults_answer_a_phrase_error_then_pass_through(
    emu: EmulatorHandle, api: PhraseApi, status: int, code: str
) -> None:
    faults(emu, {"method": "GET", "path": TASKS, "sequence": [{"status": status}]})
    response = get_tasks(api)
    assert_error(response, status, code)
    assert "Retry-After" not in response.headers
    assert get_tasks(api).status_code == 200
    entries = emu.admin.journal()
    assert [(e.status, e.fault) for e in entries] == [(status, f"status {status}"), (200, None)]


@pytest.mark.parametrize("retry_after", ["3", "Wed, 21 Oct 2026 07:28:00 GMT"])
def test_429_with_retry_after(emu: EmulatorHandle, api: PhraseApi, retry_after: str) -> None:
    faults(emu, {"path": TASKS, "sequence": [{"status": 429, "retryAfter": retry_after}]})
    response = get_tasks(api)
    assert_error(response, 429, "TooManyRequests")
    assert response.headers["Retry-After"] == retry_after


def test_gateway_html_error_page(emu: EmulatorHandle, api: PhraseApi) -> None:
    faults(emu, {"path": TASKS, "sequence": [{"status": 502, "html": True}]})
    response = get_tasks(api)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text


def test_slow_response_then_normal_handling(emu: EmulatorHandle, api: PhraseApi) -> None:
    faults(emu, {"path": TASKS, "sequence": [{"delaySeconds": 0.4}, {"delaySeconds": 0.4}]})
    with pytest.raises(requests.exceptions.ReadTimeout):
        get_tasks(api, timeout=0.05)
    slow = get_tasks(api, timeout=10)
    assert slow.status_code == 200 and slow.json()["projectUid"] == WEBSITE
    assert [e.fault for e in emu.admin.journal() if e.status == 200][-1] == "delay 0.4s"


def test_dropped_connection(emu: EmulatorHandle, api: PhraseApi) -> None:
    faults(emu, {"path": TASKS, "sequence": [{"drop": True}]})
    with pytest.raises(requests.exceptions.ConnectionError):
        get_tasks(api)
    assert get_tasks(api).status_code == 200
    dropped = emu.admin.journal()[0]
    assert (dropped.status, dropped.fault) == (None, "drop")


def test_lost_response_after_the_handler_ran(emu: EmulatorHandle, api: PhraseApi, clock: ManualClock) -> None:
    """``afterHandler``: the state changes happen, the client never learns of them."""
    folder, file = api.find("docs/guides/install.md")
    download = f"/api2/v2/connectors/1001/folders/{folder}/files/{file}"
    faults(emu, {"method": "POST", "path": download, "sequence": [{"status": 503, "afterHandler": True}]})
    assert_error(api.post(download), 503, "ServiceUnavailable")
    (task,) = emu.admin.snapshot()["downloadTasks"]
    clock.advance(TASK_DELAY)
    create = r"/api2/v1/projects/[^/]+/jobs/connectorTask"
    faults(emu, {"method": "POST", "path": create, "sequence": [{"drop": True, "afterHandler": True}]})
    with pytest.raises(requests.exceptions.ConnectionError):
        api.create_jobs(WEBSITE, task["id"])
    assert [j["downloadTaskId"] for j in emu.admin.snapshot()["jobs"]] == [task["id"]]
    # A naive retry now hits the single-use rule: the client has to look for the jobs it created.
    assert_error(api.create_jobs(WEBSITE, task["id"]), 400, "JobCreateError", "already used")


def test_after_handler_can_replace_an_error_too(emu: EmulatorHandle, api: PhraseApi) -> None:
    faults(emu, {"path": "/api2/v1/projects/.*", "sequence": [{"status": 500, "afterHandler": True}]})
    assert_error(api.get("/api2/v1/projects/prjNope"), 500, "InternalError")


def test_probability_faults_are_reproducible_with_a_seed(emu: EmulatorHandle, api: PhraseApi) -> None:
    rule = FaultRule.model_validate({"path": TASKS, "probability": 0.5, "fault": {"status": 503}, "seed": 11})

    def run() -> list[int]:
        emu.admin.set_faults([rule])
        return [get_tasks(api).status_code for _ in range(20)]

    first = run()
    assert set(first) == {200, 503}
    assert run() == first  # setting the rules again restarts the seeded sequence


def test_faults_only_touch_matching_routes_and_can_be_cleared(emu: EmulatorHandle, api: PhraseApi) -> None:
    faults(
        emu,
        {"method": "POST", "path": TASKS, "probability": 1.0, "fault": {"status": 500}},
        {"path": "/api2/v1/connectors", "probability": 1.0, "fault": {"status": 502}},
    )
    assert get_tasks(api).status_code == 200  # method does not match
    assert api.get("/api2/v1/connectors/1001").status_code == 200  # fullmatch: a longer path does not match
    assert api.get("/api2/v1/connectors").status_code == 502
    emu.admin.clear_faults()
    assert api.get("/api2/v1/connectors").status_code == 200


def test_invalid_fault_rules_are_refused(emu: EmulatorHandle) -> None:
    response = requests.put(
        emu.root_url + "/__emulator__/faults",
        timeout=10,
        json={"rules": [{"path": ".*", "sequence": [{"status": 200}]}]},
    )
    assert_error(response, 400, "InvalidArguments", "rules[0].sequence[0]")


# ------------------------------------------------------------------------------------ rate limit
def test_rate_limit_per_token(emu: EmulatorHandle, api: PhraseApi, clock: ManualClock) -> None:
    emu.admin.configure(rate_limit_per_minute=3)
    assert [get_tasks(api).status_code for _ in range(3)] == [200, 200, 200]
    limited = get_tasks(api)
    assert_error(limited, 429, "TooManyRequests", "3 per minute")
    assert "Retry-After" not in limited.headers  # Phrase does not document the header
    assert PhraseApi(emu, BEARER_TOKEN, "Bearer").get(TASKS, params=PARAMS).status_code == 200  # per token
    clock.advance(60)
    assert get_tasks(api).status_code == 200


def test_rate_limit_can_send_retry_after(emu: EmulatorHandle, api: PhraseApi, clock: ManualClock) -> None:
    emu.admin.configure(rate_limit_per_minute=1, rate_limit_retry_after=True)
    assert get_tasks(api).status_code == 200
    clock.advance(15)
    limited = get_tasks(api)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "45"


def test_default_rate_limit_is_phrases(emu: EmulatorHandle) -> None:
    assert emu.admin.config()["rate_limit_per_minute"] == 6000
