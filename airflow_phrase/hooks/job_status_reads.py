"""Which of some jobs are in some statuses, read the cheaper way: one plan for the sensor and the trigger.

Two reads of Phrase answer "which of these jobs are in these statuses":

* **the status listing**, ``GET /api2/v2/projects/{projectUid}/jobs?status=...&workflowLevel=N`` (50 jobs
  a page): every job of the project in the statuses, *including the project's whole history* (thousands
  of jobs completed long ago in a long-lived project);
* **the job search**, ``POST /api2/v1/projects/{projectUid}/jobs/search`` (50 uids a call): the waited
  jobs themselves, whatever their status.

:func:`status_reads` chooses per look: it reads page 0 of the listing; if that is the last page, that is
all (one call). Otherwise, if the listing's remaining pages outnumber the search calls the waited jobs
not on page 0 need (``ceil(n / 50)``), it searches for them instead of reading on. So a look costs at
most ``1 + ceil(waited / 50)`` calls, and one call while few jobs of the project have ended, whatever
the project's history. A job in neither answer (not ended, or unknown to Phrase) is still on its way.

The plan does no I/O (a generator that yields :class:`ListingPage` / :class:`SearchChunk` and is sent
the answers): the hook drives it with requests (the sensor's poke) and with aiohttp (the triggers'
shared poller), so both look alike by construction.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Generator, Sequence
from dataclasses import dataclass
from typing import Union

from airflow_phrase.models import MAX_SEARCH_JOBS, JobPart, JobPartsPage, JobPartV2

#: ``pageSize`` of the status listing (Phrase's maximum for list jobs v2).
LISTING_PAGE_SIZE = 50


@dataclass(frozen=True)
class ListingPage:
    """Read page ``page_number`` of the status listing (list jobs v2, :data:`LISTING_PAGE_SIZE` a page)."""

    page_number: int


@dataclass(frozen=True)
class SearchChunk:
    """Look these jobs up (job search; 1 to :data:`~airflow_phrase.models.MAX_SEARCH_JOBS` uids)."""

    job_uids: tuple[str, ...]


StatusRead = Union[ListingPage, SearchChunk]  # noqa: UP007
#: What a read answers: a listing page (its jobs already carry the listed level), or the jobs found.
StatusAnswer = Union[JobPartsPage, list[JobPart]]  # noqa: UP007
StatusReads = Generator[StatusRead, StatusAnswer, dict[str, JobPartV2]]


def is_last_page(page_number: int, total_pages: int, received: int, page_size: int) -> bool:
    """Whether page ``page_number`` of a Phrase listing is its last (``totalPages``, else a short page)."""
    if received == 0:
        return True
    if total_pages > 0:
        return page_number + 1 >= total_pages
    return received < page_size  # no paging fields: a short page is the last one


def search_calls(job_count: int) -> int:
    """Job-search calls needed for ``job_count`` jobs (``ceil(job_count / 50)``)."""
    return math.ceil(job_count / MAX_SEARCH_JOBS)


def status_reads(
    job_uids: Collection[str] | None, *, statuses: Sequence[str], workflow_level: int | None
) -> StatusReads:
    """The plan of one look: yields the reads, returns the waited jobs' (and page 0's) jobs by uid.

    ``job_uids``: the jobs waited for (``None``: unknown, so every listing page is read). ``statuses``:
    the listing's ``status`` filter; ``workflow_level`` its ``workflowLevel`` (``None``: Phrase's 1). A
    job found by the search counts only if it is in ``statuses`` at that level, as the listing would
    have shown it. Every job returned is a :class:`~airflow_phrase.models.JobPartV2` with
    ``workflow_level`` set.
    """
    level = workflow_level if workflow_level is not None else 1
    page = yield ListingPage(0)
    assert isinstance(page, JobPartsPage)
    jobs = {job.uid: job for job in page.content}
    if is_last_page(0, page.total_pages, len(page.content), LISTING_PAGE_SIZE):
        return jobs
    if job_uids is not None:
        rest = sorted(set(job_uids) - jobs.keys())
        pages_left = page.total_pages - 1 if page.total_pages > 0 else math.inf  # unknown: maybe many
        if pages_left > search_calls(len(rest)):
            wanted = set(statuses)
            for start in range(0, len(rest), MAX_SEARCH_JOBS):
                found = yield SearchChunk(tuple(rest[start : start + MAX_SEARCH_JOBS]))
                assert isinstance(found, list)
                for job in found:
                    if job.status in wanted and job.workflow_level in (None, level):
                        item = job.as_list_item()
                        jobs[item.uid] = item.listed_at_level(level)
            return jobs
    page_number = 1
    while True:
        page = yield ListingPage(page_number)
        assert isinstance(page, JobPartsPage)
        jobs.update((job.uid, job) for job in page.content)
        if is_last_page(page_number, page.total_pages, len(page.content), LISTING_PAGE_SIZE):
            return jobs
        page_number += 1


__all__ = [
    "LISTING_PAGE_SIZE",
    "ListingPage",
    "SearchChunk",
    "StatusAnswer",
    "StatusRead",
    "StatusReads",
    "is_last_page",
    "search_calls",
    "status_reads",
]
