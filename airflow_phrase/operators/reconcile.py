"""Finding what an earlier try (or run) already did in Phrase, so nothing is created twice.

The operators keep no state of their own between tries: Phrase is the record. Three questions:

* :func:`find_jobs_of_task` — which jobs were created from this download task? The task state's
  ``jobUid`` (Phrase's own link from task to job), then the project's jobs for the task's file matched
  to the task: by ``serverTaskId`` where Phrase reports the task there, else as the jobs created
  together with the ``jobUid`` job (same file, same creation time).
* :func:`find_version_jobs` — which of the requested target languages already have jobs for this
  version of a remote file (created at or after its ``lastModified``)? :func:`missing_languages` gives
  the rest, :func:`find_ingested_jobs` the jobs only when they cover every requested language.
* :func:`find_reusable_download` — is there a download task of this version that no job was created
  from yet (so a retry waits on it instead of starting another)?

List jobs v2 returns one workflow level per call (level 1 by default), so every lookup walks the
project's workflow levels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from airflow_phrase.models import ConnectorTaskState, ConnectorTaskStatus, JobPartV2
from airflow_phrase.operators.params import normalise_language

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.hooks.remote_files import ResolvedRemoteFile

log = logging.getLogger(__name__)

_REUSABLE_DOWNLOAD_STATUSES = (ConnectorTaskStatus.NEW, ConnectorTaskStatus.SUCCESS)


def workflow_levels(hook: PhraseTmsHook, project_uid: str) -> list[int | None]:
    """The project's workflow levels; ``[None]`` (Phrase's default level) for a project without steps."""
    project = hook.get_project(project_uid)
    levels = sorted(
        {step.workflow_level for step in project.workflow_steps if step.workflow_level is not None}
    )
    return list(levels) or [None]


def iter_file_jobs(
    hook: PhraseTmsHook,
    project_uid: str,
    filename: str,
    *,
    levels: Sequence[int | None] | None = None,
) -> Iterator[JobPartV2]:
    """Every job of the project (all workflow levels) whose file name is exactly ``filename``.

    ``levels``: the project's :func:`workflow_levels` if the caller already knows them.
    """
    for level in workflow_levels(hook, project_uid) if levels is None else levels:
        for job in hook.iter_jobs(project_uid, filename=filename, workflow_level=level):
            if job.filename == filename:
                yield job


def find_jobs_of_task(
    hook: PhraseTmsHook,
    project_uid: str,
    download_task_id: str,
    *,
    state: ConnectorTaskState | None = None,
    levels: Sequence[int | None] | None = None,
) -> list[JobPartV2]:
    """The jobs already created from ``download_task_id`` in the project (``[]`` if none).

    ``state`` is the task state if the caller just read it; otherwise it is read here. ``levels``: the
    project's :func:`workflow_levels` if the caller already knows them.
    """
    task_id = str(download_task_id)
    if state is None:
        state = hook.get_connector_task_state(project_uid, task_id)
    if state is None or not state.job_file_name:
        # Unknown task (Phrase will say so when asked to create) or no file name to search jobs by.
        return []
    candidates = list(iter_file_jobs(hook, project_uid, state.job_file_name, levels=levels))
    by_task = [job for job in candidates if job.server_task_id == task_id]
    if by_task:
        return by_task
    if not state.job_uid:
        return []
    anchor = next((job for job in candidates if job.uid == state.job_uid), None)
    if anchor is None:
        part = hook.get_job(project_uid, state.job_uid)
        siblings = (
            [job for job in candidates if job.date_created == part.date_created] if part.date_created else []
        )
        return siblings or [JobPartV2.model_validate(part.to_wire()).listed_at_level(part.workflow_level)]
    return [job for job in candidates if job.date_created == anchor.date_created] or [anchor]


def _same_remote_file(job: JobPartV2, resolved: ResolvedRemoteFile) -> bool:
    remote = job.remote_file
    if remote is None or not remote.encoded_file_name:
        return True  # Phrase did not say where the job's file came from: the file name has to do
    if remote.encoded_file_name != resolved.encoded_name:
        return False
    return not remote.encoded_folder or remote.encoded_folder == resolved.encoded_folder


def _at_or_after(moment: datetime | None, reference: datetime) -> bool:
    return moment is not None and moment >= reference


def job_order_key(target_langs: Sequence[str]) -> Callable[[str | None, int | None], tuple[int, int]]:
    """Sort key ``(language, workflow level) → position``: Phrase's creation order, by requested language
    then workflow level; languages not requested go last."""
    order = {normalise_language(lang): index for index, lang in enumerate(target_langs)}

    def key(lang: str | None, workflow_level: int | None) -> tuple[int, int]:
        return order.get(normalise_language(lang or ""), len(order)), workflow_level or 0

    return key


def missing_languages(target_langs: Sequence[str], jobs: Iterable[JobPartV2]) -> list[str]:
    """Those of ``target_langs`` (in their order) that no job of ``jobs`` is for."""
    covered = {normalise_language(job.target_lang or "") for job in jobs}
    return [lang for lang in target_langs if normalise_language(lang) not in covered]


def find_version_jobs(
    hook: PhraseTmsHook,
    project_uid: str,
    resolved: ResolvedRemoteFile,
    target_langs: Sequence[str],
) -> list[JobPartV2]:
    """The project's jobs for this version of the file, for whichever of ``target_langs`` have them.

    "This version": created at or after the file's ``lastModified``. For each target language and
    workflow level the newest job is returned, ordered by requested language then workflow level (the
    order Phrase creates them in). May cover only some of ``target_langs`` (see
    :func:`missing_languages`); ``[]`` when there are none or the file has no ``lastModified`` to compare
    with.
    """
    last_modified = resolved.remote_file.last_modified
    if last_modified is None:
        log.info("Phrase gives no lastModified for %s; cannot tell whether it was ingested", resolved.path)
        return []
    wanted = {normalise_language(lang) for lang in target_langs}
    newest: dict[tuple[str, int | None], JobPartV2] = {}
    for job in iter_file_jobs(hook, project_uid, resolved.name):
        lang = normalise_language(job.target_lang or "")
        if lang not in wanted or not _same_remote_file(job, resolved):
            continue
        if not _at_or_after(job.date_created, last_modified):
            continue
        key = (lang, job.workflow_level)
        current = newest.get(key)
        if current is None or (job.date_created or last_modified) > (current.date_created or last_modified):
            newest[key] = job
    order = job_order_key(target_langs)
    return sorted(newest.values(), key=lambda job: order(job.target_lang, job.workflow_level))


def find_ingested_jobs(
    hook: PhraseTmsHook,
    project_uid: str,
    resolved: ResolvedRemoteFile,
    target_langs: Sequence[str],
) -> list[JobPartV2]:
    """The project's jobs for this version of the file if they cover every one of ``target_langs``, else
    ``[]`` (see :func:`find_version_jobs`)."""
    jobs = find_version_jobs(hook, project_uid, resolved, target_langs)
    return [] if missing_languages(target_langs, jobs) else jobs


def find_reusable_download(
    hook: PhraseTmsHook, project_uid: str, resolved: ResolvedRemoteFile
) -> ConnectorTaskState | None:
    """The newest API download task of this version of the file with no job yet (``NEW`` or ``SUCCESS``)."""
    last_modified = resolved.remote_file.last_modified
    if last_modified is None:
        return None
    reusable = [
        state
        for state in hook.iter_connector_task_states(
            project_uid, task_types=("DOWNLOAD",), processing_types=("API",), date_created_from=last_modified
        )
        if state.job_file_name == resolved.name
        and _at_or_after(state.date_created, last_modified)
        and state.status in _REUSABLE_DOWNLOAD_STATUSES
        and not state.job_uid
    ]
    if not reusable:
        return None
    return max(reusable, key=lambda state: (state.date_created or last_modified, len(state.id), state.id))
