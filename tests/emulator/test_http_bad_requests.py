"""Requests the emulator cannot take get Phrase's JSON error body and the status that names the problem.

Sent as raw bytes over a socket: most of these never parse as HTTP, so no HTTP client would send them.
aiohttp alone answers them in plain text, quoting the offending bytes (which may be a header's value);
the emulator answers ``{"errorCode", "errorDescription"}`` without quoting anything.
"""

from __future__ import annotations

import json
import socket

import pytest

from airflow_phrase.emulator import EmulatorHandle
from tests.emulator.conftest import API_TOKEN, WEBSITE

SECRETISH = "Zz9-never-echo-this-value"
AUTH = f"Authorization: ApiToken {API_TOKEN}\r\n".encode()
CREATE = f"/web/api2/v1/projects/{WEBSITE}/jobs/connectorTask?downloadTaskId=1".encode()


def exchange(emu: EmulatorHandle, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` on a fresh connection and read until the server closes it (it closes after an error)."""
    with socket.create_connection((emu.host, emu.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def post_json(body: bytes) -> bytes:
    return (
        b"POST " + CREATE + b" HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


CASES = {
    "url-too-long": (b"GET /web/api2/v1/auth/whoAmI?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "20000-query-params": (
        b"GET /web/api2/v1/auth/whoAmI?"
        + b"&".join(b"p%d=1" % i for i in range(20_000))
        + b" HTTP/1.1\r\n\r\n",
        414,
    ),
    "header-too-long": (
        b"GET /web/api2/v1/auth/whoAmI HTTP/1.1\r\nHost: x\r\nAuthorization: ApiToken "
        + SECRETISH.encode() * 400
        + b"\r\n\r\n",
        431,
    ),
    "too-many-headers": (
        b"GET /web/api2/v1/auth/whoAmI HTTP/1.1\r\n"
        + b"".join(b"X-H%d: 1\r\n" % i for i in range(500))
        + b"\r\n",
        431,
    ),
    "unknown-method": (b"BREW /web/api2/v1/auth/whoAmI HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    "tls-on-the-http-port": (bytes.fromhex("16030100f4010000f00303") + bytes(64), 400),
    "malformed-content-length": (
        b"POST /web/api2/v3/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + SECRETISH.encode()
        + b"\r\n\r\n",
        400,
    ),
    "malformed-header": (
        b"GET /web/api2/v1/auth/whoAmI HTTP/1.1\r\nHost: x\r\nBad Header: "
        + SECRETISH.encode()
        + b"\r\n\r\n",
        400,
    ),
    "5000-digit-integer": (post_json(b'{"targetLangs": ["de"], "path": ' + b"9" * 5000 + b"}"), 400),
    "json-nested-100000-deep": (post_json(b"[" * 100_000 + b"]" * 100_000), 400),
}


@pytest.mark.parametrize(("data", "status"), list(CASES.values()), ids=list(CASES))
def test_a_bad_request_gets_phrases_json_error_and_the_right_status(
    emu: EmulatorHandle, data: bytes, status: int
) -> None:
    answered, headers, body = exchange(emu, data)

    assert answered == status
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)
    assert set(error) == {"errorCode", "errorDescription"}
    assert error["errorCode"] and error["errorDescription"]
    assert SECRETISH not in body.decode("latin-1")  # nothing of the request is quoted back


def test_json_the_decoder_refuses_creates_nothing(emu: EmulatorHandle) -> None:
    for name in ("5000-digit-integer", "json-nested-100000-deep"):
        exchange(emu, CASES[name][0])
    assert emu.state.snapshot()["jobs"] == []
    assert [entry.status for entry in emu.journal.entries()] == [400, 400]


def test_the_server_still_serves_after_bad_requests(emu: EmulatorHandle) -> None:
    for data, _ in CASES.values():
        exchange(emu, data)
    status, _, body = exchange(
        emu, b"GET /web/api2/v1/auth/whoAmI HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Connection: close\r\n\r\n"
    )
    assert status == 200 and json.loads(body)["user"]["userName"] == "demo"
