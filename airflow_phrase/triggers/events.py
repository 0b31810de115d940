"""The payloads Phrase triggers yield, and the one way ``execute_complete`` reads them back.

A trigger event crosses a process boundary (triggerer → metadata DB → worker) and can outlive a
deployment: an event written by one version of the provider may be read by the next. So the shape is a
small pydantic model of plain JSON values, validated on both sides:

* triggers build the model and yield ``TriggerEvent(event.to_payload())``;
* ``execute_complete`` calls :func:`parse_event`, which turns a missing event, an unknown status or a
  malformed payload into an :class:`~airflow.sdk.exceptions.AirflowException` with a clear message,
  instead of a ``KeyError`` deep inside the operator (see apache/airflow#69739).

Unknown *extra* keys are ignored, so a newer trigger may add fields without breaking an older worker.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from airflow.sdk.exceptions import AirflowException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

EventStatus = Literal["success", "error", "timeout"]
EVENT_STATUSES: tuple[str, ...] = ("success", "error", "timeout")


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", strict=False)

    status: EventStatus
    message: str = Field(default="")

    def to_payload(self) -> dict[str, Any]:
        """The plain JSON dict a ``TriggerEvent`` carries."""
        return self.model_dump(mode="json")


class ConnectorTaskEvent(_Event):
    """The outcome of waiting on a connector download task.

    ``task_state`` is ``ConnectorTaskState.to_wire()`` (Phrase's camelCase JSON) when the task was seen,
    else ``None`` (timeout before the task appeared, or an API error).
    """

    project_uid: str
    download_task_id: str
    task_state: dict[str, Any] | None = None
    #: With a claim check (the ingest operator): rival downloads of the same file version that jobs were
    #: created from (Phrase's JSON): the file's jobs must be looked up before creating.
    rivals_used: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _success_has_state(self) -> ConnectorTaskEvent:
        if self.status == "success" and not self.task_state:
            raise ValueError("a success event must carry the task_state")
        return self


class AsyncRequestEvent(_Event):
    """The outcome of waiting on an asynchronous request (``GET /api2/v1/async/{id}``).

    ``async_request`` is ``AsyncRequest.to_wire()`` when it was read at least once, else ``None``.
    """

    async_request_id: str
    async_request: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _success_has_request(self) -> AsyncRequestEvent:
        if self.status == "success" and not self.async_request:
            raise ValueError("a success event must carry the async_request")
        return self


class JobsImportEvent(_Event):
    """The outcome of waiting for the import of jobs (the not-ready jobs listing).

    ``failed_jobs``: ``[{"uid", "filename", "targetLang", "errorMessage"}]`` of jobs whose import
    failed (with ``status="error"``); empty otherwise.
    """

    project_uid: str
    job_uids: list[str]
    failed_jobs: list[dict[str, Any]] = Field(default_factory=list)


class JobStatusEvent(_Event):
    """The outcome of waiting until jobs reach a status (the jobs-by-status listing).

    ``reached``: the jobs listed in one of ``target_statuses``; ``ended_otherwise``: those listed as
    ``CANCELLED``, ``DECLINED`` or ``REJECTED`` (when not a target): their wait is over without the
    status waited for; ``pending``: uids of the jobs not there yet (with ``timeout`` or ``error``).
    Items are ``{"uid", "status", "targetLang", "filename", "workflowLevel"}``. ``success`` means no job
    is pending; it can hold jobs that ended otherwise (the waiting task decides what that means).
    """

    project_uid: str
    job_uids: list[str]
    target_statuses: list[str]
    workflow_level: int | None = None
    reached: list[dict[str, Any]] = Field(default_factory=list)
    ended_otherwise: list[dict[str, Any]] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _success_has_nothing_pending(self) -> JobStatusEvent:
        if self.status == "success" and self.pending:
            raise ValueError("a success event must not have pending jobs")
        return self


EventT = TypeVar("EventT", bound=_Event)


def parse_event(model_cls: type[EventT], event: dict[str, Any] | None) -> EventT:
    """Validate the ``event`` handed to ``execute_complete`` and return it as ``model_cls``.

    :raises AirflowException: the event is missing, not a dict, has an unknown status or is malformed.
    """
    kind = model_cls.__name__
    if event is None:
        raise AirflowException(
            f"No trigger event was received (expected a {kind}); "
            "the trigger ended without reporting an outcome."
        )
    if not isinstance(event, dict):
        raise AirflowException(
            f"Malformed trigger event: expected a dict ({kind}), got {type(event).__name__}."
        )
    status = event.get("status")
    if status not in EVENT_STATUSES:
        raise AirflowException(
            f"Unknown trigger event status {status!r} in {kind}; expected one of {', '.join(EVENT_STATUSES)}."
        )
    try:
        return model_cls.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<event>'}: {error['msg']}"
            for error in exc.errors()
        )
        raise AirflowException(f"Malformed {kind} trigger event: {problems}.") from None


__all__ = [
    "EVENT_STATUSES",
    "AsyncRequestEvent",
    "ConnectorTaskEvent",
    "EventStatus",
    "JobStatusEvent",
    "JobsImportEvent",
    "parse_event",
]
