"""The report of one ingestion run: files, jobs per language, failures, and the Asset events to emit.

Built by the ``summarize`` task from the selected files, each mapped ingest task's state, return value,
recorded failure (see :mod:`airflow_phrase.ingestion.failures`) and API call count. Plain JSON goes to
XCom (key ``ingestion_summary`` of ``summarize``, also its return value): it is what the UI's Phrase view
shows (``docs/ui.md`` documents the shape); the same model renders the text table the task logs and
``make demo`` prints.

Every job the run created is counted, with its import outcome: the jobs of ingested files (imported,
``import_status="OK"``, when the ingest task waited for the import) and those of a file whose import
failed (``"ERROR"``). Only the imported new jobs are announced by the Asset event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from airflow_phrase.ingestion.failures import FileFailure, recorded_failure

#: Name of the Asset alias the ingestion DAG emits through; the report DAG is scheduled on it.
NEW_JOBS_ASSET_ALIAS = "phrase_tms_new_jobs"


#: Version of the summary's XCom shape (``docs/ui.md``); bumped on an incompatible change.
SUMMARY_SCHEMA_VERSION = 2


class JobRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    uid: str
    target_lang: str | None = None
    filename: str | None = None
    #: Link to the job in Phrase's web app.
    url: str | None = None
    #: ``"OK"``: imported; ``"ERROR"``: Phrase created the job but could not import the file; ``None``:
    #: not checked (the ingest task did not wait for the import).
    import_status: str | None = None


class FileOutcome(BaseModel):
    """What happened to one selected file."""

    model_config = ConfigDict(frozen=True)

    path: str
    map_index: int
    state: str | None
    #: Every job of the file's version for the requested languages (new and existing).
    jobs: list[JobRef] = Field(default_factory=list)
    #: ``"jobs"``: this version was already in Phrase (nothing created); ``"partial"``: some languages
    #: had jobs, the others' were created now; ``"download"``: an earlier try's download was reused;
    #: ``None``: downloaded and created now.
    reused: str | None = None
    #: The uids of ``jobs`` created by this run (the ingest result's ``new_job_uids``); ``None`` for a
    #: result without that list (an older provider): then every job is new unless ``reused="jobs"``.
    new_job_uids: list[str] | None = None
    failure: FileFailure | None = None
    #: Phrase API calls the file's ingest task made from workers (its last try); ``None``: not recorded.
    api_calls: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == "success"

    @property
    def already_ingested(self) -> bool:
        """Succeeded without creating anything: this version of the file was already in Phrase."""
        return self.succeeded and (self.reused == "jobs" or (bool(self.jobs) and not self.new_jobs))

    @property
    def outcome(self) -> str:
        """``ingested``, ``already_ingested``, ``expected_failure`` or ``unexpected_failure``."""
        if self.succeeded:
            return "already_ingested" if self.already_ingested else "ingested"
        if self.failure is not None and self.failure.expected:
            return "expected_failure"
        return "unexpected_failure"

    @property
    def failed_import_jobs(self) -> list[JobRef]:
        """The jobs Phrase created for the file before their import failed (``import_status="ERROR"``)."""
        if self.failure is None:
            return []
        return [
            JobRef(
                uid=str(job["uid"]),
                target_lang=job.get("targetLang"),
                filename=self.path.rsplit("/", 1)[-1],
                url=job.get("url"),
                import_status="ERROR",
            )
            for job in self.failure.jobs
            if job.get("uid")
        ]

    @property
    def created_jobs(self) -> list[JobRef]:
        """Every job this run created for the file: the new ones, and those whose import failed."""
        created_now = (
            {str(job["uid"]) for job in self.failure.jobs if job.get("created_now")}
            if self.failure
            else set()
        )
        return [*self.new_jobs, *(job for job in self.failed_import_jobs if job.uid in created_now)]

    @property
    def new_jobs(self) -> list[JobRef]:
        """The jobs this run created for the file (none for a failed file or an ingested version)."""
        if not self.succeeded or self.reused == "jobs":
            return []
        if self.new_job_uids is None:
            return self.jobs
        new = set(self.new_job_uids)
        return [job for job in self.jobs if job.uid in new]

    @property
    def existing_jobs(self) -> list[JobRef]:
        """The jobs of the file that were in Phrase before this run (reported, not new)."""
        if not self.succeeded:
            return []
        new = {job.uid for job in self.new_jobs}
        return [job for job in self.jobs if job.uid not in new]


#: The ``counts`` keys of listed files that were not selected, with how a report names them.
SET_ASIDE_LABELS: tuple[tuple[str, str], ...] = (
    ("unchanged", "unchanged"),
    ("older_than_lookback", "older than the look-back"),
    ("outside_window", "outside the window"),
    ("without_timestamp", "without lastModified"),
    ("filtered_by_pattern", "filtered by pattern"),
    ("delivered_translations", "translations delivered by Phrase"),
)


class StoppedAt(BaseModel):
    """The task that failed before anything could be ingested (the rest of the run did not run)."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    state: str | None


