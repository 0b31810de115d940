"""Reading what a ``dag.test()`` run left in the metadata DB (task states, XComs, Asset events)."""

from __future__ import annotations

from typing import Any


def task_states(dag_run: Any, task_id: str) -> dict[int, str]:
    """``{map_index: state}`` of one task of the run."""
    return {ti.map_index: str(ti.state) for ti in dag_run.get_task_instances() if ti.task_id == task_id}


def xcom_value(dag_run: Any, task_id: str, key: str, map_index: int = -1) -> Any:
    from airflow import settings
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    with settings.Session() as session:  # type: ignore[misc]
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
                XComModel.map_index == map_index,
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def asset_events(dag_run: Any) -> list[tuple[str, dict[str, Any], list[str]]]:
    """``(asset uri, extra, source alias names)`` of every Asset event the run emitted."""
    from airflow import settings
    from airflow.models.asset import AssetEvent
    from sqlalchemy import select

    with settings.Session() as session:  # type: ignore[misc]
        events = session.scalars(
            select(AssetEvent).where(
                AssetEvent.source_dag_id == dag_run.dag_id, AssetEvent.source_run_id == dag_run.run_id
            )
        ).all()
        return [(e.asset.uri, dict(e.extra or {}), sorted(a.name for a in e.source_aliases)) for e in events]


def alias_assets(alias_name: str) -> list[str]:
    """URIs of the Assets the alias has resolved to so far (what DAGs scheduled on it wait for)."""
    from airflow import settings
    from airflow.models.asset import AssetAliasModel
    from sqlalchemy import select

    with settings.Session() as session:  # type: ignore[misc]
        alias = session.scalars(select(AssetAliasModel).where(AssetAliasModel.name == alias_name)).first()
        return [] if alias is None else sorted(asset.uri for asset in alias.assets)


def jobs_by_file(snapshot: dict[str, Any]) -> dict[str, list[str]]:
    """``{filename: sorted target languages}`` of the emulator's jobs."""
    result: dict[str, list[str]] = {}
    for job in snapshot["jobs"]:
        result.setdefault(job["filename"], []).append(job["targetLang"])
    return {name: sorted(langs) for name, langs in sorted(result.items())}
