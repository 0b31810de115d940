"""The delivery models read what Phrase is known to send and refuse bad requests (issue 11)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from airflow_phrase.models import (
    AsyncRequestWrapper,
    JobExport,
    JobExportRequest,
    JobStatus,
    JobStatusChangeRequest,
    JobStatusChanges,
    TargetFile,
)


def test_export_answer_is_read_tolerantly() -> None:
    spec = JobExport.model_validate({"jobs": [{"uid": "jobA"}, {"uid": 42}, {}], "extra": 1})
    assert spec.job_uids == ["jobA", "42"] and spec.async_request_id is None
    with_request = JobExport.model_validate({"jobs": [], "asyncRequest": {"id": 5200001, "action": "X"}})
    assert with_request.async_request_id == "5200001"


def test_export_request_is_strict() -> None:
    assert JobExportRequest.of(["jobA"]).to_wire() == {"jobs": [{"uid": "jobA"}]}
    for bad in ([], ["jobA", "jobA"], ["job/A"], [f"j{i}" for i in range(1001)]):
        with pytest.raises(ValidationError):
            JobExportRequest.of(bad)


def test_target_file_answer_takes_a_numeric_id_and_instant_timestamps() -> None:
    wrapper = AsyncRequestWrapper.model_validate(
        {"asyncRequest": {"id": 5200007, "dateCreated": {"epochSecond": 1785909781, "nano": 0}}}
    )
    assert wrapper.async_request is not None and wrapper.async_request.id == "5200007"
    assert wrapper.async_request.date_created == datetime.fromtimestamp(1785909781, timezone.utc)


def test_status_changes_latest_and_status_request() -> None:
    changes = JobStatusChanges.model_validate(
        {
            "statusChanges": [
                {"status": "NEW", "changedDate": "2026-08-05T06:03:01+0000"},
                {"status": "COMPLETED", "changedDate": "2026-08-05T06:03:01Z"},
                {"status": "SOMETHING_NEW", "changedDate": 1785909000000},
            ]
        }
    )
    assert changes.latest is not None and changes.latest.status == "COMPLETED"  # same second: last listed
    assert JobStatusChanges.model_validate({"statusChanges": None}).latest is None
    assert JobStatusChangeRequest(requested_status=JobStatus.CANCELLED).to_wire() == {
        "requestedStatus": "CANCELLED"
    }
    with pytest.raises(ValidationError):
        JobStatusChangeRequest.model_validate({"requestedStatus": "DONE"})
    assert JobStatus.CANCELLED.ends_work and not JobStatus.COMPLETED.ends_work


def test_target_file_is_frozen_and_counts_bytes() -> None:
    info = TargetFile(file_name="a.json", content_type=None, size=3)
    with pytest.raises(ValidationError):
        TargetFile(size=-1)
    assert info.model_dump() == {"file_name": "a.json", "content_type": None, "size": 3}