class IngestionSummary(BaseModel):
    """The run's report (``IngestionSummary.model_validate(xcom_value)`` reads it back)."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = SUMMARY_SCHEMA_VERSION
    project_uid: str
    connector: str
    folder: str
    window: dict[str, str] | None = None
    #: Change detection (scheduled DAG): ``{"previous": ISO time of the baseline listing, or None on a
    #: first run, "initial_lookback_hours": float}``; ``None`` for a manual run.
    changes: dict[str, Any] | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    files: list[FileOutcome] = Field(default_factory=list)
    #: Phrase API calls of the listing task (``None``: not recorded).
    listing_api_calls: int | None = None
    #: Phrase's web app base URL of the run's connection (for links), e.g. ``https://cloud.memsource.com/web``.
    phrase_url: str | None = None
    #: Set when the run stopped before ingesting (validation or listing failed): which task, and its state.
    stopped_at: StoppedAt | None = None

    @property
    def succeeded(self) -> list[FileOutcome]:
        return [f for f in self.files if f.succeeded]

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if not f.succeeded]

    @property
    def expected_failures(self) -> list[FileOutcome]:
        return [f for f in self.failed if f.failure is not None and f.failure.expected]

    @property
    def unexpected_failures(self) -> list[FileOutcome]:
        return [f for f in self.failed if f.failure is None or not f.failure.expected]

    @property
    def ingested(self) -> list[FileOutcome]:
        """Files this run ingested (jobs created now for at least one language)."""
        return [f for f in self.succeeded if not f.already_ingested]

    @property
    def already_ingested(self) -> list[FileOutcome]:
        """Files skipped because their current version was already in Phrase."""
        return [f for f in self.succeeded if f.already_ingested]

    def created_jobs(self) -> list[JobRef]:
        """Every job this run created, file by file, with its import status (``"ERROR"``: import failed)."""
        return [job for outcome in self.files for job in outcome.created_jobs]

    @property
    def api_calls(self) -> int | None:
        """Phrase API calls the run's tasks made from workers (``None``: none recorded)."""
        counts = [self.listing_api_calls, *(f.api_calls for f in self.files)]
        known = [count for count in counts if count is not None]
        return sum(known) if known else None

    def jobs_by_language(self, *, new_only: bool = False) -> dict[str, list[str]]:
        """``{target_lang: [job uids]}``, languages sorted, uids in file order."""
        by_lang: dict[str, list[str]] = {}
        for outcome in self.succeeded:
            for job in outcome.new_jobs if new_only else outcome.jobs:
                by_lang.setdefault(job.target_lang or "?", []).append(job.uid)
        return dict(sorted(by_lang.items()))

    def new_job_refs(self) -> list[JobRef]:
        """The jobs this run created, file by file (what the Asset event announces)."""
        return [job for outcome in self.succeeded for job in outcome.new_jobs]

    def existing_job_refs(self) -> list[JobRef]:
        """The jobs of the ingested files that were in Phrase before this run."""
        return [job for outcome in self.succeeded for job in outcome.existing_jobs]

    def set_aside(self) -> list[str]:
        """Why listed files were not selected, e.g. ``["12 unchanged", "2 filtered by pattern"]``."""
        return [f"{self.counts[key]} {label}" for key, label in SET_ASIDE_LABELS if self.counts.get(key)]

    def failure_message(self) -> str:
        """Why the run fails (only meaningful when there are unexpected failures)."""
        lines = [f"{len(self.unexpected_failures)} file(s) failed unexpectedly:"]
        for outcome in self.unexpected_failures:
            reason = outcome.failure.describe() if outcome.failure else f"task ended {outcome.state}"
            lines.append(f"  - {outcome.path} (map index {outcome.map_index}): {reason}")
        return "\n".join(lines)


def _jobs_of(result: Mapping[str, Any] | None, job_url: Callable[[str], str | None]) -> list[JobRef]:
    if not result:
        return []
    imported = "OK" if result.get("import_checked") else None
    return [
        JobRef(
            uid=job["uid"],
            target_lang=job.get("targetLang"),
            filename=job.get("filename"),
            url=job_url(str(job["uid"])),
            import_status=imported,
        )
        for job in result.get("jobs") or []
        if job.get("uid")
    ]


