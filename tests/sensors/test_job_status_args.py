"""The job status sensor's arguments: what a template can render by mistake is refused, naming the field
once, before any call (no silent default, no flag taken for a workflow level)."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.sensors.job_status import PhraseJobStatusSensor

PROJECT = "prjWebsite000000000001"


def _sensor(**kwargs: Any) -> PhraseJobStatusSensor:
    fields: dict[str, Any] = {"project_uid": PROJECT, "job_uids": ["jobA1"]}
    return PhraseJobStatusSensor(task_id="wait", **{**fields, **kwargs})


@pytest.mark.parametrize("rendered", ["", "None", "  "])
def test_target_statuses_rendered_empty_are_refused_not_defaulted(rendered: str) -> None:
    with pytest.raises(AirflowFailException) as raised:
        _sensor(target_statuses=rendered).validated_args()

    message = str(raised.value)
    assert "target_statuses" in message and "['COMPLETED']" in message


def test_an_unknown_status_is_refused_naming_the_field_once() -> None:
    with pytest.raises(AirflowFailException) as raised:
        _sensor(target_statuses=["DONE"]).validated_args()

    message = str(raised.value)
    assert "DONE is not a Phrase job status" in message
    assert message.count("target_statuses") == 1


@pytest.mark.parametrize("flag", [True, False])
def test_a_flag_is_not_a_workflow_level(flag: bool) -> None:
    with pytest.raises(AirflowFailException) as raised:
        _sensor(workflow_level=flag).validated_args()

    assert "workflow_level" in str(raised.value) and "1 to 15" in str(raised.value)


def test_the_defaults_and_rendered_values_still_pass() -> None:
    assert _sensor().validated_args().target_statuses == ["COMPLETED"]
    args = _sensor(target_statuses="completed, delivered", workflow_level="2").validated_args()
    assert args.target_statuses == ["COMPLETED", "DELIVERED"] and args.workflow_level == 2
    assert _sensor(workflow_level="None").validated_args().workflow_level is None
