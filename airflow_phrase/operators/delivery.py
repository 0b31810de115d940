"""What the delivery operators share: the jobs to deliver, their state fingerprint, waiting on async
requests in turn, and where the export record lives.

Idempotency
-----------
A delivery must not be repeated by a retry, a clear or a rerun while the job is in the same state. Each
job's *state* is ``"<uid>:<status>:<workflow level>"`` as Phrase lists it, and its *fingerprint* that
state plus, when known, ``"@<time of its latest status change>"``. A record keeps the fingerprint the job
was delivered at, and ``listed_at``, when Phrase listed the job in that state (the worker's clock). A job
is delivered again when (or with ``force=True``):

* its state differs from the record's (e.g. ``COMPLETED`` -> ``DELIVERED``): no extra call;
* its state is the record's, but its status changed after the record's date (the date in the recorded
  fingerprint, else ``listed_at``): a job re-opened and completed again. Phrase's list jobs gives no
  such date, so it is looked up (``GET /api2/v1/projects/{p}/jobs/{j}/statusChanges``) only for a job
  whose state matches a record: a first delivery costs no extra call, a rerun one GET per job already
  delivered. The record of the new delivery keeps the date Phrase gave. Comparing with ``listed_at``
  relies on the worker's clock agreeing with Phrase's (NTP).

A record without a date (written before dates were recorded) is compared by state only, as then.

* **Target files** (:mod:`airflow_phrase.operators.target_file`): the record is a small JSON file beside
  the output, ``<base_path>/.phrase-delivery/<project_uid>/<job_uid>.json``. It lives and dies with the
  delivered files: clears, reruns, another DAG writing to the same place and even a new Airflow database
  see it; deleting the output (or the record) delivers again.
* **Exports** (:mod:`airflow_phrase.operators.export`): the file lands in the connector's repository,
  which this provider does not read back, so the record is kept by Airflow: the asset state store of
  the Asset :data:`EXPORT_RECORD_ASSET` (Airflow 3.3+; survives retries, clears and reruns of any DAG),
  else the task state store (retries and clears of the same task instance only).

In-flight work (async requests started but not finished when a try ended) is kept in the task state
store, so a retry or a clear picks the same request up again instead of starting another.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.models import AsyncRequest, JobPartV2

#: The Asset whose state store keeps the export record (added to the export operator's inlets).
EXPORT_RECORD_ASSET_NAME = "phrase_tms_export_record"
EXPORT_RECORD_ASSET = Asset(name=EXPORT_RECORD_ASSET_NAME, uri="phrase-delivery://export-record")


class DeliveryJob(BaseModel):
    """One job to deliver, as listed by Phrase (plain JSON across deferrals)."""

    model_config = ConfigDict(extra="ignore")

    uid: str
    status: str | None = None
    target_lang: str | None = None
    filename: str | None = None
    workflow_level: int | None = None
    #: The source file's folder and name in the connector's repository, when Phrase says.
    remote_folder: str | None = None
    remote_file: str | None = None
    #: When Phrase last changed the job's status: looked up (:func:`status_unchanged_since`) only for a
    #: job whose state matches a record, ``None`` otherwise.
    status_changed: datetime | None = None
    #: When Phrase listed the job in this state (the worker's clock, after the listing).
    listed_at: datetime | None = None

    @classmethod
    def of(cls, job: JobPartV2) -> DeliveryJob:
        remote = job.remote_file
        return cls(
            uid=job.uid,
            status=job.status,
            target_lang=job.target_lang,
            filename=job.filename,
            workflow_level=job.workflow_level,
            remote_folder=remote.human_readable_folder if remote is not None else None,
            remote_file=remote.human_readable_file_name if remote is not None else None,
        )

    @property
    def state(self) -> str:
        """``"<uid>:<status>:<workflow level>"``: the job's state as Phrase lists it."""
        return f"{self.uid}:{self.status}:{self.workflow_level or 1}"

    @property
    def fingerprint(self) -> str:
        """:attr:`state`, and ``"@<ISO 8601 time>"`` of the latest status change once looked up (see the
        module docstring)."""
        if self.status_changed is None:
            return self.state
        return f"{self.state}@{self.status_changed.isoformat()}"

    def record_fields(self) -> dict[str, Any]:
        """What a delivery record keeps of the job's state: ``{"fingerprint", "listed_at"}``."""
        return {
            "fingerprint": self.fingerprint,
            "listed_at": self.listed_at.isoformat() if self.listed_at is not None else None,
        }

    def item(self) -> dict[str, Any]:
        """``{"uid", "status", "targetLang", "filename", "workflowLevel"}`` for XCom and messages."""
        return {
            "uid": self.uid,
            "status": self.status,
            "targetLang": self.target_lang,
            "filename": self.filename,
            "workflowLevel": self.workflow_level,
        }


