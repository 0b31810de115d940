"""Where the oracle follows Phrase's *current* spec instead of ``phrasetms-client`` 1.0.0.

``phrasetms-client`` 1.0.0 (the oracle) was generated from an older Phrase spec. Where the current spec
(read from phrappy 1.1.0, generated from the live spec: see ``phrase-tms-api-facts.md``, source C1)
differs from it for a schema the provider reads, the current spec wins, and this module says so in code:

* :class:`ConnectorAsyncTaskStatesDto`: ``GET /api2/v1/connectorAsyncTasks`` is not in the older spec at
  all; transcribed field by field (with its enums) from the current one.
* :class:`FileDtoCurrent`: the current ``FileDto`` adds ``dueDate`` and ``uniqueIdentifier``.
* :class:`JobPartReferenceV2Current`: the current list-jobs-v2 item adds ``remoteFile``
  (``JobRemoteFileReference``), which the provider uses to tell files of the same name apart.
* :class:`JobListDtoCurrent`: the current create-job answer adds ``warnings``.
* :class:`JobPartExtendedDtoCurrent`: the current get-job answer adds ``serverTaskId`` (the download
  task a job was created from, which the provider uses to find the jobs of a task).
* :class:`ConnectorDtoCurrent`: the current ``type`` enum adds ``GOOGLE_DRIVE2``, ``GITHUB2``,
  ``CONTENTFUL2``, ``BLUEPRINT``, ``BRAZE_MULTILANG``, ``OPTIMIZELY``, ``VERBIS``.
* :class:`ErrorBody`: neither spec has a schema for error answers; this is the body every other client
  parses (phrappy's ``client.py``, Blackbird's ``Models/Error.cs``) and a live example shows
  (``{"errorCode": ..., "errorDescription": ...}``, facts §8).

* :class:`AsyncRequestDtoCurrent` and :class:`JobPartExtendedDtoCurrent`: the project referenced by an
  async request and by a job is the current spec's ``AReferenceToAProject`` (``uid`` and ``name`` only);
  the older ``ProjectReference`` there also had ``innerId``, ``status``, the languages and more.

Everything else is checked against ``phrasetms-client`` unchanged. Where the two specs differ in a way
that an answer can satisfy both (whoAmI: the older ``organization`` is ``{uid, name}``, the current
``{id, uid, name}``; the older ``edition`` ``{id, name, title}``, the current ``{name}``; the current
``features`` has many more flags), the emulator sends what both accept, and the older schema checks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from phrasetms_client.models.async_request_dto import AsyncRequestDto
from phrasetms_client.models.connector_dto import ConnectorDto
from phrasetms_client.models.connector_list_dto import ConnectorListDto
from phrasetms_client.models.file_dto import FileDto
from phrasetms_client.models.file_list_dto import FileListDto
from phrasetms_client.models.job_list_dto import JobListDto
from phrasetms_client.models.job_part_extended_dto import JobPartExtendedDto
from phrasetms_client.models.job_part_reference_v2 import JobPartReferenceV2
from phrasetms_client.models.page_dto_job_part_reference_v2 import PageDtoJobPartReferenceV2
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

CONNECTOR_TYPES = [
    "AEM_PLUGIN",
    "AMAZON_S3",
    "AZURE",
    "BITBUCKET",
    "BITBUCKETSERVER",
    "BLUEPRINT",
    "BOX",
    "BRAZE",
    "BRAZE_MULTILANG",
    "CONFLUENCE",
    "CONTENTFUL",
    "CONTENTFUL2",
    "CONTENTFULENTRYLEVEL",
    "CONTENTSTACK",
    "DROPBOX",
    "DRUPAL",
    "DRUPAL_PLUGIN",
    "FTP",
    "GIT",
    "GITHUB",
    "GITHUB2",
    "GITLAB",
    "GOOGLE",
    "GOOGLE_DRIVE2",
    "HELPSCOUT",
    "HUBSPOT",
    "JOOMLA",
    "KENTICO",
    "KENTICO_KONTENT",
    "MAGENTO",
    "MARKETO",
    "ONEDRIVE",
    "OPTIMIZELY",
    "PARDOT",
    "PHRASE",
    "SALESFORCE",
    "SFTP",
    "SHAREPOINT",
    "SITECORE",
    "TRIDION",
    "TYPO3",
    "VERBIS",
    "WORDPRESS",
    "ZENDESK",
]


class _Current(BaseModel):
    """A schema transcribed from the current spec: wire names as field names, nothing else allowed."""

    model_config = ConfigDict(extra="forbid", strict=False)


class SortOrder(_Current):
    direction: Literal["ASC", "DESC"] | None = None
    property: StrictStr | None = None


class Sort(_Current):
    orders: list[SortOrder] | None = None


class ConnectorAsyncTaskStateDto(_Current):
    dateCreated: datetime | None = None
    dateProcessed: datetime | None = None
    errorMessage: StrictStr | None = None
    id: StrictStr | None = None
    jobFileName: StrictStr | None = None
    jobUid: StrictStr | None = None
    status: Literal["NEW", "SUCCESS", "ERROR", "CONVERTER_ERROR"] | None = None
    targetLang: StrictStr | None = None
    taskProcessingType: Literal["API", "GUI", "CJ", "APC", "SUBMITTER_PORTAL"] | None = None
    taskType: Literal["DOWNLOAD", "UPLOAD", "REIMPORT", "REIMPORT_TARGET"] | None = None


class ConnectorAsyncTaskStatesDto(_Current):
    content: list[ConnectorAsyncTaskStateDto] | None = None
    errorCount: StrictInt | None = None
    numberOfElements: StrictInt | None = None
    pageNumber: StrictInt | None = None
    pageSize: StrictInt | None = None
    projectName: StrictStr | None = None
    projectUid: StrictStr | None = None
    sort: Sort | None = None
    successCount: StrictInt | None = None
    totalElements: StrictInt | None = None
    totalPages: StrictInt | None = None


class ErrorBody(_Current):
    errorCode: StrictStr
    errorDescription: StrictStr


class FileDtoCurrent(FileDto):
    due_date: datetime | None = Field(None, alias="dueDate")
    unique_identifier: StrictStr | None = Field(None, alias="uniqueIdentifier")


class FileListDtoCurrent(FileListDto):
    files: list[FileDtoCurrent] | None = None
    last_changed_files: list[FileDtoCurrent] | None = Field(None, alias="lastChangedFiles")


class JobRemoteFileReference(_Current):
    encodedFileName: StrictStr | None = None
    encodedFolder: StrictStr | None = None
    humanReadableFileName: StrictStr | None = None
    humanReadableFolder: StrictStr | None = None


class JobPartReferenceV2Current(JobPartReferenceV2):
    remote_file: JobRemoteFileReference | None = Field(None, alias="remoteFile")


class PageDtoJobPartReferenceV2Current(PageDtoJobPartReferenceV2):
    content: list[JobPartReferenceV2Current] | None = None
    sort: Sort | None = None


class JobListWarningDto(_Current):
    domain: StrictStr | None = None
    jobPartIds: list[StrictStr] | None = None
    message: StrictStr | None = None


class JobListDtoCurrent(JobListDto):
    warnings: list[JobListWarningDto] | None = None


class AReferenceToAProject(_Current):
    name: StrictStr | None = None
    uid: StrictStr | None = None


class AsyncRequestDtoCurrent(AsyncRequestDto):
    project: AReferenceToAProject | None = None
    parent: AsyncRequestDtoCurrent | None = None


class JobPartExtendedDtoCurrent(JobPartExtendedDto):
    server_task_id: StrictStr | None = Field(None, alias="serverTaskId")
    project: AReferenceToAProject | None = None


class ConnectorDtoCurrent(ConnectorDto):
    @field_validator("type")
    @classmethod
    def type_validate_enum(cls, value: str | None) -> str | None:  # replaces the older spec's list
        if value is not None and value not in CONNECTOR_TYPES:
            raise ValueError(f"must be one of enum values {CONNECTOR_TYPES}")
        return value


class ConnectorListDtoCurrent(ConnectorListDto):
    connectors: list[ConnectorDtoCurrent] | None = None


#: The older schema each overlay replaces, for the key check of nested objects.
REPLACES: dict[type[BaseModel], type[BaseModel]] = {
    FileDto: FileDtoCurrent,
    FileListDto: FileListDtoCurrent,
    JobPartReferenceV2: JobPartReferenceV2Current,
    PageDtoJobPartReferenceV2: PageDtoJobPartReferenceV2Current,
    JobListDto: JobListDtoCurrent,
    AsyncRequestDto: AsyncRequestDtoCurrent,
    JobPartExtendedDto: JobPartExtendedDtoCurrent,
    ConnectorDto: ConnectorDtoCurrent,
    ConnectorListDto: ConnectorListDtoCurrent,
}

__all__ = [
    "REPLACES",
    "AsyncRequestDtoCurrent",
    "ConnectorAsyncTaskStatesDto",
    "ConnectorDtoCurrent",
    "ConnectorListDtoCurrent",
    "ErrorBody",
    "FileListDtoCurrent",
    "JobListDtoCurrent",
    "JobPartExtendedDtoCurrent",
    "PageDtoJobPartReferenceV2Current",
]
