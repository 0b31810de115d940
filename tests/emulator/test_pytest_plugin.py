"""The ``phrase_emulator`` pytest plugin, used the way a user's own test suite would (a pytest subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_TESTS = """
import os
import time

import pytest
import requests

from airflow_phrase.emulator import EmulatorHandle

AUTH = {"Authorization": "ApiToken demo-api-token-0123456789"}
LIVE_QUIRKS_RUN = os.environ.get("LIVE_QUIRKS_RUN") == "1"


def poll(url: str, done, deadline: float = 20.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        params = {"projectUid": "prjWebsite000000000001"}
        body = requests.get(url, headers=AUTH, params=params, timeout=10).json()
        if done(body):
            return body
        time.sleep(0.05)
    raise AssertionError("deadline passed")


def test_first_real_time_lifecycle(phrase_emulator: EmulatorHandle) -> None:
    assert phrase_emulator.config.task_delay == 0.3
    folder, name = "docs".encode().hex(), "docs/getting started.md".encode().hex()
    url = phrase_emulator.url(f"/api2/v2/connectors/1001/folders/{folder}/files/{name}")
    task_id = requests.post(url, headers=AUTH, timeout=10).json()["id"]
    mine = lambda body: [t for t in body["content"] if str(t["id"]) == str(task_id)]
    body = poll(phrase_emulator.url("/api2/v1/connectorAsyncTasks"),
                lambda b: mine(b) and mine(b)[0]["status"] != "NEW")
    assert mine(body)[0]["status"] == "SUCCESS"
    phrase_emulator.admin.configure(task_delay=99)
    phrase_emulator.admin.set_faults([{"path": ".*", "probability": 1, "fault": {"status": 500}}])


def test_second_sees_a_fresh_emulator(phrase_emulator: EmulatorHandle) -> None:
    assert phrase_emulator.admin.snapshot()["downloadTasks"] == []
    assert phrase_emulator.admin.journal() == []
    assert phrase_emulator.config.task_delay == 0.3
    connectors = requests.get(phrase_emulator.url("/api2/v1/connectors"), headers=AUTH, timeout=10)
    assert connectors.status_code == 200


def _task_ids(emulator: EmulatorHandle) -> list:
    url = emulator.url("/api2/v1/connectorAsyncTasks")
    body = requests.get(url, headers=AUTH, params={"projectUid": "prjWebsite000000000001"}, timeout=10)
    return [task["id"] for task in body.json()["content"]]


@pytest.mark.parametrize("phrase_emulator", [{"live_quirks": True}], indirect=True)
def test_live_quirks_for_one_test(phrase_emulator: EmulatorHandle) -> None:
    assert phrase_emulator.config.live_quirks and phrase_emulator.config.task_delay == 0.3
    assert _task_ids(phrase_emulator) == [300001]  # the cancelled task of the mode, its id a number


def test_the_run_default_is_back_for_the_next_test(phrase_emulator: EmulatorHandle) -> None:
    assert phrase_emulator.config.live_quirks is LIVE_QUIRKS_RUN
    assert _task_ids(phrase_emulator) == ([300001] if LIVE_QUIRKS_RUN else [])


def test_factory(phrase_emulator: EmulatorHandle, phrase_emulator_factory) -> None:
    other = phrase_emulator_factory(token_ttl=5, enable_admin=False)
    assert other.port != phrase_emulator.port
    assert other.config.token_ttl == 5 and other.config.task_delay == 0.3
    assert other.config.live_quirks is LIVE_QUIRKS_RUN
    assert requests.get(other.root_url + "/__emulator__/state", timeout=10).status_code == 404
"""


def run_user_tests(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> str:
    (tmp_path / "test_user_dag.py").write_text(USER_TESTS, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            # Load the plugin by module whether or not its entry point is installed yet.
            "-p",
            "no:phrase_emulator",
            "-p",
            "airflow_phrase.emulator.pytest_plugin",
            "--rootdir",
            str(tmp_path),
            *options,
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_fixtures_in_a_user_test_suite(tmp_path: Path) -> None:
    assert "5 passed" in run_user_tests(tmp_path)


def test_the_live_quirks_option_turns_the_mode_on_for_the_whole_run(tmp_path: Path) -> None:
    output = run_user_tests(tmp_path, "--phrase-emulator-live-quirks", env={"LIVE_QUIRKS_RUN": "1"})
    assert "5 passed" in output
