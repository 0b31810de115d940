"""The state of one file's ingest, as typed models: the run's plan in, the progress across deferrals.

* :class:`IngestPlan`: what the ingestion run decided for one file (its ``list_files`` step reconciles the
  whole folder with Phrase once per run) and hands to the mapped ingest task, so that the task does only
  what is left: the file's encoded names and version, the version's lower bound, and that the project's
  languages were checked.
* :class:`IngestProgress`: what the ingest operator knows at each step (the download it claimed, the
  jobs it created). It crosses every deferral in ``defer(kwargs=...)`` and is also kept in Airflow's task
  state store (``context["task_state_store"]``, Airflow 3.3+), which survives retries, clears and a resume
  without kwargs: a later try of the same task picks its own download up again instead of starting another.

Both are plain JSON on the wire (``model_dump(mode="json")``); a newer field must default, so that a
progress written by an older provider version still reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from airflow_phrase.hooks.claims import RIVAL_LOOKBACK
from airflow_phrase.hooks.remote_files import RemoteFileVersion
from airflow_phrase.hooks.results import JobsOutcome, JobSummary

#: Key of the ingest operator's progress in the task state store.
PROGRESS_KEY = "phrase_ingest_progress"

#: Why jobs were not (all) created by this task: see ``PhraseIngestConnectorFileOperator``.
Reused = Literal["jobs", "partial", "download"]


class IngestPlan(BaseModel):
    """The run's decision for one file (plain JSON in the mapped task's kwargs).

    :ivar file: the file version, with Phrase's encoded names (no folder walk needed).
    :ivar version_after: the version's lower bound: jobs created earlier are of an older version. The
        file's ``lastModified``, or later when the run knows this version appeared later (a file whose
        ``lastModified`` went *back*, e.g. a revert, appeared after the previous run's listing).
    :ivar languages_checked: the run checked that the project has every target language.
    :ivar planned_at: when the run decided (for the log).
    :ivar existing_jobs: jobs the version already has for some of the target languages.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    file: RemoteFileVersion
    version_after: AwareDatetime | None = None
    languages_checked: bool = False
    planned_at: AwareDatetime | None = None
    #: Jobs this version already has for some target languages (only the others are created).
    existing_jobs: list[JobSummary] = Field(default_factory=list)


class IngestProgress(BaseModel):
    """Where one ingest stands (see the module docstring).

    ``stage``: ``"downloading"`` (waiting for the download task, ``download_task_id`` set),
    ``"importing"`` (jobs created, ``created`` set, waiting for the import) or ``"done"``.
    """

    model_config = ConfigDict(extra="ignore")

    stage: Literal["downloading", "importing", "done"] = "downloading"
    project_uid: str
    file: RemoteFileVersion
    version_after: AwareDatetime | None = None
    download_task_id: str | None = None
    download_created: AwareDatetime | None = None
    reused: Reused | None = None
    missing_langs: list[str] = Field(default_factory=list)
    existing_jobs: list[JobSummary] = Field(default_factory=list)
    created: JobsOutcome | None = None
    deadline: float | None = None

    def matches(self, project_uid: str, file: RemoteFileVersion) -> bool:
        """Whether this progress is about the same project, file and version (a stored progress of an
        earlier try may be about another file when the run's mapping changed, or an older version)."""
        return (
            self.project_uid == project_uid
            and self.file.file_key == file.file_key
            and self.file.version_key == file.version_key
        )

    def to_kwargs(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @property
    def file_label(self) -> str:
        return self.file.path


def listing_since(progress: IngestProgress) -> datetime | None:
    """The lower bound of a task listing that shows the download and the rivals worth seeing: from
    :data:`~airflow_phrase.hooks.claims.RIVAL_LOOKBACK` before the download (rivals are concurrent
    ingests), but not before the version's lower bound (older downloads are of an older version)."""
    if progress.download_created is None:
        return progress.version_after
    since = progress.download_created - RIVAL_LOOKBACK
    if progress.version_after is not None:
        since = min(max(since, progress.version_after), progress.download_created)
    return since


__all__ = ["PROGRESS_KEY", "IngestPlan", "IngestProgress", "Reused", "listing_since"]
