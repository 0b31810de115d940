"""The whole story of one try of a Phrase operator, across its deferrals: its waits and its API calls.

A deferrable try runs in segments: a worker runs ``execute`` until the operator defers, the triggerer
waits, a worker runs the resumed method, and so on. Two things get lost between segments on Airflow
3.3.2, and this module keeps them:

* **The waits.** The triggerer writes a wait's log lines to ``attempt=N.log.trigger.<triggerer id>.log``
  and opens that file for writing, so a try that defers twice in the same triggerer keeps only the
  second wait's lines (``TriggerLoggingFactory`` in ``airflow/jobs/triggerer_job_runner.py``). The
  worker's own log is appended to across segments, so every resumed segment starts with a recap in the
  task log: what was waited on, when the task deferred and resumed, how long it waited and the
  outcome, for every wait of the try so far.
* **The API calls.** Each segment's hooks count the HTTP requests they send to Phrase (every attempt,
  retries and logins included: ``PhraseTmsHook.api_calls``). When a hook is closed or the task defers,
  the try's running total is pushed to XCom under :data:`API_CALLS_XCOM_KEY` (cleared when a new try
  starts, so the value is the total of the try's worker-side calls). Status polls made by the triggerer
  are not in it: they are shared by every task waiting on the same project (see
  :mod:`airflow_phrase.triggers.coalescing`) and belong to no single task.

Both travel in the deferral's kwargs (key :data:`TRY_KWARG`, removed again before the operator's resume
method sees its kwargs). ``dag.test()`` of Airflow <= 3.3.2 drops those kwargs (apache/airflow#69942):
there, the recap says so and each segment counts its own calls only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

#: XCom key of the number of Phrase API calls the current try of a task made from workers.
API_CALLS_XCOM_KEY = "phrase_api_calls"
#: Deferral kwarg carrying the try's :class:`TryState` to the resumed segment.
TRY_KWARG = "phrase_try"


class Wait(BaseModel):
    """One wait in the triggerer: what for, when it started and ended, and how it ended."""

    model_config = ConfigDict(extra="ignore")

    what: str
    deferred_at: datetime
    resumed_at: datetime | None = None
    outcome: str | None = None

    def describe(self) -> str:
        start = _clock(self.deferred_at)
        if self.resumed_at is None:
            return f"{self.what}: deferred at {start}, not resumed yet"
        seconds = (self.resumed_at - self.deferred_at).total_seconds()
        return (
            f"{self.what}: deferred at {start}, resumed at {_clock(self.resumed_at)} "
            f"(waited {seconds:.1f} s); outcome: {self.outcome or 'unknown'}"
        )


def _clock(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def describe_trigger(trigger: Any) -> str:
    """What a Phrase trigger waits on, in words (any other trigger: its class name)."""
    if hasattr(trigger, "target_statuses") and hasattr(trigger, "job_uids"):
        project = getattr(trigger, "project_uid", "?")
        level = getattr(trigger, "workflow_level", None)
        at_level = f", workflow level {level}" if level is not None else ""
        return (
            f"Phrase jobs {', '.join(trigger.job_uids)} (project {project}{at_level}) to reach "
            f"{' or '.join(trigger.target_statuses)}"
        )
    if hasattr(trigger, "download_task_id"):
        project = getattr(trigger, "project_uid", "?")
        return f"Phrase download task {trigger.download_task_id} (project {project})"
    if hasattr(trigger, "job_uids"):
        project = getattr(trigger, "project_uid", "?")
        return f"the import of Phrase jobs {', '.join(trigger.job_uids)} (project {project})"
    if hasattr(trigger, "async_request_id"):
        return f"Phrase async request {trigger.async_request_id} (the jobs' import)"
    return type(trigger).__name__


def describe_event(event: Any) -> str:
    """``status: message`` of a trigger event payload (``"no event"`` without one)."""
    if not isinstance(event, Mapping):
        return "no event"
    status = event.get("status") or "?"
    message = event.get("message")
    return f"{status}: {message}" if message else str(status)


class TryState(BaseModel):
    """What a deferral hands to the resumed segment: the try's waits and its API calls so far."""

    model_config = ConfigDict(extra="ignore")

    waits: list[Wait] = []
    api_calls: int = 0


