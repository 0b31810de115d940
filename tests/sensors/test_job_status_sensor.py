"""``PhraseJobStatusSensor`` against the emulator: deferrable by default, poke with the trigger's verdict."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_phrase.sensors.job_status import PhraseJobStatusSensor
from airflow_phrase.triggers.job_status import PhraseJobStatusTrigger
from tests.helpers import use_emulator_connection
from tests.triggers.jobs_support import WEBSITE, create_jobs


@pytest.fixture
def conn(phrase_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    return use_emulator_connection(monkeypatch, phrase_emulator.base_url, max_wait_seconds=0.2)


def sensor(uids: list[str], **kwargs: Any) -> PhraseJobStatusSensor:
    return PhraseJobStatusSensor(
        task_id="wait_for_completion", project_uid=WEBSITE, job_uids=uids, poke_interval=0.2, **kwargs
    )


def test_it_defers_then_reports_reached_and_cancelled_jobs(phrase_emulator: Any, conn: str) -> None:
    de, fr, ja = create_jobs(conn)
    waiting = sensor([de, fr, ja])
    assert waiting.deferrable  # by default

    with pytest.raises(TaskDeferred) as deferred:
        waiting.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, PhraseJobStatusTrigger) and trigger.job_uids == [de, fr, ja]

    phrase_emulator.admin.script_job(de, status="COMPLETED")
    phrase_emulator.admin.script_job(fr, status="CANCELLED")
    phrase_emulator.admin.script_job(ja, status="COMPLETED")
    event = asyncio.run(anext(trigger.run()))
    result = sensor([de, fr, ja]).execute_complete({}, event.payload)

    assert sorted(result["job_uids"]) == sorted([de, ja])
    assert [(j["uid"], j["status"]) for j in result["ended_otherwise"]] == [(fr, "CANCELLED")]
    with pytest.raises(AirflowFailException, match=f"{fr} CANCELLED"):
        sensor([de, fr, ja], fail_on_ended_otherwise=True).execute_complete({}, event.payload)


def test_poke_mode_returns_at_once_when_the_jobs_are_there(phrase_emulator: Any, conn: str) -> None:
    uids = create_jobs(conn)
    for uid in uids:
        phrase_emulator.admin.script_job(uid, status="COMPLETED")

    result = sensor(uids, deferrable=False, mode="poke", timeout=20).execute({})

    assert sorted(result["job_uids"]) == sorted(uids)


def test_bad_arguments_fail_before_any_call(phrase_emulator: Any, conn: str) -> None:
    phrase_emulator.admin.clear_journal()
    with pytest.raises(AirflowFailException, match="target_statuses"):
        sensor(["jobPart1"], target_statuses=["DONE"]).execute({})
    with pytest.raises(AirflowFailException, match="job_uids"):
        sensor("").execute({})
    assert phrase_emulator.admin.journal() == []
