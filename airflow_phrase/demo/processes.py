"""The processes ``make demo`` starts: the Phrase TMS emulator and Airflow CLI commands.

Every process is started here and stopped here, by its own pid; output goes to the demo's log file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO


class DemoError(RuntimeError):
    """Something the demo needs did not work (the message says what and where to look)."""


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.1, what: str) -> None:
    """Poll ``predicate`` until it is true; :class:`DemoError` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise DemoError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(interval)


class EmulatorProcess:
    """``python -m airflow_phrase.emulator`` on a free loopback port, with the shipped seed."""

    def __init__(
        self,
        workdir: Path,
        log: IO[str],
        *,
        task_delay: float,
        import_delay: float,
        job_completion_delay: float | None = None,
        target_file_delay: float | None = None,
    ) -> None:
        self.port_file = workdir / "emulator.port"
        self.port_file.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "airflow_phrase.emulator",
            "--host", "127.0.0.1", "--port", "0", "--port-file", str(self.port_file), "--enable-admin",
            "--task-delay", str(task_delay), "--import-delay", str(import_delay),
        ]  # fmt: skip
        if job_completion_delay is not None:  # the jobs complete by themselves, as if translated
            command += ["--job-completion-delay", str(job_completion_delay)]
        if target_file_delay is not None:
            command += ["--target-file-delay", str(target_file_delay)]
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self.port: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0) -> int:
        """Wait for the port file (written once the emulator accepts connections); the port."""

        def ready() -> bool:
            if self.process.poll() is not None:
                raise DemoError(
                    f"The emulator exited with code {self.process.returncode} before it was ready."
                )
            return self.port_file.exists() and self.port_file.read_text().strip().isdigit()

        wait_until(ready, timeout=timeout, what="the Phrase TMS emulator to listen")
        self.port = int(self.port_file.read_text().strip())
        return self.port

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/web"

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM this pid, then SIGKILL if it does not exit in time."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def airflow_executable() -> str:
    """The ``airflow`` script of the running interpreter's environment."""
    candidate = Path(sys.executable).with_name("airflow")
    if not candidate.exists():
        raise DemoError(
            f"No 'airflow' command next to {sys.executable}; install apache-airflow in this venv."
        )
    return str(candidate)


def run_airflow(
    args: Sequence[str], *, env: Mapping[str, str], log: IO[str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """Run ``airflow <args>`` with its output appended to ``log``; the completed process."""
    log.write(f"\n$ airflow {' '.join(args)}\n")
    log.flush()
    try:
        return subprocess.run(
            [airflow_executable(), *args],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DemoError(f"'airflow {' '.join(args[:2])}' did not finish within {timeout:.0f} s.") from None


def child_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus ``overrides`` (what the Airflow commands run with)."""
    return {**os.environ, **overrides}