def _parse_state(raw: Any) -> TryState | None:
    try:
        return TryState.model_validate(raw) if isinstance(raw, Mapping) else None
    except ValidationError:
        return None


class TryRecord:
    """Per operator instance (so per worker segment): the try's waits and the API calls counted so far."""

    def __init__(self) -> None:
        self.waits: list[Wait] = []
        self._hooks: list[PhraseTmsHook] = []
        self._counted: dict[int, int] = {}
        self._earlier_calls = 0
        self._segment_calls = 0

    @property
    def api_calls(self) -> int:
        """The try's worker-side API calls counted so far (earlier segments included)."""
        return self._earlier_calls + self._segment_calls

    # ------------------------------------------------------------------ waits

    def deferring(
        self, trigger: Any, kwargs: Mapping[str, Any] | None, *, what: str | None = None
    ) -> dict[str, Any]:
        """The deferral kwargs with the try's state: its waits (this one, starting now, last) and calls.

        ``what``: the wait in words, when the trigger alone does not say it (an async request of an
        export or a target-file download); default :func:`describe_trigger`.
        """
        self._record_calls()
        waits = [*self.waits, Wait(what=what or describe_trigger(trigger), deferred_at=_now())]
        state = TryState(waits=waits, api_calls=self.api_calls)
        return {**(kwargs or {}), TRY_KWARG: state.model_dump(mode="json")}

    def resumed(self, next_kwargs: Mapping[str, Any] | None, log: logging.Logger | Any) -> dict[str, Any]:
        """Log the recap of the try's waits; return ``next_kwargs`` without the try's state."""
        kwargs = dict(next_kwargs or {})
        state = _parse_state(kwargs.pop(TRY_KWARG, None))
        outcome = describe_event(kwargs.get("event"))
        if "event" not in kwargs and kwargs.get("error"):  # the trigger itself failed or timed out
            outcome = f"the trigger failed: {kwargs['error']}"
        self._earlier_calls = state.api_calls if state else 0
        waits = list(state.waits) if state else []
        if not waits:
            # dag.test() of Airflow <= 3.3.2 resumes with the event alone (apache/airflow#69942).
            log.info(
                "Resumed after a wait in the triggerer; outcome: %s (no record of the wait itself)", outcome
            )
            return kwargs
        last = waits[-1]
        if last.resumed_at is None:
            waits[-1] = last.model_copy(update={"resumed_at": _now(), "outcome": outcome})
        self.waits = waits
        lines = [f"  {number}. {wait.describe()}" for number, wait in enumerate(waits, start=1)]
        log.info(
            "Resumed after waiting in the triggerer. Waits of this try so far (Airflow's triggerer may "
            "keep only the last wait's own log lines):\n%s",
            "\n".join(lines),
        )
        return kwargs

    # ------------------------------------------------------------------ API calls

    def watch(self, hook: PhraseTmsHook) -> PhraseTmsHook:
        """Count ``hook``'s API calls into the try (recorded when it is closed or the task defers)."""
        self._hooks.append(hook)
        hook.on_close = self.hook_closed
        return hook

    def hook_closed(self, hook: PhraseTmsHook) -> None:
        """``PhraseTmsHook.on_close``."""
        self._record_calls()

    def _record_calls(self) -> None:
        new = 0
        for hook in self._hooks:
            new += hook.api_calls - self._counted.get(id(hook), 0)
            self._counted[id(hook)] = hook.api_calls
        if new <= 0:
            return
        self._segment_calls += new
        ti = _current_ti()
        if ti is not None:  # None: execute() called outside a task (unit tests), nothing to record into
            ti.xcom_push(key=API_CALLS_XCOM_KEY, value=self.api_calls)


def push_api_calls(count: int) -> None:
    """Record ``count`` as the running task's API calls (a task that is not an operator of ours)."""
    ti = _current_ti()
    if ti is not None:
        ti.xcom_push(key=API_CALLS_XCOM_KEY, value=count)


def _current_ti() -> Any:
    from airflow.sdk import get_current_context

    try:
        return get_current_context()["ti"]
    except Exception:  # no task is running in this process
        return None


__all__ = [
    "API_CALLS_XCOM_KEY",
    "TRY_KWARG",
    "TryRecord",
    "TryState",
    "Wait",
    "describe_event",
    "describe_trigger",
    "push_api_calls",
]
