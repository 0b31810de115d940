"""The event payloads and parse_event: the one gate between a trigger and execute_complete."""

from __future__ import annotations

import json

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_phrase.triggers.events import AsyncRequestEvent, ConnectorTaskEvent, parse_event

STATE = {"id": "310001", "status": "SUCCESS", "errorMessage": None}


def connector_event(**overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "status": "success",
        "project_uid": "prjWebsite000000000001",
        "download_task_id": "310001",
        "task_state": STATE,
        "message": "done",
    }
    event.update(overrides)
    return event


def test_payload_round_trips_as_plain_json():
    event = ConnectorTaskEvent.model_validate(connector_event())

    payload = event.to_payload()

    assert json.loads(json.dumps(payload)) == payload
    assert parse_event(ConnectorTaskEvent, payload) == event


def test_missing_event_is_a_clear_error():
    with pytest.raises(AirflowException, match="No trigger event was received"):
        parse_event(ConnectorTaskEvent, None)


def test_non_dict_event_is_rejected():
    with pytest.raises(AirflowException, match="expected a dict"):
        parse_event(ConnectorTaskEvent, ["success"])  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["cancelled", "SUCCESS", None, ""])
def test_unknown_status_is_rejected(status: object):
    with pytest.raises(AirflowException, match="Unknown trigger event status"):
        parse_event(ConnectorTaskEvent, connector_event(status=status))


def test_malformed_payload_names_the_field():
    payload = connector_event()
    del payload["download_task_id"]

    with pytest.raises(AirflowException, match="download_task_id"):
        parse_event(ConnectorTaskEvent, payload)


def test_success_without_state_is_malformed():
    with pytest.raises(AirflowException, match="task_state"):
        parse_event(ConnectorTaskEvent, connector_event(task_state=None))
    with pytest.raises(AirflowException, match="async_request"):
        parse_event(AsyncRequestEvent, {"status": "success", "async_request_id": "1", "async_request": None})


def test_unknown_extra_keys_from_a_newer_trigger_are_ignored():
    event = parse_event(ConnectorTaskEvent, connector_event(added_in_a_later_version=1))

    assert "added_in_a_later_version" not in event.to_payload()


def test_error_and_timeout_events_need_no_state():
    assert (
        parse_event(ConnectorTaskEvent, connector_event(status="timeout", task_state=None)).status
        == "timeout"
    )
    error = parse_event(AsyncRequestEvent, {"status": "error", "async_request_id": "7", "message": "X: y"})
    assert error.async_request is None and error.message == "X: y"
