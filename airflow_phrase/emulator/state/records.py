"""The plain records the emulator's state is made of.

Lifecycles are not stored as a status that something has to update: each record keeps when it was
created, when it finishes and how it ends, and the status at any moment is computed from a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar

from airflow_phrase.models import ConnectorTaskStatus, UnknownValue

TokenScheme = Literal["ApiToken", "Bearer"]
ImportState = Literal["RUNNING", "OK", "ERROR"]
T = TypeVar("T")


@dataclass
class User:
    uid: str
    id: str
    user_name: str
    password: str = field(repr=False)
    first_name: str
    last_name: str
    email: str
    role: str


@dataclass
class Token:
    """An access token. ``value`` is a secret: it is never part of a repr."""

    value: str = field(repr=False)
    user_uid: str
    scheme: TokenScheme
    expires: datetime | None  # None: never expires

    def is_valid_at(self, now: datetime) -> bool:
        return self.expires is None or now < self.expires


#: A connector task's status: one of the spec's, or (live quirks) one Phrase sends outside the spec.
TaskStatus = ConnectorTaskStatus | UnknownValue


@dataclass(frozen=True)
class DownloadOutcome:
    """How a connector download task ends."""

    status: TaskStatus
    error_message: str | None = None


@dataclass(frozen=True)
class ImportOutcome:
    """How an ``IMPORT_JOB`` async request ends (``error_code`` set: it failed)."""

    error_code: str | None = None
    error_desc: str | None = None

    @property
    def failed(self) -> bool:
        return self.error_code is not None


def is_failure(status: TaskStatus) -> bool:
    """A finished task that produced no file: ``ERROR``, ``CONVERTER_ERROR`` or a status outside the spec."""
    return isinstance(status, UnknownValue) or status.is_failure


@dataclass
class RemoteFile:
    """A file in a connector's remote storage. Folders are implied by the files' paths."""

    path: str
    content: bytes = field(repr=False)
    content_type: str | None
    last_modified: datetime
    download: DownloadOutcome
    import_outcome: ImportOutcome


@dataclass
class RemoteEntry:
    """One entry of a folder listing: a file or a sub-folder."""

    path: str
    name: str
    directory: bool
    last_modified: datetime
    size: int | None = None
    content_type: str | None = None


@dataclass
class FolderView:
    """A folder listing after filtering and sorting."""

    path: str  # "/" for the root
    entries: list[RemoteEntry]
    last_changed: list[RemoteEntry]

    @property
    def is_root(self) -> bool:
        return self.path == "/"


@dataclass
class ConnectorRecord:
    id: str
    name: str
    type: str
    local_token: str
    created_at: datetime
    created_by_uid: str
    files: dict[str, RemoteFile]  # by path


@dataclass
class WorkflowStepRecord:
    id: str
    uid: str
    name: str
    level: int
    abbreviation: str | None = None


@dataclass
class ProjectRecord:
    uid: str
    id: str
    internal_id: int
    name: str
    source_lang: str
    target_langs: list[str]
    status: str
    date_created: datetime
    owner_uid: str
    client: str | None
    workflow_steps: list[WorkflowStepRecord]
    archived: bool = False


@dataclass
class DownloadTask:
    """A connector async download task (``POST /api2/v2/connectors/.../files/{file}``)."""

    id: str
    connector_id: str
    folder_path: str
    file_path: str
    file_name: str
    content: bytes = field(repr=False)
    created_by_uid: str
    date_created: datetime
    finishes_at: datetime
    outcome: DownloadOutcome
    import_outcome: ImportOutcome
    source_lang: str | None = None
    target_lang: str | None = None
    callback_url: str | None = None
    #: Set when jobs are created from the task: the task then belongs to that project only.
    project_uid: str | None = None
    job_uid: str | None = None

    def status_at(self, now: datetime) -> TaskStatus:
        return self.outcome.status if now >= self.finishes_at else ConnectorTaskStatus.NEW

    def date_processed_at(self, now: datetime) -> datetime | None:
        return self.finishes_at if now >= self.finishes_at else None

    def error_message_at(self, now: datetime) -> str | None:
        return self.outcome.error_message if now >= self.finishes_at else None


@dataclass
class AsyncRequestRecord:
    """An async request (``GET /api2/v1/async/{id}``): an ``IMPORT_JOB`` of created jobs, or the
    preparation of a job's target file (``job_uid``, ``file_name`` and ``content`` set)."""

    id: str
    action: str
    created_by_uid: str
    date_created: datetime
    finishes_at: datetime
    outcome: ImportOutcome
    project_uid: str
    #: Target-file requests: the job, the prepared file and whether it was downloaded (single use).
    job_uid: str | None = None
    file_name: str | None = None
    content: bytes | None = field(default=None, repr=False)
    content_type: str | None = None
    downloaded: bool = False

    def is_finished_at(self, now: datetime) -> bool:
        return now >= self.finishes_at


@dataclass(frozen=True)
class StatusChange:
    """A change of a job's status: by ``setStatus`` (now) or scripted by the admin API (maybe later)."""

    at: datetime
    status: str
    by_uid: str | None = None


@dataclass
class ExportRecord:
    """A job exported to its connector's repository: the file lands there at ``lands_at``."""

    job_uid: str
    project_uid: str
    connector_id: str
    path: str
    content: bytes = field(repr=False)
    content_type: str | None
    job_status: str
    exported_at: datetime
    lands_at: datetime
    landed: bool = False


@dataclass
class Provider:
    id: str
    type: str


@dataclass
class JobRecord:
    """A job part: one per target language and workflow step."""

    uid: str
    inner_id: str
    project_uid: str
    filename: str
    source_lang: str
    target_lang: str
    workflow_level: int
    workflow_step: WorkflowStepRecord | None
    date_created: datetime
    date_due: datetime | None
    continuous: bool
    providers: list[Provider]
    server_task_id: str
    async_request_id: str
    import_finishes_at: datetime
    import_outcome: ImportOutcome
    source_file_uid: str
    connector_id: str
    remote_folder: str
    remote_file: str
    words_count: int
    original_file_directory: str | None = None
    notification_interval_in_minutes: int | None = None
    email_template_id: str | None = None
    #: The status at the instant the state evaluated it (copies handed out carry it; see
    #: ``EmulatorState``'s job status rules).
    status: str = "NEW"
    #: Explicit changes (``setStatus``, admin scripts), in the order they were made; some may lie ahead.
    status_changes: list[StatusChange] = field(default_factory=list)
    #: Whether ``job_completion_delay`` still applies (no change was made or scripted since creation).
    auto_complete: bool = True

    def import_state_at(self, now: datetime) -> ImportState:
        if now < self.import_finishes_at:
            return "RUNNING"
        return "ERROR" if self.import_outcome.failed else "OK"

    def import_error_at(self, now: datetime) -> str | None:
        return self.import_outcome.error_desc if self.import_state_at(now) == "ERROR" else None


@dataclass
class PageSlice(Generic[T]):
    """One page of a list, with Phrase's paging numbers (``page_number`` is zero-based)."""

    items: list[T]
    total_elements: int
    page_number: int
    page_size: int

    @property
    def total_pages(self) -> int:
        return -(-self.total_elements // self.page_size)


def paginate(items: list[T], page_number: int, page_size: int) -> PageSlice[T]:
    start = page_number * page_size
    return PageSlice(items[start : start + page_size], len(items), page_number, page_size)
