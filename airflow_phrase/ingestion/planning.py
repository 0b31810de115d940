"""Deciding once per run, from Phrase's record, what each selected file needs.

The ``list_files`` step of the ingestion DAGs lists the connector folder once, selects files (by change
detection, see :mod:`airflow_phrase.ingestion.baseline`, or by the manual form's choice), then reconciles
the selection with Phrase in a few calls for the whole run:

1. the project is read once: every target language must be one of its languages (else the run fails
   before anything is downloaded, naming the languages);
2. the project's connector download tasks since the oldest selected version are listed once
   (``GET /api2/v1/connectorAsyncTasks``, 1000 a page): a download of a file of the same name, created
   after the version appeared and used to create jobs (``jobUid`` set), is Phrase's record that this
   version was ingested;
3. only where that record cannot settle it (the name is shared by several files of the folder, the
   target languages grew since the baseline was recorded, the version is older than the task listing
   reaches), the file's jobs are looked up (list jobs by file name: a call or two for that file).

Each file ends up *ingested* (not mapped: the summary reports it as already ingested) or *to ingest*, with
an :class:`~airflow_phrase.operators.ingest_state.IngestPlan` (encoded names, version, the version's lower
bound, the jobs some languages already have) for its mapped ingest task, which then only downloads, waits,
creates and waits for the import.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from airflow_phrase.hooks.remote_files import as_utc, normalized_name, same_name
from airflow_phrase.hooks.results import JobSummary
from airflow_phrase.ingestion.baseline import Baseline
from airflow_phrase.ingestion.selection import ConnectorFile, matches_patterns, sort_files
from airflow_phrase.ingestion.window import IngestionWindow
from airflow_phrase.languages import normalise_language

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.models import ConnectorTaskState

log = logging.getLogger(__name__)

#: The task listing reaches back at most this far; older versions are checked by their jobs.
EVIDENCE_HORIZON = timedelta(days=7)
#: Margin before the oldest version's lower bound (Phrase's dates have second precision; clock skew).
EVIDENCE_MARGIN = timedelta(minutes=5)

Why = Literal["new", "changed", "initial look-back", "window", "chosen"]


class Candidate(BaseModel):
    """A selected file and why, with its version's lower bound (jobs created earlier are older)."""

    model_config = ConfigDict(frozen=True)

    file: ConnectorFile
    why: Why
    version_after: AwareDatetime | None


class ChangeSelection(BaseModel):
    """The files a run considers, and what was set aside (counts for the report)."""

    model_config = ConfigDict(frozen=True)

    candidates: list[Candidate]
    #: Every file that passed the patterns (what the next baseline records).
    considered: list[ConnectorFile]
    listed: int
    filtered_by_pattern: int = 0
    unchanged: int = 0
    older_than_lookback: int = 0
    without_timestamp: int = 0


