"""A deferrable probe DAG that proves the end-to-end harness really defers and resumes tasks.

Two mapped instances of :class:`WaitForReleaseFile` share a pool with a single slot. Each one defers to
providers-standard's ``FileTrigger`` on a file the test creates only after it has seen *both* instances in the
``deferred`` state at the same time, which is possible only if a deferred task gives its pool slot and its
worker process back. Neither can finish before the triggerer sees the file, and each returns the pid of the
process that deferred it and of the process that resumed it.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.providers.standard.triggers.file import FileTrigger
from airflow.sdk import DAG, BaseOperator

PROBE_POOL = "e2e_probe_single_slot"


class WaitForReleaseFile(BaseOperator):
    """Defer until ``release_file`` exists, then resume on a worker and report which processes ran."""

    template_fields = ("release_file",)

    def __init__(self, *, release_file: str, probe_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.release_file = release_file
        self.probe_name = probe_name

    def execute(self, context: Any) -> None:
        if not self.release_file:
            raise ValueError("trigger this DAG with conf {'release_file': '/absolute/path'}")
        self.defer(
            trigger=FileTrigger(filepath=self.release_file, poke_interval=0.5),
            method_name="resume",
            kwargs={"deferred_by_pid": os.getpid()},
        )

    def resume(self, context: Any, event: Any = None, deferred_by_pid: int | None = None) -> dict[str, Any]:
        if event is not True:
            raise RuntimeError(f"unexpected trigger event {event!r}")
        return {
            "probe_name": self.probe_name,
            "deferred_by_pid": deferred_by_pid,
            "resumed_by_pid": os.getpid(),
        }


with DAG(
    dag_id="e2e_deferral_probe",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"release_file": ""},
    tags=["e2e"],
):
    WaitForReleaseFile.partial(
        task_id="wait_for_release", pool=PROBE_POOL, release_file="{{ params.release_file }}"
    ).expand(probe_name=["a", "b"])
