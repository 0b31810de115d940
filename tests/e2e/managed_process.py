"""One long-running child process the end-to-end harness owns: started in its own session, logged to a
file, and stopped (with everything it spawned) by pid, even when a test fails.

Airflow's task supervisor moves each task into a process group of its own (``setpgid``), so signalling the
child's process group is not enough: :meth:`ManagedProcess.stop` also remembers the descendants it saw and
signals them by pid. :func:`reap_marked_processes` is the last sweep for orphans, which are re-parented away
from the tree: the harness marks every process it starts with a unique environment variable and only
processes carrying that exact value are ever touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 20.0
KILL_GRACE_SECONDS = 10.0


def _terminate_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it if the test process dies without cleaning up
    (e.g. killed by a CI timeout), since its own session keeps it out of the test's process group."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 60, skip: str | None = None) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist), leaving out lines containing
    ``skip``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    kept = [line for line in text.splitlines() if skip is None or skip not in line]
    return "\n".join(kept[-lines:])


class ManagedProcess:
    """A child process started with ``start_new_session=True``, stdout+stderr going to ``log_path``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._popen = subprocess.Popen(
            self.argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
        self._seen_descendants: dict[int, psutil.Process] = {}

    @property
    def pid(self) -> int:
        return self._popen.pid

    def is_running(self) -> bool:
        return self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def tree(self) -> list[psutil.Process]:
        """The process and every descendant alive now (also remembered for :meth:`stop`)."""
        try:
            root = psutil.Process(self.pid)
            descendants = root.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for proc in descendants:
            self._seen_descendants.setdefault(proc.pid, proc)
        return [root, *descendants]

    def tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def listening_sockets(self) -> list[tuple[int, str, int]]:
        """(pid, ip, port) of every listening TCP socket held by the process or its descendants."""
        found = []
        for proc in self.tree():
            try:
                connections = proc.net_connections(kind="tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            found += [
                (proc.pid, c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN
            ]
        return found

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM the process group, wait up to ``grace`` s, then SIGKILL the group and every descendant
        seen (by pid; psutil refuses to signal a pid that was reused by another process)."""
        self.tree()  # remember the current descendants before the root exits and they get re-parented
        remembered = list(self._seen_descendants.values())
        if self.is_running():
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait(timeout=KILL_GRACE_SECONDS)
        else:
            self._popen.wait()
        # Descendants in their own process groups (task supervisors) get the same treatment.
        for proc in remembered:
            _terminate(proc)
        _, still_alive = psutil.wait_procs(remembered, timeout=grace)
        for proc in still_alive:
            _kill(proc)
        psutil.wait_procs(still_alive, timeout=KILL_GRACE_SECONDS)
        self._log.close()

    def kill(self) -> tuple[int, ...]:
        """SIGKILL the process group and every descendant (by pid) at once, the way a machine or a container
        dies: nothing gets a chance to clean up. Waits until they are gone; returns their pids."""
        victims = self.tree()
        self._signal_group(signal.SIGKILL)
        for proc in victims:
            _kill(proc)
        self._popen.wait(timeout=KILL_GRACE_SECONDS)
        psutil.wait_procs(victims, timeout=KILL_GRACE_SECONDS)
        self._log.close()
        return tuple(proc.pid for proc in victims)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)  # the group id is the child's pid (start_new_session=True)


def marked_processes(marker_name: str, marker_value: str, *, prefix: bool = False) -> list[psutil.Process]:
    """Processes of this user whose environment has ``marker_name=marker_value`` (or a value starting with
    ``marker_value`` if ``prefix``)."""
    found = []
    for proc in psutil.process_iter():
        try:
            value = proc.environ().get(marker_name)
            if value is not None and (value.startswith(marker_value) if prefix else value == marker_value):
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def reap_marked_processes(marker_name: str, marker_value: str) -> list[str]:
    """Kill (by pid) every process still carrying the harness's marker; returns descriptions of them."""
    leftovers = marked_processes(marker_name, marker_value)
    descriptions = []
    for proc in leftovers:
        try:
            descriptions.append(f"pid {proc.pid}: {' '.join(proc.cmdline())[:200]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            descriptions.append(f"pid {proc.pid}")
        _terminate(proc)
    _, still_alive = psutil.wait_procs(leftovers, timeout=STOP_GRACE_SECONDS)
    for proc in still_alive:
        _kill(proc)
    psutil.wait_procs(still_alive, timeout=KILL_GRACE_SECONDS)
    return descriptions


def _terminate(proc: psutil.Process) -> None:
    with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
        proc.terminate()


def _kill(proc: psutil.Process) -> None:
    with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
        proc.kill()