def list_delivery_jobs(
    hook: PhraseTmsHook, task_id: str, project_uid: str, job_uids: Sequence[str], workflow_level: int | None
) -> list[DeliveryJob]:
    """The jobs ``job_uids`` as Phrase lists them (one paged read of the project at ``workflow_level``).

    ``GET /api2/v2/projects/{projectUid}/jobs?workflowLevel=N``. Raises ``AirflowFailException`` naming
    ``job_uids`` if some are not listed (wrong project, wrong level, deleted).
    """
    wanted = set(job_uids)
    found: dict[str, DeliveryJob] = {}
    for job in hook.iter_jobs(project_uid, workflow_level=workflow_level, page_size=50):
        if job.uid in wanted:
            found[job.uid] = DeliveryJob.of(job)
    listed_at = datetime.now(timezone.utc)
    for delivery_job in found.values():
        delivery_job.listed_at = listed_at
    missing = [uid for uid in job_uids if uid not in found]
    if missing:
        level = workflow_level or 1
        raise AirflowFailException(
            f"Task {task_id!r}: job_uids: Phrase lists no job {', '.join(missing[:20])}"
            f"{f' (and {len(missing) - 20} more)' if len(missing) > 20 else ''} in project {project_uid} "
            f"at workflow level {level}; check the uids, the project and workflow_level"
        )
    return [found[uid] for uid in job_uids]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------ records and job states


def record_matches(record: Mapping[str, Any] | None, job: DeliveryJob) -> bool:
    """Whether ``record`` (a delivery or export record) is of ``job`` at its current state (uid, status,
    workflow level). No call to Phrase."""
    if record is None:
        return False
    return str(record.get("fingerprint") or "").partition("@")[0] == job.state


def status_unchanged_since(
    hook: PhraseTmsHook, project_uid: str, job: DeliveryJob, record: Mapping[str, Any]
) -> bool:
    """Whether ``job``, whose state matches ``record`` (:func:`record_matches`), has not changed status
    since that record: its latest status change is no later than the record's date (the one in its
    fingerprint, else ``listed_at``).

    ``GET /api2/v1/projects/{projectUid}/jobs/{jobUid}/statusChanges`` (one call), unless the record has
    no date (an earlier format: ``True``, compared by state only). Sets ``job.status_changed`` to what
    Phrase answered, so that a new record of the job keeps it. Phrase giving no date: ``True``.
    """
    recorded = _timestamp(str(record.get("fingerprint") or "").partition("@")[2])
    since = recorded or _timestamp(record.get("listed_at"))
    if since is None:
        return True
    latest = hook.get_job_status_changes(project_uid, job.uid).latest
    if latest is None or latest.changed_date is None:
        return True
    job.status_changed = latest.changed_date
    return latest.changed_date <= since


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


# ------------------------------------------------------------------------------ async requests in turn


def first_unfinished(hook: PhraseTmsHook, async_request_ids: Iterable[str]) -> tuple[str | None, list[str]]:
    """Look at each async request once (``GET /api2/v1/async/{id}``), in order, up to the first one that
    has not finished: ``(that id or None, ids of those that failed)``."""
    failed: list[str] = []
    for request_id in async_request_ids:
        request = hook.get_async_request(request_id)
        if not request.is_finished:
            return request_id, failed
        if request_failed(request):
            failed.append(request_id)
    return None, failed


def request_failed(request: AsyncRequest) -> bool:
    response = request.async_response
    return response is not None and response.error_code is not None


def request_error(request: AsyncRequest) -> str:
    response = request.async_response
    if response is None:
        return "not finished"
    return f"{response.error_code}: {response.error_desc or 'no description'}"


