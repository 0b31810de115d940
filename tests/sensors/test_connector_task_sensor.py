"""PhraseConnectorTaskSensor called directly (execute / poke / execute_complete) against the emulator.

The same behaviour through ``dag.test()`` in the three modes is in ``test_connector_task_sensor_dags.py``.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.models import ConnectorTaskStatus
from airflow_phrase.sensors.connector_task import DEFAULT_CREATED_LOOKBACK, PhraseConnectorTaskSensor
from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
from tests.helpers import wait_until
from tests.triggers.support import (
    CONVERTER_ERROR_FILE,
    ERROR_FILE,
    OK_FILE,
    TASKS_PATH,
    WEBSITE,
    last_seq,
    start_download,
    task_calls,
)

STATE = {"id": "310001", "status": "SUCCESS", "taskType": "DOWNLOAD", "errorMessage": None}


def sensor(**kwargs: Any) -> PhraseConnectorTaskSensor:
    kwargs.setdefault("task_id", "wait_for_download")
    kwargs.setdefault("project_uid", WEBSITE)
    kwargs.setdefault("download_task_id", "310001")
    kwargs.setdefault("poke_interval", 0.1)
    return PhraseConnectorTaskSensor(**kwargs)


def event(status: str, **overrides: Any) -> dict[str, Any]:
    payload = {
        "status": status,
        "project_uid": WEBSITE,
        "download_task_id": "310001",
        "task_state": STATE if status == "success" else None,
        "message": "",
    }
    payload.update(overrides)
    return payload


def finished_download(conn_id: str, path: str) -> str:
    download = start_download(conn_id, path)
    hook = PhraseTmsHook(conn_id)

    def finished() -> bool:
        state = hook.get_connector_task_state(WEBSITE, download.id)
        return state is not None and state.status is not ConnectorTaskStatus.NEW

    try:
        wait_until(finished)
    finally:
        hook.close()
    return download.id


# ---------------------------------------------------------------------------- execute_complete


def test_execute_complete_success_returns_the_task_state():
    assert sensor().execute_complete({}, event("success")) == STATE


def test_execute_complete_error_fails_without_retry_and_carries_phrases_message():
    failed = {**STATE, "status": "CONVERTER_ERROR", "errorMessage": "Unsupported file format"}

    with pytest.raises(AirflowFailException, match="ended CONVERTER_ERROR: Unsupported file format"):
        sensor().execute_complete({}, event("error", task_state=failed, message="Unsupported file format"))


def test_execute_complete_api_error_without_state_fails():
    with pytest.raises(AirflowFailException, match=r"failed: PhraseApiError: .*HTTP 403"):
        sensor().execute_complete({}, event("error", message="PhraseApiError: ... failed with HTTP 403: x"))


def test_execute_complete_timeout_is_a_sensor_timeout():
    with pytest.raises(AirflowSensorTimeout, match="did not finish"):
        sensor().execute_complete(
            {}, event("timeout", message="task 310001 did not finish before the deadline")
        )


@pytest.mark.parametrize(
    "bad", [None, {"status": "cancelled"}, {"status": "success"}], ids=["none", "unknown", "bad"]
)
def test_execute_complete_rejects_missing_unknown_and_malformed_events(bad: Any):
    with pytest.raises(AirflowException) as raised:
        sensor().execute_complete({}, bad)
    assert not isinstance(raised.value, (AirflowFailException, AirflowSensorTimeout))


@pytest.mark.parametrize("status", ["timeout", "error"])
def test_soft_fail_skips_a_deferred_timeout_or_error(status: str):
    resumed = sensor(soft_fail=True)

    with pytest.raises(AirflowSkipException):
        resumed.resume_execution("execute_complete", {"event": event(status, message="x")}, {})


# ---------------------------------------------------------------------------- deferring


def test_finished_task_is_not_deferred(phrase_emulator: Any, phrase_connection: str):
    task_id = finished_download(phrase_connection, OK_FILE)

    result = sensor(download_task_id=task_id, deferrable=True).execute({})

    assert result["id"] == task_id and result["status"] == "SUCCESS"
    json.dumps(result)


def test_failed_task_fails_at_once_instead_of_deferring(phrase_emulator: Any, phrase_connection: str):
    task_id = finished_download(phrase_connection, ERROR_FILE)

    with pytest.raises(AirflowFailException, match=f"task {task_id} ended ERROR: .+"):
        sensor(download_task_id=task_id, deferrable=True).execute({})
    with pytest.raises(AirflowSkipException):
        sensor(download_task_id=task_id, deferrable=True, soft_fail=True).execute({})


def test_running_task_defers_with_an_absolute_deadline(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(task_delay=3600)
    download = start_download(phrase_connection)
    since = last_seq(phrase_emulator)
    created_after = "2026-11-28T10:00:00+0000"  # as the download operator's XCom carries it

    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor(
            download_task_id=download.id,
            deferrable=True,
            timeout=600,
            poke_interval=20,
            created_after=created_after,
        ).execute({})

    trigger = deferred.value.trigger
    assert isinstance(trigger, PhraseConnectorTaskTrigger)
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["download_task_id"] == download.id and kwargs["project_uid"] == WEBSITE
    assert kwargs["phrase_conn_id"] == phrase_connection and kwargs["poll_interval"] == 20
    assert before + 600 <= kwargs["deadline"] <= time.time() + 600
    assert kwargs["created_after"] == "2026-11-28T10:00:00+00:00"
    assert len(task_calls(phrase_emulator, since)) == 1  # checked once before deferring


def test_default_created_after_covers_the_timeout_and_a_day(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(task_delay=3600)
    download = start_download(phrase_connection)

    with pytest.raises(TaskDeferred) as deferred:
        sensor(download_task_id=download.id, deferrable=True, timeout=3 * 3600).execute({})

    sent = datetime.fromisoformat(deferred.value.trigger.serialize()[1]["created_after"])
    expected = datetime.now(timezone.utc) - timedelta(hours=3) - DEFAULT_CREATED_LOOKBACK
    assert abs(sent - expected) < timedelta(seconds=30)


# ---------------------------------------------------------------------------- poking


def test_poke_success_returns_the_state_through_xcom(phrase_emulator: Any, phrase_connection: str):
    task_id = finished_download(phrase_connection, OK_FILE)

    result = sensor(download_task_id=task_id).poke({})

    assert isinstance(result, PokeReturnValue) and result.is_done
    assert result.xcom_value["id"] == task_id and result.xcom_value["status"] == "SUCCESS"


def test_poke_converter_error_carries_phrases_message(phrase_emulator: Any, phrase_connection: str):
    task_id = finished_download(phrase_connection, CONVERTER_ERROR_FILE)
    hook = PhraseTmsHook(phrase_connection)
    phrase_message = hook.get_connector_task_state(WEBSITE, task_id).error_message  # type: ignore[union-attr]
    hook.close()

    with pytest.raises(AirflowFailException) as raised:
        sensor(download_task_id=task_id).poke({})

    assert phrase_message and phrase_message in str(raised.value)


def test_poke_keeps_waiting_and_logs_a_task_that_is_not_listed(
    phrase_emulator: Any, phrase_connection: str, capsys
):
    since = last_seq(phrase_emulator)

    assert sensor(download_task_id="999999").poke({}) is False

    assert "999999 is not (yet) listed" in capsys.readouterr().out
    (call,) = task_calls(phrase_emulator, since)
    assert call.param("dateCreatedFrom") is not None  # never Phrase's silent 24 h default


def test_poke_mode_waits_for_a_running_task(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(task_delay=0.5)
    download = start_download(phrase_connection)
    since = last_seq(phrase_emulator)

    result = sensor(download_task_id=download.id, timeout=30).execute({})

    assert result["status"] == "SUCCESS"
    assert len(task_calls(phrase_emulator, since)) >= 2


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"download_task_id": ""}, "download_task_id"),
        ({"download_task_id": "31 0001"}, "download_task_id"),
        ({"project_uid": "not a uid!"}, "project_uid"),
        ({"project_uid": "../prjWebsite"}, "project_uid"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "2026-11-28T10:00:00"}, "created_after"),
        ({"phrase_conn_id": " "}, "phrase_conn_id"),
    ],
)
@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_bad_arguments_fail_before_any_remote_call(
    phrase_emulator: Any, phrase_connection: str, arguments: dict[str, Any], named: str, deferrable: bool
):
    bad = sensor(deferrable=deferrable, soft_fail=True, **arguments)

    with pytest.raises(
        AirflowFailException, match=rf"Invalid arguments for task 'wait_for_download':\n  - {named}: "
    ):
        bad.execute({})

    assert phrase_emulator.admin.journal() == []


def test_integer_task_id_and_phrase_timestamp_are_accepted(phrase_emulator: Any, phrase_connection: str):
    task_id = finished_download(phrase_connection, OK_FILE)

    result = sensor(download_task_id=int(task_id), created_after="2026-01-01T00:00:00+0000").execute({})

    assert result["id"] == task_id


def test_poke_api_error_fails_without_retry_like_the_deferred_path(
    phrase_emulator: Any, phrase_connection: str
):
    waiting = sensor(project_uid="prjDoesNotExist0000001")

    with pytest.raises(AirflowFailException, match=r"of project prjDoesNotExist0000001 failed: .*404"):
        waiting.poke({})
    with pytest.raises(AirflowSkipException):
        sensor(project_uid="prjDoesNotExist0000001", soft_fail=True).execute({})


def test_poke_outlasting_transient_errors_keeps_waiting(phrase_emulator: Any, phrase_connection: str):
    task_id = finished_download(phrase_connection, OK_FILE)
    # More 503s in a row than the connection's retry policy allows attempts (6) for one check.
    phrase_emulator.admin.set_faults(
        [{"method": "GET", "path": TASKS_PATH, "sequence": [{"status": 503}] * 6}]
    )
    waiting = sensor(download_task_id=task_id)

    assert waiting.poke({}) is False
    result = waiting.poke({})

    assert isinstance(result, PokeReturnValue) and result.xcom_value["status"] == "SUCCESS"


@pytest.mark.parametrize("missing", ["", "None", None])
def test_a_missing_created_after_falls_back_to_the_default_window(missing: Any):
    waiting = sensor(created_after=missing, timeout=600)

    assert waiting.validated_args().created_after is None
    expected = datetime.now(timezone.utc) - timedelta(seconds=600) - DEFAULT_CREATED_LOOKBACK
    assert abs(waiting.created_after_bound() - expected) < timedelta(seconds=30)
