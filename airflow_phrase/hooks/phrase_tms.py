"""``PhraseTmsHook``: the Phrase TMS REST API as used by this provider (connector download → job).

Sync methods use ``requests`` (operators, sensors); ``a_``-prefixed methods use ``aiohttp`` (triggers).
Both go through the same :class:`~airflow_phrase.hooks.retry.RetryPolicy`, the same authentication and
return the same pydantic models from :mod:`airflow_phrase.models`.

The hook does no I/O and no connection lookup in ``__init__``: the Airflow connection is read on first
use, with the async-safe lookup on the async path (a sync lookup inside the triggerer's event loop
can deadlock on secret masking).
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import requests
import tenacity
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowFailException
from pydantic import BaseModel, ValidationError

from airflow_phrase.classification import RequestKind
from airflow_phrase.exceptions import (
    PhraseApiError,
    PhraseConnectionError,
    PhraseNotFoundError,
    PhraseTargetFileRequestGoneError,
)
from airflow_phrase.hooks.auth import (
    TOKEN_CACHE,
    CachedToken,
    amask,
    authorization_value,
    mask,
    new_cached_token,
    static_authorization,
    token_key,
)
from airflow_phrase.hooks.claims import DEFAULT_ABANDON_AFTER, ClaimCheck, check_claim, is_finished
from airflow_phrase.hooks.connection import AuthType, PhraseConnectionConfig, parse_connection
from airflow_phrase.hooks.delivery import (
    CountingWriter,
    check_async_request_id,
    check_job_status,
    check_job_uid,
    check_job_uids,
    check_project_uid,
    target_file_info,
)
from airflow_phrase.hooks.job_matching import (
    CREATED_MARGIN,
    is_ambiguous_create_failure,
    is_refused_create,
    order_jobs,
    same_remote_file,
)
from airflow_phrase.hooks.job_status_reads import (
    LISTING_PAGE_SIZE,
    ListingPage,
    StatusAnswer,
    StatusRead,
    StatusReads,
    status_reads,
)
from airflow_phrase.hooks.job_status_reads import is_last_page as _is_last_page
from airflow_phrase.hooks.remote_files import (
    ROOT_PATH,
    RemoteFileVersion,
    ResolvedRemoteFile,
    as_utc,
    display_path,
    find_file,
    find_subfolder,
    same_name,
    split_path,
)
from airflow_phrase.hooks.results import JobsOutcome, JobSummary
from airflow_phrase.hooks.retry import RetryPolicy
from airflow_phrase.hooks.token_store import (
    a_forget_login_token,
    a_shared_login_token,
    forget_login_token,
    shared_login_token,
)
from airflow_phrase.hooks.transport import (
    HttpCall,
    HttpResult,
    HttpStatusFailure,
    TransportFailure,
    encode_query,
    path_segment,
    send_async,
    send_sync,
    to_phrase_error,
)
from airflow_phrase.hooks.waits import failed_imports, import_failed_error, pending_imports, poll
from airflow_phrase.languages import normalise_language
from airflow_phrase.models import (
    MAX_SEARCH_JOBS,
    AsyncFileOpResponse,
    AsyncRequest,
    AsyncRequestWrapper,
    Connector,
    ConnectorList,
    ConnectorTaskState,
    ConnectorTaskStatesPage,
    DownloadFileRequest,
    FolderListing,
    JobCreateRequest,
    JobExport,
    JobExportRequest,
    JobList,
    JobPart,
    JobPartsPage,
    JobPartV2,
    JobSearch,
    JobSearchRequest,
    JobStatus,
    JobStatusChangeRequest,
    JobStatusChanges,
    LoginRequest,
    LoginResponse,
    Project,
    ProjectsPage,
    TargetFile,
    WhoAmI,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

LOGIN_PATH = "/api2/v3/auth/login"
WHO_AM_I_PATH = "/api2/v1/auth/whoAmI"
CONNECTOR_TASKS_PATH = "/api2/v1/connectorAsyncTasks"

#: Without ``dateCreatedFrom`` Phrase only lists connector tasks of the last 24 h; a lookup by id
#: without ``created_after`` searches this far back instead.
DEFAULT_TASK_LOOKBACK = timedelta(days=7)

#: Used by ``test_connection`` unless a policy is given: a form button should answer in seconds.
CONNECTION_TEST_POLICY = RetryPolicy(
    max_attempts=2, initial_wait=0.5, max_wait=5, total_timeout=15, jitter=0.5
)

_SUMMARY_ERRORS = 3


def _airflow_version() -> str:
    try:
        from airflow import __version__ as version
    except ImportError:  # pragma: no cover - airflow is a hard dependency
        return "unknown"
    return str(version)


def _validation_summary(exc: ValidationError) -> str:
    # loc + msg only: pydantic's own message echoes input values, which may hold a token.
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
        for error in exc.errors()[:_SUMMARY_ERRORS]
    ]
    more = exc.error_count() - _SUMMARY_ERRORS
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _parse(model: type[M], result: HttpResult, method: str, path: str) -> M:
    try:
        return model.model_validate_json(result.body or b"null")
    except ValidationError as exc:
        raise PhraseApiError(
            status=result.status,
            method=method,
            path=path,
            error_code="UnexpectedResponse",
            error_description=f"the response is not a valid {model.__name__}: {_validation_summary(exc)}",
        ) from None


def _drive(reads: StatusReads, answer: Callable[[StatusRead], StatusAnswer]) -> dict[str, JobPartV2]:
    """Run a :func:`~airflow_phrase.hooks.job_status_reads.status_reads` plan, answering each read."""
    try:
        read = next(reads)
        while True:
            read = reads.send(answer(read))
    except StopIteration as done:
        return done.value


async def _a_drive(
    reads: StatusReads, answer: Callable[[StatusRead], Awaitable[StatusAnswer]]
) -> dict[str, JobPartV2]:
    """The async twin of :func:`_drive`."""
    try:
        read = next(reads)
        while True:
            read = reads.send(await answer(read))
    except StopIteration as done:
        return done.value


def _enum_values(values: Iterable[Any] | None) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):  # a single value, not its characters
        values = [values]
    return [str(getattr(value, "value", value)) for value in values]


class PhraseTmsHook(BaseHook):
    """Talks to Phrase TMS (formerly Memsource) through an Airflow connection of type ``phrase_tms``.

    :param phrase_conn_id: the Airflow connection id.
    :param retry_policy: overrides the retry settings of the connection for every call of this hook
        (each method also takes ``retry_policy=`` for a single call).
    :param request_timeout: connect and read timeout of one HTTP request, in seconds (default: the
        connection's ``request_timeout_seconds``, else 60).
    :param sleep: called with the seconds to wait between sync attempts (default ``time.sleep``).
    :param async_sleep: awaited with the seconds to wait between async attempts (default ``asyncio.sleep``).
    """

    conn_name_attr = "phrase_conn_id"
    default_conn_name = "phrase_tms_default"
    conn_type = "phrase_tms"
    hook_name = "Phrase TMS"

    def __init__(
        self,
        phrase_conn_id: str = default_conn_name,
        *,
        retry_policy: RetryPolicy | None = None,
        request_timeout: float | None = None,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self.phrase_conn_id = phrase_conn_id
        self.retry_policy = retry_policy
        self.request_timeout = request_timeout
        self._sleep: Callable[[float], None] = sleep or time.sleep
        self._async_sleep: Callable[[float], Awaitable[None]] = async_sleep or asyncio.sleep
        self._config: PhraseConnectionConfig | None = None
        self._session: requests.Session | None = None
        self._a_session: aiohttp.ClientSession | None = None
        self._a_session_loop: asyncio.AbstractEventLoop | None = None
        self._a_login_lock: asyncio.Lock | None = None
        # Read-mostly lookups, cached for the life of this hook (operators build one hook per execute).
        self._folder_cache: dict[tuple[str, str | None, str | None, str], FolderListing] = {}
        self._connectors_cache: dict[str | None, list[Connector]] = {}
        self._project_cache: dict[str, Project] = {}
        #: HTTP requests this hook sent to Phrase (every attempt: retries and logins included).
        self.api_calls = 0
        #: Called with the hook at the end of :meth:`close` (the operators record ``api_calls`` there).
        self.on_close: Callable[[PhraseTmsHook], None] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(phrase_conn_id={self.phrase_conn_id!r})"

    # ------------------------------------------------------------------ connection and settings

    def _connection_config(self) -> PhraseConnectionConfig:
        if self._config is None:
            conn = self.get_connection(self.phrase_conn_id)
            if conn.password and conn.password.strip():
                mask(conn.password.strip())  # as the requests will send it, before anything can fail
            config = parse_connection(
                conn_id=self.phrase_conn_id,
                host=conn.host,
                login=conn.login,
                password=conn.password,
                extra=conn.extra_dejson,
                port=conn.port,
                conn_type=conn.conn_type,
            )
            self._config = config
        return self._config

    async def _a_connection_config(self) -> PhraseConnectionConfig:
        if self._config is None:
            from airflow.providers.common.compat.connection import (
                get_async_connection,
                get_async_extra_dejson,
            )

            conn = await get_async_connection(self.phrase_conn_id, hook=self)
            if conn.password and conn.password.strip():
                await amask(conn.password.strip())
            config = parse_connection(
                conn_id=self.phrase_conn_id,
                host=conn.host,
                login=conn.login,
                password=conn.password,
                extra=await get_async_extra_dejson(conn),
                port=conn.port,
                conn_type=conn.conn_type,
            )
            self._config = config
        return self._config

    def _policy(self, config: PhraseConnectionConfig, retry_policy: RetryPolicy | None) -> RetryPolicy:
        return retry_policy or self.retry_policy or config.retry_policy

    def _timeout(self, config: PhraseConnectionConfig) -> float:
        return self.request_timeout or config.request_timeout

    def _base_headers(self, config: PhraseConnectionConfig, accept: str) -> dict[str, str]:
        return {"User-Agent": config.user_agent(_airflow_version()), "Accept": accept}

    @property
    def web_app_url(self) -> str:
        """The Phrase web app base for links, e.g. ``https://cloud.memsource.com/web``.

        Reads the connection synchronously on first use; inside an event loop call an ``a_`` method
        first (it loads the connection the async-safe way and caches it).
        """
        return self._connection_config().web_app_url

    def project_url(self, project_uid: str) -> str:
        return f"{self.web_app_url}/project2/show/{path_segment(project_uid)}"

    def job_url(self, project_uid: str, job_uid: str) -> str:
        """Link to the job in Phrase's editor (the job uid alone identifies it; ``project_uid`` is unused)."""
        return f"{self.web_app_url}/job/{path_segment(job_uid)}/translate"

    # ------------------------------------------------------------------ sync transport

    def get_conn(self) -> requests.Session:
        """The ``requests.Session`` of this hook (User-Agent set; authorization is added per request)."""
        if self._session is None:
            config = self._connection_config()
            session = requests.Session()
            session.headers.update(self._base_headers(config, "application/json"))
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the sync HTTP session (the async one: :meth:`aclose`), then call :attr:`on_close`."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self.on_close is not None:
            self.on_close(self)

    def _authorization(self, config: PhraseConnectionConfig, policy: RetryPolicy) -> tuple[str, str | None]:
        """``(Authorization value, login token or None)``; logs in if neither this process nor the
        machine's token cache (:mod:`~airflow_phrase.hooks.token_store`) has a usable token."""
        if config.auth_type is not AuthType.LOGIN:
            return static_authorization(config), None
        cached = shared_login_token(config, lambda: self._login(config, policy))
        token = cached.token.get_secret_value()
        return authorization_value(AuthType.LOGIN, token), token

    def _login(self, config: PhraseConnectionConfig, policy: RetryPolicy) -> CachedToken:
        body = LoginRequest(user_name=config.user_name or "", password=config.secret).to_wire()
        result = self._send(
            config,
            "POST",
            LOGIN_PATH,
            json_body=body,
            policy=policy,
            authorization=None,
            kind=RequestKind.LOGIN,
        )
        login = _parse(LoginResponse, result, "POST", LOGIN_PATH)
        mask(login.token)
        log.info("Logged in to Phrase TMS at %s as %s", config.base_url, config.user_name)
        return new_cached_token(login.token, login.expires)

    def _send(
        self,
        config: PhraseConnectionConfig,
        method: str,
        path: str,
        *,
        policy: RetryPolicy,
        authorization: str | None,
        kind: RequestKind,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        accept: str = "application/json",
        write_to: Callable[[Iterator[bytes]], None] | None = None,
    ) -> HttpResult:
        call = HttpCall(
            method=method,
            base_url=config.base_url,
            path=path,
            params=encode_query(params),
            json_body=json_body,
        )
        headers = {"Accept": accept}
        if authorization is not None:
            headers["Authorization"] = authorization
        session = self.get_conn()
        timeout = self._timeout(config)
        attempts = 0

        def attempt() -> HttpResult:
            nonlocal attempts
            attempts += 1
            self.api_calls += 1
            return send_sync(session, call, headers=headers, timeout=timeout, write_to=write_to)

        retrying = tenacity.Retrying(
            sleep=self._sleep,
            **policy.tenacity_kwargs(method=method, path=path, kind=kind, logger=log),
        )
        try:
            return retrying(attempt)
        except (HttpStatusFailure, TransportFailure) as failure:
            raise to_phrase_error(failure, attempts=attempts) from failure

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        kind: RequestKind = RequestKind.READ,
        retry_policy: RetryPolicy | None = None,
        accept: str = "application/json",
        write_to: Callable[[Iterator[bytes]], None] | None = None,
    ) -> HttpResult:
        """One authenticated API call with retries; on a 401 for a cached login token, logs in once again."""
        config = self._connection_config()
        policy = self._policy(config, retry_policy)
        logged_in_again = False
        while True:
            authorization, login_token = self._authorization(config, policy)
            try:
                return self._send(
                    config,
                    method,
                    path,
                    policy=policy,
                    authorization=authorization,
                    kind=kind,
                    params=params,
                    json_body=json_body,
                    accept=accept,
                    write_to=write_to,
                )
            except PhraseApiError as error:
                if error.status != 401 or login_token is None or logged_in_again:
                    raise
                log.warning("Phrase TMS rejected the login token for %s %s; logging in again", method, path)
                forget_login_token(config, login_token)
                logged_in_again = True

    def _get(
        self,
        model: type[M],
        path: str,
        *,
        params: dict[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> M:
        return _parse(
            model, self._request("GET", path, params=params, retry_policy=retry_policy), "GET", path
        )

    # ------------------------------------------------------------------ async transport

    async def _a_get_session(self, config: PhraseConnectionConfig) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._a_session is None or self._a_session.closed or self._a_session_loop is not loop:
            self._a_session = aiohttp.ClientSession(headers=self._base_headers(config, "application/json"))
            self._a_session_loop = loop
            self._a_login_lock = None
        return self._a_session

    async def aclose(self) -> None:
        """Close the aiohttp session (created lazily by the first ``a_`` call)."""
        session, self._a_session = self._a_session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> PhraseTmsHook:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _a_authorization(
        self, config: PhraseConnectionConfig, policy: RetryPolicy
    ) -> tuple[str, str | None]:
        if config.auth_type is not AuthType.LOGIN:
            return static_authorization(config), None
        key = token_key(config)
        cached = TOKEN_CACHE.get(key)
        if cached is None:
            # Never block the event loop on the thread lock; coroutines of this hook log in one at a time.
            if self._a_login_lock is None:
                self._a_login_lock = asyncio.Lock()
            async with self._a_login_lock:
                cached = await a_shared_login_token(config, lambda: self._a_login(config, policy))
        token = cached.token.get_secret_value()
        return authorization_value(AuthType.LOGIN, token), token

    async def _a_login(self, config: PhraseConnectionConfig, policy: RetryPolicy) -> CachedToken:
        body = LoginRequest(user_name=config.user_name or "", password=config.secret).to_wire()
        result = await self._a_send(
            config,
            "POST",
            LOGIN_PATH,
            json_body=body,
            policy=policy,
            authorization=None,
            kind=RequestKind.LOGIN,
        )
        login = _parse(LoginResponse, result, "POST", LOGIN_PATH)
        await amask(login.token)
        log.info("Logged in to Phrase TMS at %s as %s", config.base_url, config.user_name)
        return new_cached_token(login.token, login.expires)

    async def _a_send(
        self,
        config: PhraseConnectionConfig,
        method: str,
        path: str,
        *,
        policy: RetryPolicy,
        authorization: str | None,
        kind: RequestKind,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> HttpResult:
        call = HttpCall(
            method=method,
            base_url=config.base_url,
            path=path,
            params=encode_query(params),
            json_body=json_body,
        )
        headers = {"Authorization": authorization} if authorization is not None else {}
        session = await self._a_get_session(config)
        timeout = self._timeout(config)
        attempts = 0

        async def attempt() -> HttpResult:
            nonlocal attempts
            attempts += 1
            self.api_calls += 1
            return await send_async(session, call, headers=headers, timeout=timeout)

        retrying = tenacity.AsyncRetrying(
            sleep=self._async_sleep,
            **policy.tenacity_kwargs(method=method, path=path, kind=kind, logger=log),
        )
        try:
            return await retrying(attempt)
        except (HttpStatusFailure, TransportFailure) as failure:
            raise to_phrase_error(failure, attempts=attempts) from failure

    async def _a_request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        kind: RequestKind = RequestKind.READ,
        retry_policy: RetryPolicy | None = None,
    ) -> HttpResult:
        config = await self._a_connection_config()
        policy = self._policy(config, retry_policy)
        logged_in_again = False
        while True:
            authorization, login_token = await self._a_authorization(config, policy)
            try:
                return await self._a_send(
                    config,
                    method,
                    path,
                    policy=policy,
                    authorization=authorization,
                    kind=kind,
                    params=params,
                    json_body=json_body,
                )
            except PhraseApiError as error:
                if error.status != 401 or login_token is None or logged_in_again:
                    raise
                log.warning("Phrase TMS rejected the login token for %s %s; logging in again", method, path)
                await a_forget_login_token(config, login_token)
                logged_in_again = True

    async def _a_get(
        self,
        model: type[M],
        path: str,
        *,
        params: dict[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> M:
        result = await self._a_request("GET", path, params=params, retry_policy=retry_policy)
        return _parse(model, result, "GET", path)

    # ------------------------------------------------------------------ authentication

    def who_am_i(self, *, retry_policy: RetryPolicy | None = None) -> WhoAmI:
        return self._get(WhoAmI, WHO_AM_I_PATH, retry_policy=retry_policy)

    async def a_who_am_i(self, *, retry_policy: RetryPolicy | None = None) -> WhoAmI:
        return await self._a_get(WhoAmI, WHO_AM_I_PATH, retry_policy=retry_policy)

    def test_connection(self, *, retry_policy: RetryPolicy | None = None) -> tuple[bool, str]:
        """Call whoAmI; never raises. The message names the user and organisation, or the error."""
        try:
            me = self.who_am_i(retry_policy=retry_policy or self.retry_policy or CONNECTION_TEST_POLICY)
        except Exception as exc:
            return False, f"Connection to Phrase TMS failed: {type(exc).__name__}: {exc}"
        user = me.user
        full_name = " ".join(part for part in (user.first_name, user.last_name) if part)
        who = user.user_name or user.uid or "unknown user"
        if full_name:
            who += f" ({full_name})"
        organisation = (
            me.organization.name if me.organization and me.organization.name else "unknown organisation"
        )
        return True, f"Connected to Phrase TMS at {self.web_app_url} as {who}, organisation {organisation}"

    # ------------------------------------------------------------------ connectors and folders

    def list_connectors(
        self, connector_type: str | None = None, *, retry_policy: RetryPolicy | None = None
    ) -> list[Connector]:
        """The connectors (of ``connector_type``, or all). Cached for the life of this hook."""
        cached = self._connectors_cache.get(connector_type)
        if cached is not None:
            return list(cached)
        listing = self._get(
            ConnectorList, "/api2/v1/connectors", params={"type": connector_type}, retry_policy=retry_policy
        )
        self._connectors_cache[connector_type] = listing.connectors
        return list(listing.connectors)

    def get_connector(self, connector_id: str, *, retry_policy: RetryPolicy | None = None) -> Connector:
        return self._get(
            Connector, f"/api2/v1/connectors/{path_segment(connector_id)}", retry_policy=retry_policy
        )

    def resolve_connector(self, id_or_name: str, *, retry_policy: RetryPolicy | None = None) -> Connector:
        """The connector whose id is ``id_or_name``, else the one with exactly that name."""
        wanted = str(id_or_name).strip()
        connectors = self.list_connectors(retry_policy=retry_policy)
        by_id = [c for c in connectors if c.id == wanted]
        if by_id:
            return by_id[0]
        by_name = [c for c in connectors if same_name(c.name, wanted)]
        if len(by_name) == 1:
            return by_name[0]
        if by_name:
            ids = ", ".join(c.id for c in by_name)
            raise PhraseNotFoundError(
                f"{len(by_name)} Phrase connectors are named {wanted!r} (ids {ids}); "
                "give the connector id instead."
            )
        available = ", ".join(f"{c.name!r} (id {c.id}, {c.type})" for c in connectors) or "none"
        raise PhraseNotFoundError(
            f"No Phrase connector has the id or name {wanted!r}. Available: {available}."
        )

    def list_folder(
        self,
        connector_id: str,
        encoded_folder: str | None = None,
        *,
        project_uid: str | None = None,
        file_type: str = "ALL",
        retry_policy: RetryPolicy | None = None,
    ) -> FolderListing:
        """List a connector folder (``None``: the root). Listings are cached for the life of this hook."""
        key = (str(connector_id), encoded_folder, project_uid, file_type)
        cached = self._folder_cache.get(key)
        if cached is not None:
            return cached
        path = f"/api2/v1/connectors/{path_segment(connector_id)}/folders"
        if encoded_folder is not None:
            path += f"/{path_segment(encoded_folder)}"
        listing = self._get(
            FolderListing,
            path,
            params={"projectUid": project_uid, "fileType": file_type},
            retry_policy=retry_policy,
        )
        self._folder_cache[key] = listing
        return listing

    def browse_path(
        self, connector_id: str, path: str, *, retry_policy: RetryPolicy | None = None
    ) -> FolderListing:
        """List the folder at a human-readable ``path`` (``"docs/guides"``, ``"/"``), walking from the root.

        Only encoded names Phrase returned are used to descend.
        """
        listing = self.list_folder(connector_id, retry_policy=retry_policy)
        walked: list[str] = []
        for segment in split_path(path):
            folder = find_subfolder(listing, segment, parent=walked, where=f"connector {connector_id}")
            walked.append(segment)
            listing = self.list_folder(connector_id, folder.encoded_name, retry_policy=retry_policy)
        return listing

    def resolve_remote_file(
        self, connector_id: str, folder: str, file: str, *, retry_policy: RetryPolicy | None = None
    ) -> ResolvedRemoteFile:
        """Find a remote file by folder and file name.

        ``folder`` is a human-readable path (``"docs/guides"``, ``"/"``) or an encoded folder Phrase gave
        out; ``file`` is a file name or an encoded name.
        """
        folder_path = display_path(split_path(folder))
        try:
            listing = self.browse_path(connector_id, folder, retry_policy=retry_policy)
        except PhraseNotFoundError as not_a_path:
            # Maybe it is an encoded folder Phrase gave out earlier.
            try:
                listing = self.list_folder(connector_id, folder.strip(), retry_policy=retry_policy)
            except PhraseApiError as error:
                if error.status in (400, 404):
                    raise not_a_path from None
                raise
            folder_path = listing.current_folder or folder.strip()
        entry = find_file(listing, file, folder_label=folder_path, where=f"connector {connector_id}")
        # Phrase's docs use "/" as the root folder's name when no encoded form is given.
        encoded_folder = listing.encoded_current_folder or (
            folder.strip() if folder_path != ROOT_PATH else ROOT_PATH
        )
        return ResolvedRemoteFile(
            connector_id=str(connector_id),
            encoded_folder=encoded_folder,
            encoded_name=entry.encoded_name,
            name=entry.name,
            folder_path=folder_path,
            remote_file=entry,
        )

    # ------------------------------------------------------------------ connector async download

    def start_connector_download(
        self,
        connector_id: str,
        encoded_folder: str,
        encoded_file: str,
        request: DownloadFileRequest | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
    ) -> AsyncFileOpResponse:
        """Start the async download of a remote file; the result's ``id`` is the download task id.

        ``POST /api2/v2/connectors/{connectorId}/folders/{folder}/files/{file}``. Retried after transient
        and ambiguous failures alike: a repeat can at worst leave a spare download task that nothing uses
        (see :mod:`airflow_phrase.classification`).
        """
        path = (
            f"/api2/v2/connectors/{path_segment(connector_id)}/folders/{path_segment(encoded_folder)}"
            f"/files/{path_segment(encoded_file)}"
        )
        body = (request or DownloadFileRequest()).to_wire()
        result = self._request(
            "POST", path, json_body=body, kind=RequestKind.START_DOWNLOAD, retry_policy=retry_policy
        )
        return _parse(AsyncFileOpResponse, result, "POST", path)

    @staticmethod
    def _task_state_params(
        project_uid: str,
        *,
        page_number: int,
        page_size: int,
        task_types: Iterable[Any] | None,
        processing_types: Iterable[Any] | None,
        date_created_from: datetime | None,
        date_created_to: datetime | None,
    ) -> dict[str, Any]:
        return {
            "projectUid": project_uid,
            "taskType": _enum_values(task_types),
            "taskProcessingType": _enum_values(processing_types),
            "dateCreatedFrom": date_created_from,
            "dateCreatedTo": date_created_to,
            "pageNumber": page_number,
            "pageSize": page_size,
        }

    def get_connector_task_states_page(
        self,
        project_uid: str,
        *,
        page_number: int = 0,
        page_size: int = 1000,
        task_types: Iterable[Any] | None = ("DOWNLOAD",),
        processing_types: Iterable[Any] | None = ("API",),
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> ConnectorTaskStatesPage:
        params = self._task_state_params(
            project_uid,
            page_number=page_number,
            page_size=page_size,
            task_types=task_types,
            processing_types=processing_types,
            date_created_from=date_created_from,
            date_created_to=date_created_to,
        )
        return self._get(
            ConnectorTaskStatesPage, CONNECTOR_TASKS_PATH, params=params, retry_policy=retry_policy
        )

    def iter_connector_task_states(
        self,
        project_uid: str,
        *,
        task_types: Iterable[Any] | None = ("DOWNLOAD",),
        processing_types: Iterable[Any] | None = ("API",),
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        page_size: int = 1000,
        retry_policy: RetryPolicy | None = None,
    ) -> Iterator[ConnectorTaskState]:
        """Every connector task state of the project, page by page (Phrase's default window: last 24 h).

        ``GET /api2/v1/connectorAsyncTasks``; ``page_size`` 1 to 1000.
        """
        page_number = 0
        while True:
            page = self.get_connector_task_states_page(
                project_uid,
                page_number=page_number,
                page_size=page_size,
                task_types=task_types,
                processing_types=processing_types,
                date_created_from=date_created_from,
                date_created_to=date_created_to,
                retry_policy=retry_policy,
            )
            yield from page.content
            if _is_last_page(page_number, page.total_pages, len(page.content), page_size):
                return
            page_number += 1

    def get_connector_task_state(
        self,
        project_uid: str,
        task_id: str,
        *,
        created_after: datetime | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> ConnectorTaskState | None:
        """The state of one download task, or ``None`` if Phrase does not list it (yet).

        ``created_after`` bounds the search (``dateCreatedFrom``); pass the task's creation time minus a
        margin. Without it the last :data:`DEFAULT_TASK_LOOKBACK` are searched, not Phrase's default 24 h.
        """
        since = created_after or datetime.now(timezone.utc) - DEFAULT_TASK_LOOKBACK
        for state in self.iter_connector_task_states(
            project_uid,
            task_types=None,
            processing_types=None,
            date_created_from=since,
            retry_policy=retry_policy,
        ):
            if state.id == str(task_id):
                return state
        return None

    async def a_get_connector_task_states_page(
        self,
        project_uid: str,
        *,
        page_number: int = 0,
        page_size: int = 1000,
        task_types: Iterable[Any] | None = ("DOWNLOAD",),
        processing_types: Iterable[Any] | None = ("API",),
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> ConnectorTaskStatesPage:
        params = self._task_state_params(
            project_uid,
            page_number=page_number,
            page_size=page_size,
            task_types=task_types,
            processing_types=processing_types,
            date_created_from=date_created_from,
            date_created_to=date_created_to,
        )
        return await self._a_get(
            ConnectorTaskStatesPage, CONNECTOR_TASKS_PATH, params=params, retry_policy=retry_policy
        )

    async def a_iter_connector_task_states(
        self,
        project_uid: str,
        *,
        task_types: Iterable[Any] | None = ("DOWNLOAD",),
        processing_types: Iterable[Any] | None = ("API",),
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        page_size: int = 1000,
        retry_policy: RetryPolicy | None = None,
        on_page: Callable[[], None] | None = None,
    ) -> AsyncIterator[ConnectorTaskState]:
        """Every connector task state of the project, page by page (``on_page`` is called per request)."""
        page_number = 0
        while True:
            if on_page is not None:
                on_page()
            page = await self.a_get_connector_task_states_page(
                project_uid,
                page_number=page_number,
                page_size=page_size,
                task_types=task_types,
                processing_types=processing_types,
                date_created_from=date_created_from,
                date_created_to=date_created_to,
                retry_policy=retry_policy,
            )
            for state in page.content:
                yield state
            if _is_last_page(page_number, page.total_pages, len(page.content), page_size):
                return
            page_number += 1

    async def a_get_connector_task_state(
        self,
        project_uid: str,
        task_id: str,
        *,
        created_after: datetime | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> ConnectorTaskState | None:
        since = created_after or datetime.now(timezone.utc) - DEFAULT_TASK_LOOKBACK
        async for state in self.a_iter_connector_task_states(
            project_uid,
            task_types=None,
            processing_types=None,
            date_created_from=since,
            retry_policy=retry_policy,
        ):
            if state.id == str(task_id):
                return state
        return None

    def download_prepared_file(
        self,
        connector_id: str,
        encoded_folder: str,
        encoded_file: str,
        task_id: str,
        destination: str | Path,
        *,
        retry_policy: RetryPolicy | None = None,
    ) -> Path:
        """Stream the file a finished download task prepared to ``destination`` (written atomically)."""
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        path = (
            f"/api2/v2/connectors/{path_segment(connector_id)}/folders/{path_segment(encoded_folder)}"
            f"/files/{path_segment(encoded_file)}/tasks/{path_segment(task_id)}"
        )

        def write(chunks: Iterator[bytes]) -> None:
            fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(partial, target)
            except BaseException:
                with suppress(FileNotFoundError):
                    os.unlink(partial)
                raise

        self._request(
            "GET", path, retry_policy=retry_policy, accept="application/octet-stream", write_to=write
        )
        return target

    # ------------------------------------------------------------------ jobs, async requests, projects

    def create_job_from_connector_task(
        self,
        project_uid: str,
        download_task_id: str,
        request: JobCreateRequest,
        *,
        continuous: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> JobList:
        """Create job(s) from a finished download task (201).

        Not idempotent: retried only when Phrase certainly did not process the request (a *transient*
        failure: 429, 503, no connection; see :mod:`airflow_phrase.classification`). An *ambiguous* one
        (500, 502, 504, timeout, dropped response) raises at once
        (:class:`~airflow_phrase.exceptions.PhraseResponseLostError` or a ``PhraseApiError`` whose
        ``ambiguous`` is true); check for the jobs (e.g. :meth:`iter_jobs` by file name) before trying
        again.
        """
        path = f"/api2/v1/projects/{path_segment(project_uid)}/jobs/connectorTask"
        result = self._request(
            "POST",
            path,
            params={"downloadTaskId": str(download_task_id), "continuous": continuous},
            json_body=request.to_wire(),
            kind=RequestKind.CREATE_JOBS,
            retry_policy=retry_policy,
        )
        return _parse(JobList, result, "POST", path)

    def get_async_request(
        self, async_request_id: str, *, retry_policy: RetryPolicy | None = None
    ) -> AsyncRequest:
        return self._get(
            AsyncRequest, f"/api2/v1/async/{path_segment(async_request_id)}", retry_policy=retry_policy
        )

    async def a_get_async_request(
        self, async_request_id: str, *, retry_policy: RetryPolicy | None = None
    ) -> AsyncRequest:
        return await self._a_get(
            AsyncRequest, f"/api2/v1/async/{path_segment(async_request_id)}", retry_policy=retry_policy
        )

    @staticmethod
    def _job_path(project_uid: str, job_uid: str) -> str:
        return f"/api2/v1/projects/{path_segment(project_uid)}/jobs/{path_segment(job_uid)}"

    def get_job(self, project_uid: str, job_uid: str, *, retry_policy: RetryPolicy | None = None) -> JobPart:
        return self._get(JobPart, self._job_path(project_uid, job_uid), retry_policy=retry_policy)

    async def a_get_job(
        self, project_uid: str, job_uid: str, *, retry_policy: RetryPolicy | None = None
    ) -> JobPart:
        return await self._a_get(JobPart, self._job_path(project_uid, job_uid), retry_policy=retry_policy)

    @staticmethod
    def _jobs_params(
        page_number: int,
        page_size: int,
        *,
        filename: str | None,
        target_lang: str | None,
        workflow_level: int | None,
        statuses: Iterable[str] | None,
        not_ready: bool | None,
    ) -> dict[str, Any]:
        return {
            "pageNumber": page_number,
            "pageSize": page_size,
            "filename": filename,
            "targetLang": target_lang,
            "workflowLevel": workflow_level,
            "status": _enum_values(statuses),
            "notReady": not_ready,
        }

    def iter_jobs(
        self,
        project_uid: str,
        *,
        filename: str | None = None,
        target_lang: str | None = None,
        workflow_level: int | None = None,
        statuses: Iterable[str] | None = None,
        not_ready: bool | None = None,
        page_size: int = 50,
        retry_policy: RetryPolicy | None = None,
    ) -> Iterator[JobPartV2]:
        """Every job of the project matching the filters, page by page (list jobs v2).

        ``GET /api2/v2/projects/{projectUid}/jobs``: ``filename`` is a filter Phrase may match loosely
        (compare names yourself); ``not_ready=True`` lists only jobs whose import is running or failed;
        ``page_size`` 1 to 50. Phrase lists one workflow level per call (``workflow_level``; ``None``:
        Phrase's default, 1) and its items do not say their level: each job yielded carries the level it
        was listed at (``job.workflow_level``).
        """
        path = f"/api2/v2/projects/{path_segment(project_uid)}/jobs"
        listed_level = workflow_level if workflow_level is not None else 1
        page_number = 0
        while True:
            params = self._jobs_params(
                page_number,
                page_size,
                filename=filename,
                target_lang=target_lang,
                workflow_level=workflow_level,
                statuses=statuses,
                not_ready=not_ready,
            )
            page = self._get(JobPartsPage, path, params=params, retry_policy=retry_policy)
            for job in page.content:
                yield job.listed_at_level(listed_level)
            if _is_last_page(page_number, page.total_pages, len(page.content), page_size):
                return
            page_number += 1

    async def a_iter_jobs(
        self,
        project_uid: str,
        *,
        filename: str | None = None,
        target_lang: str | None = None,
        workflow_level: int | None = None,
        statuses: Iterable[str] | None = None,
        not_ready: bool | None = None,
        page_size: int = 50,
        retry_policy: RetryPolicy | None = None,
        on_page: Callable[[], None] | None = None,
    ) -> AsyncIterator[JobPartV2]:
        """The async twin of :meth:`iter_jobs` (``on_page`` is called per request)."""
        path = f"/api2/v2/projects/{path_segment(project_uid)}/jobs"
        listed_level = workflow_level if workflow_level is not None else 1
        page_number = 0
        while True:
            if on_page is not None:
                on_page()
            params = self._jobs_params(
                page_number,
                page_size,
                filename=filename,
                target_lang=target_lang,
                workflow_level=workflow_level,
                statuses=statuses,
                not_ready=not_ready,
            )
            page = await self._a_get(JobPartsPage, path, params=params, retry_policy=retry_policy)
            for job in page.content:
                yield job.listed_at_level(listed_level)
            if _is_last_page(page_number, page.total_pages, len(page.content), page_size):
                return
            page_number += 1

    def _jobs_page_request(
        self, project_uid: str, page_number: int, statuses: Iterable[str] | None, workflow_level: int | None
    ) -> tuple[str, dict[str, Any]]:
        path = f"/api2/v2/projects/{path_segment(project_uid)}/jobs"
        params = self._jobs_params(
            page_number,
            LISTING_PAGE_SIZE,
            filename=None,
            target_lang=None,
            workflow_level=workflow_level,
            statuses=statuses,
            not_ready=None,
        )
        return path, params

    def get_jobs_page(
        self,
        project_uid: str,
        page_number: int,
        *,
        statuses: Iterable[str] | None = None,
        workflow_level: int | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> JobPartsPage:
        """One page (50 jobs) of list jobs v2 (``GET /api2/v2/projects/{projectUid}/jobs``) with the
        ``status`` and ``workflowLevel`` filters; each job carries the level it was listed at."""
        path, params = self._jobs_page_request(project_uid, page_number, statuses, workflow_level)
        page = self._get(JobPartsPage, path, params=params, retry_policy=retry_policy)
        return page.listed_at_level(workflow_level)

    async def a_get_jobs_page(
        self,
        project_uid: str,
        page_number: int,
        *,
        statuses: Iterable[str] | None = None,
        workflow_level: int | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> JobPartsPage:
        """The async twin of :meth:`get_jobs_page`."""
        path, params = self._jobs_page_request(project_uid, page_number, statuses, workflow_level)
        page = await self._a_get(JobPartsPage, path, params=params, retry_policy=retry_policy)
        return page.listed_at_level(workflow_level)

    # ------------------------------------------------------------------ job search (a read, though a POST)

    @staticmethod
    def _search_chunks(project_uid: str, job_uids: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
        """The path and one body per 50 uids; every argument checked before any call."""
        project_uid = check_project_uid(project_uid)
        uids = check_job_uids(job_uids, limit=None)
        bodies = [
            JobSearchRequest.of(uids[start : start + MAX_SEARCH_JOBS]).to_wire()
            for start in range(0, len(uids), MAX_SEARCH_JOBS)
        ]
        return f"/api2/v1/projects/{path_segment(project_uid)}/jobs/search", bodies

    def search_jobs(
        self, project_uid: str, job_uids: Sequence[str], *, retry_policy: RetryPolicy | None = None
    ) -> list[JobPart]:
        """The jobs of ``project_uid`` among ``job_uids``, whatever their status, in Phrase's order.

        ``POST /api2/v1/projects/{projectUid}/jobs/search`` with ``SearchJobsRequestDto``
        ``{"jobs": [{"uid"}]}``, one call per 50 uids; answer ``SearchJobsDto`` ``{"jobs": [...]}``, each a
        :class:`~airflow_phrase.models.JobPart` (``JobPartExtendedDto``: ``uid``, ``status``,
        ``targetLang``, ``filename``, ``workflowLevel``, ...). A uid Phrase does not know is left out of
        the answer (UNCONFIRMED: Phrase may answer 404 instead).

        :param job_uids: 1 or more distinct job uids; anything else raises ``ValueError`` naming
            ``job_uids``, before any call.

        A read, though a POST: retried like a GET (transient and ambiguous failures).
        """
        path, bodies = self._search_chunks(project_uid, job_uids)
        found: list[JobPart] = []
        for body in bodies:
            result = self._request("POST", path, json_body=body, retry_policy=retry_policy)
            found.extend(_parse(JobSearch, result, "POST", path).jobs)
        return found

    async def a_search_jobs(
        self,
        project_uid: str,
        job_uids: Sequence[str],
        *,
        retry_policy: RetryPolicy | None = None,
        on_page: Callable[[], None] | None = None,
    ) -> list[JobPart]:
        """The async twin of :meth:`search_jobs` (``on_page`` is called per request)."""
        path, bodies = self._search_chunks(project_uid, job_uids)
        found: list[JobPart] = []
        for body in bodies:
            if on_page is not None:
                on_page()
            result = await self._a_request("POST", path, json_body=body, retry_policy=retry_policy)
            found.extend(_parse(JobSearch, result, "POST", path).jobs)
        return found

    # ------------------------------------------------------------------ jobs in statuses (sensor, trigger)

    def find_jobs_in_statuses(
        self,
        project_uid: str,
        job_uids: Collection[str] | None,
        *,
        statuses: Sequence[str],
        workflow_level: int | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> dict[str, JobPartV2]:
        """The jobs waited for (``job_uids``) that are in ``statuses`` at ``workflow_level``, by uid (and
        any other job the first listing page showed in them).

        Reads the cheaper way (:func:`~airflow_phrase.hooks.job_status_reads.status_reads`): page 0 of
        ``GET /api2/v2/projects/{projectUid}/jobs?status=...&workflowLevel=N``, then either the rest of
        the listing or ``POST /api2/v1/projects/{projectUid}/jobs/search`` for the waited jobs, whichever
        takes fewer calls: at most ``1 + ceil(len(job_uids) / 50)`` calls, whatever the project's
        history. ``job_uids=None`` reads the whole listing.
        """
        reads = status_reads(job_uids, statuses=statuses, workflow_level=workflow_level)

        def answer(read: StatusRead) -> StatusAnswer:
            if isinstance(read, ListingPage):
                return self.get_jobs_page(
                    project_uid,
                    read.page_number,
                    statuses=statuses,
                    workflow_level=workflow_level,
                    retry_policy=retry_policy,
                )
            return self.search_jobs(project_uid, read.job_uids, retry_policy=retry_policy)

        return _drive(reads, answer)

    async def a_find_jobs_in_statuses(
        self,
        project_uid: str,
        job_uids: Collection[str] | None,
        *,
        statuses: Sequence[str],
        workflow_level: int | None = None,
        retry_policy: RetryPolicy | None = None,
        on_page: Callable[[], None] | None = None,
    ) -> dict[str, JobPartV2]:
        """The async twin of :meth:`find_jobs_in_statuses` (``on_page`` is called per request)."""
        reads = status_reads(job_uids, statuses=statuses, workflow_level=workflow_level)

        async def answer(read: StatusRead) -> StatusAnswer:
            if isinstance(read, ListingPage):
                if on_page is not None:
                    on_page()
                return await self.a_get_jobs_page(
                    project_uid,
                    read.page_number,
                    statuses=statuses,
                    workflow_level=workflow_level,
                    retry_policy=retry_policy,
                )
            return await self.a_search_jobs(
                project_uid, read.job_uids, retry_policy=retry_policy, on_page=on_page
            )

        return await _a_drive(reads, answer)

    # ------------------------------------------------------------------ delivery: status, export, target file

    def set_job_status(
        self,
        project_uid: str,
        job_uid: str,
        status: JobStatus | str,
        *,
        notify_owner: bool | None = None,
        propagate_status: bool | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        """Set a job's status (e.g. ``COMPLETED``, ``CANCELLED``).

        ``POST /api2/v1/projects/{projectUid}/jobs/{jobUid}/setStatus`` with ``JobStatusChangeActionDto``
        ``{"requestedStatus", "notifyOwner"?, "propagateStatus"?}``; Phrase answers without a body.
        ``status`` is one of :class:`~airflow_phrase.models.JobStatus` (a ``ValueError`` naming
        ``status`` otherwise, before any call). Retried after transient and ambiguous failures: a repeat
        sets the same status.
        """
        project_uid = check_project_uid(project_uid)
        job_uid = check_job_uid(job_uid)
        body = JobStatusChangeRequest(
            requested_status=check_job_status(status),
            notify_owner=notify_owner,
            propagate_status=propagate_status,
        ).to_wire()
        self._request(
            "POST",
            f"{self._job_path(project_uid, job_uid)}/setStatus",
            json_body=body,
            kind=RequestKind.SET_STATUS,
            retry_policy=retry_policy,
        )

    def get_job_status_changes(
        self, project_uid: str, job_uid: str, *, retry_policy: RetryPolicy | None = None
    ) -> JobStatusChanges:
        """The history of one job's status, oldest first (``statusChanges[]``: ``status``,
        ``changedDate``, ``changedBy``).

        ``GET /api2/v1/projects/{projectUid}/jobs/{jobUid}/statusChanges``: one call per job. To wait for
        many jobs use :meth:`iter_jobs` / :meth:`a_iter_jobs` with ``statuses=`` (one paged read for the
        whole project). The spec has no batch ``POST /api2/v2/jobs/statusChanges`` (see
        ``docs/design.md``).
        """
        project_uid = check_project_uid(project_uid)
        job_uid = check_job_uid(job_uid)
        return self._get(
            JobStatusChanges,
            f"{self._job_path(project_uid, job_uid)}/statusChanges",
            retry_policy=retry_policy,
        )

    def export_jobs_to_repository(
        self,
        project_uid: str,
        job_uids: Sequence[str],
        *,
        retry_policy: RetryPolicy | None = None,
    ) -> JobExport:
        """Export jobs' target files to the online repository their connector came from.

        ``POST /api2/v3/projects/{projectUid}/jobs/export`` with ``{"jobs": [{"uid": ...}]}``; answer
        ``JobExportResponseDto`` ``{"jobs": [{"uid"}]}`` (200), read as :class:`~airflow_phrase.models.
        JobExport`. The export runs in Phrase after the answer; the spec's answer carries no async
        request, so ``JobExport.async_request_id`` is ``None`` unless Phrase sends one (UNCONFIRMED).

        :param job_uids: 1 to 1,000 distinct job uids; anything else raises ``ValueError`` naming
            ``job_uids``, before any call.
        :raises PhraseRequestRejectedError: a 4xx, e.g. a job that cannot be exported in its state or
            that did not come from a connector (400; the status and code Phrase uses are UNCONFIRMED).

        Not idempotent: retried only after a *transient* failure (429, 503, no connection). An ambiguous
        one (5xx, timeout, dropped answer) raises at once; check what was exported before trying again.
        """
        project_uid = check_project_uid(project_uid)
        body = JobExportRequest.of(check_job_uids(job_uids)).to_wire()
        path = f"/api2/v3/projects/{path_segment(project_uid)}/jobs/export"
        result = self._request(
            "POST", path, json_body=body, kind=RequestKind.EXPORT_JOBS, retry_policy=retry_policy
        )
        return _parse(JobExport, result, "POST", path)

    def start_target_file_download(
        self, project_uid: str, job_uid: str, *, retry_policy: RetryPolicy | None = None
    ) -> str:
        """Ask Phrase to prepare a job's target file; returns the ``asyncRequestId`` (always a ``str``).

        ``PUT /api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile`` (no body); answer
        ``AsyncRequestWrapperV2Dto`` ``{"asyncRequest": {"id", "action", ...}}``. Wait for the request
        with :meth:`get_async_request` / :meth:`a_get_async_request` (finished once ``asyncResponse`` is
        set), then call :meth:`download_target_file` with the id, once. Retried after transient and
        ambiguous failures: a repeat leaves at most a spare async request.
        """
        project_uid = check_project_uid(project_uid)
        job_uid = check_job_uid(job_uid)
        path = f"/api2/v3/projects/{path_segment(project_uid)}/jobs/{path_segment(job_uid)}/targetFile"
        result = self._request("PUT", path, kind=RequestKind.START_TARGET_FILE, retry_policy=retry_policy)
        wrapper = _parse(AsyncRequestWrapper, result, "PUT", path)
        if wrapper.async_request is None:
            raise PhraseApiError(
                status=result.status,
                method="PUT",
                path=path,
                error_code="UnexpectedResponse",
                error_description="the answer has no asyncRequest",
            )
        return wrapper.async_request.id

    def download_target_file(
        self,
        project_uid: str,
        job_uid: str,
        async_request_id: str,
        write: Callable[[Iterator[bytes]], None],
        *,
        retry_policy: RetryPolicy | None = None,
    ) -> TargetFile:
        """Stream a prepared target file into ``write`` (called once, with an iterator of byte chunks).

        ``GET /api2/v2/projects/{projectUid}/jobs/{jobUid}/downloadTargetFile/{asyncRequestId}`` (octet
        stream). Call it after the async request of :meth:`start_target_file_download` finished. Returns
        :class:`~airflow_phrase.models.TargetFile` (file name from ``Content-Disposition``, content type,
        bytes written). ``write`` should write to a temporary name and move it into place only when the
        iterator is exhausted (see :meth:`download_prepared_file`), so a failure leaves no half file.

        The ``asyncRequestId`` is single use (Phrase's docs): a second download, or an unknown or expired
        id, raises :class:`~airflow_phrase.exceptions.PhraseTargetFileRequestGoneError` (Phrase's status
        for it is UNCONFIRMED: 404 and 410 are both read so); start a new request then. Retried only
        after transient failures: after an ambiguous one the id may be spent.
        """
        project_uid = check_project_uid(project_uid)
        job_uid = check_job_uid(job_uid)
        async_request_id = check_async_request_id(async_request_id)
        path = (
            f"/api2/v2/projects/{path_segment(project_uid)}/jobs/{path_segment(job_uid)}"
            f"/downloadTargetFile/{path_segment(async_request_id)}"
        )
        writer = CountingWriter(write)
        try:
            result = self._request(
                "GET",
                path,
                kind=RequestKind.DOWNLOAD_TARGET_FILE,
                retry_policy=retry_policy,
                accept="application/octet-stream",
                write_to=writer,
            )
        except PhraseApiError as error:
            if error.status in (404, 410) and not isinstance(error, PhraseTargetFileRequestGoneError):
                raise PhraseTargetFileRequestGoneError(
                    status=error.status,
                    method=error.method,
                    path=error.path,
                    error_code=error.error_code,
                    error_description=error.error_description,
                    attempts=error.attempts,
                ) from None
            raise
        return target_file_info(result.headers, writer.size)

    def get_project(self, project_uid: str, *, retry_policy: RetryPolicy | None = None) -> Project:
        """The project (its languages and workflow steps). Cached for the life of this hook: one task
        reads it several times (e.g. the workflow levels for each job lookup)."""
        cached = self._project_cache.get(project_uid)
        if cached is None:
            cached = self._get(
                Project, f"/api2/v1/projects/{path_segment(project_uid)}", retry_policy=retry_policy
            )
            self._project_cache[project_uid] = cached
        return cached

    def iter_projects(
        self,
        *,
        name: str | None = None,
        statuses: Iterable[str] | None = None,
        source_langs: Iterable[str] | None = None,
        target_langs: Iterable[str] | None = None,
        owner_id: str | None = None,
        created_in_last_hours: int | None = None,
        include_archived: bool | None = None,
        page_size: int = 50,
        retry_policy: RetryPolicy | None = None,
    ) -> Iterator[Project]:
        """Every project matching the filters, page by page (``GET /api2/v1/projects``, up to 50 a page).

        ``name`` matches part of the name; ``statuses`` (``NEW``, ``ASSIGNED``, ``COMPLETED``, ...),
        ``source_langs`` and ``target_langs`` match any of the values given; ``owner_id`` is the owner's
        numeric user id; ``created_in_last_hours`` keeps projects created within that many hours. Items
        are the list's subset of the project (see :meth:`get_project` for the whole of it).
        """
        page_number = 0
        while True:
            params = {
                "pageNumber": page_number,
                "pageSize": page_size,
                "name": name,
                "statuses": _enum_values(statuses),
                "sourceLangs": _enum_values(source_langs),
                "targetLangs": _enum_values(target_langs),
                "ownerId": owner_id,
                "createdInLastHours": created_in_last_hours,
                "includeArchived": include_archived,
            }
            page = self._get(ProjectsPage, "/api2/v1/projects", params=params, retry_policy=retry_policy)
            yield from page.content
            if _is_last_page(page_number, page.total_pages, len(page.content), page_size):
                return
            page_number += 1

    # ================================================================== composite verbs (ingestion)
    #
    # Built from the endpoint methods above; the operators, the sensor and the example DAGs use these and
    # never the endpoints behind them. Phrase is the record of what was already done.

    # ------------------------------------------------------------------ folders

    def list_folder_files(
        self, connector_id: str, folder: str, *, recursive: bool
    ) -> list[RemoteFileVersion]:
        """Every file in ``folder`` (a readable path, ``"/"`` for the root) of the connector, and below it if
        ``recursive``, sorted by path.

        One ``GET /api2/v1/connectors/{id}/folders[/{folder}]`` per folder level walked and per subfolder
        listed; only encoded names Phrase returned are used to descend.
        """
        base = split_path(folder)
        pending = [(base, self.browse_path(connector_id, display_path(base)))]
        files: list[RemoteFileVersion] = []
        while pending:
            parts, listing = pending.pop()
            encoded_folder = listing.encoded_current_folder or ("/" if not parts else display_path(parts))
            for entry in listing.files:
                leaf = entry.name.rstrip("/").rsplit("/", 1)[-1]
                if entry.directory:
                    if recursive:
                        pending.append(([*parts, leaf], self.list_folder(connector_id, entry.encoded_name)))
                    continue
                files.append(
                    RemoteFileVersion(
                        connector_id=str(connector_id),
                        encoded_folder=encoded_folder,
                        encoded_name=entry.encoded_name,
                        name=leaf,
                        folder_path=display_path(parts),
                        last_modified=as_utc(entry.last_modified),
                        size=entry.size,
                    )
                )
        return sorted(files, key=lambda f: (f.path.casefold(), f.path))

    # ------------------------------------------------------------------ jobs of a file, of a task

    def workflow_levels(self, project_uid: str) -> list[int | None]:
        """The project's workflow levels; ``[None]`` (Phrase's default level) for a project without steps.

        Reads the project (``GET /api2/v1/projects/{projectUid}``, cached for the life of the hook).
        """
        project = self.get_project(project_uid)
        levels = sorted(
            {step.workflow_level for step in project.workflow_steps if step.workflow_level is not None}
        )
        return list(levels) or [None]

    def iter_file_jobs(
        self,
        project_uid: str,
        filename: str,
        *,
        levels: Sequence[int | None] | None = None,
    ) -> Iterator[tuple[int | None, JobPartV2]]:
        """``(workflow level, job)`` for every job of the project whose file name is ``filename``.

        One ``GET /api2/v2/projects/{projectUid}/jobs?filename=…&workflowLevel=…`` per level (and page).
        The level of each job is the one its query asked for.
        """
        for level in self.workflow_levels(project_uid) if levels is None else levels:
            for job in self.iter_jobs(project_uid, filename=filename, workflow_level=level):
                if same_name(job.filename, filename):
                    yield level, job

    def find_version_jobs(
        self,
        project_uid: str,
        file: RemoteFileVersion,
        target_langs: Sequence[str],
        *,
        created_after: datetime | None,
        levels: Sequence[int | None] | None = None,
    ) -> list[JobSummary]:
        """The project's jobs of this version of ``file`` for whichever of ``target_langs`` have them.

        "This version": from the same remote file (``remoteFile`` encoded names, where Phrase reports
        them) and created at or after ``created_after`` (the version's lower bound: its ``lastModified``,
        or later when the pipeline knows the version appeared later). The newest job per language and
        level is returned, ordered by requested language then level. ``created_after=None``: ``[]`` (no
        way to tell a version's jobs apart). Calls: see :meth:`iter_file_jobs`.
        """
        bound = as_utc(created_after)
        if bound is None:
            log.info("No lastModified for %s: cannot tell whether this version was ingested", file.path)
            return []
        wanted = {normalise_language(lang) for lang in target_langs}
        newest: dict[tuple[str, int | None], tuple[datetime, JobSummary]] = {}
        for level, job in self.iter_file_jobs(project_uid, file.name, levels=levels):
            lang = normalise_language(job.target_lang or "")
            created = as_utc(job.date_created)
            if lang not in wanted or not same_remote_file(job, file) or created is None or created < bound:
                continue
            current = newest.get((lang, level))
            if current is None or created > current[0]:
                newest[(lang, level)] = (created, JobSummary.of_listed(job, level))
        return order_jobs(target_langs, [summary for _, summary in newest.values()])

    def find_jobs_of_task(
        self,
        project_uid: str,
        download_task_id: str,
        *,
        state: ConnectorTaskState | None = None,
        levels: Sequence[int | None] | None = None,
    ) -> list[JobSummary]:
        """The jobs already created from ``download_task_id`` in the project (``[]`` if none).

        ``state``: the task's state if the caller just read it, else it is read here (one
        ``connectorAsyncTasks`` listing). Then the project's jobs of the task's file name (see
        :meth:`iter_file_jobs`): those whose ``serverTaskId`` is the task, else those created together with
        the job the state links (``jobUid``).
        """
        task_id = str(download_task_id)
        if state is None:
            state = self.get_connector_task_state(project_uid, task_id)
        if state is None or not state.job_file_name:
            return []  # unknown task (Phrase says so when asked to create), or no name to search by
        candidates = list(self.iter_file_jobs(project_uid, state.job_file_name, levels=levels))
        by_task = [
            JobSummary.of_listed(job, level) for level, job in candidates if job.server_task_id == task_id
        ]
        if by_task:
            return by_task
        if not state.job_uid:
            return []
        anchor = next(((level, job) for level, job in candidates if job.uid == state.job_uid), None)
        if anchor is None:
            part = self.get_job(project_uid, state.job_uid)
            created = part.date_created
            siblings = [
                JobSummary.of_listed(job, level)
                for level, job in candidates
                if created is not None and job.date_created == created
            ]
            return siblings or [
                JobSummary(uid=part.uid, filename=part.filename, target_lang=part.target_lang, status=None)
            ]
        anchor_created = anchor[1].date_created
        return [
            JobSummary.of_listed(job, level)
            for level, job in candidates
            if job.date_created == anchor_created
        ] or [JobSummary.of_listed(anchor[1], anchor[0])]

    # ------------------------------------------------------------------ creating jobs exactly once

    def create_jobs_once(
        self,
        project_uid: str,
        download_task_id: str,
        request: JobCreateRequest,
        *,
        continuous: bool = False,
        look_first: bool = True,
        task_state: ConnectorTaskState | None = None,
        levels: Sequence[int | None] | None = None,
    ) -> JobsOutcome:
        """Create the jobs of ``download_task_id`` unless they exist; return the created or found jobs.

        ``POST /api2/v1/projects/{projectUid}/jobs/connectorTask?downloadTaskId=…`` (201).

        ``look_first``: look for jobs already created from the task before creating (an earlier try may
        have created them and died before recording it). Pass ``False`` only with a ``task_state`` the
        caller read a moment ago that links no job (``jobUid`` empty): the lookup would find nothing, and
        Phrase refuses a second create from a single-use task anyway.

        After the POST fails *ambiguously* (500/502/503/504, timeout, dropped connection) or is refused
        with a 4xx (the task may have been used by an earlier, lost, attempt), the jobs of the task are
        looked up: if Phrase did create them, they are returned. Otherwise an ambiguous failure is raised
        as it is (Airflow retries the task) and a refusal as ``AirflowFailException`` with Phrase's message.
        """
        task_id = str(download_task_id)
        if look_first and not (task_state is not None and not task_state.job_uid):
            existing = self.find_jobs_of_task(project_uid, task_id, state=task_state, levels=levels)
            if existing:
                log.info(
                    "Jobs %s were already created from download task %s in project %s; not creating again",
                    ", ".join(job.uid for job in existing),
                    task_id,
                    project_uid,
                )
                return JobsOutcome(
                    project_uid=project_uid, download_task_id=task_id, jobs=existing, created=False
                )
        try:
            created = self.create_job_from_connector_task(
                project_uid, task_id, request, continuous=continuous
            )
        except (PhraseApiError, PhraseConnectionError) as error:
            ambiguous = is_ambiguous_create_failure(error)
            rejected = is_refused_create(error)
            if ambiguous or rejected:
                log.warning(
                    "Creating jobs from download task %s failed (%s); checking whether Phrase created them",
                    task_id,
                    error,
                )
                existing = self.find_jobs_of_task(project_uid, task_id, levels=levels)
                if existing:
                    log.info("Phrase had created jobs %s; using them", ", ".join(job.uid for job in existing))
                    return JobsOutcome(
                        project_uid=project_uid, download_task_id=task_id, jobs=existing, created=False
                    )
            if rejected:
                assert isinstance(error, PhraseApiError)
                detail = (
                    f"{error.error_code}: {error.error_description}"
                    if error.error_code
                    else error.error_description
                )
                raise AirflowFailException(
                    f"Phrase refused to create jobs from download task {task_id} in project "
                    f"{project_uid} (HTTP {error.status}): {detail or 'no error message'}"
                ) from error
            raise
        outcome = JobsOutcome.of_created(project_uid, task_id, created)
        log.info(
            "Created jobs %s in project %s from download task %s",
            ", ".join(outcome.job_uids),
            project_uid,
            task_id,
        )
        return outcome

    # ------------------------------------------------------------------ waiting on the worker

    def wait_for_download(
        self,
        project_uid: str,
        download_task_id: str,
        *,
        created_after: datetime | None,
        poll_interval: float,
        deadline: float | None,
        wait_first: bool = False,
        claim: tuple[str, datetime | None] | None = None,
        abandon_after: timedelta = DEFAULT_ABANDON_AFTER,
    ) -> tuple[ConnectorTaskState, ClaimCheck]:
        """Poll the project's connector tasks (one ``connectorAsyncTasks`` listing per poll) until the
        download task finished and, with ``claim=(file name, version_after)``, no lower rival claim of the
        same file version is pending (see :mod:`airflow_phrase.hooks.claims`).

        ``created_after``: the download's ``dateCreated`` (the listing starts a little before it).
        Returns the task's final state and the claim check. Raises ``PhraseWaitTimeout`` at ``deadline``.
        """
        task_id = str(download_task_id)
        since = as_utc(created_after)
        since = since - CREATED_MARGIN if since is not None else None

        def look() -> tuple[ConnectorTaskState, ClaimCheck] | None:
            listed = {
                state.id: state
                for state in self.iter_connector_task_states(
                    project_uid, task_types=("DOWNLOAD",), processing_types=None, date_created_from=since
                )
            }
            own = listed.get(task_id)
            if own is None:
                return None
            if claim is None or not is_finished(own):
                return own, ClaimCheck()
            file_name, version_after = claim
            return own, check_claim(
                own,
                listed,
                file_name=file_name,
                version_after=version_after,
                now=datetime.now(timezone.utc),
                abandon_after=abandon_after,
            )

        def finished(result: tuple[ConnectorTaskState, ClaimCheck] | None) -> bool:
            return result is not None and is_finished(result[0]) and result[1].clear

        result = poll(
            look,
            done=finished,
            poll_interval=poll_interval,
            deadline=deadline,
            what=f"Phrase connector download task {task_id} (project {project_uid})",
            wait_first=wait_first,
        )
        assert result is not None  # done() guarantees it
        return result

    def wait_for_jobs_import(
        self,
        project_uid: str,
        job_uids: Sequence[str],
        *,
        jobs_label: str,
        poll_interval: float,
        deadline: float | None,
        wait_first: bool = False,
    ) -> None:
        """Poll the project's not-ready jobs (``GET /api2/v2/projects/{projectUid}/jobs?notReady=true``, one
        listing per poll for any number of jobs) until none of ``job_uids`` is still importing.

        Raises :class:`~airflow_phrase.exceptions.PhraseImportFailedError` when Phrase reports an import
        ``ERROR`` for any of them, ``PhraseWaitTimeout`` at ``deadline``.
        """
        uids = list(job_uids)

        def look() -> dict[str, JobPartV2]:
            return {job.uid: job for job in self.iter_jobs(project_uid, not_ready=True)}

        def finished(not_ready: dict[str, JobPartV2]) -> bool:
            return bool(failed_imports(uids, not_ready)) or not pending_imports(uids, not_ready)

        not_ready = poll(
            look,
            done=finished,
            poll_interval=poll_interval,
            deadline=deadline,
            what=f"the import of {jobs_label}",
            wait_first=wait_first,
        )
        failed = failed_imports(uids, not_ready)
        if failed:
            raise import_failed_error(jobs_label, failed)
