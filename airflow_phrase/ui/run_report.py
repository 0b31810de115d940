"""The one adapter between what an ingestion run records and what the Phrase view shows.

The view reads the ``summarize`` task's XCom ``ingestion_summary`` (the shape is documented in
``docs/ui.md``, built by :mod:`airflow_phrase.ingestion.summary`) and never looks inside it anywhere
else: if the summary's shape changes, this module is the only one to adapt. It turns the recorded
summary into :class:`RunReport`, the figures the page renders, with no I/O and no Airflow import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from airflow_phrase.ingestion.summary import FileOutcome, IngestionSummary
from airflow_phrase.ingestion.tasks import SUMMARY_KEY

#: Where a run records its summary (task id, XCom key).
SUMMARY_TASK_ID = "summarize"
SUMMARY_XCOM_KEY = SUMMARY_KEY

OUTCOME_LABELS = {
    "ingested": "ingested",
    "already_ingested": "already ingested (skipped)",
    "expected_failure": "expected failure",
    "unexpected_failure": "unexpected failure",
}


@dataclass(frozen=True)
class JobLine:
    uid: str
    path: str
    target_lang: str
    url: str | None
    #: ``imported``, ``import failed``, ``import not checked`` or ``already in Phrase``.
    status: str


@dataclass(frozen=True)
class FileLine:
    path: str
    outcome: str
    label: str
    task_state: str | None
    map_index: int
    languages: list[str]
    reason: str | None
    api_calls: int | None


@dataclass(frozen=True)
class LanguageBar:
    language: str
    imported: int = 0
    import_failed: int = 0
    not_checked: int = 0
    existing: int = 0

    @property
    def created(self) -> int:
        return self.imported + self.import_failed + self.not_checked


@dataclass(frozen=True)
class RunReport:
    """The figures of one ingestion run, as the Phrase view shows them."""

    project_uid: str
    connector: str
    folder: str
    window: str | None
    files_found: int | None
    files_selected: int
    outside_window: int
    filtered_by_pattern: int
    #: Why listed files were not selected (``IngestionSummary.set_aside``), e.g. ``["12 unchanged"]``.
    set_aside: list[str]
    ingested: int
    already_ingested: int
    expected_failures: int
    unexpected_failures: int
    jobs_created: int
    jobs_imported: int
    jobs_import_failed: int
    jobs_existing: int
    api_calls: int | None
    listing_api_calls: int | None
    phrase_url: str | None
    files: list[FileLine] = field(default_factory=list)
    jobs: list[JobLine] = field(default_factory=list)
    languages: list[LanguageBar] = field(default_factory=list)
    #: ``(task id, state)`` when the run stopped before ingesting anything.
    stopped_at: tuple[str, str | None] | None = None


@dataclass(frozen=True)
class TrendPoint:
    """One run of the overview's trend."""

    dag_id: str
    run_id: str
    when: str
    state: str | None
    files_selected: int | None
    jobs_created: int | None
    failures: int | None


def parse_summary(value: Any) -> IngestionSummary | None:
    """The recorded summary, or ``None`` when ``value`` is not one (another DAG's XCom, a newer shape)."""
    if not isinstance(value, Mapping):
        return None
    try:
        return IngestionSummary.model_validate(value)
    except ValidationError:
        return None


def _status(job_status: str | None) -> str:
    return {"OK": "imported", "ERROR": "import failed"}.get(job_status or "", "import not checked")


def _reason(outcome: FileOutcome) -> str | None:
    if outcome.succeeded:
        return None
    if outcome.failure is not None:
        return outcome.failure.describe()
    return f"the task ended {outcome.state or 'without running'}"


def _window(window: Mapping[str, str] | None) -> str | None:
    if not window:
        return None
    return f"{window.get('start')} .. {window.get('end')} ({window.get('source')})"


def run_report(summary: IngestionSummary) -> RunReport:
    """The figures of the run that recorded ``summary``."""
    stopped = (summary.stopped_at.task_id, summary.stopped_at.state) if summary.stopped_at else None
    counts = summary.counts
    jobs: list[JobLine] = []
    bars: dict[str, Counter[str]] = {}
    for outcome in summary.files:
        for job in outcome.created_jobs:
            status = _status(job.import_status)
            jobs.append(JobLine(job.uid, outcome.path, job.target_lang or "?", job.url, status))
            bars.setdefault(job.target_lang or "?", Counter())[status] += 1
        for job in outcome.existing_jobs:
            jobs.append(JobLine(job.uid, outcome.path, job.target_lang or "?", job.url, "already in Phrase"))
            bars.setdefault(job.target_lang or "?", Counter())["already in Phrase"] += 1
    created = [job for job in jobs if job.status != "already in Phrase"]
    files = [
        FileLine(
            path=outcome.path,
            outcome=outcome.outcome,
            label=OUTCOME_LABELS[outcome.outcome],
            task_state=outcome.state,
            map_index=outcome.map_index,
            languages=[job.target_lang or "?" for job in (outcome.jobs or outcome.failed_import_jobs)],
            reason=_reason(outcome),
            api_calls=outcome.api_calls,
        )
        for outcome in summary.files
    ]
    languages = [
        LanguageBar(
            language=lang,
            imported=counter["imported"],
            import_failed=counter["import failed"],
            not_checked=counter["import not checked"],
            existing=counter["already in Phrase"],
        )
        for lang, counter in sorted(bars.items())
    ]
    return RunReport(
        project_uid=summary.project_uid,
        connector=summary.connector,
        folder=summary.folder,
        window=_window(summary.window),
        files_found=counts.get("listed"),
        files_selected=counts.get("selected", len(summary.files)),
        outside_window=counts.get("outside_window", 0),
        filtered_by_pattern=counts.get("filtered_by_pattern", 0),
        set_aside=summary.set_aside(),
        ingested=len(summary.ingested),
        already_ingested=len(summary.already_ingested),
        expected_failures=len(summary.expected_failures),
        unexpected_failures=len(summary.unexpected_failures),
        jobs_created=len(created),
        jobs_imported=sum(1 for job in created if job.status == "imported"),
        jobs_import_failed=sum(1 for job in created if job.status == "import failed"),
        jobs_existing=len(jobs) - len(created),
        api_calls=summary.api_calls,
        listing_api_calls=summary.listing_api_calls,
        phrase_url=summary.phrase_url,
        files=files,
        jobs=jobs,
        languages=languages,
        stopped_at=stopped,
    )


def trend_point(dag_id: str, run_id: str, when: str, state: str | None, value: Any) -> TrendPoint:
    """One run of the overview (figures ``None`` when the run recorded no readable summary)."""
    summary = parse_summary(value)
    if summary is None or summary.stopped_at is not None:
        return TrendPoint(dag_id, run_id, when, state, None, None, None)
    report = run_report(summary)
    return TrendPoint(
        dag_id,
        run_id,
        when,
        state,
        report.files_selected,
        report.jobs_created,
        report.expected_failures + report.unexpected_failures,
    )


__all__ = [
    "SUMMARY_TASK_ID",
    "SUMMARY_XCOM_KEY",
    "FileLine",
    "JobLine",
    "LanguageBar",
    "RunReport",
    "TrendPoint",
    "parse_summary",
    "run_report",
    "trend_point",
]