def wait_on_worker(
    hook: PhraseTmsHook, request_id: str, *, poll_interval: float, deadline: float | None
) -> None:
    """Poll one async request on the worker until it finished (``PhraseWaitTimeout`` at the deadline)."""
    from airflow_phrase.hooks.waits import poll

    poll(
        lambda: hook.get_async_request(request_id),
        done=lambda request: request.is_finished,
        poll_interval=poll_interval,
        deadline=deadline,
        what=f"Phrase async request {request_id}",
        wait_first=True,
    )


def seconds_until(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.time())


# ------------------------------------------------------------------------------ the export record


class ExportRecordStore:
    """The export record: per job, the fingerprint it was exported at (see the module docstring)."""

    def __init__(self, context: Mapping[str, Any], *, base_url: str, project_uid: str) -> None:
        self._asset_store = _asset_store(context)
        self._task_store = context.get("task_state_store") if hasattr(context, "get") else None
        self._prefix = f"export|{base_url.rstrip('/')}|{project_uid}|"

    @property
    def where(self) -> str:
        if self._asset_store is not None:
            return f"the asset state store of {EXPORT_RECORD_ASSET_NAME}"
        if self._task_store is not None:
            return "the task state store"
        return "nowhere (no state store: every run exports again)"

    def _store(self) -> Any:
        return self._asset_store if self._asset_store is not None else self._task_store

    def get(self, job_uid: str) -> dict[str, Any] | None:
        store = self._store()
        if store is None:
            return None
        raw = store.get(self._prefix + job_uid)
        return raw if isinstance(raw, dict) else None

    def set(self, job_uid: str, value: dict[str, Any]) -> None:
        store = self._store()
        if store is not None:
            store.set(self._prefix + job_uid, value)


def _asset_store(context: Mapping[str, Any]) -> Any:
    stores = context.get("asset_state_store") if hasattr(context, "get") else None
    if stores is None:
        return None
    try:
        return stores[EXPORT_RECORD_ASSET]
    except (KeyError, TypeError, ValueError):
        return None


__all__ = [
    "EXPORT_RECORD_ASSET",
    "EXPORT_RECORD_ASSET_NAME",
    "DeliveryJob",
    "ExportRecordStore",
    "first_unfinished",
    "list_delivery_jobs",
    "now_iso",
    "record_matches",
    "request_error",
    "request_failed",
    "status_unchanged_since",
    "wait_on_worker",
]


# ------------------------------------------------------------------------------ the operators' base


class DeliveryState(BaseModel):
    """What a delivery operator knows across its deferrals and tries (plain JSON).

    ``requests``: async requests not settled yet, id → job uids; ``ready``: jobs whose request finished
    well (to be completed: recorded or downloaded), uid → request id (``""``: no request); ``done``:
    jobs completed; ``failed``: uid → reason.
    """

    model_config = ConfigDict(extra="ignore")

    project_uid: str
    jobs: list[DeliveryJob] = Field(default_factory=list)
    already: list[DeliveryJob] = Field(default_factory=list)
    requests: dict[str, list[str]] = Field(default_factory=dict)
    ready: dict[str, str] = Field(default_factory=dict)
    done: dict[str, dict[str, Any]] = Field(default_factory=dict)
    failed: dict[str, str] = Field(default_factory=dict)

    def fingerprints(self) -> list[str]:
        """The fingerprints of the jobs being delivered (not of those already delivered)."""
        return sorted(job.fingerprint for job in self.jobs)

    def unstarted(self) -> list[DeliveryJob]:
        """The jobs with no open request, not ready, not done (new, or failed in an earlier try)."""
        busy = {uid for uids in self.requests.values() for uid in uids} | set(self.ready) | set(self.done)
        return [job for job in self.jobs if job.uid not in busy and job.uid not in self.failed]

    def job(self, uid: str) -> DeliveryJob:
        return next(job for job in self.jobs if job.uid == uid)

    def settle(self, request_id: str, request: AsyncRequest) -> None:
        """Move the jobs of a finished request to ``ready`` or ``failed``."""
        uids = self.requests.pop(request_id, [])
        if request_failed(request):
            for uid in uids:
                self.failed[uid] = f"async request {request_id} failed: {request_error(request)}"
        else:
            for uid in uids:
                self.ready[uid] = request_id


__all__ += ["DeliveryState"]
