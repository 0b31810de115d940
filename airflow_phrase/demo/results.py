"""What the demo run did: its task instances and summary (from the throwaway metadata DB) and the Phrase
API calls each task spent (from the emulator's request journal).

``airflow dags test`` runs one task at a time, so the journal splits cleanly by time: every request
belongs to the first task (in order of finishing) that finished after it was served.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    map_index: int
    state: str | None
    end: datetime | None


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    state: str
    tasks: list[TaskRecord]
    summary: dict[str, Any] | None


def read_latest_run(dag_id: str, *, summary_task: str, summary_key: str) -> RunRecord | None:
    """The newest run of ``dag_id`` in the metadata DB of ``AIRFLOW_HOME`` (set before calling)."""
    from airflow import settings
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    if settings.Session is None:
        settings.configure_orm()
    assert settings.Session is not None
    with settings.Session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc())
        ).first()
        if run is None:
            return None
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        xcom = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == summary_task,
                XComModel.key == summary_key,
            )
        ).first()
        summary = XComModel.deserialize_value(xcom) if xcom is not None else None
        return RunRecord(
            run_id=run.run_id,
            state=str(run.state),
            tasks=[
                TaskRecord(ti.task_id, ti.map_index, ti.state and str(ti.state), ti.end_date) for ti in tis
            ],
            summary=summary if isinstance(summary, dict) else None,
        )


def calls_per_task(tasks: Sequence[TaskRecord], call_times: Iterable[datetime]) -> dict[tuple[str, int], int]:
    """``{(task_id, map_index): number of API calls}``, splitting the journal by the tasks' end times."""
    finished = sorted(((t.end, t) for t in tasks if t.end is not None), key=lambda pair: pair[0])
    ends = [end for end, _task in finished]
    counts: dict[tuple[str, int], int] = {(t.task_id, t.map_index): 0 for _end, t in finished}
    for moment in call_times:
        index = bisect_left(ends, moment)
        if index < len(finished):
            task = finished[index][1]
            counts[task.task_id, task.map_index] += 1
    return counts
