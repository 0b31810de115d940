"""The layers every request under ``/web`` passes through, outermost first.

journal → faults → error rendering → rate limit → auth → route handler. Faults sit outside error
rendering so an ``afterHandler`` fault can replace any response, errors included; the rate limit sits
before auth, as a gateway's would.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import http_exceptions, web

from airflow_phrase.emulator.faults import Fault
from airflow_phrase.emulator.handlers import LOGIN_PATH, PREFIX
from airflow_phrase.emulator.journal import mask_query
from airflow_phrase.emulator.services import SERVICES, USER_KEY
from airflow_phrase.emulator.state.errors import PhraseError, unauthorized
from airflow_phrase.models import ErrorBody

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FAULT_KEY = web.RequestKey("phrase_emulator_fault", str)
DROPPED_KEY = web.RequestKey("phrase_emulator_dropped", bool)

KNOWN_SCHEMES = ("ApiToken", "Bearer", "Basic", "Token")

ERROR_CODES = {
    400: "BadRequest",
    401: "AuthUnauthorized",
    403: "AuthAccessDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    413: "PayloadTooLarge",
    414: "UriTooLong",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    431: "RequestHeaderFieldsTooLarge",
    500: "InternalError",
    501: "NotImplemented",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def sub_path(request: web.Request) -> str | None:
    """The path under ``/web`` (``/api2/v1/...``), or ``None`` for a request outside it."""
    path = request.path
    if path == PREFIX:
        return "/"
    if path.startswith(PREFIX + "/"):
        return path[len(PREFIX) :]
    return None


def error_response(
    status: int, error_code: str, description: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = ErrorBody(error_code=error_code, error_description=description).to_wire()
    return web.json_response(body, status=status, headers=headers)


def malformed_request_response(status: int, exc: BaseException | None) -> web.Response:
    """The JSON answer to a request aiohttp's HTTP parser refused (or a failure outside the middlewares).

    aiohttp answers these with a plain-text 400 that quotes the offending bytes (a header line may be an
    ``Authorization`` value); Phrase's clients expect ``{"errorCode", "errorDescription"}`` and the
    status that names the problem: 414 for a request line (URL) over the limit, 431 for a header over it
    or too many headers, 501 for a method HTTP does not define, 400 for the rest (TLS bytes on the HTTP
    port, a malformed header or length). The description never quotes the request.
    """
    status, description = _describe_malformed(status, exc)
    return error_response(status, ERROR_CODES.get(status, "Error"), description)


def _describe_malformed(status: int, exc: BaseException | None) -> tuple[int, str]:
    if status >= 500 or not isinstance(exc, http_exceptions.HttpProcessingError):
        if status == 500:
            return 500, "Internal error of the emulator (see its log)."
        return status, _reason(status)
    if isinstance(exc, http_exceptions.LineTooLong):
        line = exc.args[0] if exc.args else b""
        # The URL is read into a bytearray and starts with "/" (or a scheme); header lines are bytes.
        if isinstance(line, bytearray) or bytes(line).lstrip().startswith((b"/", b"http:", b"https:")):
            return 414, "The request line (method and URL) is longer than the server accepts."
        return 431, "A request header is longer than the server accepts."
    if "Too many headers" in exc.message:
        return 431, "The request has more headers than the server accepts."
    if isinstance(exc, http_exceptions.BadHttpMethod):
        if "HTTPS" in exc.message:
            return 400, "Received TLS (HTTPS) traffic on a plain HTTP port; use http://, not https://."
        return 501, "The request method is not an HTTP method this server implements."
    if isinstance(exc, http_exceptions.InvalidHeader):
        return 400, "A request header is malformed."
    if isinstance(exc, http_exceptions.PayloadEncodingError):
        return 400, "The request body's length or transfer encoding is malformed."
    return 400, "The request is not valid HTTP/1.1."


def _split_authorization(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "").strip()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if not scheme or not token:
        return None
    return scheme, token


def auth_scheme_label(request: web.Request) -> str | None:
    """The auth scheme for the journal: a known scheme name, ``"invalid"``, or ``None`` (never a token)."""
    if "Authorization" not in request.headers:
        return None
    parts = _split_authorization(request)
    if parts is None:
        return "invalid"
    known = {s.lower(): s for s in KNOWN_SCHEMES}
    return known.get(parts[0].lower(), "invalid")


@web.middleware
async def journal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = sub_path(request)
    if path is None:
        return await handler(request)
    services = request.app[SERVICES]
    started = time.perf_counter()
    status: int | None = 500
    try:
        response = await handler(request)
        status = None if request.get(DROPPED_KEY) else response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        services.journal.record(
            time=services.state.now(),
            method=request.method,
            path=path,
            query=mask_query(list(request.query.items())),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            fault=request.get(FAULT_KEY),
            user_agent=request.headers.get("User-Agent"),
            auth_scheme=auth_scheme_label(request),
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _fault_response(fault: Fault) -> web.Response:
    assert fault.status is not None
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    if fault.html:
        reason = _reason(fault.status)
        page = (
            f"<html><head><title>{fault.status} {reason}</title></head><body><center><h1>{fault.status} "
            f"{reason}</h1></center><hr><center>nginx</center></body></html>\n"
        )
        return web.Response(status=fault.status, text=page, content_type="text/html", headers=headers)
    return error_response(
        fault.status, ERROR_CODES.get(fault.status, "Error"), f"Injected fault: HTTP {fault.status}.", headers
    )


def _drop(request: web.Request) -> web.Response:
    request[DROPPED_KEY] = True
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)  # never reaches the client: the connection is gone


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = sub_path(request)
    fault = None if path is None else request.app[SERVICES].faults.pick(request.method, path)
    if fault is None:
        return await handler(request)
    request[FAULT_KEY] = fault.describe()
    response = await handler(request) if fault.after_handler else None
    if fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)
    if fault.drop:
        return _drop(request)
    if fault.status is not None:
        return _fault_response(fault)
    return response if response is not None else await handler(request)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as Phrase's ``{"errorCode", "errorDescription"}`` body."""
    try:
        return await handler(request)
    except PhraseError as exc:
        return error_response(exc.status, exc.error_code, exc.description)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        description = {
            404: f"No such resource: {request.method} {request.path}",
            405: f"Method {request.method} is not allowed for {request.path}",
        }.get(exc.status, exc.reason)
        return error_response(
            exc.status,
            ERROR_CODES.get(exc.status, "Error"),
            description,
            headers={"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None,
        )
    except Exception:
        # The route template, not the path: an admin path may hold a token.
        route = request.match_info.route.resource
        log.exception(
            "Phrase TMS emulator: unexpected error in %s %s",
            request.method,
            route.canonical if route is not None else "<no route>",
        )
        return error_response(500, "InternalError", "Internal error of the emulator (see its log).")


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if sub_path(request) is None:
        return await handler(request)
    services = request.app[SERVICES]
    config = services.state.config
    parts = _split_authorization(request)
    identity = parts[1] if parts else f"anonymous:{request.remote}"
    key = hashlib.sha256(identity.encode()).hexdigest()
    admitted, wait = services.rate_limiter.admit(key, config.rate_limit_per_minute)
    if admitted:
        return await handler(request)
    headers = {"Retry-After": str(wait)} if config.rate_limit_retry_after else None
    description = f"Too many requests: the limit is {config.rate_limit_per_minute} per minute."
    return error_response(429, "TooManyRequests", description, headers)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = sub_path(request)
    if path is None or path == LOGIN_PATH:
        return await handler(request)
    parts = _split_authorization(request)
    if parts is None:
        raise unauthorized(
            "Missing or malformed Authorization header; send 'ApiToken <token>' or 'Bearer <token>'."
        )
    request[USER_KEY] = request.app[SERVICES].state.authenticate(*parts)
    return await handler(request)
