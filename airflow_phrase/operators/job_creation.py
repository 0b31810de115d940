"""Creating jobs from a download task exactly once.

``POST .../jobs/connectorTask`` is not idempotent. So:

1. before creating, look for jobs already created from the task (an earlier try may have created them
   and died before recording the result) and return those. One exception: the caller has, in this very
   try, just looked for the file's jobs and just read the task's state, and that state links no job
   (``jobUid`` is empty, which Phrase sets when a job is created from the task): then no job was
   created from it and looking again would only repeat the same call;
2. if the POST fails *ambiguously* (502/504/500, read timeout, connection dropped after sending: the
   hook raises those at once instead of retrying), look again: if Phrase did create the jobs, return
   them; if not, let the failure through so Airflow's retry starts over at step 1;
3. a 4xx that states a problem with the request (unknown or unfinished task, languages not in the
   project, ...) fails the task without retries, with Phrase's message.

Runs on the worker, never in a trigger (a trigger may be re-run after a triggerer restart).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.exceptions import PhraseApiError, PhraseConnectionError
from airflow_phrase.models import ConnectorTaskState, JobCreateRequest, JobPartV2
from airflow_phrase.operators.reconcile import find_jobs_of_task
from airflow_phrase.operators.results import created_jobs_result, jobs_result

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

log = logging.getLogger(__name__)


def _is_ambiguous(error: PhraseApiError | PhraseConnectionError) -> bool:
    """The server may have created the jobs although the answer says otherwise (one table:
    :mod:`airflow_phrase.classification`). A connection error that the hook's retries of a transient
    failure did not overcome counts too: the jobs are looked for before the task fails."""
    return isinstance(error, PhraseConnectionError) or error.ambiguous


def create_jobs_once(
    hook: PhraseTmsHook,
    project_uid: str,
    download_task_id: str,
    request: JobCreateRequest,
    *,
    continuous: bool = False,
    task_state: ConnectorTaskState | None = None,
    fresh_state: bool = False,
    levels: Sequence[int | None] | None = None,
) -> dict[str, Any]:
    """Create the jobs of ``download_task_id`` unless they exist; return the (created or found) jobs.

    The result is the plain-JSON create-job result
    (see :func:`~airflow_phrase.operators.results.jobs_result`).
    ``task_state`` may be passed when the caller has just read the task's state. ``fresh_state``: it was
    read moments ago by this same try, which also listed the file's jobs before (the ingest operator
    within one ``execute``); then a state without ``jobUid`` is taken as "no job was created from the
    task" and the jobs are not listed again. Never set it for a state that crossed a deferral or a retry.
    ``levels``: the project's workflow levels, if the caller knows them (saves reading the project).
    """
    existing: list[JobPartV2] = []
    if not (fresh_state and task_state is not None and not task_state.job_uid):
        existing = find_jobs_of_task(hook, project_uid, download_task_id, state=task_state, levels=levels)
    if existing:
        log.info(
            "Jobs %s were already created from download task %s in project %s; not creating them again",
            ", ".join(job.uid for job in existing),
            download_task_id,
            project_uid,
        )
        return jobs_result(project_uid, existing)
    try:
        created = hook.create_job_from_connector_task(
            project_uid, download_task_id, request, continuous=continuous
        )
    except (PhraseApiError, PhraseConnectionError) as error:
        if _is_ambiguous(error):
            log.warning(
                "Creating jobs from download task %s may or may not have succeeded (%s); checking in Phrase",
                download_task_id,
                error,
            )
            existing = find_jobs_of_task(hook, project_uid, download_task_id, levels=levels)
            if existing:
                log.info("Phrase did create jobs %s; using them", ", ".join(job.uid for job in existing))
                return jobs_result(project_uid, existing)
            log.warning("Phrase created no jobs from download task %s; failing this try", download_task_id)
            raise
        if isinstance(error, PhraseApiError) and error.rejected:
            detail = (
                f"{error.error_code}: {error.error_description}"
                if error.error_code
                else error.error_description
            )
            raise AirflowFailException(
                f"Phrase refused to create jobs from download task {download_task_id} in project "
                f"{project_uid} (HTTP {error.status}): {detail or 'no error message'}"
            ) from error
        raise
    result = created_jobs_result(project_uid, created)
    log.info(
        "Created jobs %s in project %s from download task %s",
        ", ".join(result["job_uids"]),
        project_uid,
        download_task_id,
    )
    return result
