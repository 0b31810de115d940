"""``EmulatorState``: the emulated Phrase TMS organisation, as plain Python, separate from HTTP.

Every public method takes the state's lock, so the HTTP server thread and a test thread can use it at
the same time. Methods return copies of records; lifecycles are computed from the clock (pass ``now``
to evaluate several things at one instant). Problems are raised as ``PhraseError`` for the HTTP layer
to render.

Assumptions (where the public Phrase documentation is silent; see phrase-tms-api-facts.md):

1. A connector download request carries no project. A download task not yet used to create jobs is
   listed by ``GET /api2/v1/connectorAsyncTasks`` under *every* project of the organisation; once jobs
   are created from it, only under that project.
2. Download tasks and async requests are numbered from different ranges, so a task id used as an async
   request id (or the other way round) is a 404, as it would be against Phrase.
3. A download task keeps the ``task_delay`` in force when it was started (changing the config affects
   later tasks only); likewise the import of jobs keeps the ``import_delay`` of its creation.
4. Downloading the prepared file (``GET .../tasks/{taskId}``) before the task succeeded is a 400
   ``InvalidArguments``; after it failed, also a 400 naming the failure. The download can be repeated.
5. Creating jobs from a download task: a missing, malformed or unknown ``downloadTaskId`` is a 400
   ``InvalidArguments``; a task still ``NEW``, a failed task and a task already used to create jobs
   (tasks are single-use) are a 400 ``JobCreateError``. Target languages outside the project are a 400
   ``InvalidArguments`` whose description starts with "targetLangs must match project".
6. Creating jobs returns an ``IMPORT_JOB`` async request (as plain Create job documents). Jobs report
   ``importStatus`` ``RUNNING`` until it finishes, then ``OK`` (``imported`` true) or ``ERROR`` with the
   async response's ``errorDesc`` as ``errorMessage``.
7. Jobs of a project without workflow steps have ``workflowLevel`` 1 and no ``workflowStep``.
   ``workflowSettings`` on such a project, and ``due``/``assignments`` on a project with steps, are 400s.
8. List jobs v2: ``filename`` matches case-insensitively as a substring (the stricter assumption for
   clients, which must then compare names themselves); content is sorted by creation, then uid.
9. Folder listings: ``fileType`` is ``ALL``/``FILES_ONLY``/``FOLDERS_ONLY``, ``sort`` ``NAME``/
   ``DATE_MODIFIED``, ``direction`` ``ASCENDING``/``DESCENDING``, anything else a 400. Folders sort among
   files; a folder's ``lastModified`` is that of its newest file. ``lastChangedFiles`` holds the files
   anywhere below the folder changed in the last 24 hours, newest first, at most 10. An encoded name
   the emulator cannot have issued is a 400; a well-formed one it does not know is a 404.
10. Date filters accept ISO 8601 with or without offset (naive means UTC); bounds are inclusive.
11. Tokens from login are valid with the ``ApiToken`` scheme only; a seeded token only with the scheme
    the seed gives it (``Bearer`` for OAuth/Platform tokens).
12. ``callbackUrl`` values are stored but never called.
13. A project is shown in the shape of the caller's role (the spec's ``ProjectDto`` is a union
    discriminated by ``userRole``): ADMIN and PROJECT_MANAGER see the whole project, a LINGUIST the
    common fields only (no ``status``, ``workflowSteps``, ``client``, ``archived``). The spec has no
    project shape for GUEST, SUBMITTER or PORTAL_MEMBER: they get a 403 ``AuthAccessDenied`` from get
    project and list projects. Every user sees every project of the organisation.
14. Error codes Phrase does not document for a status: 404 ``NotFound``, 405 ``MethodNotAllowed``,
    415 ``UnsupportedMediaType`` (a body sent as anything but JSON), 429 ``TooManyRequests``. The token
    is checked before routing, so an unknown path without a token is a 401.
15. The rate limit counts accepted requests per token over a sliding minute (requests without a
    token: per client address); it sends ``Retry-After`` only if ``rate_limit_retry_after`` is set.
16. Request bodies are validated by the provider's strict request models: an unknown field is a 400
    that names it (the lenient alternative would hide typos in clients).
17. List projects (``GET /api2/v1/projects``) filters as the spec documents its parameters: ``name``
    (part of the name, case-insensitive), ``statuses``, ``sourceLangs`` and ``targetLangs`` (any of the
    values; a project matches ``targetLangs`` if it has any of them), ``ownerId`` (the owner's numeric
    user id), ``createdInLastHours``, ``includeArchived`` / ``archivedOnly``; ``sort`` is ``ID``,
    ``NAME`` or ``DATE_CREATED`` (the spec names only the default ``ID``), ``order`` ``ASC``/``DESC``;
    ``pageSize`` 1-50. The spec has no creator or creation-date range filter: ``ownerId`` and
    ``createdInLastHours`` are its nearest. Unknown parameters are ignored, as Phrase ignores them.
18. In the live-quirks mode (``EmulatorConfig.live_quirks`` or the seed's ``liveQuirks``) the
    organisation also has one connector download task cancelled before the emulator started (status
    ``CANCELLED``, outside the spec's enum; processed, no job), listed under every project like any
    unused task. Everything else in this mode is a matter of rendering (``emulator/quirks.py``).
19. Job status: a job is ``NEW`` when created. With ``job_completion_delay`` set it becomes
    ``COMPLETED`` that many seconds after its import finished OK (a failed import never completes),
    evaluated at each look. ``setStatus`` (any value of the spec's enum; 204, no body) and the admin
    ``script_job`` (a status at now + ``after``, or no change ever) take over from then on; a change the
    delay already made stays in the history. ``GET .../statusChanges`` lists ``NEW`` at creation, then
    every change that has happened, oldest first. The list jobs v2 ``status`` filter takes the spec's
    enum only (anything else: 400) and matches the status at the moment of the request.
20. Export to the online repository (``POST /api2/v3/projects/{projectUid}/jobs/export``): all jobs
    are checked first (unknown job: 404; a job whose import is not ``OK``: 400 ``JOB_NOT_READY``, as
    pre-translate documents; nothing is exported then). The answer is the spec's ``{"jobs": [{"uid"}]}``.
    Each job's target file appears ``export_delay`` seconds later in its connector at
    ``<source folder>/<targetLang>/<file name>`` (Phrase's real target path depends on the connector's
    settings: UNCONFIRMED), replacing an earlier export; its ``lastModified`` is the moment it lands.
21. Target file: ``PUT .../targetFile`` (job import ``OK``, else 400 ``JOB_NOT_READY``) starts an async
    request of action ``EXPORT_COMPLETE_FILE`` (UNCONFIRMED) that finishes after ``target_file_delay``;
    the file is the job's source translated as of the PUT (``emulator/translate.py``). ``GET
    .../downloadTargetFile/{asyncRequestId}``: an id that is not a target-file request of this job is a
    404; before the request finished a 400; the first download spends the id, a second one is a 410
    (Phrase documents single use; its status for a spent id is UNCONFIRMED).
22. Job search (``POST /api2/v1/projects/{projectUid}/jobs/search``, ``{"jobs": [{"uid"}]}``, 1 to 50
    uids, else 400 ``InvalidArguments``): the jobs of the project among the uids, in the request's order,
    each once, with its status at the moment of the request (as list jobs v2). A uid that is not a job of
    the project is left out of the answer (Phrase may answer 404 instead: UNCONFIRMED).
"""

