"""The plan that chooses between the status listing and the job search (no I/O: answers are given)."""

from __future__ import annotations

from typing import Any

from airflow_phrase.hooks.job_status_reads import ListingPage, SearchChunk, StatusReads, status_reads
from airflow_phrase.models import JobPart, JobPartsPage

STATUSES = ("CANCELLED", "COMPLETED", "DECLINED", "REJECTED")


def page(total_pages: int, *uids: str, status: str = "COMPLETED") -> JobPartsPage:
    return JobPartsPage.model_validate(
        {"totalPages": total_pages, "content": [{"uid": uid, "status": status} for uid in uids]}
    ).listed_at_level(None)


def run(reads: StatusReads, answer: Any) -> tuple[list[Any], dict[str, Any]]:
    """Drive the plan; returns the reads it asked for and its result."""
    asked: list[Any] = []
    try:
        read = next(reads)
        while True:
            asked.append(read)
            read = reads.send(answer(read))
    except StopIteration as done:
        return asked, done.value


def test_one_page_is_one_read() -> None:
    asked, jobs = run(
        status_reads(["j1"], statuses=STATUSES, workflow_level=None), lambda read: page(1, "j1")
    )
    assert asked == [ListingPage(0)]
    assert jobs["j1"].status == "COMPLETED" and jobs["j1"].workflow_level == 1


def test_a_long_listing_is_replaced_by_a_search_for_the_jobs_not_on_page_zero() -> None:
    history = [f"old{n}" for n in range(50)]
    wanted = ["old3", *(f"w{n}" for n in range(60))]
    found = [
        JobPart.model_validate({"uid": "w1", "status": "COMPLETED", "workflowLevel": 2}),
        JobPart.model_validate({"uid": "w2", "status": "NEW", "workflowLevel": 2}),  # not ended
        JobPart.model_validate({"uid": "w3", "status": "CANCELLED", "workflowLevel": 1}),  # other level
        JobPart.model_validate({"uid": "w4", "status": "DECLINED"}),  # level not said
    ]

    def answer(read: Any) -> Any:
        return (
            page(200, *history) if isinstance(read, ListingPage) else (found if "w1" in read.job_uids else [])
        )

    asked, jobs = run(status_reads(wanted, statuses=STATUSES, workflow_level=2), answer)

    assert asked[0] == ListingPage(0)
    assert [len(read.job_uids) for read in asked[1:] if isinstance(read, SearchChunk)] == [50, 10]
    assert "old3" not in {uid for read in asked[1:] for uid in read.job_uids}  # page 0 had it
    assert {"w1", "w4"} <= jobs.keys() and not {"w2", "w3"} & jobs.keys()
    assert jobs["w1"].workflow_level == 2 and jobs["w4"].workflow_level == 2


def test_the_rest_of_a_listing_is_read_when_it_is_no_longer_than_the_search() -> None:
    wanted = [f"w{n}" for n in range(60)]  # two search calls
    pages = {0: page(3, *(f"a{n}" for n in range(50))), 1: page(3, "w5"), 2: page(3, "w7", status="REJECTED")}

    asked, jobs = run(
        status_reads(wanted, statuses=STATUSES, workflow_level=None), lambda read: pages[read.page_number]
    )

    assert asked == [ListingPage(0), ListingPage(1), ListingPage(2)]
    assert jobs["w7"].status == "REJECTED" and "w5" in jobs


def test_without_the_waited_jobs_every_page_is_read() -> None:
    pages = {n: page(4, f"p{n}") for n in range(4)}
    asked, jobs = run(
        status_reads(None, statuses=STATUSES, workflow_level=None), lambda r: pages[r.page_number]
    )
    assert asked == [ListingPage(n) for n in range(4)] and len(jobs) == 4
