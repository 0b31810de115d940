"""The body of the ``phrase_new_jobs_report`` DAG: the current status of new jobs announced by Asset events.

The ingestion DAG emits, per project, an Asset event whose extra lists the new jobs (see
:func:`airflow_phrase.ingestion.summary.asset_event_extra`). This reads each job back from Phrase through
the hook and reports its status and import status.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_phrase.ingestion.summary import text_table

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

log = logging.getLogger(__name__)


def jobs_from_events(extras: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """``{project_uid: [job uids]}`` from Asset event extras, duplicates removed, order kept."""
    by_project: dict[str, list[str]] = {}
    for extra in extras:
        project = extra.get("project_uid")
        if not project:
            continue
        uids = by_project.setdefault(str(project), [])
        for uid in extra.get("job_uids") or []:
            if uid not in uids:
                uids.append(str(uid))
    return by_project


_EVENT_IDENTITY = ("source_dag_id", "source_run_id", "source_task_id", "source_map_index", "timestamp")


def _event_key(event: Any) -> Hashable:
    """What identifies one Asset event: its asset and source (the object itself if it has neither)."""
    source = tuple(getattr(event, name, None) for name in _EVENT_IDENTITY)
    if all(value is None for value in source):
        return id(event)
    return (getattr(getattr(event, "asset", None), "uri", None), *source)


def event_extras(triggering_asset_events: Mapping[Any, Iterable[Any]] | None) -> list[dict[str, Any]]:
    """The extras of every triggering Asset event (``context["triggering_asset_events"]``), once each.

    Airflow 3.3.2 lists an event that came through an alias twice: under its Asset and under the alias.
    """
    if not triggering_asset_events:
        return []
    unique = {_event_key(event): event for events in triggering_asset_events.values() for event in events}
    return [dict(event.extra or {}) for event in unique.values()]


def job_report(hook: PhraseTmsHook, jobs: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """One row per job: project, uid, file, language, status, import status (read from Phrase now)."""
    rows = []
    for project_uid, uids in jobs.items():
        for uid in uids:
            job = hook.get_job(project_uid, uid)
            rows.append(
                {
                    "project_uid": project_uid,
                    "uid": job.uid,
                    "filename": job.filename,
                    "target_lang": job.target_lang,
                    "status": job.status,
                    "import_status": job.import_status.status if job.import_status else None,
                    "url": hook.job_url(project_uid, job.uid),
                }
            )
    return rows


def render_job_report(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No new jobs."
    header = ["project", "job", "file", "lang", "status", "import"]
    body = [
        [
            r["project_uid"],
            r["uid"],
            str(r["filename"]),
            str(r["target_lang"]),
            str(r["status"]),
            str(r["import_status"]),
        ]
        for r in rows
    ]
    return "\n".join(text_table([header, *body]))


def report_new_jobs(context: Mapping[str, Any]) -> dict[str, Any]:
    """Task body: jobs from the triggering events (or, in a manual run, from Params) → report."""
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    params = context["params"]
    extras = event_extras(context.get("triggering_asset_events"))
    if not extras and params.get("project_uid") and params.get("job_uids"):
        extras = [{"project_uid": params["project_uid"], "job_uids": list(params["job_uids"])}]
    jobs = jobs_from_events(extras)
    hook = PhraseTmsHook(phrase_conn_id=params.get("phrase_conn_id") or "phrase_tms_default")
    try:
        rows = job_report(hook, jobs)
    finally:
        hook.close()
    log.info("New Phrase jobs (%d)\n%s", len(rows), render_job_report(rows))
    return {"events": len(extras), "jobs": rows}
