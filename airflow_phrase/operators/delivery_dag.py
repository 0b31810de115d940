"""The steps of the example DAG ``phrase_translation_delivery`` that are not operators: which jobs a run
delivers (one selection per project), which delivery task runs, and the Asset events of the delivered
languages.

Imported by the DAG file: only the standard library at the top; Airflow and the hook inside the steps.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.delivery_params import DeliverySelectionArgs

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


def select_jobs(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One selection per project this run delivers: ``[{project_uid, job_uids, workflow_level}]`` (the
    keyword arguments of one mapped wait; at most :data:`MAX_EXPORT_JOBS` jobs each, so a project with
    more gets several).

    Scheduled runs: the new jobs of the triggering Asset events, one selection per project they name.
    Manual runs: Params ``project_uid`` and ``job_uids``, or ``all_completed`` (every job of the project
    in a target status now: one paged listing). The Params are validated first (``AirflowFailException``
    naming the Param, no retries).

    A job (part) is waited on at its own workflow level: the jobs are looked up in Phrase
    (``POST /api2/v1/projects/{projectUid}/jobs/search``, one call per 50 jobs) and those at the Param
    ``workflow_level`` are kept, by default those of the last level among them (the step whose completion
    makes the translation final). Jobs Phrase no longer has are left out with a warning: waiting for
    them would last until the timeout. No job left: the task is skipped, saying so.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.ingestion.report import event_extras, jobs_from_events

    args = _selection_args(context["params"])
    by_project = jobs_from_events(event_extras(context.get("triggering_asset_events")))
    if not by_project and args.project_uid is None:
        raise _param_error("project_uid", "give the project (manual runs), e.g. 'prjWebsite0001'")
    with closing(PhraseTmsHook(args.phrase_conn_id)) as hook:
        if not by_project:
            by_project = {args.project_uid: _manual_job_uids(hook, args)}  # type: ignore[dict-item]
        selections = [
            selection
            for project_uid, job_uids in by_project.items()
            for selection in _at_one_level(hook, project_uid, job_uids, args.workflow_level)
        ]
    if not selections:
        raise AirflowSkipException("No job to wait for: nothing to deliver (see the log for why)")
    warn_if_projects_share_files(context["params"], sorted({s["project_uid"] for s in selections}))
    return selections


def _selection_args(params: Mapping[str, Any]) -> DeliverySelectionArgs:
    from airflow_phrase.operators.delivery_params import DeliverySelectionArgs
    from airflow_phrase.validation import validate_params

    return validate_params(
        DeliverySelectionArgs,
        "select_jobs",
        phrase_conn_id=params.get("phrase_conn_id") or "phrase_tms_default",
        project_uid=params.get("project_uid"),
        job_uids=params.get("job_uids") or None,
        all_completed=bool(params.get("all_completed")),
        target_statuses=params.get("target_statuses") or ["COMPLETED"],
        workflow_level=params.get("workflow_level"),
    )


def _param_error(param: str, fix: str) -> Exception:
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(f"Param {param}: {fix}")


def _manual_job_uids(hook: PhraseTmsHook, args: DeliverySelectionArgs) -> list[str]:
    """The jobs a manual run names: Param ``job_uids``, or with ``all_completed`` every job of the
    project in a target status now (``GET /api2/v2/projects/{projectUid}/jobs?status=...``, paged)."""
    if args.job_uids:
        return list(args.job_uids)
    if not args.all_completed:
        raise _param_error("job_uids", "say which jobs to deliver, or tick all_completed")
    assert args.project_uid is not None
    uids = [
        job.uid
        for job in hook.iter_jobs(
            args.project_uid, statuses=args.target_statuses, workflow_level=args.workflow_level
        )
    ]
    log.info("%d job(s) of project %s are %s", len(uids), args.project_uid, " or ".join(args.target_statuses))
    return uids


def _at_one_level(
    hook: PhraseTmsHook, project_uid: str, job_uids: Sequence[str], level: int | None
) -> list[dict[str, Any]]:
    """The selections (chunks of at most :data:`MAX_EXPORT_JOBS`) of ``job_uids`` at ``level`` (default:
    the last level among them); the others are left out, saying why."""
    from airflow_phrase.operators.delivery_params import MAX_EXPORT_JOBS

    if not job_uids:
        log.warning("Project %s: no job to deliver", project_uid)
        return []
    levels = {job.uid: job.workflow_level or 1 for job in hook.search_jobs(project_uid, job_uids)}
    gone = [uid for uid in job_uids if uid not in levels]
    if gone:
        log.warning(
            "Project %s: Phrase has no job %s (deleted?); not waiting for %s",
            project_uid,
            ", ".join(gone[:20]) + (" ..." if len(gone) > 20 else ""),
            "it" if len(gone) == 1 else "them",
        )
    chosen = level if level is not None else max(levels.values(), default=1)
    kept = [uid for uid in job_uids if levels.get(uid) == chosen]
    other = len(levels) - len(kept)
    if other:
        log.info(
            "Project %s: waiting for the %d job(s) at workflow level %d; %d job(s) of other levels left out",
            project_uid, len(kept), chosen, other,
        )  # fmt: skip
    log.info("Project %s: %d job(s) to deliver", project_uid, len(kept))
    return [
        {
            "project_uid": project_uid,
            "job_uids": kept[start : start + MAX_EXPORT_JOBS],
            "workflow_level": chosen,
        }
        for start in range(0, len(kept), MAX_EXPORT_JOBS)
    ]


def warn_if_projects_share_files(params: Mapping[str, Any], project_uids: list[str]) -> None:
    """Log a warning when several projects write under one ``base_path`` by a pattern without
    ``{project_uid}``: a file of the same path and language in two projects would replace the other."""
    pattern = str(params.get("file_pattern") or "")
    if (
        len(project_uids) > 1
        and params.get("delivery_mode") != "repository"
        and "{project_uid}" not in pattern
    ):
        log.warning(
            "Projects %s write under the same base_path with file_pattern %r: files of the same path and "
            "language would replace one another; add {project_uid} to the pattern",
            ", ".join(project_uids), pattern,
        )  # fmt: skip


def delivery_kwargs(waited: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of one mapped delivery task from one project's wait (``XComArg.map``):
    ``{project_uid, job_uids, workflow_level}`` of the jobs that reached the status.

    A project none of whose jobs reached it raises ``AirflowSkipException`` (its delivery is skipped,
    with the reason in the log): the other projects are still delivered.
    """
    if not waited.get("job_uids"):
        from airflow.sdk.exceptions import AirflowSkipException

        ended = ", ".join(
            f"{job.get('uid')} {job.get('status')}" for job in waited.get("ended_otherwise") or []
        )
        raise AirflowSkipException(
            f"No job of project {waited.get('project_uid')} reached the status; nothing to deliver"
            + (f" (ended otherwise: {ended})" if ended else "")
        )
    return {
        "project_uid": waited["project_uid"],
        "job_uids": list(waited["job_uids"]),
        "workflow_level": waited.get("workflow_level"),
    }


