"""Connectors, folder listings and connector async tasks (download file async, task states)."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from ._base import Page, PhraseId, PhraseRequest, PhraseResponse, PhraseTimestamp
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


class Connector(PhraseResponse):
    """``ConnectorDto``. ``id`` goes into ``/connectors/{connectorId}`` paths."""

    id: PhraseId
    name: str
    type: str
    local_token: str | None = None
    organization: NameReference | None = None
    created_by: NameReference | None = None
    created_at: PhraseTimestamp | None = None
    automated_project_settings: list[dict[str, object]] = Field(default_factory=list)


class ConnectorList(PhraseResponse):
    """``ConnectorListDto``."""

    connectors: list[Connector] = Field(default_factory=list)
    total_count: int = 0


class FileError(PhraseResponse):
    code: str | None = None
    message: str | None = None


class RemoteFile(PhraseResponse):
    """``FileDto``: one entry of a folder listing. ``encoded_name`` is opaque: never build it."""

    id: str | None = None
    name: str
    encoded_name: str
    content_type: str | None = None
    note: str | None = None
    size: int | None = None
    directory: bool = False
    last_modified: PhraseTimestamp | None = None
    due_date: PhraseTimestamp | None = None
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
    date_created: PhraseTimestamp | None = None
    file_name: str | None = None
    action: str | None = None


class ConnectorTaskState(PhraseResponse):
    """``ConnectorAsyncTaskStateDto``."""

    id: PhraseId
    status: ConnectorTaskStatus
    task_type: ConnectorTaskType | str | None = None
    task_processing_type: ConnectorTaskProcessingType | str | None = None
    date_created: PhraseTimestamp | None = None
    date_processed: PhraseTimestamp | None = None
    error_message: str | None = None
    job_file_name: str | None = None
    job_uid: str | None = None
    target_lang: str | None = None


class ConnectorTaskStatesPage(Page):
    """``ConnectorAsyncTaskStatesDto`` from ``GET /api2/v1/connectorAsyncTasks``."""

    project_uid: str | None = None
    project_name: str | None = None
    success_count: int = 0
    error_count: int = 0
    content: list[ConnectorTaskState] = Field(default_factory=list)
