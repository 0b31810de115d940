"""One HTTP attempt against Phrase TMS, over requests (sync) or aiohttp (async).

This module knows nothing about retries or authentication. It sends one request and either returns
the response (:class:`HttpResult`, any 2xx) or raises one of two failures that tell the retry policy
exactly what happened:

* :class:`HttpStatusFailure`: the server answered with a non-2xx status. Carries Phrase's
  ``errorCode`` / ``errorDescription`` (HTML and empty bodies tolerated) and the parsed ``Retry-After``.
* :class:`TransportFailure`: no usable answer. ``kind`` distinguishes a connection that could not be
  *established* (the request certainly was not processed) from a timeout or a connection dropped after
  the request was sent (the server may have processed it); the distinction decides whether a
  non-idempotent request may be repeated.

Messages never contain request headers, so never a token.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any
from urllib.parse import quote

import aiohttp
import requests
import urllib3.exceptions
import yarl

from airflow_phrase.classification import FailureClass
from airflow_phrase.exceptions import (
    PhraseConfigurationError,
    PhraseConnectionError,
    PhraseResponseLostError,
    PhraseTlsError,
    phrase_api_error,
)
from airflow_phrase.hooks.failures import FailureKind, HttpStatusFailure, TransportFailure

#: Size of the chunks a streamed download is written in.
DOWNLOAD_CHUNK_SIZE = 1024 * 1024
_MAX_ERROR_SNIPPET = 200


def to_phrase_error(failure: HttpStatusFailure | TransportFailure, *, attempts: int) -> Exception:
    """The public exception for the last failure of a request that is not retried (any more)."""
    if isinstance(failure, HttpStatusFailure):
        return phrase_api_error(
            status=failure.status,
            method=failure.method,
            path=failure.path,
            error_code=failure.error_code,
            error_description=failure.error_description,
            attempts=attempts,
        )
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    what = f"{failure.kind.value} ({failure.detail})"
    message = f"Phrase TMS API {failure.method} {failure.path} failed{tried}: {what}"
    if failure.failure_class is FailureClass.AMBIGUOUS:
        return PhraseResponseLostError(message + "; Phrase may have processed the request")
    if failure.failure_class is FailureClass.REJECTED:
        return PhraseTlsError(message + "; check the connection's Base URL (scheme, host) and certificates")
    return PhraseConnectionError(message)


def _header_problem(value: str) -> str | None:
    if value != value.strip():
        return "leading or trailing whitespace"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "a line break or control character"
    if any(ord(char) > 0xFF for char in value):
        return "a character outside Latin-1"
    return None


def check_header_values(headers: Mapping[str, str | bytes], call: HttpCall) -> None:
    """Refuse, before sending, a header value HTTP does not allow. requests and aiohttp quote the whole
    value in their errors (an ``Authorization`` value is the token), so the problem is reported here,
    naming the header only."""
    for name, value in headers.items():
        problem = _header_problem(value.decode("latin-1") if isinstance(value, bytes) else value)
        if problem is not None:
            raise PhraseConfigurationError(
                f"Not sending {call.method} {call.path}: the {name} header would contain {problem} "
                "(value not shown). Check the Phrase TMS connection: no line break or space inside the "
                "Password / token, the Login or extra 'contact'."
            )


def _scrubbed(exc: BaseException, call: HttpCall) -> PhraseConnectionError:
    """An unexpected error of the HTTP library, without its message (which may quote request headers)."""
    return PhraseConnectionError(
        f"Phrase TMS API {call.method} {call.path} failed in the HTTP client: {type(exc).__name__} "
        "(details not shown: they may quote request headers)"
    )


@dataclass(frozen=True)
class HttpCall:
    """What to send. ``path`` is the part under the base URL and is what messages and logs show."""

    method: str
    base_url: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    #: Not in the repr: the login body carries the password.
    json_body: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + self.path


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def path_segment(value: str) -> str:
    """Percent-encode one path segment (ids, uids, Phrase's encoded names) so it cannot add a ``/``."""
    return quote(str(value), safe="")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        utc = value.astimezone(timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def encode_query(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as pairs: ``None`` dropped, sequences repeated (``taskType=A&taskType=B``),
    booleans lower-case, datetimes as ISO 8601 UTC (Phrase's request form)."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            pairs.extend((key, _query_value(item)) for item in value)
        else:
            pairs.append((key, _query_value(value)))
    return pairs


def parse_error_body(
    body: bytes, content_type: str | None, reason: str | None
) -> tuple[str | None, str | None]:
    """Phrase's ``errorCode`` / ``errorDescription``; for HTML, empty or other bodies a short description."""
    text = body.decode("utf-8", errors="replace").strip() if body else ""
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and ("errorCode" in payload or "errorDescription" in payload):
            code = payload.get("errorCode")
            description = payload.get("errorDescription")
            return (
                str(code) if code is not None else None,
                str(description) if description is not None else None,
            )
    if not text:
        return None, reason or "empty response body"
    if "html" in (content_type or "").lower() or text[:15].lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, flags=re.IGNORECASE | re.DOTALL)
        label = title.group(1).strip() if title else (reason or "")
        return None, f"{label} (HTML error page)".strip()
    snippet = " ".join(text.split())
    if len(snippet) > _MAX_ERROR_SNIPPET:
        snippet = snippet[:_MAX_ERROR_SNIPPET] + "..."
    return None, snippet


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (args, ``reason``, ``__cause__``, ``__context__``)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested: list[Any] = [
            *current.args,
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
        ]
        pending.extend(item for item in nested if isinstance(item, BaseException))


def _detail(exc: BaseException) -> str:
    innermost = exc
    for cause in _causes(exc):
        if isinstance(cause, OSError) and not isinstance(cause, requests.RequestException):
            innermost = cause
    text = str(innermost)
    if len(text) > _MAX_ERROR_SNIPPET:
        text = text[:_MAX_ERROR_SNIPPET] + "..."
    return f"{type(innermost).__name__}: {text}" if text else type(innermost).__name__


def _classify_requests_error(exc: requests.RequestException) -> FailureKind | None:
    if isinstance(exc, requests.exceptions.SSLError):
        return FailureKind.TLS
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return FailureKind.CONNECT
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return FailureKind.TIMEOUT
    if isinstance(exc, requests.exceptions.ConnectionError):
        connect = any(
            isinstance(cause, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))
            for cause in _causes(exc)
        )
        return FailureKind.CONNECT if connect else FailureKind.DROPPED
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return FailureKind.DROPPED
    return None


def _reraise_requests_error(exc: requests.RequestException, call: HttpCall) -> Exception:
    kind = _classify_requests_error(exc)
    if kind is None:
        return _scrubbed(exc, call)
    return TransportFailure(kind=kind, method=call.method, path=call.path, detail=_detail(exc))


def send_sync(
    session: requests.Session,
    call: HttpCall,
    *,
    headers: Mapping[str, str],
    timeout: float,
    write_to: Callable[[Iterator[bytes]], None] | None = None,
) -> HttpResult:
    """Send one request with ``requests``. With ``write_to``, a 2xx body is streamed into it in chunks
    (and ``HttpResult.body`` is empty); read errors while streaming count as a dropped connection."""
    check_header_values({**session.headers, **headers}, call)
    try:
        response = session.request(
            call.method,
            call.url,
            params=call.params or None,
            json=call.json_body,
            headers=dict(headers),
            timeout=(timeout, timeout),
            stream=True,
        )
    except requests.RequestException as exc:
        raise _reraise_requests_error(exc, call) from None
    except (ValueError, UnicodeError) as exc:  # http.client's own header checks
        raise _scrubbed(exc, call) from None
    with response:
        try:
            if not 200 <= response.status_code < 300:
                body = response.content
                code, description = parse_error_body(
                    body, response.headers.get("Content-Type"), response.reason
                )
                raise HttpStatusFailure(
                    status=response.status_code,
                    method=call.method,
                    path=call.path,
                    error_code=code,
                    error_description=description,
                    retry_after_raw=response.headers.get("Retry-After"),
                )
            if write_to is not None:
                write_to(response.iter_content(chunk_size=DOWNLOAD_CHUNK_SIZE))
                return HttpResult(status=response.status_code, headers=dict(response.headers), body=b"")
            return HttpResult(
                status=response.status_code, headers=dict(response.headers), body=response.content
            )
        except requests.RequestException as exc:
            raise _reraise_requests_error(exc, call) from None


def _classify_aiohttp_error(exc: BaseException) -> FailureKind | None:
    if isinstance(exc, aiohttp.ClientSSLError):
        return FailureKind.TLS
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return FailureKind.CONNECT
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return FailureKind.TIMEOUT
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        return FailureKind.DROPPED
    return None


async def send_async(
    session: aiohttp.ClientSession,
    call: HttpCall,
    *,
    headers: Mapping[str, str],
    timeout: float,
) -> HttpResult:
    """Send one request with ``aiohttp`` and read the whole body."""
    client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
    check_header_values({**session.headers, **headers}, call)
    try:
        async with session.request(
            call.method,
            yarl.URL(call.url, encoded=True),
            params=call.params or None,
            json=call.json_body,
            headers=dict(headers),
            timeout=client_timeout,
        ) as response:
            body = await response.read()
            if not 200 <= response.status < 300:
                code, description = parse_error_body(
                    body, response.headers.get("Content-Type"), response.reason
                )
                raise HttpStatusFailure(
                    status=response.status,
                    method=call.method,
                    path=call.path,
                    error_code=code,
                    error_description=description,
                    retry_after_raw=response.headers.get("Retry-After"),
                )
            return HttpResult(status=response.status, headers=dict(response.headers), body=body)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        kind = _classify_aiohttp_error(exc)
        if kind is None:
            raise _scrubbed(exc, call) from None
        raise TransportFailure(kind=kind, method=call.method, path=call.path, detail=_detail(exc)) from None
    except (ValueError, UnicodeError) as exc:  # aiohttp's own header checks
        raise _scrubbed(exc, call) from None