def pulled(context: Mapping[str, Any], task_id: str) -> list[dict[str, Any]]:
    """The XCom return values of every mapped instance of ``task_id`` that returned one."""
    values = context["ti"].xcom_pull(task_ids=task_id)
    if values is None:
        return []
    if isinstance(values, Mapping):  # Airflow returns the value itself when there is one
        return [dict(values)]
    return [dict(value) for value in values if isinstance(value, Mapping)]


def choose_delivery(context: Mapping[str, Any]) -> str:
    """The delivery task to run: by the ``delivery_mode`` Param, or none when no job of any project
    reached the status."""
    waited = pulled(context, "wait_for_completion")
    if not any(result.get("job_uids") for result in waited):
        ended = [job for result in waited for job in result.get("ended_otherwise") or []]
        log.warning("No job reached the status; nothing to deliver (ended otherwise: %s)", ended)
        return NOTHING_TASK_ID
    mode = context["params"].get("delivery_mode") or "object_storage"
    return EXPORT_TASK_ID if mode == "repository" else DOWNLOAD_TASK_ID


def announce(context: Mapping[str, Any]) -> dict[str, Any]:
    """Emit one Asset event per (project, delivered language) through :data:`TRANSLATIONS_ASSET_ALIAS`
    and return the run's summary: where each job's translation went, and the jobs that ended otherwise.

    ``{project_uids, project_uid (the one project, None with several), mode, delivered: [{project_uid,
    uid, targetLang, to}], already_delivered: [uids], ended_otherwise: [...], languages}``.
    """
    from airflow.sdk import Asset, AssetAlias

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    params = context["params"]
    waited = pulled(context, "wait_for_completion")
    exported = pulled(context, EXPORT_TASK_ID)
    results = exported or pulled(context, DOWNLOAD_TASK_ID)
    mode = ("repository" if exported else "object_storage") if results else None
    delivered: list[dict[str, Any]] = []
    already: list[str] = []
    by_asset: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in results:
        project_uid = str(result.get("project_uid"))
        for item in result.get("exported") or result.get("delivered") or []:
            by_asset.setdefault((project_uid, str(item.get("targetLang"))), []).append(item)
            to = item.get("url") or "repository"
            delivered.append(
                {
                    "project_uid": project_uid,
                    "uid": item["uid"],
                    "targetLang": item.get("targetLang"),
                    "to": to,
                }
            )
        already += [i["uid"] for i in result.get("already_exported") or result.get("already_delivered") or []]
    if by_asset:
        with closing(PhraseTmsHook(params.get("phrase_conn_id") or "phrase_tms_default")) as hook:
            web_app_url = hook.web_app_url
        for (project_uid, lang), items in sorted(by_asset.items()):
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
    project_uids = sorted({str(result.get("project_uid")) for result in waited if result.get("project_uid")})
    summary: dict[str, Any] = {
        "project_uids": project_uids,
        "project_uid": project_uids[0] if len(project_uids) == 1 else None,
        "mode": mode,
        "delivered": delivered,
        "already_delivered": already,
        "ended_otherwise": [job for result in waited for job in result.get("ended_otherwise") or []],
        "languages": sorted({lang for _, lang in by_asset}),
    }
    for item in delivered:
        log.info("Delivered %s (project %s, %s) -> %s", item["uid"], item["project_uid"], item["targetLang"],
                 item["to"])  # fmt: skip
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
    "delivery_kwargs",
    "pulled",
    "select_jobs",
    "translations_asset_uri",
    "warn_if_projects_share_files",
]
