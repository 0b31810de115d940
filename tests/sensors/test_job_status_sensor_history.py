"""``PhraseJobStatusSensor``'s poke in a long-lived project: one look costs at most ``1 + ceil(n / 50)``
calls, whatever the project's history (the trigger's choice of read, shared)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_phrase.sensors.job_status import PhraseJobStatusSensor
from tests.helpers import use_emulator_connection
from tests.triggers.jobs_support import (
    WEBSITE,
    add_completed_history,
    calls_per_poll,
    create_jobs,
    search_calls,
)
from tests.triggers.support import last_seq


@pytest.fixture
def conn(phrase_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    return use_emulator_connection(monkeypatch, phrase_emulator.base_url, max_wait_seconds=0.2)


def sensor(uids: list[str], **kwargs: Any) -> PhraseJobStatusSensor:
    return PhraseJobStatusSensor(
        task_id="wait_for_completion",
        project_uid=WEBSITE,
        job_uids=uids,
        poke_interval=0.2,
        deferrable=False,
        mode="poke",
        **kwargs,
    )


def test_a_poke_costs_at_most_two_calls_with_a_large_history(phrase_emulator: Any, conn: str) -> None:
    de, fr, ja = create_jobs(conn)
    add_completed_history(phrase_emulator, de, 500)
    phrase_emulator.admin.script_job(de, status="COMPLETED")
    phrase_emulator.admin.script_job(fr, status="REJECTED")
    since = last_seq(phrase_emulator)

    assert sensor([de, fr, ja]).poke({}) is False  # ja is on its way
    phrase_emulator.admin.script_job(ja, status="COMPLETED")
    done = sensor([de, fr, ja]).poke({})

    assert not isinstance(done, bool) and done.is_done
    result = done.xcom_value
    assert sorted(result["job_uids"]) == sorted([de, ja])
    assert [(job["uid"], job["status"]) for job in result["ended_otherwise"]] == [(fr, "REJECTED")]
    assert calls_per_poll(phrase_emulator, since) == [2, 2]
    assert len(search_calls(phrase_emulator, since)) == 2


def test_a_poke_on_a_short_listing_is_one_call(phrase_emulator: Any, conn: str) -> None:
    uids = create_jobs(conn)
    for uid in uids:
        phrase_emulator.admin.script_job(uid, status="COMPLETED")
    since = last_seq(phrase_emulator)

    result = sensor(uids, timeout=20).execute({})

    assert sorted(result["job_uids"]) == sorted(uids)
    assert calls_per_poll(phrase_emulator, since) == [1]
    assert search_calls(phrase_emulator, since) == []
