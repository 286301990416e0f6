"""Body limits per route, as the README documents them: the control API takes up to 64 MiB and
answers a larger body in its own ``{"error"}`` form; the ZITADEL routes (and every other path)
keep ``--max-body-size`` (1 MiB) and ZITADEL's envelope. A body is read only up to its route's
limit: a ``Content-Length`` over it is refused before a byte of the body is read.

Before, every path had the 1 MiB limit: a 1.46 MB ``PUT /_mock/scenario`` was refused in
ZITADEL's envelope.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
from pathlib import Path

import pytest
import requests

from zitadel_mock import MockServer, load_scenario
from zitadel_mock.cli.main import build_parser
from zitadel_mock.cli.serve import build_server
from zitadel_mock.control.http import MAX_BODY

QUICKSTART = Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml"
SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"
AUTH = {"Authorization": "Bearer acme-admin-token"}


def serve(*options: str) -> MockServer:
    argv = ["serve", "-s", str(QUICKSTART), "--port", "0", *options]
    return build_server(build_parser().parse_args(argv), load_scenario(str(QUICKSTART)))


def big_scenario() -> bytes:
    """The quick start, padded with comments to 1.46 MB: a valid scenario over 1 MiB."""
    text = QUICKSTART.read_bytes()
    padding = b"# " + b"x" * 98 + b"\n"
    return text + padding * ((1_460_000 - len(text)) // len(padding) + 1)


def raw(mock: MockServer, head: bytes) -> bytes:
    """Send a request head (no body) and read until the server closes."""
    with socket.create_connection((mock.host, mock.port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    return data


def test_a_scenario_over_a_mebibyte_is_taken_by_the_control_api() -> None:
    body = big_scenario()
    assert 1_460_000 <= len(body) < 1_470_000
    with serve() as mock:
        answer = requests.put(
            mock.url + "/_mock/scenario", data=body, headers={"Content-Type": "application/yaml"}
        )
        assert answer.status_code == 200, answer.text[:300]
        # The same body to a ZITADEL route: over its limit, refused in ZITADEL's envelope.
        refused = requests.post(mock.url + SECOND_FACTORS, data=body, headers=AUTH)
        assert refused.status_code == 413
        assert refused.json() == {
            "code": 8,
            "message": "request body too large: the limit is 1048576 bytes",
        }
        assert mock.state.journal.calls() == []


@pytest.mark.parametrize("path", ["/_mock/scenario", "/_mock", "/_mock/nowhere"])
def test_a_control_body_over_64_mib_is_refused_in_its_form_before_it_is_read(path: str) -> None:
    assert MAX_BODY == 64 << 20
    with serve() as mock:
        head = b"PUT %s HTTP/1.1\r\nHost: mock\r\nContent-Length: %d\r\n\r\n" % (
            path.encode(),
            MAX_BODY + 1,
        )
        answer = raw(mock, head)  # no body byte sent: the answer comes, then the close
        status, _, rest = answer.partition(b"\r\n")
        headers, _, body = rest.partition(b"\r\n\r\n")
        assert status == b"HTTP/1.1 413 Request Entity Too Large"
        assert b"Content-Type: application/json" in headers.split(b"\r\n")
        assert b"Connection: close" in headers.split(b"\r\n")
        assert json.loads(body) == {"error": f"the body is larger than {MAX_BODY} bytes"}


def test_control_paths_take_the_zitadel_limit_when_the_control_api_is_off() -> None:
    with serve("--no-control") as mock:
        answer = requests.put(mock.url + "/_mock/scenario", data=big_scenario())
        assert answer.status_code == 413
        assert answer.json() == {
            "code": 8,
            "message": "request body too large: the limit is 1048576 bytes",
        }


def test_a_control_body_is_read_up_to_its_limit_and_no_further(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("zitadel_mock.control.http.MAX_BODY", 4096)  # read when the server starts
    with serve() as mock:
        at_limit = requests.put(mock.url + "/_mock/scenario", data=b"#" * 4096)
        assert at_limit.status_code == 422  # read, and found to be no scenario
        over = requests.put(mock.url + "/_mock/scenario", data=b"#" * 4097)
        assert over.status_code == 413
        assert over.json() == {"error": "the body is larger than 4096 bytes"}
        sock = socket.create_connection((mock.host, mock.port), timeout=10)
        with sock:
            sock.sendall(
                b"PUT /_mock/scenario HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"400\r\n" + b"#" * 0x400 + b"\r\n"
            sent = 0
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                # An endless body, until the server answers (or stops reading it).
                while sent < 64 << 20 and not select.select([sock], [], [], 0)[0]:
                    sock.sendall(chunk)
                    sent += len(chunk)
            data = b""
            with contextlib.suppress(ConnectionResetError):
                while part := sock.recv(65536):
                    data += part
    assert sent < 16 << 20, "the server read far past the control API's limit"
    assert data.startswith(b"HTTP/1.1 413 ")
    assert json.loads(data.partition(b"\r\n\r\n")[2]) == {
        "error": "the body is larger than 4096 bytes"
    }
