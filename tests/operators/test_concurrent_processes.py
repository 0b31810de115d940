"""Two worker processes ingesting the same file at the same moment create one job per language.

What a zombie try beside a cleared one, or two runs selecting the same file, amount to: two real Python
processes (as two Celery/Local workers would run them), each running the ingest operator for the same file
version, started together. Three trials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_phrase.operators.ingest_state import IngestPlan
from tests.operators.conftest import WEBSITE, posts

TRIALS = 3
PATH = "docs/guides/install.md"

WORKER = textwrap.dedent(
    """
    import json, sys, time
    from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator

    start_at, plan = float(sys.argv[1]), json.loads(sys.argv[2])

    class TaskInstance:
        try_number = 1
        def xcom_push(self, key, value):
            pass

    class Store(dict):
        def set(self, key, value, **_):
            self[key] = value

    operator = PhraseIngestConnectorFileOperator(
        task_id="ingest_file", connector="1001", folder="docs/guides", file="install.md",
        project_uid=sys.argv[3], target_langs=["de", "fr_fr"], plan=plan, deferrable=False, poll_interval=0.2,
    )
    time.sleep(max(0.0, start_at - time.time()))  # both processes go at the same moment
    result = operator.execute({"ti": TaskInstance(), "task_state_store": Store()})
    print("RESULT " + json.dumps(result))
    """
)


def _plan(emulator: Any) -> dict[str, Any]:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    hook = PhraseTmsHook()
    try:
        version = hook.resolve_remote_file("1001", "docs/guides", "install.md").version
    finally:
        hook.close()
    return IngestPlan(
        file=version,
        version_after=version.last_modified,
        languages_checked=True,
        planned_at=datetime.now(timezone.utc),
    ).model_dump(mode="json")


def _run_two_workers(plan: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__CORE__")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    start_at = time.time() + 4.0  # time enough for both interpreters to import Airflow
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(start_at), json.dumps(plan), WEBSITE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err[-3000:]
        (line,) = [line for line in out.splitlines() if line.startswith("RESULT ")]
        results.append(json.loads(line.removeprefix("RESULT ")))
    return results


def test_two_processes_ingesting_one_file_together_make_one_job_per_language(
    emulator: Any, tmp_path: Path
) -> None:
    for trial in range(TRIALS):
        emulator.admin.reset()
        emulator.admin.configure(task_delay=1.0)
        plan = _plan(emulator)

        results = _run_two_workers(plan, tmp_path / f"trial-{trial}")

        jobs = emulator.admin.snapshot()["jobs"]
        assert Counter(job["targetLang"] for job in jobs) == {"de": 1, "fr_fr": 1}, (trial, jobs)
        assert [sorted(r["job_uids"]) for r in results] == [sorted(job["uid"] for job in jobs)] * 2
        assert len(posts(emulator, "/api2/v2/connectors/")) == 2  # each claimed the file with a download
        assert len(posts(emulator, "/jobs/connectorTask")) == 1  # one created; the other found its jobs
