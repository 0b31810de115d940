"""``python -m airflow_phrase.emulator`` as a real subprocess: port 0, the port file, SIGTERM."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import requests

from airflow_phrase.emulator.__main__ import main, write_port_file
from airflow_phrase.emulator.seed import DEMO_SEED_PATH
from tests.emulator.conftest import API_TOKEN

T = TypeVar("T")
STARTUP_DEADLINE = 60.0


def wait_for(probe: Callable[[], T | None], deadline: float, what: str) -> T:
    """Poll ``probe`` until it returns something, or fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        result = probe()
        if result is not None:
            return result
        time.sleep(0.05)  # poll interval, not synchronisation: the deadline bounds the wait
    raise AssertionError(f"timed out waiting for {what}")


def test_cli_serves_on_a_free_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    port_file = tmp_path / "run" / "emulator.port"
    seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    seed["organization"]["name"] = "CLI Test Org"
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed), encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_phrase.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--seed",
            str(seed_file),
            "--enable-admin",
            "--task-delay",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def port() -> int | None:
            if process.poll() is not None:
                raise AssertionError(f"the emulator exited early: {process.communicate()}")
            return int(port_file.read_text()) if port_file.exists() else None

        bound = wait_for(port, STARTUP_DEADLINE, "the port file")
        assert bound > 0
        base = f"http://127.0.0.1:{bound}"
        me = requests.get(
            f"{base}/web/api2/v1/auth/whoAmI", headers={"Authorization": f"ApiToken {API_TOKEN}"}, timeout=10
        )
        assert me.json()["organization"]["name"] == "CLI Test Org"
        assert requests.get(f"{base}/__emulator__/config", timeout=10).json()["task_delay"] == 0.1
    finally:
        process.terminate()  # SIGTERM to this pid only
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"Phrase TMS emulator listening on http://127.0.0.1:{bound}/web" in stdout
    assert API_TOKEN not in stdout + stderr


def test_cli_refuses_a_bad_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text('{"organization": {"id": "1", "name": "x"}, "users": []}', encoding="utf-8")
    assert main(["--seed", str(seed_file), "--port", "0"]) == 1
    assert "could not start" in capsys.readouterr().err


def test_port_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "port"
    target.write_text("stale")
    write_port_file(target, 43210)
    assert target.read_text() == "43210\n"
    assert [p.name for p in tmp_path.iterdir()] == ["port"]  # no temp file left behind
