"""Turning state records into the JSON bodies Phrase's published spec describes.

The renderers build the provider's response models (so the hook reads what they build) and return the
wire JSON, adjusted where the spec's wire type differs from the Python type of the models (a project's
``workflowSteps[].id`` is a number on the wire, a ``str`` in Python). What these bodies look like is
checked against an independent oracle (``tests/conformance``, the schemas of ``phrasetms-client``), not
against the models. The live-quirks mode (``quirks.py``) is applied afterwards, by the HTTP layer.

Every function takes the instant (``now``) at which lifecycles are evaluated, so one response is
consistent with itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_phrase.emulator.encoding import ROOT, base_name, encode_path
from airflow_phrase.emulator.state import EmulatorState
from airflow_phrase.emulator.state.model import TaskPage
from airflow_phrase.emulator.state.records import (
    AsyncRequestRecord,
    ConnectorRecord,
    DownloadTask,
    FolderView,
    JobRecord,
    PageSlice,
    ProjectRecord,
    RemoteEntry,
    StatusChange,
    User,
    WorkflowStepRecord,
)
from airflow_phrase.models import (
    AsyncFileOpResponse,
    AsyncRequest,
    AsyncRequestReference,
    AsyncRequestWrapper,
    AsyncResponse,
    Connector,
    ConnectorList,
    ConnectorTaskProcessingType,
    ConnectorTaskState,
    ConnectorTaskStatesPage,
    ConnectorTaskType,
    Edition,
    FolderListing,
    ImportStatus,
    JobList,
    JobPart,
    JobPartReference,
    JobPartsPage,
    JobPartV2,
    JobReference,
    JobStatusChange,
    JobStatusChanges,
    LoginResponse,
    NameReference,
    OrganizationReference,
    Page,
    Project,
    ProjectReference,
    ProjectWorkflowStepReference,
    ProviderOut,
    RemoteFile,
    RemoteFileReference,
    UserReference,
    WhoAmI,
    WorkflowStep,
    WorkflowStepReference,
)

Wire = dict[str, Any]

EDITION_NAME = "Ultimate"
#: whoAmI's ``features`` (``FeaturesDto``): the flags both the older and the current spec declare.
FEATURES = {
    "icuEnabled": True,
    "rejectJobs": True,
    "qaHighlightsEnabled": True,
    "lqaBulkCommentsCreation": False,
    "mtForTMAbove100Enabled": False,
}
#: Roles that see a project's whole shape (the spec's ``AdminProjectManager`` member of ``ProjectDto``).
MANAGING_ROLES = ("ADMIN", "PROJECT_MANAGER")


def user_reference(user: User) -> UserReference:
    return UserReference(
        id=user.id,
        uid=user.uid,
        user_name=user.user_name,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        role=user.role,
    )


def login(token: str, expires: datetime, user: User) -> Wire:
    return LoginResponse(
        token=token, expires=expires, user=user_reference(user), last_invalidate_all_sessions_performed=None
    ).to_wire()


def who_am_i(state: EmulatorState, user: User) -> Wire:
    wire = WhoAmI(
        user=user_reference(user),
        organization=OrganizationReference(uid=state.organization_uid, name=state.organization_name),
        edition=Edition(name=EDITION_NAME),
        features=dict(FEATURES),
        csrf_token=None,
    ).to_wire()
    # Only what both the older and the current spec declare: organization {uid, name}, edition {name}.
    wire["organization"] = {"uid": state.organization_uid, "name": state.organization_name}
    wire["edition"] = {"name": EDITION_NAME}
    return wire


def _connector(state: EmulatorState, record: ConnectorRecord) -> Connector:
    creator = state.user(record.created_by_uid)
    return Connector(
        id=record.id,
        name=record.name,
        type=record.type,
        local_token=record.local_token,
        organization=NameReference(id=state.organization_id, name=state.organization_name),
        created_by=NameReference(id=creator.id, name=f"{creator.first_name} {creator.last_name}"),
        created_at=record.created_at,
        automated_project_settings=[],
    )


def connector(state: EmulatorState, record: ConnectorRecord) -> Wire:
    return _connector(state, record).to_wire()


def connector_list(state: EmulatorState, records: list[ConnectorRecord]) -> Wire:
    return ConnectorList(
        connectors=[_connector(state, r) for r in records], total_count=len(records)
    ).to_wire()


def _remote_file(entry: RemoteEntry) -> RemoteFile:
    return RemoteFile(
        id=entry.path,
        name=entry.name,
        encoded_name=encode_path(entry.path),
        content_type=entry.content_type,
        note=None,
        size=entry.size,
        directory=entry.directory,
        last_modified=entry.last_modified,
        due_date=None,
        selected=False,
        unique_identifier=entry.path,
        error=None,
    )


def folder_listing(view: FolderView) -> Wire:
    return FolderListing(
        files=[_remote_file(e) for e in view.entries],
        last_changed_files=[_remote_file(e) for e in view.last_changed],
        current_folder=view.path,
        encoded_current_folder=encode_path(view.path),
        root_folder=view.is_root,
    ).to_wire()


def download_started(task: DownloadTask, creator: User) -> Wire:
    return AsyncFileOpResponse(
        id=task.id,
        created_by=user_reference(creator),
        date_created=task.date_created,
        file_name=task.file_name,
        action="API_DOWNLOAD",
    ).to_wire()


def _task_state(task: DownloadTask, now: datetime) -> ConnectorTaskState:
    return ConnectorTaskState(
        id=task.id,
        status=task.status_at(now),
        task_type=ConnectorTaskType.DOWNLOAD,
        task_processing_type=ConnectorTaskProcessingType.API,
        date_created=task.date_created,
        date_processed=task.date_processed_at(now),
        error_message=task.error_message_at(now),
        job_file_name=task.file_name,
        job_uid=task.job_uid,
        target_lang=task.target_lang,
    )


def task_states_page(result: TaskPage, now: datetime) -> Wire:
    page = result.page
    return ConnectorTaskStatesPage(
        project_uid=result.project.uid,
        project_name=result.project.name,
        success_count=result.success_count,
        error_count=result.error_count,
        content=[_task_state(t, now) for t in page.items],
        **_paging(page),
    ).to_wire()


def _paging(page: PageSlice[Any]) -> dict[str, int]:
    return {
        "total_elements": page.total_elements,
        "total_pages": page.total_pages,
        "page_size": page.page_size,
        "page_number": page.page_number,
        "number_of_elements": len(page.items),
    }


def _workflow_step(step: WorkflowStepRecord) -> WorkflowStep:
    return WorkflowStep(id=step.id, name=step.name, workflow_level=step.level, abbreviation=step.abbreviation)


#: The ``AdminProjectManager`` fields a ``LINGUIST`` (the spec's ``Linguist`` member) does not see.
_MANAGER_ONLY = {"status", "client", "archived", "workflowSteps", "dateDue"}


def project(state: EmulatorState, record: ProjectRecord, role: str) -> Wire:
    """The project in the shape of ``role`` (``userRole``, the spec's discriminator; assumption 13)."""
    wire = Project(
        uid=record.uid,
        id=record.id,
        internal_id=record.internal_id,
        name=record.name,
        user_role=role,
        source_lang=record.source_lang,
        target_langs=list(record.target_langs),
        status=record.status,
        date_created=record.date_created,
        date_due=None,
        owner=user_reference(state.user(record.owner_uid)),
        client=NameReference(id=None, name=record.client) if record.client else None,
        archived=record.archived,
        workflow_steps=[_workflow_step(s) for s in record.workflow_steps],
    ).to_wire()
    if role not in MANAGING_ROLES:
        return {key: value for key, value in wire.items() if key not in _MANAGER_ONLY}
    # The spec's ProjectWorkflowStepDto.id is an integer (our model keeps ids as str).
    wire["workflowSteps"] = [
        {**step, "id": int(step["id"]) if str(step["id"]).isdigit() else step["id"]}
        for step in wire["workflowSteps"]
    ]
    return wire


def projects_page(state: EmulatorState, page: PageSlice[ProjectRecord], role: str) -> Wire:
    return {
        **Page(**_paging(page)).to_wire(),
        "content": [project(state, record, role) for record in page.items],
    }


def _project_reference(record: ProjectRecord) -> ProjectReference:
    return ProjectReference(uid=record.uid, name=record.name)


def _step_reference(step: WorkflowStepRecord | None) -> WorkflowStepReference | None:
    if step is None:
        return None
    return WorkflowStepReference(
        id=step.id, uid=step.uid, name=step.name, order=step.level, lqa_enabled=False
    )


def _project_step_reference(step: WorkflowStepRecord | None) -> ProjectWorkflowStepReference | None:
    if step is None:
        return None
    return ProjectWorkflowStepReference(
        id=step.id, name=step.name, order=step.level, workflow_level=step.level
    )


def _providers(job: JobRecord) -> list[ProviderOut]:
    return [ProviderOut(id=p.id, uid=None, type=p.type) for p in job.providers]


def _import_status(job: JobRecord, now: datetime) -> ImportStatus:
    return ImportStatus(status=job.import_state_at(now), error_message=job.import_error_at(now))


def job_list(jobs: list[JobRecord], request: AsyncRequestRecord) -> Wire:
    return JobList(
        jobs=[
            JobPartReference(
                uid=j.uid,
                filename=j.filename,
                target_lang=j.target_lang,
                status=j.status,
                imported=False,
                date_created=j.date_created,
                date_due=j.date_due,
                workflow_level=j.workflow_level,
                workflow_step=_step_reference(j.workflow_step),
                continuous=j.continuous,
                source_file_uid=j.source_file_uid,
                providers=_providers(j),
                update_source_date=None,
                notification_interval_in_minutes=j.notification_interval_in_minutes,
                job_assigned_email_template={"id": j.email_template_id} if j.email_template_id else None,
            )
            for j in jobs
        ],
        async_request=AsyncRequestReference(
            id=request.id, action=request.action, date_created=request.date_created
        ),
        unsupported_files=[],
        warnings=[],
    ).to_wire()


def async_request(state: EmulatorState, record: AsyncRequestRecord, now: datetime) -> Wire:
    return _async_request(state, record, now).to_wire()


def async_request_wrapper(state: EmulatorState, record: AsyncRequestRecord, now: datetime) -> Wire:
    """``AsyncRequestWrapperV2Dto`` (the target-file PUT). Its ``AsyncResponseV2Dto`` has no
    ``acceptedSegmentsCount``."""
    wire = AsyncRequestWrapper(async_request=_async_request(state, record, now)).to_wire()
    response = wire["asyncRequest"].get("asyncResponse")
    if isinstance(response, dict):
        response.pop("acceptedSegmentsCount", None)
    return wire


def job_export(jobs: list[JobRecord]) -> Wire:
    """``JobExportResponseDto``: the spec's ``{"jobs": [{"uid"}]}``."""
    return {"jobs": [JobReference(uid=j.uid).to_wire() for j in jobs]}


def status_changes(state: EmulatorState, changes: list[StatusChange]) -> Wire:
    """``JobPartStatusChangesDto``."""
    return JobStatusChanges(
        status_changes=[
            JobStatusChange(
                status=c.status,
                changed_date=c.at,
                changed_by=user_reference(state.user(c.by_uid)) if c.by_uid else None,
            )
            for c in changes
        ]
    ).to_wire()


def _async_request(state: EmulatorState, record: AsyncRequestRecord, now: datetime) -> AsyncRequest:
    response = None
    if record.is_finished_at(now):
        response = AsyncResponse(
            date_created=record.finishes_at,
            error_code=record.outcome.error_code,
            error_desc=record.outcome.error_desc,
            error_details=[],
            warnings=[],
            accepted_segments_count=None,
        )
    return AsyncRequest(
        id=record.id,
        created_by=user_reference(state.user(record.created_by_uid)),
        date_created=record.date_created,
        action=record.action,
        async_response=response,
        parent=None,
        project=_project_reference(state.get_project(record.project_uid)),
    )


def job_part(state: EmulatorState, job: JobRecord, now: datetime) -> Wire:
    state_now = job.import_state_at(now)
    project_record = state.get_project(job.project_uid)
    return JobPart(
        uid=job.uid,
        inner_id=job.inner_id,
        filename=job.filename,
        source_lang=job.source_lang,
        target_lang=job.target_lang,
        status=job.status,
        imported=state_now == "OK",
        import_status=_import_status(job, now),
        date_created=job.date_created,
        date_due=job.date_due,
        continuous=job.continuous,
        workflow_level=job.workflow_level,
        last_workflow_level=max((s.level for s in project_record.workflow_steps), default=1),
        workflow_step=_project_step_reference(job.workflow_step),
        project=_project_reference(project_record),
        providers=_providers(job),
        server_task_id=job.server_task_id,
        words_count=job.words_count if state_now == "OK" else 0,
        original_file_directory=job.original_file_directory,
        update_source_date=None,
    ).to_wire()


def _remote_file_reference(job: JobRecord) -> RemoteFileReference:
    folder = job.remote_folder or ROOT
    return RemoteFileReference(
        encoded_file_name=encode_path(job.remote_file),
        encoded_folder=encode_path(folder),
        human_readable_file_name=base_name(job.remote_file),
        human_readable_folder=folder,
    )


def job_search(state: EmulatorState, jobs: list[JobRecord], now: datetime) -> Wire:
    """``SearchJobsDto``: ``{"jobs": [JobPartExtendedDto, ...]}``."""
    return {"jobs": [job_part(state, j, now) for j in jobs]}


def jobs_page(page: PageSlice[JobRecord], now: datetime) -> Wire:
    return JobPartsPage(
        content=[
            JobPartV2(
                uid=j.uid,
                inner_id=j.inner_id,
                filename=j.filename,
                status=j.status,
                target_lang=j.target_lang,
                imported=j.import_state_at(now) == "OK",
                import_status=_import_status(j, now),
                date_created=j.date_created,
                date_due=j.date_due,
                continuous=j.continuous,
                workflow_step=_project_step_reference(j.workflow_step),
                server_task_id=j.server_task_id,
                source_file_uid=j.source_file_uid,
                remote_file=_remote_file_reference(j),
            )
            for j in page.items
        ],
        **_paging(page),
    ).to_wire()