def select_changes(
    files: Sequence[ConnectorFile],
    *,
    baseline: Baseline | None,
    now: datetime,
    initial_lookback: timedelta,
    window: IngestionWindow | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> ChangeSelection:
    """The files new to the pipeline or changed since ``baseline``, plus those modified in ``window``.

    Without a baseline (a first run): the files modified within ``initial_lookback`` before ``now``.
    The lower bound of a changed file's version is the later of its ``lastModified`` and the moment the
    baseline was recorded (the jobs the runs before made are of versions the baseline saw, even when the
    changed version's ``lastModified`` is older, e.g. a revert); of a new file its ``lastModified``.
    """
    listed = sort_files(files)
    considered = [f for f in listed if matches_patterns(f.relative_path, include, exclude)]
    candidates: list[Candidate] = []
    unchanged = older = undated = 0
    for file in considered:
        modified = as_utc(file.last_modified)
        in_window = window is not None and modified is not None and window.contains(modified)
        if baseline is None:
            if modified is None:
                undated += 1
            elif modified >= now - initial_lookback:
                candidates.append(Candidate(file=file, why="initial look-back", version_after=modified))
                continue
            elif not in_window:
                older += 1
        else:
            recorded = baseline.version_of(file)
            if recorded is None:
                candidates.append(Candidate(file=file, why="new", version_after=modified))
                continue
            if recorded != file.version.version_key:
                bound = max(filter(None, [modified, baseline.jobs_before]))
                candidates.append(Candidate(file=file, why="changed", version_after=bound))
                continue
            if not in_window:
                unchanged += 1
        if in_window:
            candidates.append(Candidate(file=file, why="window", version_after=modified))
    return ChangeSelection(
        candidates=candidates,
        considered=considered,
        listed=len(listed),
        filtered_by_pattern=len(listed) - len(considered),
        unchanged=unchanged,
        older_than_lookback=older,
        without_timestamp=undated,
    )


# ------------------------------------------------------------------------------------ Phrase's record


class FileDecision(BaseModel):
    """What one selected file needs."""

    model_config = ConfigDict(frozen=True)

    candidate: Candidate
    decision: Literal["ingest", "ingested"]
    #: How it was decided: "task listing" (a used download of this version), "jobs lookup", "nothing found".
    evidence: str
    #: Jobs this version already has (for "ingested", or the languages a partial ingest need not create).
    existing_jobs: list[JobSummary] = Field(default_factory=list)
    #: The download task whose use is Phrase's record of the ingest (with evidence "task listing").
    download_task_id: str | None = None


def check_project_languages(
    hook: PhraseTmsHook, project_uid: str, target_langs: Sequence[str], *, task_id: str = "list_files"
) -> None:
    """Fail (no retries) when the project does not exist or lacks some target language: before anything
    is downloaded (the operators' rule, :func:`airflow_phrase.operators.params.check_project_languages`)."""
    from airflow_phrase.operators.params import check_project_languages as check

    check(hook, project_uid, target_langs, task_id, fix="check the settings")


def reconcile(
    hook: PhraseTmsHook,
    project_uid: str,
    candidates: Sequence[Candidate],
    *,
    target_langs: Sequence[str],
    all_names: Sequence[str],
    trusted_langs: Sequence[str] | None,
    now: datetime,
) -> list[FileDecision]:
    """Decide each candidate against Phrase's record (see the module docstring).

    ``all_names``: every file name of the listing (a name listed twice cannot be told apart in the task
    listing, which names no folder). ``trusted_langs``: the target languages a used download of this
    source is known to have covered (the baseline's), ``None`` when unknown: then a used download only
    says *some* jobs exist and the file's jobs are looked up.
    """
    if not candidates:
        return []
    name_counts = Counter(normalized_name(name) for name in all_names)
    horizon = now - EVIDENCE_HORIZON
    bounds = [c.version_after for c in candidates if c.version_after is not None]
    since = max(min(bounds), horizon) - EVIDENCE_MARGIN if bounds else horizon
    used = [
        state
        for state in hook.iter_connector_task_states(
            project_uid, task_types=("DOWNLOAD",), processing_types=None, date_created_from=since
        )
        if state.job_uid
    ]
    wanted = {normalise_language(lang) for lang in target_langs}
    langs_trusted = trusted_langs is not None and wanted <= {normalise_language(x) for x in trusted_langs}
    decisions = []
    for candidate in candidates:
        decisions.append(
            _decide(
                hook,
                project_uid,
                candidate,
                used,
                target_langs=target_langs,
                unique_name=name_counts[normalized_name(candidate.file.name)] == 1,
                langs_trusted=langs_trusted,
                horizon=horizon,
            )
        )
    return decisions


def _decide(
    hook: PhraseTmsHook,
    project_uid: str,
    candidate: Candidate,
    used: Sequence[ConnectorTaskState],
    *,
    target_langs: Sequence[str],
    unique_name: bool,
    langs_trusted: bool,
    horizon: datetime,
) -> FileDecision:
    from airflow_phrase.hooks.job_matching import missing_languages

    file, bound = candidate.file, candidate.version_after
    if bound is None:
        return FileDecision(candidate=candidate, decision="ingest", evidence="no lastModified")
    evidence = [
        state
        for state in used
        if same_name(state.job_file_name, file.name)
        and (created := as_utc(state.date_created)) is not None
        and created >= bound
    ]
    if evidence and unique_name and langs_trusted:
        newest = max(evidence, key=lambda state: as_utc(state.date_created) or bound)
        return FileDecision(
            candidate=candidate,
            decision="ingested",
            evidence="task listing",
            download_task_id=newest.id,
        )
    if not evidence and bound >= horizon:
        return FileDecision(candidate=candidate, decision="ingest", evidence="nothing found")
    jobs = hook.find_version_jobs(project_uid, file.version, target_langs, created_after=bound)
    missing = missing_languages(target_langs, jobs)
    return FileDecision(
        candidate=candidate,
        decision="ingested" if not missing else "ingest",
        evidence="jobs lookup",
        existing_jobs=jobs,
    )


__all__ = [
    "Candidate",
    "ChangeSelection",
    "FileDecision",
    "check_project_languages",
    "reconcile",
    "select_changes",
]
