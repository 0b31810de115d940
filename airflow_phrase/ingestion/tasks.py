"""The bodies of the example DAGs' Python tasks, kept here so the DAG files stay declarations.

Each function takes the task's Airflow context, reads settings (Params, the ``phrase_ingestion``
Variable, ``PHRASE_INGEST_*``) only when the task runs, and returns plain JSON for XCom.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.exceptions import PhraseNotFoundError
from airflow_phrase.ingestion.baseline import Baseline, load_baseline, save_baseline, source_key
from airflow_phrase.ingestion.failures import FAILURE_XCOM_KEY
from airflow_phrase.ingestion.planning import (
    Candidate,
    FileDecision,
    check_project_languages,
    reconcile,
    select_changes,
)
from airflow_phrase.ingestion.selection import (
    ConnectorFile,
    check_limit,
    file_record,
    ingest_kwargs,
    list_connector_files,
    pick_named_files,
    select_files,
    split_delivered_translations,
)
from airflow_phrase.ingestion.settings import VARIABLE_NAME, IngestionSettings, resolve_settings
from airflow_phrase.ingestion.summary import (
    NEW_JOBS_ASSET_ALIAS,
    IngestionSummary,
    asset_event_extra,
    build_summary,
    project_asset_uri,
    render_summary,
    stopped_summary,
)
from airflow_phrase.ingestion.window import IngestionWindow, resolve_window
from airflow_phrase.operators.try_record import API_CALLS_XCOM_KEY, push_api_calls

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

log = logging.getLogger(__name__)

#: Task id of the mapped ingest task (the contract with the end-to-end tests).
INGEST_TASK_ID = "ingest_file"
LIST_TASK_ID = "list_files"
VALIDATE_TASK_ID = "validate_request"
#: XCom key (of the listing task) holding the selection the summary reads; its return value is the
#: list of the mapped ingest tasks' kwargs.
SELECTION_KEY = "selection"
#: XCom key of the summary (pushed before the summary task succeeds or fails).
SUMMARY_KEY = "ingestion_summary"


def load_settings(params: Mapping[str, Any], *, task_id: str) -> IngestionSettings:
    """Settings of this run: Params > Variable ``phrase_ingestion`` > ``PHRASE_INGEST_*`` > defaults."""
    from airflow.sdk import Variable

    raw = Variable.get(VARIABLE_NAME, default=None)
    return resolve_settings(params=params, variable=raw, environ=os.environ, task_id=task_id)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def explicit_window(context: Mapping[str, Any]) -> IngestionWindow | None:
    """The window a run was given by hand (``window_start`` / ``window_end`` / ``lookback_hours``), if any:
    files modified in it are ingested *in addition to* the changes since the last good run (a backfill by
    hand). ``None`` for a plain scheduled run."""
    params = context["params"]
    if all(params.get(name) in (None, "") for name in ("window_start", "window_end", "lookback_hours")):
        return None
    return resolve_window(
        data_interval_start=None,
        data_interval_end=context.get("data_interval_end"),
        now=_now(),
        window_start=params.get("window_start"),
        window_end=params.get("window_end"),
        lookback_hours=params.get("lookback_hours"),
    )


def _list(hook: PhraseTmsHook, settings: IngestionSettings) -> tuple[str, list[ConnectorFile], int]:
    """The connector's id, the source files of the configured folder, and how many translations Phrase
    delivered there were left out (see :func:`split_delivered_translations`). A wrong connector, folder
    or project fails without retries."""
    try:
        connector = hook.resolve_connector(settings.connector)
        files = list_connector_files(hook, connector.id, settings.folder, recursive=settings.recursive)
    except PhraseNotFoundError as error:
        raise AirflowFailException(str(error)) from error
    check_project_languages(hook, settings.project_uid, settings.target_langs)
    project_langs = hook.get_project(settings.project_uid).target_langs or []  # cached: no second call
    sources, translations = split_delivered_translations(files, [*settings.target_langs, *project_langs])
    if translations:
        log.info(
            "Leaving out %d translation(s) Phrase delivered into the folder (%s%s)",
            len(translations),
            ", ".join(file.path for file in translations[:5]),
            ", ..." if len(translations) > 5 else "",
        )
    return connector.id, sources, len(translations)


def _plan(
    hook: PhraseTmsHook,
    settings: IngestionSettings,
    candidates: Sequence[Candidate],
    files: Sequence[ConnectorFile],
    *,
    trusted_langs: Sequence[str] | None,
    now: datetime,
) -> list[FileDecision]:
    """Check the project's languages, then decide each candidate against Phrase's record."""
    check_project_languages(hook, settings.project_uid, settings.target_langs)
    return reconcile(
        hook,
        settings.project_uid,
        candidates,
        target_langs=settings.target_langs,
        all_names=[file.name for file in files],
        trusted_langs=trusted_langs,
        now=now,
    )


def _decided_record(decision: FileDecision) -> dict[str, Any]:
    candidate = decision.candidate
    return {
        **file_record(candidate.file),
        "why": candidate.why,
        "version_after": _iso(candidate.version_after),
        "evidence": decision.evidence,
        "download_task_id": decision.download_task_id,
        "jobs": [job.to_xcom() for job in decision.existing_jobs],
    }


def _selection_output(
    context: Mapping[str, Any],
    settings: IngestionSettings,
    connector_id: str,
    decisions: Sequence[FileDecision],
    counts: Mapping[str, int],
    window: IngestionWindow | None,
    *,
    now: datetime,
    extra_kwargs: Mapping[str, Any] | None = None,
    baseline: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Push the selection (for the summary) and return the mapped tasks' kwargs (the return value): one
    mapped ingest per file that needs work, in path order."""
    to_ingest = [d for d in decisions if d.decision == "ingest"]
    ingested = [d for d in decisions if d.decision == "ingested"]
    check_limit([d.candidate.file for d in to_ingest], settings.max_files)
    shared = {**settings.task_kwargs(), **(extra_kwargs or {})}
    log.info(
        "%s: %d file(s) to ingest (%s), %d already ingested (%s)",
        window.describe() if window else "Changes since the last good run",
        len(to_ingest),
        ", ".join(d.candidate.file.path for d in to_ingest) or "none",
        len(ingested),
        ", ".join(d.candidate.file.path for d in ingested) or "none",
    )
    record = {
        "connector_id": connector_id,
        "settings": settings.model_dump(mode="json"),
        "window": window.to_json() if window else None,
        "counts": {**counts, "to_ingest": len(to_ingest), "already_ingested": len(ingested)},
        "files": [_decided_record(d) for d in to_ingest],
        "already_ingested": [_decided_record(d) for d in ingested],
        "planned_at": now.isoformat(),
        "baseline": dict(baseline) if baseline is not None else None,
    }
    context["ti"].xcom_push(key=SELECTION_KEY, value=record)
    return [_ingest_kwargs(d, shared, now=now) for d in to_ingest]