from __future__ import annotations

import copy
import hmac
import itertools
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow_phrase.emulator.config import STARTUP_ONLY_FIELDS, EmulatorConfig
from airflow_phrase.emulator.encoding import ROOT, base_name, decode_path, parent_folder
from airflow_phrase.emulator.seed import Seed, SeedRemoteFile, load_seed, resolve_time
from airflow_phrase.emulator.translate import translate
from airflow_phrase.models import (
    JOB_STATUS_VALUES,
    MAX_SEARCH_JOBS,
    ConnectorTaskProcessingType,
    ConnectorTaskStatus,
    ConnectorTaskType,
    JobCreateRequest,
    UnknownValue,
    WorkflowStepSettings,
)

from .clock import Clock, SystemClock
from .errors import PhraseError, bad_request, not_found, unauthorized
from .records import (
    AsyncRequestRecord,
    ConnectorRecord,
    DownloadOutcome,
    DownloadTask,
    ExportRecord,
    FolderView,
    ImportOutcome,
    JobRecord,
    PageSlice,
    ProjectRecord,
    Provider,
    RemoteEntry,
    RemoteFile,
    StatusChange,
    Token,
    TokenScheme,
    User,
    WorkflowStepRecord,
    is_failure,
    paginate,
)

FILE_TYPES = ("ALL", "FILES_ONLY", "FOLDERS_ONLY")
SORTS = ("NAME", "DATE_MODIFIED")
DIRECTIONS = ("ASCENDING", "DESCENDING")
TASK_PROCESSING_TYPE = "API"
LAST_CHANGED_WINDOW = timedelta(hours=24)
LAST_CHANGED_MAX = 10
TASK_WINDOW_BEFORE = timedelta(hours=24)
TASK_WINDOW_AFTER = timedelta(hours=1)
#: Assumption 18: the id and status of the cancelled task of the live-quirks mode.
CANCELLED_TASK_ID = "300001"
CANCELLED_STATUS = "CANCELLED"
PROJECT_SORTS = ("ID", "NAME", "DATE_CREATED")
PROJECT_ORDERS = ("ASC", "DESC")
#: Roles the spec has a project shape for (``userRole``), by the role of the caller.
PROJECT_VIEW_ROLES = ("ADMIN", "PROJECT_MANAGER", "LINGUIST", "VENDOR", "BUYER")
#: Assumption 21: the action of a target-file async request (UNCONFIRMED).
TARGET_FILE_ACTION = "EXPORT_COMPLETE_FILE"
COMPLETED = "COMPLETED"
NEW = "NEW"


@dataclass(frozen=True)
class TaskQuery:
    """Filters of ``GET /api2/v1/connectorAsyncTasks`` (dates ``None``: Phrase's defaults)."""

    project_uid: str | None
    task_types: tuple[str, ...] = ()
    processing_types: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    processed_from: datetime | None = None
    processed_to: datetime | None = None
    page_number: int = 0
    page_size: int = 100


@dataclass(frozen=True)
class TaskPage:
    project: ProjectRecord
    page: PageSlice[DownloadTask]
    success_count: int
    error_count: int


@dataclass(frozen=True)
class JobQuery:
    """Filters of ``GET /api2/v2/projects/{projectUid}/jobs``."""

    filename: str | None = None
    target_lang: str | None = None
    statuses: tuple[str, ...] = ()
    workflow_level: int = 1
    not_ready: bool | None = None
    page_number: int = 0
    page_size: int = 50


@dataclass(frozen=True)
class ProjectQuery:
    """Filters of ``GET /api2/v1/projects`` (assumption 17)."""

    name: str | None = None
    statuses: tuple[str, ...] = ()
    source_langs: tuple[str, ...] = ()
    target_langs: tuple[str, ...] = ()
    owner_id: str | None = None
    created_in_last_hours: int | None = None
    include_archived: bool = False
    archived_only: bool = False
    sort: str = "ID"
    order: str = "ASC"
    page_number: int = 0
    page_size: int = 50


@dataclass(frozen=True)
class CreatedJobs:
    jobs: list[JobRecord]
    async_request: AsyncRequestRecord


