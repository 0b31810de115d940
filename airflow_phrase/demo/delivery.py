"""The demo's second half: deliver the translations of the jobs the ingestion run created.

The emulator completes each job a few seconds after its import (``--job-completion-delay``), as a
linguist would; ``phrase_translation_delivery`` is run by hand for the run's new jobs (the Asset event
would schedule it in a deployment; ``airflow dags test`` runs one DAG), waits for them deferrably and
writes each translated file under the demo's output folder. The report prints where each file went.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_phrase.demo.results import read_latest_run

DELIVERY_DAG_ID = "phrase_translation_delivery"


def delivery_conf(ingestion_summary: dict[str, Any] | None, out_dir: Path) -> dict[str, Any] | None:
    """The delivery run's conf: the jobs the ingestion created and imported well (``None``: none)."""
    from airflow_phrase.ingestion.summary import IngestionSummary

    if ingestion_summary is None:
        return None
    summary = IngestionSummary.model_validate(ingestion_summary)
    uids = [job.uid for job in summary.new_job_refs() if job.import_status != "ERROR"]
    if not uids:
        return None
    return {
        "project_uid": summary.project_uid,
        "job_uids": uids,
        "delivery_mode": "object_storage",
        "base_path": out_dir.resolve().as_uri(),
    }


def delivery_command(conf: dict[str, Any]) -> list[str]:
    return ["dags", "test", DELIVERY_DAG_ID, "--conf", json.dumps(conf)]


def print_delivery(*, returncode: int, run_seconds: float, out_dir: Path) -> int:
    """Print where each translated file went; the exit status (0: the run succeeded)."""
    run = read_latest_run(DELIVERY_DAG_ID, summary_task="announce", summary_key="return_value")
    if run is None or run.summary is None:
        print(f"\nThe delivery run produced no summary (airflow dags test exited {returncode}).")
        if run is not None:
            for task in sorted(run.tasks, key=lambda t: t.task_id):
                print(f"  {task.task_id}: {task.state}")
        return 1
    summary = run.summary
    delivered = summary.get("delivered") or []
    print(f"\nDAG run {run.run_id} ({DELIVERY_DAG_ID}): {run.state}\n")
    print(
        f"Translations  {len(delivered)} file(s) written under {out_dir} "
        f"(languages: {', '.join(summary.get('languages') or []) or 'none'})"
    )
    base = out_dir.resolve().as_uri()
    for item in sorted(delivered, key=lambda i: (str(i.get("to")), str(i.get("targetLang")))):
        where = str(item.get("to"))
        relative = where[len(base) :].lstrip("/") if where.startswith(base) else where
        print(f"  {item.get('targetLang') or '?':<7}{item['uid']:<24}{relative}")
    for job in summary.get("ended_otherwise") or []:
        print(f"  not delivered: job {job.get('uid')} ended {job.get('status')}")
    print(f"Asset events  one per language: phrase://<phrase-host>/projects/{summary.get('project_uid')}"
          "/translations/<lang>")  # fmt: skip
    print(f"Elapsed       {run_seconds:.1f} s for the delivery run (jobs completed by the emulator)")
    return 0 if run.state == "success" and returncode == 0 else 1


__all__ = ["DELIVERY_DAG_ID", "delivery_command", "delivery_conf", "print_delivery"]
