"""The demo's closing report: what the run did, the API calls it spent, how long it took."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow_phrase.demo.results import calls_per_task, read_latest_run
from airflow_phrase.ingestion.summary import IngestionSummary, render_summary
from airflow_phrase.ingestion.tasks import INGEST_TASK_ID, LIST_TASK_ID, SUMMARY_KEY

DAG_ID = "phrase_connector_ingestion"
SUMMARY_TASK_ID = "summarize"


def _journal_times(emulator_root: str) -> list[datetime]:
    from airflow_phrase.emulator.admin_client import AdminClient

    return [entry.time for entry in AdminClient(emulator_root).journal()]


def print_outcome(
    *,
    emulator_root: str,
    dags_test_returncode: int,
    run_seconds: float,
    total_seconds: float,
    log_path: Path,
    real_account_help: str,
) -> int:
    """Print the report; the exit status (0: only expected failures, if any)."""
    run = read_latest_run(DAG_ID, summary_task=SUMMARY_TASK_ID, summary_key=SUMMARY_KEY)
    if run is None or run.summary is None:
        print(f"\nThe DAG run produced no summary (airflow dags test exited {dags_test_returncode}).")
        if run is not None:
            for task in sorted(run.tasks, key=lambda t: (t.task_id, t.map_index)):
                print(f"  {task.task_id}[{task.map_index}]: {task.state}")
        print(f"Airflow log: {log_path}")
        return 1
    summary = IngestionSummary.model_validate(run.summary)
    journal = _journal_times(emulator_root)
    per_task = calls_per_task(run.tasks, journal)
    paths = {outcome.map_index: outcome.path for outcome in summary.files}
    per_file = {
        paths[index]: count for (task_id, index), count in per_task.items() if task_id == INGEST_TASK_ID
    }
    listing = per_task.get((LIST_TASK_ID, -1), 0)

    print(f"\nDAG run {run.run_id}: {run.state}\n")
    print(render_summary(summary, api_calls=per_file))
    print()
    files = len(per_file)
    average = f", {sum(per_file.values()) / files:.1f} per file on average" if files else ""
    print(f"API calls     {len(journal)} in total: {listing} to list the folder{average}")
    print(f"Elapsed       {total_seconds:.1f} s in total, {run_seconds:.1f} s for 'airflow dags test'")
    print(f"Airflow log   {log_path}")
    if summary.expected_failures:
        print(
            "\nExpected failures are files Phrase itself could not process (their tasks end skipped, "
            "without retries);\nthe run reports them and still succeeds."
        )
    print()
    print(real_account_help)
    ok = run.state == "success" and dags_test_returncode == 0 and not summary.unexpected_failures
    if not ok:
        print("Something unexpected failed: see the failures above and the Airflow log.")
    return 0 if ok else 1