def _ingest_kwargs(decision: FileDecision, shared: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The keyword arguments of one mapped ``PhraseIngestConnectorFileOperator`` task."""
    from airflow_phrase.operators.ingest_state import IngestPlan

    candidate = decision.candidate
    plan = IngestPlan(
        file=candidate.file.version,
        version_after=candidate.version_after,
        languages_checked=True,
        planned_at=now,
        existing_jobs=decision.existing_jobs,
    )
    return {**ingest_kwargs(candidate.file, dict(shared)), "plan": plan.model_dump(mode="json")}


def list_files_for_interval(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``list_files`` of the scheduled DAG: the folder's changes since the last good run (plus the files
    modified in a window given by hand), reconciled with Phrase."""
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    settings = load_settings(context["params"], task_id=LIST_TASK_ID)
    window = explicit_window(context)
    now = _now()
    with closing(PhraseTmsHook(phrase_conn_id=settings.phrase_conn_id)) as hook:
        connector_id, files, translations = _list(hook, settings)
        key = source_key(
            base_url=hook.web_app_url,
            connector_id=connector_id,
            folder=settings.folder,
            recursive=settings.recursive,
        )
        baseline = load_baseline(context, key)
        selection = select_changes(
            files,
            baseline=baseline,
            now=now,
            initial_lookback=timedelta(hours=settings.initial_lookback_hours),
            window=window,
            include=settings.include,
            exclude=settings.exclude,
        )
        if baseline is None:
            log.info(
                "No baseline for this source yet (first run): taking the files modified in the last %g h",
                settings.initial_lookback_hours,
            )
        else:
            log.info(
                "Comparing with the folder as listed at %s (run %s)", baseline.listed_at, baseline.run_id
            )
        decisions = _plan(
            hook,
            settings,
            selection.candidates,
            files,
            trusted_langs=baseline.target_langs if baseline is not None else None,
            now=now,
        )
    push_api_calls(hook.api_calls)  # for the summary (and the UI's Phrase view)
    next_baseline = Baseline.of(
        selection.considered,
        listed_at=now,
        target_langs=settings.target_langs,
        run_id=context.get("run_id"),
    )
    counts = {
        "listed": selection.listed + translations,
        "delivered_translations": translations,
        "selected": len(selection.candidates),
        "filtered_by_pattern": selection.filtered_by_pattern,
        "unchanged": selection.unchanged,
        "older_than_lookback": selection.older_than_lookback,
        "without_timestamp": selection.without_timestamp,
    }
    return _selection_output(
        context,
        settings,
        connector_id,
        decisions,
        counts,
        window,
        now=now,
        baseline={
            "key": key,
            "previous": baseline.listed_at.isoformat() if baseline is not None else None,
            "next": next_baseline.model_dump(mode="json"),
        },
    )


def load_manual_request(context: Mapping[str, Any]) -> dict[str, Any]:
    """``validate_request`` of the manual DAG: the form, validated before anything reaches Phrase."""
    from airflow.sdk import Variable

    from airflow_phrase.ingestion.manual import validate_manual_request

    request = validate_manual_request(
        context["params"],
        variable=Variable.get(VARIABLE_NAME, default=None),
        environ=os.environ,
        task_id=VALIDATE_TASK_ID,
    )
    log.info("Request: %s", request.model_dump_json(exclude_none=True))
    return request.model_dump(mode="json")


def list_files_for_request(context: Mapping[str, Any], request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``list_files`` of the manual DAG, from the validated request (see :mod:`.manual`)."""
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.ingestion.manual import ManualIngestionRequest

    parsed = ManualIngestionRequest.model_validate(request)
    settings = parsed.settings
    window = parsed.window()
    now = _now()
    with closing(PhraseTmsHook(phrase_conn_id=settings.phrase_conn_id)) as hook:
        connector_id, files, translations = _list(hook, settings)
        chosen = pick_named_files(files, parsed.files) if parsed.files else files
        selection = select_files(chosen, window=window, include=settings.include, exclude=settings.exclude)
        candidates = [
            Candidate(file=file, why="chosen", version_after=file.last_modified)
            for file in selection.selected
        ]
        decisions = _plan(hook, settings, candidates, files, trusted_langs=None, now=now)
    push_api_calls(hook.api_calls)  # for the summary (and the UI's Phrase view)
    counts = {
        **selection.counts(),
        "listed": len(files) + translations,
        "delivered_translations": translations,
    }
    return _selection_output(
        context,
        settings,
        connector_id,
        decisions,
        counts,
        window,
        now=now,
        extra_kwargs=parsed.extra_job_kwargs(),
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _mapped_states(context: Mapping[str, Any], count: int) -> dict[int, str | None]:
    ti = context["ti"]
    run_id = context["run_id"]
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[INGEST_TASK_ID], run_ids=[run_id]).get(run_id, {})
    prefix = f"{INGEST_TASK_ID}_"
    return {index: states.get(f"{prefix}{index}") for index in range(count)}


def _stopped_at(context: Mapping[str, Any]) -> tuple[str, str | None]:
    """The task that ended the run before ingesting: the first of the steps before the mapped ingest
    tasks that did not succeed (a failed validation leaves the listing ``upstream_failed``, with no log)."""
    ti = context["ti"]
    run_id = context["run_id"]
    steps = [VALIDATE_TASK_ID, LIST_TASK_ID]
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=steps, run_ids=[run_id]).get(run_id, {})
    present = [(task_id, states[task_id]) for task_id in steps if task_id in states]
    for task_id, state in present:
        if state == "failed":
            return task_id, state
    for task_id, state in present:
        if state != "success":
            return task_id, state
    return LIST_TASK_ID, states.get(LIST_TASK_ID)


def _pull_by_index(ti: Any, key: str, indexes: list[int], count: int) -> list[Any]:
    """``[value or None] * count``: the XCom ``key`` of the mapped ingest tasks at ``indexes``."""
    values: list[Any] = [None] * count
    if indexes:
        pulled = ti.xcom_pull(task_ids=INGEST_TASK_ID, key=key, map_indexes=indexes)
        for index, value in zip(indexes, pulled, strict=True):
            values[index] = value
    return values


def _job_links(phrase_conn_id: str, project_uid: str) -> tuple[str | None, Any]:
    """Phrase's web app URL and a ``job uid -> URL`` function for the run's connection (no API call)."""
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    hook = PhraseTmsHook(phrase_conn_id=phrase_conn_id)
    try:
        base = hook.web_app_url
    except Exception as error:  # the links are a nicety: a broken connection must not hide the summary
        log.warning("No links to Phrase in the summary: %s", error)
        return None, lambda uid: None
    return base, lambda uid: hook.job_url(project_uid, uid)


def summarize_run(context: Mapping[str, Any]) -> dict[str, Any]:
    """``summarize``: report every file, fail the run only on unexpected failures, emit the Asset event."""
    ti = context["ti"]
    selection = ti.xcom_pull(task_ids=LIST_TASK_ID, key=SELECTION_KEY)
    if not selection:
        task_id, state = _stopped_at(context)
        ti.xcom_push(key=SUMMARY_KEY, value=stopped_summary(task_id, state).model_dump(mode="json"))
        raise AirflowFailException(
            f"Nothing was ingested: task {task_id!r} ended {state}; see that task's log "
            "(the tasks after it did not run)."
        )
    count = len(selection.get("files") or [])
    states = _mapped_states(context, count)
    # Only what each task can have pushed is pulled: a result from a success, a failure record from a
    # failure or a skip (a Phrase verdict), and the API calls from every task that ran.
    succeeded = [index for index, state in states.items() if state == "success"]
    not_ingested = [index for index, state in states.items() if state in ("failed", "skipped")]
    results = _pull_by_index(ti, "return_value", succeeded, count)
    failures = _pull_by_index(ti, FAILURE_XCOM_KEY, not_ingested, count)
    api_calls = _pull_by_index(ti, API_CALLS_XCOM_KEY, sorted(succeeded + not_ingested), count)
    listing_calls = ti.xcom_pull(task_ids=LIST_TASK_ID, key=API_CALLS_XCOM_KEY)
    settings = selection.get("settings") or {}
    phrase_url, job_url = _job_links(
        settings.get("phrase_conn_id") or "phrase_tms_default", settings.get("project_uid", "")
    )
    summary = build_summary(
        selection=selection,
        states=states,
        results=results,
        failures=failures,
        api_calls=[value if isinstance(value, int) else None for value in api_calls],
        listing_api_calls=listing_calls if isinstance(listing_calls, int) else None,
        phrase_url=phrase_url,
        job_url=job_url,
    )
    report = summary.model_dump(mode="json")
    ti.xcom_push(key=SUMMARY_KEY, value=report)
    log.info("Ingestion summary\n%s", render_summary(summary))
    if summary.unexpected_failures:
        raise AirflowFailException(summary.failure_message())
    record_baseline(context, selection.get("baseline"))
    emit_new_jobs_event(context, summary, phrase_conn_id=selection["settings"]["phrase_conn_id"])
    return report


def record_baseline(context: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> None:
    """After a run without unexpected failures: the folder as this run listed it becomes the baseline the
    next run compares with (see :mod:`airflow_phrase.ingestion.baseline`)."""
    if not baseline:
        return
    listing = Baseline.model_validate(baseline["next"]).model_copy(update={"recorded_at": _now()})
    if save_baseline(context, baseline["key"], listing):
        log.info(
            "Recorded %d file version(s) as listed at %s for the next run",
            len(listing.files),
            listing.listed_at,
        )


def emit_new_jobs_event(
    context: Mapping[str, Any], summary: IngestionSummary, *, phrase_conn_id: str
) -> str | None:
    """Add an Asset event for the project's new jobs through the alias (none if nothing new); its URI."""
    if not summary.new_job_refs():
        log.info("No new jobs in project %s: no Asset event", summary.project_uid)
        return None
    from airflow.sdk import Asset, AssetAlias

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    uri = project_asset_uri(PhraseTmsHook(phrase_conn_id=phrase_conn_id).web_app_url, summary.project_uid)
    extra = asset_event_extra(summary, run_id=context.get("run_id"))
    context["outlet_events"][AssetAlias(NEW_JOBS_ASSET_ALIAS)].add(Asset(uri=uri), extra=extra)
    log.info("Asset event for %s: %d new job(s)", uri, len(extra["job_uids"]))
    return uri