def _no_url(uid: str) -> str | None:
    return None


def _new_job_uids(result: Mapping[str, Any] | None) -> list[str] | None:
    uids = (result or {}).get("new_job_uids")
    return [str(uid) for uid in uids] if isinstance(uids, list) else None


def build_summary(
    *,
    selection: Mapping[str, Any],
    states: Mapping[int, str | None],
    results: Sequence[Mapping[str, Any] | None],
    failures: Sequence[Any],
    api_calls: Sequence[int | None] = (),
    listing_api_calls: int | None = None,
    phrase_url: str | None = None,
    job_url: Callable[[str], str | None] = _no_url,
) -> IngestionSummary:
    """Combine the listing task's ``selection`` with each mapped task's state, result and failure.

    ``results``, ``failures`` and ``api_calls`` are indexed by map index (``None`` where a task pushed
    nothing). A task that did not succeed and recorded no failure counts as an unexpected failure (a
    skipped one as ``skipped``, expected). ``job_url(uid)`` links a job in Phrase.
    """
    outcomes: list[FileOutcome] = []
    for index, record in enumerate(selection.get("files") or []):
        state = states.get(index)
        result = results[index] if index < len(results) else None
        failure = None
        if state != "success":
            raw = failures[index] if index < len(failures) else None
            if state in ("failed", "skipped") or raw is not None:
                failure = recorded_failure(raw, state=state)
        succeeded = state == "success"
        if failure is not None and failure.jobs:
            failure = failure.model_copy(
                update={
                    "jobs": [
                        {**job, "url": job.get("url") or job_url(str(job.get("uid")))} for job in failure.jobs
                    ]
                }
            )
        outcomes.append(
            FileOutcome(
                path=record["path"],
                map_index=index,
                state=state,
                jobs=_jobs_of(result, job_url) if succeeded else [],
                reused=(result or {}).get("reused") if succeeded else None,
                new_job_uids=_new_job_uids(result) if succeeded else None,
                failure=failure,
                api_calls=api_calls[index] if index < len(api_calls) else None,
            )
        )
    for record in selection.get("already_ingested") or []:
        outcomes.append(
            FileOutcome(
                path=record["path"],
                map_index=-1,
                state="success",
                jobs=_jobs_of(record, job_url),
                reused="jobs",
                new_job_uids=[],
            )
        )
    settings = selection.get("settings") or {}
    baseline = selection.get("baseline")
    changes = (
        {
            "previous": baseline.get("previous"),
            "initial_lookback_hours": settings.get("initial_lookback_hours"),
        }
        if isinstance(baseline, Mapping)
        else None
    )
    return IngestionSummary(
        project_uid=settings.get("project_uid", "?"),
        connector=str(selection.get("connector_id") or settings.get("connector", "?")),
        folder=settings.get("folder", "?"),
        window=selection.get("window"),
        changes=changes,
        counts=selection.get("counts") or {},
        files=outcomes,
        listing_api_calls=listing_api_calls,
        phrase_url=phrase_url,
    )


def stopped_summary(task_id: str, state: str | None) -> IngestionSummary:
    """The summary of a run that stopped before ingesting: ``task_id`` ended ``state``."""
    return IngestionSummary(
        project_uid="?", connector="?", folder="?", stopped_at=StoppedAt(task_id=task_id, state=state)
    )


def project_asset_uri(web_app_url: str, project_uid: str) -> str:
    """``phrase://<host[:port]>/projects/<projectUid>``: the Asset a project's new jobs update.

    The host is that of the connection's Phrase base URL (``cloud.memsource.com`` for the EU data
    centre, ``us.cloud.memsource.com`` for the US one, ``127.0.0.1:PORT`` for the emulator), so the same
    project uid on two Phrase instances is two Assets.
    """
    host = urlsplit(web_app_url).netloc.rsplit("@", 1)[-1].lower()
    return f"phrase://{host}/projects/{project_uid}"


def asset_event_extra(summary: IngestionSummary, *, run_id: str | None = None) -> dict[str, Any]:
    """The extra of the Asset event for the project's new jobs (plain JSON, no secrets)."""
    jobs = summary.new_job_refs()
    return {
        "project_uid": summary.project_uid,
        "job_uids": [job.uid for job in jobs],
        "jobs": [{"uid": j.uid, "targetLang": j.target_lang, "filename": j.filename} for j in jobs],
        "source_run_id": run_id,
    }


