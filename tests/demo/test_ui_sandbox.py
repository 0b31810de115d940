"""``make ui``: the settings of the local Airflow UI the README's walk-through uses (not started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_phrase.demo.ui import REPO, airflow_env, banner, emulator_command


def test_the_local_ui_enables_the_test_button_and_loads_only_the_repository_dags(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "True")  # the caller's Airflow settings stay out
    env = airflow_env(Path("/tmp/h"), port=8080, dags_folder=REPO / "dags")
    assert env["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO / "dags")
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"


def test_the_banner_gives_what_the_connection_form_needs() -> None:
    text = banner(port=8080, emulator_port=8081, home=Path("/tmp/h"))
    assert "Base URL http://127.0.0.1:8081/web, Port 8081" in text
    command = emulator_command(8081)
    assert command[command.index("--port") + 1] == "8081" and "--enable-admin" in command
