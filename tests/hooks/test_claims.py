"""Which of several downloads of one file version may create its jobs (airflow_phrase.hooks.claims)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_phrase.hooks.claims import check_claim, claim_order
from airflow_phrase.models import ConnectorTaskState

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
VERSION_AFTER = NOW - timedelta(hours=1)


def state(
    task_id: str, status: str = "SUCCESS", *, name: str = "install.md", **fields: Any
) -> ConnectorTaskState:
    fields.setdefault("dateCreated", (NOW - timedelta(minutes=5)).isoformat())
    fields.setdefault("dateProcessed", (NOW - timedelta(minutes=4)).isoformat())
    return ConnectorTaskState.model_validate({"id": task_id, "status": status, "jobFileName": name, **fields})


def check(own: ConnectorTaskState, *others: ConnectorTaskState, **kwargs: Any) -> Any:
    listed = {s.id: s for s in (own, *others)}
    return check_claim(own, listed, file_name="install.md", version_after=VERSION_AFTER, now=NOW, **kwargs)


def ids(states: list[ConnectorTaskState]) -> list[str]:
    return [s.id for s in states]


def test_no_rival_means_clear() -> None:
    result = check(state("310005"), state("310001", name="other.md"))

    assert result.clear and result.used == [] and result.pending == []


def test_an_earlier_unused_download_of_the_same_file_is_waited_for() -> None:
    result = check(state("310005"), state("310002"), state("310003", "NEW"))

    assert not result.clear
    assert ids(result.pending) == ["310002", "310003"]


def test_a_later_download_never_makes_an_earlier_one_wait() -> None:
    result = check(state("310002"), state("310005"), state("310006", "NEW"))

    assert result.clear  # the earliest claim goes first; the others wait for it


def test_a_used_rival_asks_for_a_look_at_the_versions_jobs_whatever_its_id() -> None:
    result = check(state("310005"), state("310002", jobUid="j1"), state("310009", jobUid="j2"))

    assert result.clear
    assert ids(result.used) == ["310002", "310009"]


def test_failed_old_other_named_and_unknown_rivals_do_not_count() -> None:
    result = check(
        state("310005"),
        state("310001", "ERROR"),
        state("310002", "CONVERTER_ERROR"),
        state("310003", dateCreated=(VERSION_AFTER - timedelta(minutes=1)).isoformat()),  # an older version
        state("310004", name="README.md"),
        state("310000", "CANCELLED"),  # a status this provider does not know, processed: ended, no claim
    )

    assert result.clear and result.used == [] and result.pending == []


def test_names_are_compared_normalized() -> None:
    decomposed = "u\u0308bersicht.md"
    own = state("310005", name="übersicht.md")
    listed = {own.id: own, "310001": state("310001", name=decomposed)}

    result = check_claim(own, listed, file_name="übersicht.md", version_after=VERSION_AFTER, now=NOW)

    assert ids(result.pending) == ["310001"]


def test_an_unknown_status_not_processed_yet_is_still_a_pending_claim() -> None:
    queued = state("310002", "QUEUED", dateProcessed=None)

    assert ids(check(state("310005"), queued).pending) == ["310002"]


def test_a_finished_download_nobody_used_for_long_is_abandoned() -> None:
    stale = state("310002", dateProcessed=(NOW - timedelta(minutes=30)).isoformat())

    result = check(state("310005"), stale, abandon_after=timedelta(minutes=10))

    assert result.clear and ids(result.abandoned) == ["310002"]


def test_claims_are_ordered_by_numeric_task_id() -> None:
    assert sorted([state("99"), state("100"), state("9")], key=claim_order)[0].id == "9"
    assert claim_order(state("100")) > claim_order(state("99"))
