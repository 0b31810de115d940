"""One HTTP attempt: error bodies, query encoding, and how socket failures are classified."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import datetime, timezone

import aiohttp
import pytest
import requests

from airflow_phrase.exceptions import PhraseApiError, PhraseConnectionError
from airflow_phrase.hooks.transport import (
    FailureKind,
    HttpCall,
    HttpStatusFailure,
    PhraseResponseLostError,
    TransportFailure,
    encode_query,
    parse_error_body,
    path_segment,
    send_async,
    send_sync,
    to_phrase_error,
)


class TestErrorBody:
    def test_phrase_json(self) -> None:
        body = b'{"errorCode":"JobCreateError","errorDescription":"targetLangs must match project"}'
        assert parse_error_body(body, "application/json", "Bad Request") == (
            "JobCreateError",
            "targetLangs must match project",
        )

    def test_html_gateway_page(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        code, description = parse_error_body(body, "text/html", "Bad Gateway")
        assert code is None and description == "502 Bad Gateway (HTML error page)"

    def test_empty_body_uses_reason(self) -> None:
        assert parse_error_body(b"", None, "Service Unavailable") == (None, "Service Unavailable")

    def test_other_json_and_long_text_are_shortened(self) -> None:
        code, description = parse_error_body(b"x" * 1000, "text/plain", "Error")
        assert code is None and description is not None and len(description) < 260


class TestQuery:
    def test_lists_repeat_bools_lower_none_dropped_datetimes_utc(self) -> None:
        when = datetime(2026, 11, 28, 10, 0, 5, 123000, tzinfo=timezone.utc)
        assert encode_query(
            {"taskType": ["DOWNLOAD", "UPLOAD"], "continuous": False, "x": None, "from": when, "n": 3}
        ) == [
            ("taskType", "DOWNLOAD"),
            ("taskType", "UPLOAD"),
            ("continuous", "false"),
            ("from", "2026-11-28T10:00:05.123Z"),
            ("n", "3"),
        ]

    def test_path_segment_cannot_add_slashes(self) -> None:
        assert path_segment("a/b c") == "a%2Fb%20c"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestSocketFailures:
    def test_refused_connection_is_a_connect_failure_sync(self) -> None:
        call = HttpCall(method="POST", base_url=f"http://127.0.0.1:{closed_port()}/web", path="/api2/x")
        with requests.Session() as session, pytest.raises(TransportFailure) as err:
            send_sync(session, call, headers={"Authorization": "ApiToken hidden-token"}, timeout=5)
        assert err.value.kind is FailureKind.CONNECT
        assert "hidden-token" not in str(err.value)

    async def test_refused_connection_is_a_connect_failure_async(self) -> None:
        call = HttpCall(method="GET", base_url=f"http://127.0.0.1:{closed_port()}/web", path="/api2/x")
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TransportFailure) as err:
                await send_async(session, call, headers={"Authorization": "ApiToken hidden-token"}, timeout=5)
        assert err.value.kind is FailureKind.CONNECT
        assert "hidden-token" not in str(err.value)

    async def test_silent_server_is_a_read_timeout(self) -> None:
        # A server that accepts the connection and never answers: the request was sent, outcome unknown.
        accepted = asyncio.Event()
        connections: list[asyncio.StreamWriter] = []

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(writer)
            accepted.set()
            await reader.read(-1)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        call = HttpCall(method="GET", base_url=f"http://127.0.0.1:{port}/web", path="/api2/x")
        try:
            async with aiohttp.ClientSession() as session:
                with pytest.raises(TransportFailure) as err:
                    await send_async(session, call, headers={}, timeout=0.3)
        finally:
            for writer in connections:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
            server.close()
            await server.wait_closed()
        assert accepted.is_set()
        assert err.value.kind is FailureKind.TIMEOUT


class TestPublicErrors:
    def test_status_failure_becomes_api_error_with_attempts(self) -> None:
        failure = HttpStatusFailure(
            status=503,
            method="GET",
            path="/api2/v1/x",
            error_code="ServiceUnavailable",
            error_description="down",
            retry_after_raw="3",
        )
        error = to_phrase_error(failure, attempts=4)
        assert isinstance(error, PhraseApiError)
        assert (error.status, error.attempts, error.error_code) == (503, 4, "ServiceUnavailable")
        assert "after 4 attempts" in str(error)

    def test_lost_response_is_flagged(self) -> None:
        dropped = TransportFailure(kind=FailureKind.DROPPED, method="POST", path="/p", detail="reset")
        refused = TransportFailure(kind=FailureKind.CONNECT, method="POST", path="/p", detail="refused")
        assert isinstance(to_phrase_error(dropped, attempts=1), PhraseResponseLostError)
        error = to_phrase_error(refused, attempts=3)
        assert isinstance(error, PhraseConnectionError) and not isinstance(error, PhraseResponseLostError)
        assert "after 3 attempts" in str(error)