class EmulatorState:
    """The whole emulated organisation: users, tokens, connectors, projects, tasks, jobs, async requests."""

    def __init__(
        self,
        seed: Seed | None = None,
        *,
        config: EmulatorConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._seed = seed if seed is not None else load_seed()
        self._config = config or EmulatorConfig()
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()
        # Counters survive reset(): an id from before a reset never names something new.
        self._task_ids = itertools.count(310_001)
        self._async_ids = itertools.count(5_200_001)
        self._job_numbers = itertools.count(1)
        self._source_file_numbers = itertools.count(1)
        self.reset()

    # ----------------------------------------------------------------------------------- lifecycle
    def now(self) -> datetime:
        return self.clock.now()

    def reset(self) -> None:
        """Forget everything that happened and start again from the seed (seed times relative to now)."""
        with self._lock:
            start = self.clock.now()
            seed = self._seed
            self.started_at = start
            self.organization_id = seed.organization.id
            self.organization_uid = seed.organization.uid or f"org{seed.organization.id}"
            self.organization_name = seed.organization.name
            self._users = {
                u.uid: User(
                    uid=u.uid,
                    id=u.id,
                    user_name=u.user_name,
                    password=u.password.get_secret_value(),
                    first_name=u.first_name,
                    last_name=u.last_name,
                    email=u.email,
                    role=u.role,
                )
                for u in seed.users
            }
            by_name = {u.user_name: u for u in self._users.values()}
            self._tokens = {
                t.token.get_secret_value(): Token(
                    value=t.token.get_secret_value(),
                    user_uid=by_name[t.user_name].uid,
                    scheme=t.scheme,
                    expires=resolve_time(t.expires, start) if t.expires else None,
                )
                for t in seed.tokens
            }
            self._connectors = {
                c.id: ConnectorRecord(
                    id=c.id,
                    name=c.name,
                    type=c.type,
                    local_token=c.local_token,
                    created_at=resolve_time(c.created_at, start),
                    created_by_uid=by_name[c.created_by].uid,
                    files={
                        f.path: RemoteFile(
                            path=f.path,
                            content=f.data(),
                            content_type=f.content_type,
                            last_modified=resolve_time(f.last_modified, start),
                            download=DownloadOutcome(
                                ConnectorTaskStatus(f.download.status), f.download.error_message
                            ),
                            import_outcome=(
                                _failed_import(f.import_outcome.error_code, f.import_outcome.error_desc)
                                if f.import_outcome.status == "ERROR"
                                else ImportOutcome()
                            ),
                        )
                        for f in c.files
                    },
                )
                for c in seed.connectors
            }
            self._projects = {
                p.uid: ProjectRecord(
                    uid=p.uid,
                    id=p.id,
                    internal_id=p.internal_id,
                    name=p.name,
                    source_lang=p.source_lang,
                    target_langs=list(p.target_langs),
                    status=p.status,
                    date_created=resolve_time(p.date_created, start),
                    owner_uid=by_name[p.owner].uid,
                    client=p.client,
                    workflow_steps=sorted(
                        (
                            WorkflowStepRecord(s.id, s.uid, s.name, s.workflow_level, s.abbreviation)
                            for s in p.workflow_steps
                        ),
                        key=lambda s: s.level,
                    ),
                    archived=p.archived,
                )
                for p in seed.projects
            }
            self._tasks: dict[str, DownloadTask] = {}
            self._jobs: dict[str, JobRecord] = {}
            self._async_requests: dict[str, AsyncRequestRecord] = {}
            self._exports: list[ExportRecord] = []
            if self._config.live_quirks or seed.live_quirks:
                self._add_cancelled_task(start)

    def _add_cancelled_task(self, start: datetime) -> None:
        """Assumption 18: a download task cancelled in Phrase before the emulator started."""
        connector = next((c for c in self._connectors.values() if c.files), None)
        if connector is None:
            return
        remote = max(connector.files.values(), key=lambda f: f.path)
        task = DownloadTask(
            id=CANCELLED_TASK_ID,
            connector_id=connector.id,
            folder_path=parent_folder(remote.path),
            file_path=remote.path,
            file_name=base_name(remote.path),
            content=b"",
            created_by_uid=connector.created_by_uid,
            date_created=start - timedelta(minutes=10),
            finishes_at=start - timedelta(minutes=9),
            outcome=DownloadOutcome(UnknownValue(CANCELLED_STATUS), "Cancelled by a user in Phrase."),
            import_outcome=ImportOutcome(),
        )
        self._tasks[task.id] = task

    @property
    def live_quirks(self) -> bool:
        """Whether the emulator sends Phrase's known off-spec shapes (config or seed; assumption 18)."""
        with self._lock:
            return self._config.live_quirks or self._seed.live_quirks

    @property
    def config(self) -> EmulatorConfig:
        with self._lock:
            return self._config

    def replace_config(self, config: EmulatorConfig) -> None:
        with self._lock:
            self._config = config

    def update_config(self, **fields: Any) -> EmulatorConfig:
        """Change some settings at run time (delays, token lifetime, rate limit). Raises ``ValueError``."""
        fixed = sorted(set(fields) & STARTUP_ONLY_FIELDS)
        if fixed:
            raise ValueError(f"{', '.join(fixed)} can only be set when the emulator starts")
        with self._lock:
            self._config = EmulatorConfig.model_validate({**self._config.model_dump(), **fields})
            return self._config

    def _at(self, now: datetime | None) -> datetime:
        return now if now is not None else self.clock.now()

    # ---------------------------------------------------------------------------------------- auth
    def login(self, user_name: str, password: str, user_uid: str | None = None) -> tuple[Token, User]:
        """Check credentials and issue a token valid for ``token_ttl`` seconds."""
        with self._lock:
            user = next((u for u in self._users.values() if u.user_name == user_name), None)
            if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
                raise PhraseError(401, "AuthInvalidCredentials", "Invalid user name or password.")
            if user_uid is not None and user_uid != user.uid:
                raise bad_request(f"userUid {user_uid!r} is not a user of this identity.")
            now = self.clock.now()
            token = Token(
                value=secrets.token_urlsafe(36),
                user_uid=user.uid,
                scheme="ApiToken",
                expires=now + timedelta(seconds=self._config.token_ttl),
            )
            self._tokens[token.value] = token
            return copy.copy(token), copy.copy(user)

    def authenticate(self, scheme: str, value: str, now: datetime | None = None) -> User:
        """The user a presented token belongs to; 401 ``AuthUnauthorized`` if it is not valid now."""
        with self._lock:
            token = self._tokens.get(value)
            if (
                token is None
                or token.scheme.lower() != scheme.lower()
                or not token.is_valid_at(self._at(now))
            ):
                raise unauthorized()
            return copy.copy(self._users[token.user_uid])

    def expire_token(self, value: str) -> bool:
        """Make a token expire now (False if the emulator does not know it)."""
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                return False
            token.expires = self.clock.now()
            return True

    def add_token(
        self, value: str, user_name: str, scheme: TokenScheme = "ApiToken", expires: datetime | None = None
    ) -> None:
        """Register an extra token (e.g. a second API token for a rate-limit test)."""
        with self._lock:
            user = next((u for u in self._users.values() if u.user_name == user_name), None)
            if user is None:
                raise KeyError(user_name)
            self._tokens[value] = Token(value=value, user_uid=user.uid, scheme=scheme, expires=expires)

    def user(self, uid: str) -> User:
        with self._lock:
            return copy.copy(self._users[uid])

    # ---------------------------------------------------------------------------------- connectors
    def list_connectors(self, connector_type: str | None = None) -> list[ConnectorRecord]:
        with self._lock:
            found = [c for c in self._connectors.values() if connector_type in (None, c.type)]
            return [copy.copy(c) for c in sorted(found, key=lambda c: int(c.id))]

    def get_connector(self, connector_id: str) -> ConnectorRecord:
        with self._lock:
            return copy.copy(self._connector(connector_id))

    def list_folder(
        self,
        connector_id: str,
        encoded_folder: str | None,
        *,
        project_uid: str | None = None,
        file_type: str = "ALL",
        sort: str = "NAME",
        direction: str = "ASCENDING",
        now: datetime | None = None,
    ) -> FolderView:
        _check_choice("fileType", file_type, FILE_TYPES)
        _check_choice("sort", sort, SORTS)
        _check_choice("direction", direction, DIRECTIONS)
        with self._lock:
            self._land_exports(self._at(now))
            connector = self._connector(connector_id)
            if project_uid is not None:
                self._project(project_uid)
            folder = self._folder(connector, encoded_folder)
            prefix = "" if folder == ROOT else folder + "/"
            below = [f for f in connector.files.values() if f.path.startswith(prefix)]
            children: dict[str, RemoteEntry] = {}
            for f in below:
                rest = f.path[len(prefix) :]
                if "/" not in rest:
                    children[rest] = RemoteEntry(
                        f.path, rest, False, f.last_modified, len(f.content), f.content_type
                    )
                    continue
                name = rest.split("/", 1)[0]
                current = children.get(name)
                if current is None or current.last_modified < f.last_modified:
                    children[name] = RemoteEntry(prefix + name, name, True, f.last_modified)
            entries = [
                e
                for e in children.values()
                if file_type == "ALL" or e.directory == (file_type == "FOLDERS_ONLY")
            ]
            if sort == "NAME":
                entries.sort(key=lambda e: (e.name.casefold(), e.name))
            else:
                entries.sort(key=lambda e: (e.last_modified, e.name))
            if direction == "DESCENDING":
                entries.reverse()
            since = self._at(now) - LAST_CHANGED_WINDOW
            recent = sorted(
                (f for f in below if f.last_modified >= since), key=lambda f: f.last_modified, reverse=True
            )[:LAST_CHANGED_MAX]
            last_changed = [
                RemoteEntry(f.path, base_name(f.path), False, f.last_modified, len(f.content), f.content_type)
                for f in recent
            ]
            return FolderView(folder, entries, last_changed)

    def put_remote_file(self, connector_id: str, spec: SeedRemoteFile, now: datetime | None = None) -> None:
        """Add a file to a connector's remote storage, or replace it (a commit, a copy, a revert).

        ``spec`` is a seed file entry; a relative ``lastModified`` (``"-3d"``) is counted back from now,
        so a test can add a file that arrives with an *old* modification time.
        """
        with self._lock:
            at = self._at(now)
            self._land_exports(at)
            connector = self._connector(connector_id)
            connector.files[spec.path] = RemoteFile(
                path=spec.path,
                content=spec.data(),
                content_type=spec.content_type,
                last_modified=resolve_time(spec.last_modified, at),
                download=DownloadOutcome(
                    ConnectorTaskStatus(spec.download.status), spec.download.error_message
                ),
                import_outcome=(
                    _failed_import(spec.import_outcome.error_code, spec.import_outcome.error_desc)
                    if spec.import_outcome.status == "ERROR"
                    else ImportOutcome()
                ),
            )

    def start_download(
        self,
        connector_id: str,
        encoded_folder: str,
        encoded_file: str,
        *,
        user_uid: str,
        source_lang: str | None = None,
        target_lang: str | None = None,
        callback_url: str | None = None,
        now: datetime | None = None,
    ) -> DownloadTask:
        """Start a connector async download; the task ends after ``task_delay`` as the file's seed says."""
        with self._lock:
            self._land_exports(self._at(now))
            connector = self._connector(connector_id)
            folder = self._folder(connector, encoded_folder)
            remote = self._file(connector, folder, encoded_file)
            created = self._at(now)
            task = DownloadTask(
                id=str(next(self._task_ids)),
                connector_id=connector.id,
                folder_path=folder,
                file_path=remote.path,
                file_name=base_name(remote.path),
                content=remote.content,
                created_by_uid=user_uid,
                date_created=created,
                finishes_at=created + timedelta(seconds=self._config.task_delay),
                outcome=remote.download,
                import_outcome=remote.import_outcome,
                source_lang=source_lang,
                target_lang=target_lang,
                callback_url=callback_url,
            )
            self._tasks[task.id] = task
            return copy.copy(task)

    def list_connector_tasks(self, query: TaskQuery, now: datetime | None = None) -> TaskPage:
        """Connector async task states visible under a project (see assumption 1)."""
        if not query.project_uid:
            raise bad_request("projectUid is required.")
        _check_page(query.page_number, query.page_size, 1000)
        for value in query.task_types:
            _check_choice("taskType", value, (t.value for t in ConnectorTaskType))
        for value in query.processing_types:
            _check_choice("taskProcessingType", value, (t.value for t in ConnectorTaskProcessingType))
        with self._lock:
            project = self._project(query.project_uid)
            at = self._at(now)
            created_from = query.created_from or at - TASK_WINDOW_BEFORE
            created_to = query.created_to or at + TASK_WINDOW_AFTER
            matching = []
            for task in self._tasks.values():
                if task.project_uid not in (None, project.uid):
                    continue
                if query.task_types and ConnectorTaskType.DOWNLOAD.value not in query.task_types:
                    continue
                if query.processing_types and TASK_PROCESSING_TYPE not in query.processing_types:
                    continue
                if not created_from <= task.date_created <= created_to:
                    continue
                processed = task.date_processed_at(at)
                if query.processed_from or query.processed_to:
                    if processed is None:
                        continue
                    if query.processed_from and processed < query.processed_from:
                        continue
                    if query.processed_to and processed > query.processed_to:
                        continue
                matching.append(copy.copy(task))
            matching.sort(key=lambda t: (t.date_created, int(t.id)))
            page = paginate(matching, query.page_number, query.page_size)
            statuses = [t.status_at(at) for t in page.items]  # the spec counts "on this page"
            return TaskPage(
                project=copy.copy(project),
                page=page,
                success_count=sum(s is ConnectorTaskStatus.SUCCESS for s in statuses),
                error_count=sum(isinstance(s, ConnectorTaskStatus) and s.is_failure for s in statuses),
            )

    def prepared_file(
        self,
        connector_id: str,
        encoded_folder: str,
        encoded_file: str,
        task_id: str,
        now: datetime | None = None,
    ) -> tuple[str, bytes]:
        """The file name and bytes of a successful download task (see assumption 4)."""
        with self._lock:
            connector = self._connector(connector_id)
            folder = self._folder(connector, encoded_folder)
            remote = self._file(connector, folder, encoded_file)
            task = self._tasks.get(task_id)
            if task is None or task.connector_id != connector.id or task.file_path != remote.path:
                raise not_found(f"Connector async task {task_id} not found for this file.")
            status = task.status_at(self._at(now))
            if status is ConnectorTaskStatus.NEW:
                raise bad_request(f"Connector async task {task_id} is not finished yet.")
            if is_failure(status):
                raise bad_request(
                    f"Connector async task {task_id} failed ({status.value}): {task.outcome.error_message}"
                )
            return task.file_name, task.content

    # -------------------------------------------------------------------------------------- projects
    def get_project(self, project_uid: str) -> ProjectRecord:
        with self._lock:
            return copy.copy(self._project(project_uid))

    @staticmethod
    def project_view_role(user: User) -> str:
        """The ``userRole`` whose project shape ``user`` sees (assumption 13); 403 if the spec has none."""
        if user.role not in PROJECT_VIEW_ROLES:
            raise PhraseError(
                403, "AuthAccessDenied", f"Users with the role {user.role} cannot read projects."
            )
        return user.role

    def list_projects(self, query: ProjectQuery, now: datetime | None = None) -> PageSlice[ProjectRecord]:
        """``GET /api2/v1/projects`` (assumption 17)."""
        _check_page(query.page_number, query.page_size, 50)
        _check_choice("sort", query.sort, PROJECT_SORTS)
        _check_choice("order", query.order, PROJECT_ORDERS)
        if query.created_in_last_hours is not None and query.created_in_last_hours < 0:
            raise bad_request(f"createdInLastHours must be 0 or more, not {query.created_in_last_hours}.")
        with self._lock:
            at = self._at(now)
            owner_ids = {u.uid: u.id for u in self._users.values()}
            needle = query.name.casefold() if query.name else None
            since = (
                at - timedelta(hours=query.created_in_last_hours)
                if query.created_in_last_hours is not None
                else None
            )
            found = [
                copy.copy(p)
                for p in self._projects.values()
                if (needle is None or needle in p.name.casefold())
                and (not query.statuses or p.status in query.statuses)
                and (not query.source_langs or p.source_lang in query.source_langs)
                and (not query.target_langs or set(query.target_langs) & set(p.target_langs))
                and (query.owner_id is None or owner_ids.get(p.owner_uid) == query.owner_id)
                and (since is None or p.date_created >= since)
                and (p.archived if query.archived_only else query.include_archived or not p.archived)
            ]
            sort_keys = {
                "ID": lambda p: (int(p.id) if p.id.isdigit() else 0, p.id),
                "NAME": lambda p: (p.name.casefold(), p.uid),
                "DATE_CREATED": lambda p: (p.date_created, p.uid),
            }
            found.sort(key=sort_keys[query.sort], reverse=query.order == "DESC")
            return paginate(found, query.page_number, query.page_size)

    def create_jobs(
        self,
        project_uid: str,
        download_task_id: str | None,
        request: JobCreateRequest,
        *,
        continuous: bool = False,
        user_uid: str,
        now: datetime | None = None,
    ) -> CreatedJobs:
        """Create jobs from a finished download task (single use); see assumptions 5-7."""
        with self._lock:
            project = self._project(project_uid)
            at = self._at(now)
            task = self._usable_task(download_task_id, at)
            stray = [lang for lang in request.target_langs if lang not in project.target_langs]
            if stray:
                raise bad_request(
                    f"targetLangs must match project: {', '.join(stray)} not among the target languages "
                    f"of project {project.uid} ({', '.join(project.target_langs)})."
                )
            steps_by_id = self._check_workflow_settings(project, request)
            async_request = AsyncRequestRecord(
                id=str(next(self._async_ids)),
                action="IMPORT_JOB",
                created_by_uid=user_uid,
                date_created=at,
                finishes_at=at + timedelta(seconds=self._config.import_delay),
                outcome=task.import_outcome,
                project_uid=project.uid,
            )
            source_file_uid = f"srcFile{next(self._source_file_numbers):015d}"
            words = len(task.content.decode("utf-8", errors="replace").split())
            steps: list[WorkflowStepRecord | None] = list(project.workflow_steps) or [None]
            jobs: list[JobRecord] = []
            for lang in request.target_langs:
                for step in steps:
                    settings = steps_by_id.get(step.id) if step else None
                    assignments = (settings.assignments if settings else request.assignments) or []
                    notify = (settings.notify_provider if settings else None) or request.notify_provider
                    number = next(self._job_numbers)
                    jobs.append(
                        JobRecord(
                            uid=f"jobPart{number:015d}",
                            inner_id=f"{project.internal_id}/{number}",
                            project_uid=project.uid,
                            filename=task.file_name,
                            source_lang=project.source_lang,
                            target_lang=lang,
                            workflow_level=step.level if step else 1,
                            workflow_step=step,
                            date_created=at,
                            date_due=(settings.due if settings else request.due),
                            continuous=continuous,
                            providers=[
                                Provider(p.id, p.type)
                                for a in assignments
                                if a.target_lang == lang
                                for p in a.providers
                            ],
                            server_task_id=task.id,
                            async_request_id=async_request.id,
                            import_finishes_at=async_request.finishes_at,
                            import_outcome=task.import_outcome,
                            source_file_uid=source_file_uid,
                            connector_id=task.connector_id,
                            remote_folder=task.folder_path,
                            remote_file=task.file_path,
                            words_count=words,
                            original_file_directory=request.path,
                            notification_interval_in_minutes=(
                                notify.notification_interval_in_minutes if notify else None
                            ),
                            email_template_id=notify.organization_email_template.id if notify else None,
                        )
                    )
            for job in jobs:
                self._jobs[job.uid] = job
            self._async_requests[async_request.id] = async_request
            task.project_uid = project.uid
            task.job_uid = jobs[0].uid
            return CreatedJobs([copy.copy(j) for j in jobs], copy.copy(async_request))

    def get_async_request(self, async_request_id: str) -> AsyncRequestRecord:
        with self._lock:
            record = self._async_requests.get(async_request_id)
            if record is None:
                raise not_found(f"Async request {async_request_id} not found.")
            return copy.copy(record)

    def get_job(self, project_uid: str, job_uid: str, now: datetime | None = None) -> JobRecord:
        """A copy of the job with its ``status`` at ``now`` (assumption 19)."""
        with self._lock:
            return self._job_copy(self._job(project_uid, job_uid), self._at(now))

    def list_jobs(
        self, project_uid: str, query: JobQuery, now: datetime | None = None
    ) -> PageSlice[JobRecord]:
        _check_page(query.page_number, query.page_size, 50)
        for value in query.statuses:
            _check_choice("status", value, JOB_STATUS_VALUES)
        with self._lock:
            self._project(project_uid)
            at = self._at(now)
            needle = query.filename.casefold() if query.filename else None
            found = [
                self._job_copy(j, at)
                for j in self._jobs.values()
                if j.project_uid == project_uid
                and j.workflow_level == query.workflow_level
                and (needle is None or needle in j.filename.casefold())
                and (query.target_lang is None or j.target_lang == query.target_lang)
                and (query.not_ready is None or query.not_ready == (j.import_state_at(at) != "OK"))
            ]
            found = [j for j in found if not query.statuses or j.status in query.statuses]
            found.sort(key=lambda j: (j.date_created, j.uid))
            return paginate(found, query.page_number, query.page_size)

    def search_jobs(
        self, project_uid: str, job_uids: list[str], now: datetime | None = None
    ) -> list[JobRecord]:
        """``POST .../jobs/search`` (assumption 22): copies of the project's jobs among ``job_uids``."""
        if not 1 <= len(job_uids) <= MAX_SEARCH_JOBS:
            raise bad_request(f"jobs must list 1 to {MAX_SEARCH_JOBS} jobs, not {len(job_uids)}.")
        with self._lock:
            self._project(project_uid)
            at = self._at(now)
            found = [self._jobs.get(uid) for uid in dict.fromkeys(job_uids)]
            return [self._job_copy(j, at) for j in found if j is not None and j.project_uid == project_uid]

    # ------------------------------------------------------------------------------ job statuses
    def job_status(self, job: JobRecord, at: datetime) -> str:
        """The status of ``job`` at ``at`` (assumption 19)."""
        with self._lock:
            return self._history(job, at)[-1].status

    def set_job_status(
        self, project_uid: str, job_uid: str, status: str, *, user_uid: str, now: datetime | None = None
    ) -> JobRecord:
        """``POST .../jobs/{jobUid}/setStatus``: the job takes ``status`` now (assumption 19)."""
        _check_choice("requestedStatus", status, JOB_STATUS_VALUES)
        with self._lock:
            at = self._at(now)
            job = self._job(project_uid, job_uid)
            self._take_over(job, at)
            job.status_changes = [c for c in job.status_changes if c.at <= at]
            job.status_changes.append(StatusChange(at, status, user_uid))
            return self._job_copy(job, at)

    def clone_jobs(self, template_uid: str, count: int, *, prefix: str = "jobClone") -> list[str]:
        """Admin (tests, benchmarks): ``count`` copies of the job ``template_uid`` under new uids
        ``<prefix><14-digit number>``, same project, file, language and history; returns their uids."""
        uids: list[str] = []
        with self._lock:
            template = self._jobs[template_uid]
            for number in range(count):
                job = copy.copy(template)
                job.uid = f"{prefix}{number:014d}"
                job.status_changes = list(template.status_changes)
                self._jobs[job.uid] = job
                uids.append(job.uid)
        return uids

    def remove_job(self, job_uid: str) -> None:
        """Admin (benchmarks): forget a job, as if it had never been created."""
        with self._lock:
            del self._jobs[job_uid]

    def script_job(
        self, job_uid: str, status: str | None = COMPLETED, after: float = 0.0, now: datetime | None = None
    ) -> JobRecord:
        """Admin: the job takes ``status`` at now + ``after`` seconds (``None``: it keeps its status for
        good). Replaces what was scripted before and stops ``job_completion_delay`` for this job."""
        if status is not None:
            _check_choice("status", status, JOB_STATUS_VALUES)
        if after < 0:
            raise bad_request(f"after must be 0 or more seconds, not {after}.")
        with self._lock:
            at = self._at(now)
            job = self._jobs.get(job_uid)
            if job is None:
                raise not_found(f"Job {job_uid} not found.")
            self._take_over(job, at)
            job.status_changes = [c for c in job.status_changes if c.at <= at]
            if status is not None:
                job.status_changes.append(StatusChange(at + timedelta(seconds=after), status))
            return self._job_copy(job, at)

    def job_status_changes(
        self, project_uid: str, job_uid: str, now: datetime | None = None
    ) -> list[StatusChange]:
        """``GET .../jobs/{jobUid}/statusChanges``: ``NEW`` at creation, then each change so far."""
        with self._lock:
            at = self._at(now)
            return self._history(self._job(project_uid, job_uid), at)

    # ---------------------------------------------------------------------------------- delivery
    def export_jobs(
        self, project_uid: str, job_uids: list[str], now: datetime | None = None
    ) -> list[JobRecord]:
        """``POST .../jobs/export`` (assumption 20): every job checked first, then each one's target file
        is due in its connector ``export_delay`` seconds later. Returns the jobs, in the request's order."""
        with self._lock:
            at = self._at(now)
            self._project(project_uid)
            jobs = [self._job(project_uid, uid) for uid in job_uids]
            for job in jobs:
                self._check_ready(job, at, "exported")
            lands_at = at + timedelta(seconds=self._config.export_delay)
            for job in jobs:
                content, content_type = self._target_content(job)
                folder = "" if job.remote_folder in ("", ROOT) else job.remote_folder + "/"
                self._exports.append(
                    ExportRecord(
                        job_uid=job.uid,
                        project_uid=project_uid,
                        connector_id=job.connector_id,
                        path=f"{folder}{job.target_lang}/{base_name(job.remote_file)}",
                        content=content,
                        content_type=content_type,
                        job_status=self._history(job, at)[-1].status,
                        exported_at=at,
                        lands_at=lands_at,
                    )
                )
            self._land_exports(at)
            return [self._job_copy(job, at) for job in jobs]

    def start_target_file(
        self, project_uid: str, job_uid: str, *, user_uid: str, now: datetime | None = None
    ) -> AsyncRequestRecord:
        """``PUT .../jobs/{jobUid}/targetFile`` (assumption 21): an async request preparing the file."""
        with self._lock:
            at = self._at(now)
            job = self._job(project_uid, job_uid)
            self._check_ready(job, at, "downloaded")
            content, content_type = self._target_content(job)
            record = AsyncRequestRecord(
                id=str(next(self._async_ids)),
                action=TARGET_FILE_ACTION,
                created_by_uid=user_uid,
                date_created=at,
                finishes_at=at + timedelta(seconds=self._config.target_file_delay),
                outcome=ImportOutcome(),
                project_uid=project_uid,
                job_uid=job.uid,
                file_name=base_name(job.remote_file),
                content=content,
                content_type=content_type,
            )
            self._async_requests[record.id] = record
            return copy.copy(record)

    def download_target_file(
        self, project_uid: str, job_uid: str, async_request_id: str, now: datetime | None = None
    ) -> AsyncRequestRecord:
        """``GET .../downloadTargetFile/{asyncRequestId}`` (assumption 21): the prepared file, once."""
        with self._lock:
            at = self._at(now)
            job = self._job(project_uid, job_uid)
            record = self._async_requests.get(async_request_id)
            if record is None or record.job_uid != job.uid:
                raise not_found(f"Async request {async_request_id} of job {job.uid} not found.")
            if not record.is_finished_at(at):
                raise bad_request(f"Async request {record.id} has not finished yet; wait for it.")
            if record.downloaded:
                raise PhraseError(
                    410,
                    "AsyncRequestUsed",
                    f"The target file of async request {record.id} was downloaded already; an "
                    "asyncRequestId can be used once only.",
                )
            record.downloaded = True
            return copy.copy(record)

    # --------------------------------------------------------------------------------------- admin
    def snapshot(self, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
        """A summary of everything created since the last reset (for tests and debugging)."""
        with self._lock:
            at = self._at(now)
            self._land_exports(at)
            return {
                "downloadTasks": [
                    {
                        "id": t.id,
                        "connectorId": t.connector_id,
                        "path": t.file_path,
                        "status": t.status_at(at).value,
                        "projectUid": t.project_uid,
                        "jobUid": t.job_uid,
                        "dateCreated": t.date_created.isoformat(),
                    }
                    for t in self._tasks.values()
                    if t.id != CANCELLED_TASK_ID  # there before the reset (assumption 18)
                ],
                "jobs": [
                    {
                        "uid": j.uid,
                        "projectUid": j.project_uid,
                        "filename": j.filename,
                        "targetLang": j.target_lang,
                        "workflowLevel": j.workflow_level,
                        "downloadTaskId": j.server_task_id,
                        "asyncRequestId": j.async_request_id,
                        "importStatus": j.import_state_at(at),
                        "status": self._history(j, at)[-1].status,
                    }
                    for j in self._jobs.values()
                ],
                "exports": [
                    {
                        "jobUid": e.job_uid,
                        "projectUid": e.project_uid,
                        "connectorId": e.connector_id,
                        "path": e.path,
                        "jobStatus": e.job_status,
                        "exportedAt": e.exported_at.isoformat(),
                        "landed": e.lands_at <= at,
                    }
                    for e in self._exports
                ],
                "asyncRequests": [
                    {
                        "id": a.id,
                        "action": a.action,
                        "projectUid": a.project_uid,
                        "finished": a.is_finished_at(at),
                        "errorCode": a.outcome.error_code if a.is_finished_at(at) else None,
                    }
                    for a in self._async_requests.values()
                ],
            }

    # ------------------------------------------------------------------------------------- helpers
    def _connector(self, connector_id: str) -> ConnectorRecord:
        connector = self._connectors.get(connector_id)
        if connector is None:
            raise not_found(f"Connector {connector_id} not found.")
        return connector

    def _project(self, project_uid: str) -> ProjectRecord:
        project = self._projects.get(project_uid)
        if project is None:
            raise not_found(f"Project {project_uid} not found.")
        return project

    def _job(self, project_uid: str, job_uid: str) -> JobRecord:
        self._project(project_uid)
        job = self._jobs.get(job_uid)
        if job is None or job.project_uid != project_uid:
            raise not_found(f"Job {job_uid} not found in project {project_uid}.")
        return job

    def _auto_completion(self, job: JobRecord) -> datetime | None:
        """When ``job_completion_delay`` completes ``job`` (``None``: it does not)."""
        delay = self._config.job_completion_delay
        if not job.auto_complete or delay is None or job.import_outcome.failed:
            return None
        return job.import_finishes_at + timedelta(seconds=delay)

    def _history(self, job: JobRecord, at: datetime) -> list[StatusChange]:
        history = [StatusChange(job.date_created, NEW)]
        completes_at = self._auto_completion(job)
        if completes_at is not None and completes_at <= at:
            history.append(StatusChange(completes_at, COMPLETED))
        history.extend(c for c in job.status_changes if c.at <= at)
        return history

    def _take_over(self, job: JobRecord, at: datetime) -> None:
        """Stop ``job_completion_delay`` for ``job``, keeping a completion it already made."""
        completes_at = self._auto_completion(job)
        if completes_at is not None and completes_at <= at:
            job.status_changes.insert(0, StatusChange(completes_at, COMPLETED))
        job.auto_complete = False

    def _job_copy(self, job: JobRecord, at: datetime) -> JobRecord:
        result = copy.copy(job)
        result.status = self._history(job, at)[-1].status
        result.status_changes = list(job.status_changes)
        return result

    @staticmethod
    def _check_ready(job: JobRecord, at: datetime, what: str) -> None:
        state = job.import_state_at(at)
        if state != "OK":
            raise bad_request(
                f"Job {job.uid} cannot be {what}: its import is {state} (not imported correctly or import "
                "is in progress).",
                "JOB_NOT_READY",
            )

    def _target_content(self, job: JobRecord) -> tuple[bytes, str | None]:
        task = self._tasks.get(job.server_task_id)
        source = task.content if task is not None else b""
        connector = self._connectors.get(job.connector_id)
        remote = connector.files.get(job.remote_file) if connector is not None else None
        file_name = base_name(job.remote_file)
        return translate(source, file_name, job.target_lang), remote.content_type if remote else None

    def _land_exports(self, at: datetime) -> None:
        """Put the exported files that are due by ``at`` into their connectors (assumption 20)."""
        for export in self._exports:
            if export.landed or export.lands_at > at:
                continue
            connector = self._connectors.get(export.connector_id)
            if connector is not None:
                connector.files[export.path] = RemoteFile(
                    path=export.path,
                    content=export.content,
                    content_type=export.content_type,
                    last_modified=export.lands_at,
                    download=DownloadOutcome(ConnectorTaskStatus.SUCCESS),
                    import_outcome=ImportOutcome(),
                )
            export.landed = True

    @staticmethod
    def _folder(connector: ConnectorRecord, encoded_folder: str | None) -> str:
        if encoded_folder is None:
            return ROOT
        folder = _decode("folder", encoded_folder)
        if folder != ROOT and not any(path.startswith(folder + "/") for path in connector.files):
            raise not_found(f"Folder {folder!r} not found in connector {connector.id}.")
        return folder

    @staticmethod
    def _file(connector: ConnectorRecord, folder: str, encoded_file: str) -> RemoteFile:
        path = _decode("file", encoded_file)
        remote = connector.files.get(path)
        if remote is None or parent_folder(path) != folder:
            raise not_found(f"File {path!r} not found in folder {folder!r} of connector {connector.id}.")
        return remote

    def _usable_task(self, download_task_id: str | None, now: datetime) -> DownloadTask:
        if not download_task_id:
            raise bad_request("downloadTaskId is required.")
        if not download_task_id.isdigit():
            raise bad_request(f"downloadTaskId {download_task_id!r} is not a connector async task id.")
        task = self._tasks.get(download_task_id)
        if task is None:
            raise bad_request(f"Connector async task {download_task_id} not found.")
        status = task.status_at(now)
        if status is ConnectorTaskStatus.NEW:
            raise bad_request(f"Connector async task {task.id} is not finished yet.", "JobCreateError")
        if is_failure(status):
            raise bad_request(
                f"Connector async task {task.id} failed ({status.value}): {task.outcome.error_message}",
                "JobCreateError",
            )
        if task.job_uid is not None:
            raise bad_request(
                f"Connector async task {task.id} was already used to create jobs.", "JobCreateError"
            )
        return task

    @staticmethod
    def _check_workflow_settings(
        project: ProjectRecord, request: JobCreateRequest
    ) -> dict[str, WorkflowStepSettings]:
        if not project.workflow_steps:
            if request.workflow_settings:
                raise bad_request(f"workflowSettings given, but project {project.uid} has no workflow steps.")
            return {}
        misplaced = [
            name for name, value in (("due", request.due), ("assignments", request.assignments)) if value
        ]
        if misplaced:
            raise bad_request(
                f"{' and '.join(misplaced)} cannot be used for project {project.uid} with "
                "workflow steps; give them per step in workflowSettings."
            )
        known = {s.id for s in project.workflow_steps}
        settings = {s.id: s for s in request.workflow_settings or []}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise bad_request(
                f"workflowSettings name unknown workflow steps {', '.join(unknown)} of project "
                f"{project.uid} (known: {', '.join(sorted(known))})."
            )
        return settings


def _failed_import(error_code: str | None, error_desc: str | None) -> ImportOutcome:
    return ImportOutcome(error_code or "JobImportFailed", error_desc or "The file could not be imported.")


def _check_choice(name: str, value: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")


def _check_page(page_number: int, page_size: int, max_size: int) -> None:
    if page_number < 0:
        raise bad_request(f"pageNumber must be 0 or more, not {page_number}.")
    if not 1 <= page_size <= max_size:
        raise bad_request(f"pageSize must be between 1 and {max_size}, not {page_size}.")


def _decode(kind: str, encoded: str) -> str:
    try:
        return decode_path(encoded)
    except ValueError:
        raise bad_request(
            f"{encoded!r} is not an encoded {kind} name; use encodedName/encodedCurrentFolder from a "
            "folder listing."
        ) from None


__all__ = [
    "CANCELLED_STATUS",
    "CANCELLED_TASK_ID",
    "CreatedJobs",
    "EmulatorState",
    "JobQuery",
    "PhraseError",
    "ProjectQuery",
    "TaskPage",
    "TaskQuery",
]
