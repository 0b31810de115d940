"""Matching jobs to files and languages: the pure rules behind the hook's composite ingestion verbs.

The verbs themselves are methods of :class:`~airflow_phrase.hooks.phrase_tms.PhraseTmsHook`:

* :meth:`~PhraseTmsHook.list_folder_files`: the files of a connector folder (and its subfolders) as
  :class:`~airflow_phrase.hooks.remote_files.RemoteFileVersion` (encoded names kept for later calls).
* :meth:`~PhraseTmsHook.find_version_jobs`: the jobs a version of a file already has, per language.
* :meth:`~PhraseTmsHook.find_jobs_of_task`: the jobs created from a download task.
* :meth:`~PhraseTmsHook.create_jobs_once`: create jobs from a download task exactly once.
* :meth:`~PhraseTmsHook.wait_for_download` / :meth:`~PhraseTmsHook.wait_for_jobs_import`: the
  synchronous waits (the triggers are the deferrable ones).

List jobs v2 returns one workflow level per query (level 1 by default), so the job lookups walk the
project's workflow levels and report each job's level as the query's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from airflow_phrase.exceptions import PhraseApiError, PhraseAuthenticationError, PhraseConnectionError
from airflow_phrase.hooks.remote_files import RemoteFileVersion
from airflow_phrase.hooks.results import JobSummary
from airflow_phrase.languages import normalise_language
from airflow_phrase.models import JobPartV2

#: Task states are searched from a little before a download's ``dateCreated`` (second precision).
CREATED_MARGIN = timedelta(minutes=1)


def missing_languages(target_langs: Sequence[str], jobs: Sequence[JobSummary]) -> list[str]:
    """Those of ``target_langs`` (in their order) that no job of ``jobs`` is for."""
    covered = {normalise_language(job.target_lang or "") for job in jobs}
    return [lang for lang in target_langs if normalise_language(lang) not in covered]


def order_jobs(target_langs: Sequence[str], jobs: Sequence[JobSummary]) -> list[JobSummary]:
    """``jobs`` once each, ordered as Phrase creates them: by requested language, then workflow level."""
    order = {normalise_language(lang): index for index, lang in enumerate(target_langs)}
    unique = {job.uid: job for job in jobs}
    return sorted(
        unique.values(),
        key=lambda job: (
            order.get(normalise_language(job.target_lang or ""), len(order)),
            job.workflow_level or 0,
        ),
    )


def same_remote_file(job: JobPartV2, file: RemoteFileVersion) -> bool:
    remote = job.remote_file
    if remote is None or not remote.encoded_file_name:
        return True  # Phrase did not say where the job's file came from: the file name has to do
    if remote.encoded_file_name != file.encoded_name:
        return False
    return not remote.encoded_folder or remote.encoded_folder == file.encoded_folder


def is_ambiguous_create_failure(error: Exception) -> bool:
    """Phrase may have created the jobs although the create call failed (a 5xx, a lost response, a
    connection that failed for good: see :mod:`airflow_phrase.classification`)."""
    if isinstance(error, PhraseApiError):
        return error.ambiguous
    return isinstance(error, PhraseConnectionError)


def is_refused_create(error: Exception) -> bool:
    """Phrase refused the create call (a 4xx). Download tasks are single-use, so a refusal may mean an
    earlier, lost attempt already created the jobs: worth a look before failing. Not for a refusal of
    the credentials (:class:`~airflow_phrase.exceptions.PhraseAuthenticationError`)."""
    return (
        isinstance(error, PhraseApiError)
        and error.rejected
        and not isinstance(error, PhraseAuthenticationError)
    )


def jobs_label(project_uid: str, job_uids: Sequence[str]) -> str:
    """``"jobs x, y of project P"`` for messages."""
    return f"jobs {', '.join(job_uids) or '(none)'} of project {project_uid}"


__all__ = [
    "CREATED_MARGIN",
    "is_ambiguous_create_failure",
    "is_refused_create",
    "jobs_label",
    "missing_languages",
    "normalise_language",
    "order_jobs",
    "same_remote_file",
]
