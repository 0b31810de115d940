"""The story of a try across deferrals: the recap of its waits on resume, and its API calls in XCom.

Airflow 3.3.2's triggerer opens a try's trigger log file for writing, so a try that defers twice in the
same triggerer keeps only the second wait's trigger lines; the recap in the worker's (appended) log keeps
every wait. The end-to-end proof on a real triggerer is in ``tests/e2e/test_ui_e2e.py``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_phrase.operators.base import PhraseBaseOperator
from airflow_phrase.operators.try_record import API_CALLS_XCOM_KEY, TRY_KWARG, TryRecord
from airflow_phrase.triggers.async_request import PhraseAsyncRequestTrigger
from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
from tests.operators.conftest import RecordingTaskInstance


class _Hook:
    """Stands in for PhraseTmsHook: counts calls and calls ``on_close`` like the real one."""

    def __init__(self) -> None:
        self.api_calls = 0
        self.on_close: Any = None

    def close(self) -> None:
        if self.on_close is not None:
            self.on_close(self)


class _Operator(PhraseBaseOperator):
    """Two deferrals per try, like the ingest operator: download, then import."""

    def execute(self, context: Any) -> None:
        hook = self.try_record.watch(_Hook())  # type: ignore[arg-type]
        hook.api_calls = 4  # login, browse, download...
        self.defer(
            trigger=PhraseConnectorTaskTrigger("c", "prjA", "17", poll_interval=1),
            method_name="after_download",
            kwargs={"progress": {"file": "a.md"}},
        )

    def after_download(self, context: Any, event: dict[str, Any], progress: dict[str, Any]) -> None:
        assert progress == {"file": "a.md"}  # the operator's own kwargs come through untouched
        hook = self.try_record.watch(_Hook())  # type: ignore[arg-type]
        hook.api_calls = 2  # the task state, create jobs
        hook.close()
        self.defer(
            trigger=PhraseAsyncRequestTrigger("c", "55", poll_interval=1),
            method_name="after_import",
            kwargs={"result": {"jobs": 3}},
        )

    def after_import(self, context: Any, event: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        hook = self.try_record.watch(_Hook())  # type: ignore[arg-type]
        hook.api_calls = 1
        hook.close()
        return result


def _context(ti: RecordingTaskInstance) -> Any:
    from airflow.sdk.execution_time.context import set_current_context

    return set_current_context({"ti": ti})  # type: ignore[arg-type]


def _resume(ti: RecordingTaskInstance, method: str, deferred: TaskDeferred, event: dict[str, Any]) -> Any:
    """A new operator instance (a new worker process) resumed the way the task runner does."""
    kwargs = {**(deferred.kwargs or {}), "event": event}
    with _context(ti):
        return _Operator(task_id="t").resume_execution(method, kwargs, {"ti": ti})


def test_every_wait_of_the_try_is_recapped_and_the_calls_add_up(capsys: pytest.CaptureFixture[str]) -> None:
    ti = RecordingTaskInstance()
    with _context(ti), pytest.raises(TaskDeferred) as first:
        _Operator(task_id="t").execute({"ti": ti})
    assert ti.xcom[API_CALLS_XCOM_KEY] == 4  # recorded at the deferral, before the hook is even closed
    assert [w["what"] for w in first.value.kwargs[TRY_KWARG]["waits"]] == [
        "Phrase download task 17 (project prjA)"
    ]

    with pytest.raises(TaskDeferred) as second:
        _resume(ti, "after_download", first.value, {"status": "success", "message": "task 17 finished OK"})
    assert ti.xcom[API_CALLS_XCOM_KEY] == 6

    result = _resume(ti, "after_import", second.value, {"status": "error", "message": "JobImportFailed"})
    assert result == {"jobs": 3}
    assert ti.xcom[API_CALLS_XCOM_KEY] == 7  # 4 + 2 + 1: every segment of the try

    # The operator logs through Airflow's structlog setup (captured on stdout here).
    recaps = capsys.readouterr().out.split("Waits of this try so far")
    assert len(recaps) == 3
    last = recaps[-1]
    assert "1. Phrase download task 17 (project prjA): deferred at" in last
    assert "outcome: success: task 17 finished OK" in last
    assert "2. Phrase async request 55 (the jobs' import): deferred at" in last
    assert "outcome: error: JobImportFailed" in last
    assert "waited" in last


def test_a_resume_without_the_record_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """dag.test() of Airflow <= 3.3.2 resumes with the event only (apache/airflow#69942)."""
    caplog.set_level(logging.INFO)
    kwargs = TryRecord().resumed({"event": {"status": "success", "message": "done"}}, logging.getLogger("t"))
    assert kwargs == {"event": {"status": "success", "message": "done"}}
    assert "outcome: success: done (no record of the wait itself)" in caplog.text


def test_a_failed_trigger_is_the_outcome(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    TryRecord().resumed({"error": "Trigger timeout"}, logging.getLogger("t"))
    assert "outcome: the trigger failed: Trigger timeout" in caplog.text


def test_outside_a_task_nothing_is_recorded() -> None:
    record = TryRecord()
    hook = record.watch(_Hook())  # type: ignore[arg-type]
    hook.api_calls = 3
    hook.close()  # no running task: counted, not pushed anywhere
    assert record.api_calls == 3


def test_waits_describe_their_length() -> None:
    from airflow_phrase.operators.try_record import Wait, _now

    start = _now()
    wait = Wait(what="x", deferred_at=start, resumed_at=start + timedelta(seconds=12.5), outcome="success")
    assert "(waited 12.5 s); outcome: success" in wait.describe()


def test_the_delivery_waits_are_named_in_the_recap() -> None:
    from airflow_phrase.operators.try_record import TryState, describe_trigger
    from airflow_phrase.triggers.job_status import PhraseJobStatusTrigger

    status = PhraseJobStatusTrigger(
        "c", "prj1", ["j1", "j2"], target_statuses=["DELIVERED"], workflow_level=2
    )
    assert (
        describe_trigger(status) == "Phrase jobs j1, j2 (project prj1, workflow level 2) to reach DELIVERED"
    )

    # An async request of an export or a target-file download: the operator says what it is for.
    record = TryRecord()
    request = PhraseAsyncRequestTrigger("c", "5200004", poll_interval=1.0)
    kwargs = record.deferring(
        request, {}, what="Phrase async request 5200004 (target file download of job(s) j1)"
    )
    [wait] = TryState.model_validate(kwargs[TRY_KWARG]).waits
    assert wait.what == "Phrase async request 5200004 (target file download of job(s) j1)"
