"""Delivery: job statuses, export to the online repository and the target-file download pair.

Requests are strict (what we send), responses tolerant (what Phrase sends), like every other model here.
Shapes are the spec's (``phrasetms-client`` 1.0.0 and phrappy 1.1.0, facts §4 and §7):

* ``POST /api2/v3/projects/{projectUid}/jobs/export``: body ``JobExportActionDto`` ``{"jobs": [{"uid"}]}``,
  answer ``JobExportResponseDto`` ``{"jobs": [{"uid"}]}``. The spec declares no async request in the
  answer (:attr:`JobExport.async_request` reads one if Phrase sends it anyway: UNCONFIRMED).
* ``PUT /api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile``: answer ``AsyncRequestWrapperV2Dto``
  ``{"asyncRequest": {...}}``.
* ``GET /api2/v2/projects/{projectUid}/jobs/{jobUid}/downloadTargetFile/{asyncRequestId}``: the file
  (octet-stream); :class:`TargetFile` says what was written.
* ``POST /api2/v1/projects/{projectUid}/jobs/{jobUid}/setStatus``: body ``JobStatusChangeActionDto``.
* ``GET /api2/v1/projects/{projectUid}/jobs/{jobUid}/statusChanges``: ``JobPartStatusChangesDto``.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._base import OptionalTimestamp, PhraseId, PhraseRequest, PhraseResponse
from .async_requests import AsyncRequest, AsyncRequestReference
from .common import UidReference, UserReference

#: At most this many jobs per export call (Phrase's documented limit for the export body).
MAX_EXPORT_JOBS = 1000


class JobStatus(str, Enum):
    """A job's ``status`` (the spec's ``JobStatusEnum2``). Models keep the status as ``str`` (Phrase may
    add values); compare with these members' values."""

    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REJECTED = "REJECTED"
    DELIVERED = "DELIVERED"
    EMAILED = "EMAILED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"

    @property
    def ends_work(self) -> bool:
        """The linguist will not deliver this job (``CANCELLED``, ``DECLINED``, ``REJECTED``): a wait for
        it to reach another status should end with this outcome instead of waiting forever."""
        return self in ENDING_STATUSES


#: Statuses after which a job will not be worked on (unless someone in Phrase changes it back).
ENDING_STATUSES = frozenset({JobStatus.CANCELLED, JobStatus.DECLINED, JobStatus.REJECTED})
JOB_STATUS_VALUES = tuple(status.value for status in JobStatus)


# ------------------------------------------------------------------------------------ export


class JobExportRequest(PhraseRequest):
    """Body of ``POST /api2/v3/projects/{projectUid}/jobs/export``: 1 to 1,000 distinct job uids."""

    jobs: list[UidReference] = Field(min_length=1, max_length=MAX_EXPORT_JOBS)

    @field_validator("jobs")
    @classmethod
    def _distinct(cls, value: list[UidReference]) -> list[UidReference]:
        uids = [job.uid for job in value]
        duplicates = sorted({uid for uid in uids if uids.count(uid) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once; give each job once")
        return value

    @classmethod
    def of(cls, job_uids: list[str]) -> JobExportRequest:
        return cls(jobs=[UidReference(uid=uid) for uid in job_uids])


class JobReference(PhraseResponse):
    """``UidReference`` in an answer (the jobs an export accepted)."""

    uid: PhraseId | None = None


class JobExport(PhraseResponse):
    """``JobExportResponseDto``: the jobs Phrase accepted for export to the online repository.

    The spec's answer is ``{"jobs": [{"uid"}]}`` and nothing else; the export itself runs in Phrase after
    the answer (the files reach the repository later). :attr:`async_request` holds an
    ``asyncRequest`` only if Phrase sends one, which the spec does not declare (UNCONFIRMED).
    """

    jobs: list[JobReference] = Field(default_factory=list)
    async_request: AsyncRequestReference | None = None

    @property
    def async_request_id(self) -> str | None:
        """The id of the async request doing the export, if Phrase said (``None`` per the spec)."""
        return self.async_request.id if self.async_request is not None else None

    @property
    def job_uids(self) -> list[str]:
        """The uids of the jobs Phrase accepted, in its order."""
        return [job.uid for job in self.jobs if job.uid]


# ------------------------------------------------------------------------------- target file


class AsyncRequestWrapper(PhraseResponse):
    """``AsyncRequestWrapperV2Dto``: ``{"asyncRequest": AsyncRequestV2Dto}`` (the target-file PUT)."""

    async_request: AsyncRequest | None = None


class TargetFile(BaseModel):
    """What :meth:`~airflow_phrase.hooks.phrase_tms.PhraseTmsHook.download_target_file` wrote.

    :param file_name: the file name Phrase gave in ``Content-Disposition`` (``filename*`` preferred),
        ``None`` if it sent none.
    :param content_type: the ``Content-Type`` of the answer (without parameters), if any.
    :param size: bytes written.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    file_name: str | None = None
    content_type: str | None = None
    size: int = Field(ge=0)


# ------------------------------------------------------------------------------------ status


class JobStatusChangeRequest(PhraseRequest):
    """Body of ``POST /api2/v1/projects/{projectUid}/jobs/{jobUid}/setStatus``
    (``JobStatusChangeActionDto``)."""

    requested_status: JobStatus
    notify_owner: bool | None = None
    propagate_status: bool | None = None


class JobStatusChange(PhraseResponse):
    """``JobPartStatusChangeDto``: one change of a job's status."""

    status: str | None = None
    changed_date: OptionalTimestamp = None
    changed_by: UserReference | None = None


class JobStatusChanges(PhraseResponse):
    """``JobPartStatusChangesDto`` from ``GET .../jobs/{jobUid}/statusChanges`` (oldest first by
    default)."""

    status_changes: list[JobStatusChange] = Field(default_factory=list)

    @property
    def latest(self) -> JobStatusChange | None:
        """The most recent change: the latest ``changedDate`` (Phrase's dates may be whole seconds, so
        of equal dates the one listed last), or the last one listed if dates are missing."""
        if not self.status_changes:
            return None
        if any(c.changed_date is None for c in self.status_changes):
            return self.status_changes[-1]
        ranked = [(c.changed_date, index) for index, c in enumerate(self.status_changes)]
        return self.status_changes[max(ranked)[1]]  # type: ignore[type-var]


__all__ = [
    "ENDING_STATUSES",
    "JOB_STATUS_VALUES",
    "MAX_EXPORT_JOBS",
    "AsyncRequestWrapper",
    "JobExport",
    "JobExportRequest",
    "JobReference",
    "JobStatus",
    "JobStatusChange",
    "JobStatusChangeRequest",
    "JobStatusChanges",
    "TargetFile",
]
