"""Connectors, folder listings and connector async tasks (download file async, task states)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from ._base import (
    ENUM_SERIALIZER,
    OptionalTimestamp,
    Page,
    PhraseId,
    PhraseRequest,
    PhraseResponse,
    UnknownValue,
    lenient_enum,
)
from .common import NameReference, UserReference


class ConnectorTaskStatus(str, Enum):
    """``ConnectorAsyncTaskStateDto.status``."""

    NEW = "NEW"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CONVERTER_ERROR = "CONVERTER_ERROR"

    @property
    def is_finished(self) -> bool:
        return self is not ConnectorTaskStatus.NEW

    @property
    def is_failure(self) -> bool:
        return self in (ConnectorTaskStatus.ERROR, ConnectorTaskStatus.CONVERTER_ERROR)


class ConnectorTaskType(str, Enum):
    DOWNLOAD = "DOWNLOAD"
    UPLOAD = "UPLOAD"
    REIMPORT = "REIMPORT"
    REIMPORT_TARGET = "REIMPORT_TARGET"


class ConnectorTaskProcessingType(str, Enum):
    API = "API"
    GUI = "GUI"
    CJ = "CJ"
    APC = "APC"
    SUBMITTER_PORTAL = "SUBMITTER_PORTAL"


#: A task status as read: a known :class:`ConnectorTaskStatus`, or the :class:`UnknownValue` Phrase sent.
TaskStatusValue = Annotated[
    ConnectorTaskStatus | UnknownValue, BeforeValidator(lenient_enum(ConnectorTaskStatus)), ENUM_SERIALIZER
]
TaskTypeValue = Annotated[
    ConnectorTaskType | UnknownValue, BeforeValidator(lenient_enum(ConnectorTaskType)), ENUM_SERIALIZER
]
TaskProcessingTypeValue = Annotated[
    ConnectorTaskProcessingType | UnknownValue,
    BeforeValidator(lenient_enum(ConnectorTaskProcessingType)),
    ENUM_SERIALIZER,
]


class Connector(PhraseResponse):
    """``ConnectorDto``. ``id`` goes into ``/connectors/{connectorId}`` paths."""

    id: PhraseId
    name: str = ""
    type: str | None = None
    local_token: str | None = None
    organization: NameReference | None = None
    created_by: NameReference | None = None
    created_at: OptionalTimestamp = None
    automated_project_settings: list[dict[str, Any]] = Field(default_factory=list)


class ConnectorList(PhraseResponse):
    """``ConnectorListDto``."""

    connectors: list[Connector] = Field(default_factory=list)
    total_count: int = 0


class FileError(PhraseResponse):
    code: str | None = None
    message: str | None = None


class RemoteFile(PhraseResponse):
    """``FileDto``: one entry of a folder listing. ``encoded_name`` is opaque: never build it."""

    id: PhraseId | None = None
    name: str
    encoded_name: str
    content_type: str | None = None
    note: str | None = None
    size: int | None = None
    directory: bool = False
    last_modified: OptionalTimestamp = None
    due_date: OptionalTimestamp = None
    selected: bool | None = None
    unique_identifier: str | None = None
    error: FileError | None = None


class FolderListing(PhraseResponse):
    """``FileListDto`` from ``GET /api2/v1/connectors/{id}/folders[/{folder}]``."""

    files: list[RemoteFile] = Field(default_factory=list)
    last_changed_files: list[RemoteFile] = Field(default_factory=list)
    current_folder: str | None = None
    encoded_current_folder: str | None = None
    root_folder: bool = False


class DownloadFileRequest(PhraseRequest):
    """``GetFileRequestParamsDto``: body of the async download."""

    source_lang: str | None = None
    target_lang: str | None = None
    callback_url: str | None = None


class AsyncFileOpResponse(PhraseResponse):
    """``AsyncFileOpResponseDto``. ``id`` is the connector task id (the ``downloadTaskId``)."""

    id: PhraseId
    created_by: UserReference | None = None
    date_created: OptionalTimestamp = None
    file_name: str | None = None
    action: str | None = None


class ConnectorTaskState(PhraseResponse):
    """``ConnectorAsyncTaskStateDto``.

    ``status`` may be a value this provider does not know (:class:`~airflow_phrase.models.UnknownValue`);
    read :attr:`is_finished` / :attr:`is_failure` rather than the status's own properties: they decide
    for unknown statuses too.
    """

    id: PhraseId
    status: TaskStatusValue
    task_type: TaskTypeValue | None = None
    task_processing_type: TaskProcessingTypeValue | None = None
    date_created: OptionalTimestamp = None
    date_processed: OptionalTimestamp = None
    error_message: str | None = None
    job_file_name: str | None = None
    job_uid: PhraseId | None = None
    target_lang: str | None = None

    @property
    def has_unknown_status(self) -> bool:
        """Phrase sent a status this provider does not know (see :attr:`is_finished`)."""
        return isinstance(self.status, UnknownValue)

    @property
    def is_finished(self) -> bool:
        """The task will not change any more.

        A status this provider does not know counts as finished once Phrase has processed the task
        (``dateProcessed`` is set; it stays ``null`` until then): e.g. a task cancelled in Phrase. Before
        that, an unknown status counts as still running.
        """
        if isinstance(self.status, UnknownValue):
            return self.date_processed is not None
        return self.status.is_finished

    @property
    def is_failure(self) -> bool:
        """The task finished without producing the file: ``ERROR``, ``CONVERTER_ERROR``, or a status this
        provider does not know on a processed task (only ``SUCCESS`` means the file is there)."""
        if isinstance(self.status, UnknownValue):
            return self.is_finished
        return self.status.is_failure

    @property
    def failure_detail(self) -> str | None:
        """Why a failed task failed: Phrase's ``errorMessage``, and for a status this provider does not
        know, that it is treated as a failure and why (``None``: Phrase gave no message)."""
        if not isinstance(self.status, UnknownValue):
            return self.error_message
        processed = self.date_processed.isoformat() if self.date_processed else "never"
        note = (
            f"Phrase reports status {self.status.value!r}, which this provider does not know; Phrase has "
            f"processed the task (dateProcessed {processed}) without a SUCCESS, so it is treated as failed"
        )
        return f"{note}: {self.error_message}" if self.error_message else note


class ConnectorTaskStatesPage(Page):
    """``ConnectorAsyncTaskStatesDto`` from ``GET /api2/v1/connectorAsyncTasks``."""

    project_uid: PhraseId | None = None
    project_name: str | None = None
    success_count: int = 0
    error_count: int = 0
    content: list[ConnectorTaskState] = Field(default_factory=list)
