"""Request smuggling: a request that carries both ``Content-Length`` and ``Transfer-Encoding``
(or a ``Transfer-Encoding`` in HTTP/1.0) is refused with 400 in ZITADEL's envelope and the
connection closed (RFC 9112, section 6.1), so that nothing hidden in its body is answered.

Before, chunked won and a second request hidden in the body was answered: a proxy in front that
framed by ``Content-Length`` would have passed it on as part of the first one's body.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from zitadel_mock import MockServer, load_scenario
from zitadel_mock.cli.main import build_parser
from zitadel_mock.cli.serve import build_server

QUICKSTART = str(Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml")
SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"
HIDDEN = (
    f"POST {SECOND_FACTORS} HTTP/1.1\r\nHost: mock\r\n"
    "Authorization: Bearer acme-admin-token\r\nContent-Length: 0\r\n\r\n"
).encode()
STATUS_LINE = re.compile(rb"HTTP/1\.[01] \d{3} ")
CHUNKED_BODY = b"0\r\n\r\n" + HIDDEN  # chunked: an empty body, then the hidden request


@pytest.fixture(scope="module", params=[0, 2], ids=["inline", "pool"])
def server(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    argv = ["serve", "-s", QUICKSTART, "--port", "0", "--threads", str(request.param)]
    with build_server(build_parser().parse_args(argv), load_scenario(QUICKSTART)) as mock:
        yield mock


def exchange(mock: MockServer, data: bytes) -> bytes:
    """Send ``data`` at once, then read until the server closes (or 5 s pass with no byte)."""
    with socket.create_connection((mock.host, mock.port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    return received


def head(version: str, *headers: str) -> bytes:
    lines = [f"POST {SECOND_FACTORS} HTTP/{version}", "Host: mock", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


CASES = {
    "CL then TE": head("1.1", f"Content-Length: {len(CHUNKED_BODY)}", "Transfer-Encoding: chunked")
    + CHUNKED_BODY,
    "TE then CL": head("1.1", "Transfer-Encoding: chunked", f"Content-Length: {len(CHUNKED_BODY)}")
    + CHUNKED_BODY,
    "CL 0, TE": head("1.1", "Content-Length: 0", "Transfer-Encoding: chunked") + CHUNKED_BODY,
    "TE list with CL": head(
        "1.1", "Transfer-Encoding: chunked, chunked", f"Content-Length: {len(CHUNKED_BODY)}"
    )
    + CHUNKED_BODY,
    "HTTP/1.0 with both": head(
        "1.0", "Transfer-Encoding: chunked", f"Content-Length: {len(CHUNKED_BODY)}"
    )
    + CHUNKED_BODY,
    # HTTP/1.0 knows no Transfer-Encoding: waitress read no body, so the chunked body's hidden
    # request came next on the connection.
    "HTTP/1.0 with TE": head("1.0", "Connection: keep-alive", "Transfer-Encoding: chunked")
    + CHUNKED_BODY,
}
DETAIL = {
    "HTTP/1.0 with TE": "Transfer-Encoding in an HTTP/1.0 request",
}


@pytest.mark.parametrize("case", list(CASES))
def test_both_framings_are_refused_and_nothing_hidden_is_answered(
    server: MockServer, case: str
) -> None:
    server.state.reset()
    received = exchange(server, CASES[case])
    assert len(STATUS_LINE.findall(received)) == 1, received  # nothing hidden was answered
    status, _, rest = received.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status == b"HTTP/1.1 400 Bad Request" or status == b"HTTP/1.0 400 Bad Request"
    lines = headers.split(b"\r\n")
    assert [line for line in lines if line.startswith(b"Connection:")] == [b"Connection: close"]
    assert b"Content-Type: application/json" in lines
    message = DETAIL.get(case, "Content-Length and Transfer-Encoding together")
    assert json.loads(body) == {"code": 3, "message": f"malformed request: {message}"}
    assert server.state.journal.calls() == []  # neither request reached the app


def test_chunked_alone_still_works(server: MockServer) -> None:
    server.state.reset()
    request = head("1.1", "Authorization: Bearer acme-admin-token", "Transfer-Encoding: chunked")
    received = exchange(
        server,
        request
        + b"2\r\n{}\r\n0\r\n\r\n"
        + HIDDEN.replace(b"Content-Length: 0", b"Connection: close\r\nContent-Length: 0"),
    )
    assert (
        STATUS_LINE.findall(received) == [b"HTTP/1.1 200 "] * 2
    )  # two requests in a row, framed one way
    assert len(server.state.journal.calls()) == 2