# ---------------------------------------------------------------------------------------------- text


def text_table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _moment(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def _result_cell(outcome: FileOutcome) -> str:
    """``ingested`` / ``already ingested`` / ``ingested (1 of 3 jobs new)`` of a succeeded file."""
    new, total = len(outcome.new_jobs), len(outcome.jobs)
    if outcome.already_ingested:
        return "already ingested"
    if new < total:
        return f"ingested ({new} of {total} jobs new)"
    return "ingested"


def render_summary(summary: IngestionSummary, *, api_calls: Mapping[str, int] | None = None) -> str:
    """A short, aligned text report. ``api_calls`` (path → number of Phrase API calls) adds a column;
    without it, the calls the tasks recorded are shown (when they recorded any)."""
    if summary.stopped_at is not None:
        stop = summary.stopped_at
        return (
            f"Nothing was ingested: task {stop.task_id!r} ended {stop.state}; see that task's log "
            "(the tasks after it did not run)."
        )
    recorded = api_calls is None and summary.api_calls is not None
    if recorded:
        api_calls = {f.path: f.api_calls or 0 for f in summary.files}
    lines: list[str] = []
    counts = summary.counts
    if summary.changes is not None:
        previous = summary.changes.get("previous")
        if previous:
            lines.append(
                f"Changes       new or changed since the last good run (folder listed {_moment(previous)})"
            )
        else:
            hours = summary.changes.get("initial_lookback_hours")
            lines.append(
                f"Changes       first run: the files modified in the last {hours:g} h (initial look-back)"
            )
    if summary.window:
        window = summary.window
        lines.append(
            f"Window        {_moment(window['start'])} .. {_moment(window['end'])} ({window['source']})"
        )
    lines.append(
        f"Source        connector {summary.connector}, folder {summary.folder!r} -> project "
        f"{summary.project_uid}"
    )
    if counts:
        set_aside = summary.set_aside()
        lines.append(
            f"Files         {counts.get('listed', 0)} listed, {counts.get('selected', len(summary.files))} "
            f"selected ({', '.join(set_aside) or 'none set aside'}); "
            f"{counts.get('already_ingested', 0)} already in Phrase"
        )
    lines.append(
        f"Outcome       {len(summary.ingested)} ingested, {len(summary.already_ingested)} already "
        f"ingested, {len(summary.expected_failures)} expected failure(s), "
        f"{len(summary.unexpected_failures)} unexpected"
    )
    created, existing_jobs = summary.created_jobs(), summary.existing_job_refs()
    if created or existing_jobs:
        import_errors = sum(1 for job in created if job.import_status == "ERROR")
        detail = (
            f" ({len(created) - import_errors} imported, {import_errors} import failed)"
            if import_errors
            else ""
        )
        lines.append(f"Jobs          {len(created)} created{detail}, {len(existing_jobs)} already in Phrase")
    if recorded:
        listing = f" ({summary.listing_api_calls} to list the folder)" if summary.listing_api_calls else ""
        lines.append(
            f"API calls     {summary.api_calls} from the tasks{listing}; triggerer polls not included"
        )
    if summary.files:
        lines.append("")
        header = ["file", "result", "jobs"] + (["API calls"] if api_calls is not None else [])
        rows = [header]
        for outcome in summary.files:
            if outcome.succeeded:
                result, jobs = _result_cell(outcome), ", ".join(f"{j.target_lang}" for j in outcome.jobs)
            else:
                expected = outcome.failure is not None and outcome.failure.expected
                result = f"{outcome.state or 'not run'} (expected)" if expected else "FAILED"
                jobs = (
                    ", ".join(f"{j.target_lang} (import failed)" for j in outcome.failed_import_jobs) or "-"
                )
            row = [outcome.path, result, jobs]
            if api_calls is not None:
                row.append(str(api_calls.get(outcome.path, 0)))
            rows.append(row)
        lines.extend(text_table(rows))
    by_lang = summary.jobs_by_language(new_only=True)
    if by_lang:
        lines.append("")
        lines.append("New jobs per language")
        lines.extend(text_table([[lang, f"{len(uids)}", ", ".join(uids)] for lang, uids in by_lang.items()]))
    if summary.failed:
        lines.append("")
        lines.append("Failures")
        for outcome in summary.failed:
            kind = "expected" if outcome.failure and outcome.failure.expected else "UNEXPECTED"
            reason = outcome.failure.describe() if outcome.failure else f"task ended {outcome.state}"
            lines.append(f"  {outcome.path} [{kind}]")
            lines.append(f"      {reason}")
    return "\n".join(lines)
