"""``select_jobs`` of ``phrase_translation_delivery`` against the emulator (no ``dag.test``): which jobs a
run waits for, at which workflow level, and which Params are refused before any call."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_phrase.operators.delivery_dag import select_jobs
from tests.triggers.jobs_support import WEBSITE, create_jobs

DOCS_REVIEW = "prjDocsReview00000001"  # a workflow of two steps: each job has a part per level
PARAMS = {"phrase_conn_id": "phrase_tms_default", "target_statuses": ["COMPLETED"]}


def _context(params: dict[str, Any], *extras: dict[str, Any]) -> dict[str, Any]:
    events = [SimpleNamespace(extra=extra, asset=None) for extra in extras]
    return {"params": {**PARAMS, **params}, "triggering_asset_events": {"alias": events} if events else {}}


def _levels(emulator: Any) -> dict[str, int]:
    return {job["uid"]: job["workflowLevel"] for job in emulator.admin.snapshot()["jobs"]}


def test_the_parts_of_a_workflow_are_waited_on_at_the_last_level_by_default(
    emulator: Any,
) -> None:
    parts = create_jobs("phrase_tms_default", project_uid=DOCS_REVIEW)
    levels = _levels(emulator)
    assert sorted(set(levels[uid] for uid in parts)) == [1, 2]  # the event names every part
    gone = "jobNoSuchJob0000000001"

    (selection,) = select_jobs(_context({}, {"project_uid": DOCS_REVIEW, "job_uids": [*parts, gone]}))

    assert selection["workflow_level"] == 2
    assert selection["job_uids"] == [uid for uid in parts if levels[uid] == 2]  # no part it cannot see

    (first_step,) = select_jobs(
        _context({"workflow_level": 1}, {"project_uid": DOCS_REVIEW, "job_uids": parts})
    )
    assert first_step["workflow_level"] == 1
    assert first_step["job_uids"] == [uid for uid in parts if levels[uid] == 1]


def test_a_project_with_more_jobs_than_one_export_takes_is_split(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import airflow_phrase.operators.delivery_params as delivery_params

    monkeypatch.setattr(delivery_params, "MAX_EXPORT_JOBS", 2)
    uids = create_jobs("phrase_tms_default")  # de, fr_fr, ja

    selections = select_jobs(_context({}, {"project_uid": WEBSITE, "job_uids": uids}))

    assert [s["job_uids"] for s in selections] == [uids[:2], uids[2:]]
    assert {s["project_uid"] for s in selections} == {WEBSITE}


def test_events_of_jobs_phrase_no_longer_has_skip_the_run(emulator: Any) -> None:
    with pytest.raises(AirflowSkipException, match="nothing to deliver"):
        select_jobs(_context({}, {"project_uid": WEBSITE, "job_uids": ["jobNoSuchJob0000000001"]}))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"project_uid": "../../etc", "job_uids": ["jobA1"]}, "project_uid"),
        ({"project_uid": WEBSITE, "job_uids": ["jobA1", "jobA1"]}, "job_uids"),
        ({"project_uid": WEBSITE, "all_completed": True, "target_statuses": ["DONE"]}, "target_statuses"),
        ({"project_uid": WEBSITE, "all_completed": True, "workflow_level": 0}, "workflow_level"),
        ({"project_uid": WEBSITE}, "job_uids"),
        ({}, "project_uid"),
    ],
)
def test_bad_params_fail_before_any_call_naming_the_param(
    params: dict[str, Any], expected: str, emulator: Any
) -> None:
    emulator.admin.clear_journal()

    with pytest.raises(AirflowFailException, match=expected):
        select_jobs(_context(params))

    assert emulator.admin.journal() == []


def test_jobs_phrase_does_not_list_are_named_but_not_all_of_a_thousand(emulator: Any) -> None:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.delivery import list_delivery_jobs

    uids = [f"jobMissing{n:012d}" for n in range(1001)]
    hook = PhraseTmsHook()
    try:
        with pytest.raises(AirflowFailException) as raised:
            list_delivery_jobs(hook, "deliver", WEBSITE, uids, None)
    finally:
        hook.close()

    message = str(raised.value)
    assert "job_uids: Phrase lists no job jobMissing000000000000, " in message
    assert "(and 981 more)" in message and "jobMissing000000001000" not in message
