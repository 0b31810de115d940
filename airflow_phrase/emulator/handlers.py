"""The Phrase TMS routes (under ``/web``): parse the request, ask the state, render the spec's JSON.

In the live-quirks mode every JSON body then goes through :func:`airflow_phrase.emulator.quirks.apply`.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from airflow_phrase.emulator import quirks, render
from airflow_phrase.emulator.params import (
    query_bool,
    query_datetime,
    query_int,
    query_list,
    query_str,
    read_body,
)
from airflow_phrase.emulator.services import SERVICES, USER_KEY
from airflow_phrase.emulator.state import EmulatorState, JobQuery, ProjectQuery, TaskQuery, User
from airflow_phrase.emulator.state.errors import bad_request
from airflow_phrase.models import (
    DownloadFileRequest,
    JobCreateRequest,
    JobExportRequest,
    JobSearchRequest,
    JobStatusChangeRequest,
    LoginRequest,
)

PREFIX = "/web"
LOGIN_PATH = "/api2/v3/auth/login"

#: ``ConnectorDto.type`` values (current spec); the ``type`` filter rejects anything else.
CONNECTOR_TYPES = frozenset(
    {
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
    }
)


def _state(request: web.Request) -> EmulatorState:
    return request.app[SERVICES].state


def _user(request: web.Request) -> User:
    user: User = request[USER_KEY]
    return user


def _optional_int(request: web.Request, name: str) -> int | None:
    return None if query_str(request, name) is None else query_int(request, name, 0)


def _json(request: web.Request, body: render.Wire, status: int = 200) -> web.Response:
    if _state(request).live_quirks:
        body = quirks.apply(body)
    return web.json_response(body, status=status)


async def login(request: web.Request) -> web.Response:
    body = await read_body(request, LoginRequest, required=True)
    assert body is not None
    token, user = _state(request).login(body.user_name, body.password.get_secret_value(), body.user_uid)
    assert token.expires is not None
    return _json(request, render.login(token.value, token.expires, user))


async def who_am_i(request: web.Request) -> web.Response:
    return _json(request, render.who_am_i(_state(request), _user(request)))


async def list_connectors(request: web.Request) -> web.Response:
    connector_type = query_str(request, "type")
    if connector_type is not None and connector_type not in CONNECTOR_TYPES:
        raise bad_request(f"type {connector_type!r} is not a connector type.")
    state = _state(request)
    return _json(request, render.connector_list(state, state.list_connectors(connector_type)))


async def get_connector(request: web.Request) -> web.Response:
    state = _state(request)
    return _json(request, render.connector(state, state.get_connector(request.match_info["connectorId"])))


async def list_folder(request: web.Request) -> web.Response:
    view = _state(request).list_folder(
        request.match_info["connectorId"],
        request.match_info.get("folder"),
        project_uid=query_str(request, "projectUid"),
        file_type=query_str(request, "fileType") or "ALL",
        sort=query_str(request, "sort") or "NAME",
        direction=query_str(request, "direction") or "ASCENDING",
    )
    return _json(request, render.folder_listing(view))


async def start_download(request: web.Request) -> web.Response:
    body = await read_body(request, DownloadFileRequest, required=False) or DownloadFileRequest()
    state = _state(request)
    user = _user(request)
    task = state.start_download(
        request.match_info["connectorId"],
        request.match_info["folder"],
        request.match_info["file"],
        user_uid=user.uid,
        source_lang=body.source_lang,
        target_lang=body.target_lang,
        callback_url=body.callback_url,
    )
    return _json(request, render.download_started(task, user))


async def list_connector_tasks(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.now()
    result = state.list_connector_tasks(
        TaskQuery(
            project_uid=query_str(request, "projectUid"),
            task_types=query_list(request, "taskType"),
            processing_types=query_list(request, "taskProcessingType"),
            created_from=query_datetime(request, "dateCreatedFrom"),
            created_to=query_datetime(request, "dateCreatedTo"),
            processed_from=query_datetime(request, "dateProcessedFrom"),
            processed_to=query_datetime(request, "dateProcessedTo"),
            page_number=query_int(request, "pageNumber", 0),
            page_size=query_int(request, "pageSize", 100),
        ),
        now=now,
    )
    return _json(request, render.task_states_page(result, now))


def _content_disposition(file_name: str) -> str:
    ascii_name = file_name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


async def prepared_file(request: web.Request) -> web.Response:
    info = request.match_info
    file_name, content = _state(request).prepared_file(
        info["connectorId"], info["folder"], info["file"], info["taskId"]
    )
    return web.Response(
        body=content,
        content_type="application/octet-stream",
        headers={"Content-Disposition": _content_disposition(file_name)},
    )


async def create_jobs(request: web.Request) -> web.Response:
    state = _state(request)
    project_uid = request.match_info["projectUid"]
    state.get_project(project_uid)  # 404 before looking at anything else
    continuous = query_bool(request, "continuous", False)
    body = await read_body(request, JobCreateRequest, required=True)
    assert body is not None
    created = state.create_jobs(
        project_uid,
        query_str(request, "downloadTaskId"),
        body,
        continuous=bool(continuous),
        user_uid=_user(request).uid,
    )
    return _json(request, render.job_list(created.jobs, created.async_request), status=201)


async def get_async_request(request: web.Request) -> web.Response:
    async_request_id = request.match_info["asyncRequestId"]
    if not async_request_id.isdigit():
        raise bad_request(f"asyncRequestId must be a number, not {async_request_id!r}.")
    state = _state(request)
    now = state.now()
    return _json(request, render.async_request(state, state.get_async_request(async_request_id), now))


async def get_project(request: web.Request) -> web.Response:
    state = _state(request)
    role = state.project_view_role(_user(request))
    return _json(request, render.project(state, state.get_project(request.match_info["projectUid"]), role))


async def list_projects(request: web.Request) -> web.Response:
    state = _state(request)
    role = state.project_view_role(_user(request))
    page = state.list_projects(
        ProjectQuery(
            name=query_str(request, "name"),
            statuses=query_list(request, "statuses"),
            source_langs=query_list(request, "sourceLangs"),
            target_langs=query_list(request, "targetLangs"),
            owner_id=query_str(request, "ownerId"),
            created_in_last_hours=_optional_int(request, "createdInLastHours"),
            include_archived=bool(query_bool(request, "includeArchived", False)),
            archived_only=bool(query_bool(request, "archivedOnly", False)),
            sort=query_str(request, "sort") or "ID",
            order=query_str(request, "order") or "ASC",
            page_number=query_int(request, "pageNumber", 0),
            page_size=query_int(request, "pageSize", 50),
        )
    )
    return _json(request, render.projects_page(state, page, role))


async def get_job(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.now()
    job = state.get_job(request.match_info["projectUid"], request.match_info["jobUid"], now)
    return _json(request, render.job_part(state, job, now))


async def set_job_status(request: web.Request) -> web.Response:
    state = _state(request)
    info = request.match_info
    state.get_job(info["projectUid"], info["jobUid"])  # 404 before looking at the body
    body = await read_body(request, JobStatusChangeRequest, required=True)
    assert body is not None
    state.set_job_status(
        info["projectUid"], info["jobUid"], body.requested_status.value, user_uid=_user(request).uid
    )
    return web.Response(status=204)


async def job_status_changes(request: web.Request) -> web.Response:
    state = _state(request)
    order = query_str(request, "order") or "ASC"
    if order not in ("ASC", "DESC"):
        raise bad_request(f"order must be ASC or DESC, not {order!r}.")
    changes = state.job_status_changes(request.match_info["projectUid"], request.match_info["jobUid"])
    if order == "DESC":
        changes.reverse()
    return _json(request, render.status_changes(state, changes))


async def export_jobs(request: web.Request) -> web.Response:
    state = _state(request)
    project_uid = request.match_info["projectUid"]
    state.get_project(project_uid)  # 404 before looking at the body
    body = await read_body(request, JobExportRequest, required=True)
    assert body is not None
    jobs = state.export_jobs(project_uid, [job.uid for job in body.jobs])
    return _json(request, render.job_export(jobs))


async def start_target_file(request: web.Request) -> web.Response:
    state = _state(request)
    user = _user(request)
    record = state.start_target_file(
        request.match_info["projectUid"], request.match_info["jobUid"], user_uid=user.uid
    )
    return _json(request, render.async_request_wrapper(state, record, state.now()))


async def download_target_file(request: web.Request) -> web.Response:
    info = request.match_info
    async_request_id = info["asyncRequestId"]
    if not async_request_id.isdigit():
        raise bad_request(f"asyncRequestId must be a number, not {async_request_id!r}.")
    record = _state(request).download_target_file(info["projectUid"], info["jobUid"], async_request_id)
    return web.Response(
        body=record.content or b"",
        content_type="application/octet-stream",
        headers={"Content-Disposition": _content_disposition(record.file_name or "target")},
    )


async def list_jobs(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.now()
    workflow_level = query_int(request, "workflowLevel", 1)
    if workflow_level < 1:
        raise bad_request(f"workflowLevel must be 1 or more, not {workflow_level}.")
    page = state.list_jobs(
        request.match_info["projectUid"],
        JobQuery(
            filename=query_str(request, "filename"),
            target_lang=query_str(request, "targetLang"),
            statuses=query_list(request, "status"),
            workflow_level=workflow_level,
            not_ready=query_bool(request, "notReady", None),
            page_number=query_int(request, "pageNumber", 0),
            page_size=query_int(request, "pageSize", 50),
        ),
        now=now,
    )
    return _json(request, render.jobs_page(page, now))


async def search_jobs(request: web.Request) -> web.Response:
    state = _state(request)
    project_uid = request.match_info["projectUid"]
    state.get_project(project_uid)  # 404 before looking at the body
    body = await read_body(request, JobSearchRequest, required=True)
    assert body is not None
    now = state.now()
    jobs = state.search_jobs(project_uid, [job.uid for job in body.jobs], now)
    return _json(request, render.job_search(state, jobs, now))


def add_phrase_routes(app: web.Application) -> None:
    connector = PREFIX + "/api2/v1/connectors/{connectorId}"
    remote_file = PREFIX + "/api2/v2/connectors/{connectorId}/folders/{folder}/files/{file}"
    app.router.add_post(PREFIX + LOGIN_PATH, login)
    app.router.add_get(PREFIX + "/api2/v1/auth/whoAmI", who_am_i)
    app.router.add_get(PREFIX + "/api2/v1/connectors", list_connectors)
    app.router.add_get(connector, get_connector)
    app.router.add_get(connector + "/folders", list_folder)
    app.router.add_get(connector + "/folders/{folder}", list_folder)
    app.router.add_post(remote_file, start_download)
    app.router.add_get(remote_file + "/tasks/{taskId}", prepared_file)
    app.router.add_get(PREFIX + "/api2/v1/connectorAsyncTasks", list_connector_tasks)
    app.router.add_post(PREFIX + "/api2/v1/projects/{projectUid}/jobs/connectorTask", create_jobs)
    app.router.add_get(PREFIX + "/api2/v1/async/{asyncRequestId}", get_async_request)
    app.router.add_get(PREFIX + "/api2/v1/projects", list_projects)
    app.router.add_get(PREFIX + "/api2/v1/projects/{projectUid}", get_project)
    app.router.add_post(PREFIX + "/api2/v1/projects/{projectUid}/jobs/search", search_jobs)
    app.router.add_get(PREFIX + "/api2/v1/projects/{projectUid}/jobs/{jobUid}", get_job)
    app.router.add_get(PREFIX + "/api2/v2/projects/{projectUid}/jobs", list_jobs)
    job = PREFIX + "/api2/v1/projects/{projectUid}/jobs/{jobUid}"
    app.router.add_post(job + "/setStatus", set_job_status)
    app.router.add_get(job + "/statusChanges", job_status_changes)
    app.router.add_post(PREFIX + "/api2/v3/projects/{projectUid}/jobs/export", export_jobs)
    app.router.add_put(PREFIX + "/api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile", start_target_file)
    app.router.add_get(
        PREFIX + "/api2/v2/projects/{projectUid}/jobs/{jobUid}/downloadTargetFile/{asyncRequestId}",
        download_target_file,
    )
