"""Reading what an ingestion run recorded, the way Airflow's public XCom API reads it.

The Phrase view runs inside Airflow's API server. It reads the ``summarize`` task's XCom with the query
of ``GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{key}``
(``XComModel.get_many`` on the metadata DB, as that endpoint does) and applies the same permission
checks as that endpoint (see :mod:`airflow_phrase.ui.app`). Every Airflow internal the view touches is
in this module, so a new Airflow version has one place to adapt.

Like that endpoint, it reads the value stored in the metadata DB: a custom XCom backend that keeps
values elsewhere leaves a reference there, which the view cannot read (the default backend, and the
object-storage backend below its size threshold, keep the summary in the DB).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_phrase.ui.run_report import SUMMARY_TASK_ID, SUMMARY_XCOM_KEY

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class RecordedRun:
    dag_id: str
    run_id: str
    state: str | None
    when: datetime | None
    #: The summary XCom's value (``None``: not recorded).
    summary: Any


def _value(raw: Any) -> Any:
    """The stored XCom value as plain JSON (stored as a JSON document or as JSON text)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def read_run(session: Session, dag_id: str, run_id: str) -> RecordedRun | None:
    """The run and its summary (``None`` if the run does not exist)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        return None
    query = XComModel.get_many(
        run_id=run_id,
        key=SUMMARY_XCOM_KEY,
        task_ids=SUMMARY_TASK_ID,
        dag_ids=dag_id,
        map_indexes=-1,
        limit=1,
    )
    row: Any = session.scalars(query).first()
    if isinstance(row, tuple):  # as the public endpoint does: some SQLAlchemy versions wrap the row
        row = row[0]
    summary = _value(row.value) if row is not None else None
    return RecordedRun(dag_id, run_id, str(run.state) if run.state else None, run.run_after, summary)


def latest_runs(session: Session, readable: Any, *, limit: int) -> list[RecordedRun]:
    """The latest runs that recorded a summary, newest first, among the DAGs ``readable`` allows.

    ``readable`` is Airflow's ``PermittedXComFilter`` for the caller (what ``GET .../xcomEntries``
    filters its listing with).
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    query = (
        select(XComModel.dag_id, XComModel.run_id, XComModel.value, DagRun.state, DagRun.run_after)
        .join(DagRun, XComModel.dag_run_id == DagRun.id)
        .where(
            XComModel.task_id == SUMMARY_TASK_ID,
            XComModel.key == SUMMARY_XCOM_KEY,
            XComModel.map_index == -1,
        )
        .order_by(DagRun.run_after.desc(), DagRun.id.desc())
        .limit(limit)
    )
    query = readable.to_orm(query)
    return [
        RecordedRun(dag_id, run_id, str(state) if state else None, when, _value(value))
        for dag_id, run_id, value, state, when in session.execute(query).all()
    ]


__all__ = ["RecordedRun", "latest_runs", "read_run"]
