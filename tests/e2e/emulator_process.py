"""The Phrase TMS emulator as a separate process (its CLI), the way the Airflow processes reach it."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from tests.e2e.managed_process import ManagedProcess
from tests.e2e.polling import wait_for

STARTUP_TIMEOUT = 60.0


def emulator_cli_available() -> bool:
    """True once ``python -m airflow_phrase.emulator`` exists in this checkout."""
    return importlib.util.find_spec("airflow_phrase.emulator.__main__") is not None


class EmulatorProcess:
    """``python -m airflow_phrase.emulator`` on 127.0.0.1, a free port and the admin API on."""

    def __init__(
        self,
        workdir: Path,
        *,
        env: Mapping[str, str],
        task_delay: float,
        import_delay: float,
        seed: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        """``seed``: a seed file (``--seed``); None: the shipped demo seed. ``extra_args`` go to the
        emulator CLI as they are (e.g. ``["--live-quirks"]``)."""
        port_file = workdir / "emulator.port"
        port_file.unlink(missing_ok=True)
        argv = [
            sys.executable, "-m", "airflow_phrase.emulator",
            "--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file), "--enable-admin",
            "--task-delay", str(task_delay), "--import-delay", str(import_delay), *extra_args,
        ]  # fmt: skip
        if seed is not None:
            argv += ["--seed", str(seed)]
        workdir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess("emulator", argv, env=env, log_path=workdir / "emulator.log")
        port = wait_for(
            lambda: self._read_port(port_file),
            timeout=STARTUP_TIMEOUT,
            what="the Phrase emulator to write its port file",
            describe_last=self.process.tail,
        )
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/web"
        self._session = requests.Session()

    def _read_port(self, port_file: Path) -> int | None:
        if not self.process.is_running():
            raise RuntimeError(f"the emulator exited with {self.process.returncode}:\n{self.process.tail()}")
        if not port_file.exists():
            return None
        text = port_file.read_text().strip()
        return int(text) if text else None

    def connection_uri_json(self, extra: Mapping[str, Any] | None = None) -> str:
        """``AIRFLOW_CONN_PHRASE_TMS_DEFAULT`` for this emulator: the seed's demo user, login auth."""
        return json.dumps(
            {
                "conn_type": "phrase_tms",
                "host": self.base_url,
                "login": "demo",
                "password": "demo-password",
                "extra": {"auth_type": "login", **(extra or {})},
            }
        )

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._session.request(method, f"{self.root_url}/__emulator__/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self) -> dict:
        """``GET /__emulator__/state``: downloadTasks, jobs, asyncRequests."""
        result: dict = self._admin("GET", "state")
        return result

    def journal(self, since: int = 0) -> list[dict]:
        entries: list[dict] = self._admin("GET", "journal", params={"since": since})["entries"]
        return entries

    def reset(self) -> None:
        """Re-seed the state, clear the journal and the faults (the config is kept)."""
        self._admin("POST", "reset")

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        """``PUT /__emulator__/faults``: the fault rules (see ``airflow_phrase.emulator.faults``); a
        :meth:`reset` clears them."""
        self._admin("PUT", "faults", json={"rules": rules})

    def config(self) -> dict:
        """``GET /__emulator__/config``: the current EmulatorConfig fields."""
        result: dict = self._admin("GET", "config")
        return result

    def configure(self, **fields: Any) -> dict:
        """``PATCH /__emulator__/config`` (e.g. ``task_delay=30.0``); returns the new config. A download
        task keeps the ``task_delay`` in force when it was started."""
        result: dict = self._admin("PATCH", "config", json=fields)
        return result

    def stop(self) -> None:
        self._session.close()
        self.process.stop()
