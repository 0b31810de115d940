"""The steps of the example DAG ``phrase_translation_delivery`` that are not operators: which jobs a run
delivers, which delivery task runs, and the Asset events of the delivered languages.

Imported by the DAG file: only the standard library at the top; Airflow and the hook inside the steps.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

#: The Asset alias the delivery DAG emits through: one Asset per project and delivered language.
TRANSLATIONS_ASSET_ALIAS = "phrase_tms_translations"
#: Delivery modes (the ``delivery_mode`` Param).
MODES = ("repository", "object_storage")
EXPORT_TASK_ID = "export_to_repository"
DOWNLOAD_TASK_ID = "download_target_files"
NOTHING_TASK_ID = "nothing_to_deliver"


def translations_asset_uri(web_app_url: str, project_uid: str, target_lang: str) -> str:
    """``phrase://<host[:port]>/projects/<projectUid>/translations/<lang>``: a language's translations."""
    from airflow_phrase.ingestion.summary import project_asset_uri

    return f"{project_asset_uri(web_app_url, project_uid)}/translations/{target_lang}"


def select_jobs(context: Mapping[str, Any]) -> dict[str, Any]:
    """``{project_uid, job_uids, workflow_level}`` this run delivers.

    Scheduled runs: the new jobs of the triggering Asset events (the first project named; the others
    are logged). Manual runs: Params ``project_uid`` and ``job_uids``, or ``all_completed`` (every job of
    the project in a target status now: one paged listing).
    """
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_phrase.ingestion.report import event_extras, jobs_from_events

    params = context["params"]
    level = params.get("workflow_level")
    by_project = jobs_from_events(event_extras(context.get("triggering_asset_events")))
    if by_project:
        project_uid, job_uids = next(iter(by_project.items()))
        for other in list(by_project)[1:]:
            log.warning("Events also name project %s; this run delivers project %s only", other, project_uid)
        return {"project_uid": project_uid, "job_uids": job_uids, "workflow_level": level}
    project_uid = params.get("project_uid")
    if not project_uid:
        raise AirflowFailException("Param project_uid: give the project (manual runs), e.g. 'prjWebsite0001'")
    if params.get("job_uids"):
        return {"project_uid": project_uid, "job_uids": list(params["job_uids"]), "workflow_level": level}
    if not params.get("all_completed"):
        raise AirflowFailException("Params job_uids or all_completed: say which jobs to deliver")
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.triggers.job_status import target_statuses_of

    hook = PhraseTmsHook(params.get("phrase_conn_id") or "phrase_tms_default")
    try:
        statuses = target_statuses_of(params.get("target_statuses"))
        uids = [job.uid for job in hook.iter_jobs(project_uid, statuses=statuses, workflow_level=level)]
    finally:
        hook.close()
    log.info("%d job(s) of project %s are %s", len(uids), project_uid, " or ".join(statuses))
    return {"project_uid": project_uid, "job_uids": uids, "workflow_level": level}


def choose_delivery(context: Mapping[str, Any]) -> str:
    """The delivery task to run: by the ``delivery_mode`` Param, or none when no job reached the status."""
    waited = context["ti"].xcom_pull(task_ids="wait_for_completion") or {}
    if not waited.get("job_uids"):
        log.warning("No job reached the status; nothing to deliver (ended otherwise: %s)",
                    waited.get("ended_otherwise"))  # fmt: skip
        return NOTHING_TASK_ID
    mode = context["params"].get("delivery_mode") or "object_storage"
    return EXPORT_TASK_ID if mode == "repository" else DOWNLOAD_TASK_ID


def announce(context: Mapping[str, Any]) -> dict[str, Any]:
    """Emit one Asset event per delivered language (through :data:`TRANSLATIONS_ASSET_ALIAS`) and return
    the run's summary: where each job's translation went, and the jobs that ended otherwise."""
    from airflow.sdk import Asset, AssetAlias

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    ti = context["ti"]
    params = context["params"]
    waited = ti.xcom_pull(task_ids="wait_for_completion") or {}
    exported = ti.xcom_pull(task_ids=EXPORT_TASK_ID)
    downloaded = ti.xcom_pull(task_ids=DOWNLOAD_TASK_ID)
    result = exported or downloaded or {}
    mode = "repository" if exported else "object_storage" if downloaded else None
    new = result.get("exported") or result.get("delivered") or []
    old = result.get("already_exported") or result.get("already_delivered") or []
    project_uid = result.get("project_uid") or waited.get("project_uid")
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for item in new:
        by_lang.setdefault(str(item.get("targetLang")), []).append(item)
    if by_lang and project_uid:
        web_app_url = PhraseTmsHook(params.get("phrase_conn_id") or "phrase_tms_default").web_app_url
        for lang, items in sorted(by_lang.items()):
            uri = translations_asset_uri(web_app_url, project_uid, lang)
            extra = {
                "project_uid": project_uid,
                "target_lang": lang,
                "mode": mode,
                "job_uids": [item["uid"] for item in items],
                "files": [item.get("url") or item.get("filename") for item in items],
                "source_run_id": context.get("run_id"),
            }
            context["outlet_events"][AssetAlias(TRANSLATIONS_ASSET_ALIAS)].add(Asset(uri=uri), extra=extra)
            log.info("Asset event %s: %d file(s)", uri, len(items))
    summary: dict[str, Any] = {
        "project_uid": project_uid,
        "mode": mode,
        "delivered": [
            {"uid": i["uid"], "targetLang": i.get("targetLang"), "to": i.get("url") or "repository"}
            for i in new
        ],
        "already_delivered": [i["uid"] for i in old],
        "ended_otherwise": waited.get("ended_otherwise") or [],
        "languages": sorted(by_lang),
    }
    for item in summary["delivered"]:
        log.info("Delivered %s (%s) -> %s", item["uid"], item["targetLang"], item["to"])
    for job in summary["ended_otherwise"]:
        log.warning("Not delivered: job %s ended %s", job.get("uid"), job.get("status"))
    return summary


__all__ = [
    "DOWNLOAD_TASK_ID",
    "EXPORT_TASK_ID",
    "MODES",
    "NOTHING_TASK_ID",
    "TRANSLATIONS_ASSET_ALIAS",
    "announce",
    "choose_delivery",
    "select_jobs",
    "translations_asset_uri",
]
