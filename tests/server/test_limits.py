"""Limits under waitress, over raw sockets: oversized bodies and headers, malformed requests and
slow clients get ZITADEL's envelope or are waited for, and never take the server down."""

from __future__ import annotations

import http.client
import json
import select
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from testkit import SECOND_FACTORS, check_answer

from zitadel_mock import MockServer, State, load_scenario, parse_scenario
from zitadel_mock.cli.main import build_parser, main
from zitadel_mock.cli.serve import build_server
from zitadel_mock.limits import DEFAULT_MAX_BODY_SIZE, limit_answer, waitress_limits

SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22.123456789Z"
orgs:
  - name: ACME
    users: [{username: alice, auth_factors: [otp]}]
"""
QUICKSTART = str(Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml")
LIMIT = 10_000  # the body limit of the module's servers
POLICY = b"POST " + SECOND_FACTORS.encode() + b" HTTP/1.1\r\nHost: mock\r\n"


@pytest.fixture(scope="module", params=[0, 2], ids=["inline", "pool"])
def server(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    state = State(parse_scenario(SCENARIO))
    limits = waitress_limits(max_body_size=LIMIT)
    with MockServer(state, threads=request.param, **limits) as mock:
        yield mock


def connect(server: MockServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=5)


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after the answer ends it too)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:  # the server closed with unread input: the answer came first
        pass
    return data


def read_one(sock: socket.socket) -> bytes:
    """One answer with a Content-Length, on a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    length = int(parse(data)[1]["Content-Length"])
    while len(data.partition(b"\r\n\r\n")[2]) < length:
        data += sock.recv(65536)
    return data


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def envelope(raw: bytes, status: int, code: int) -> str:
    """Check a limit's answer: the status, ZITADEL's headers and envelope; return the message."""
    got, headers, body = parse(raw)
    assert got == status, raw[:300]
    check_answer("POST", SECOND_FACTORS, got, headers, body)
    assert headers["Connection"] == "close"
    assert headers["Content-Length"] == str(len(body))
    answer = json.loads(body)
    assert answer["code"] == code
    assert set(answer) == {"code", "message"}
    return str(answer["message"])


def send_until_answered(sock: socket.socket, more: Callable[[int], bytes], cap: int) -> int:
    """Send ``more(sent)`` until the server answers or closes, or ``cap`` bytes; return ``sent``."""
    sent = 0
    while sent < cap and not select.select([sock], [], [], 0)[0]:
        data = more(sent)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            break  # closed after the answer: what follows was never read
        sent += len(data)
    return sent


def healthy(server: MockServer) -> None:
    answer = requests.post(server.url + SECOND_FACTORS, headers={"Authorization": "Bearer x"})
    with answer:
        assert answer.status_code == 200
        assert answer.json()["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]


def test_a_huge_content_length_is_refused_before_any_body_byte(server: MockServer) -> None:
    server.state.reset()
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(POLICY + b"Authorization: Bearer x\r\nContent-Length: 1000000000000\r\n\r\n")
        raw = read_to_end(sock)  # no body sent: the answer comes, then the connection closes
        elapsed = time.monotonic() - started
    message = envelope(raw, 413, 8)
    assert message == "request body too large: the limit is 10000 bytes"
    assert elapsed < 1
    assert len(server.state.journal) == 0  # refused by the server: the app never saw it
    healthy(server)


def test_a_body_at_the_limit_is_served_and_one_byte_more_is_refused(server: MockServer) -> None:
    url, auth = server.url + SECOND_FACTORS, {"Authorization": "Bearer x"}
    with requests.post(url, data=b"{" + b" " * (LIMIT - 2) + b"}", headers=auth) as answer:
        assert answer.status_code == 200
    with requests.post(url, data=b"x" * (LIMIT + 1), headers=auth) as answer:
        assert answer.status_code == 413
        assert answer.json() == {
            "code": 8,
            "message": "request body too large: the limit is 10000 bytes",
        }


def test_a_chunked_body_is_cut_off_at_the_limit(server: MockServer) -> None:
    chunk = b"1000\r\n" + b"x" * 0x1000 + b"\r\n"  # 4 KiB chunks, without end
    with connect(server) as sock:
        sock.sendall(POLICY + b"Transfer-Encoding: chunked\r\n\r\n")
        sent = send_until_answered(sock, lambda i: chunk, cap=64 << 20)
        raw = read_to_end(sock)
    assert sent < 64 << 20, "the server kept reading an endless body"
    assert envelope(raw, 413, 8) == "request body too large: the limit is 10000 bytes"
    healthy(server)


def test_oversized_headers_get_the_envelope(server: MockServer) -> None:
    with connect(server) as sock:
        sock.sendall(POLICY)
        line = b"X-Filler: " + b"a" * 4000 + b"\r\n"
        sent = send_until_answered(sock, lambda i: line, cap=64 << 20)
        raw = read_to_end(sock)
    assert sent < 64 << 20
    message = envelope(raw, 431, 8)
    assert message == "request header fields too large: the limit is 262144 bytes"
    healthy(server)


@pytest.mark.parametrize(
    ("request_bytes", "detail"),
    [
        (b"NONSENSE\r\n\r\n", "Start line is invalid"),
        (POLICY + b"Bad Header Line\r\n\r\n", "Invalid header"),
        (POLICY + b"Content-Length: ten\r\n\r\n", "Content-Length is invalid"),
        (POLICY + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", "Invalid chunk size"),
    ],
)
def test_a_malformed_request_is_a_400_invalid_argument(
    server: MockServer, request_bytes: bytes, detail: str
) -> None:
    with connect(server) as sock:
        sock.sendall(request_bytes)
        raw = read_to_end(sock)
    message = envelope(raw, 400, 3)
    assert message.startswith("malformed request: ")
    assert detail in message


def test_an_unsupported_transfer_encoding_is_a_501_unimplemented(server: MockServer) -> None:
    with connect(server) as sock:
        sock.sendall(POLICY + b"Transfer-Encoding: gzip\r\n\r\n")
        raw = read_to_end(sock)
    assert envelope(raw, 501, 12).startswith("not implemented: ")


def test_limit_answers_carry_the_apps_headers(server: MockServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: mock\r\n\r\n")
        _, app_headers, _ = parse(read_one(sock))  # the app's own 404, kept alive
        sock.sendall(POLICY + b"Content-Length: 20000\r\n\r\n")
        _, headers, _ = parse(read_to_end(sock))
    # The request ids belong to answers of ZITADEL's routes; waitress's refusals have none.
    request_ids = {"X-Request-Id", "Grpc-Metadata-X-Request-Id"}
    assert request_ids <= set(app_headers)
    assert set(headers) == (set(app_headers) - request_ids) | {"Connection"}
    assert headers["Expires"] == app_headers["Expires"] == "Thu, 28 Aug 2025 10:46:22 GMT"


def test_slow_clients_do_not_hold_up_the_others(server: MockServer) -> None:
    """Slowloris: five clients send their request a byte every 100 ms while another is served."""
    server.state.reset()
    request = POLICY + b"Authorization: Bearer x\r\n\r\n"
    slow = [connect(server) for _ in range(5)]
    latencies: list[float] = []
    fast = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        for position in range(len(request)):
            for sock in slow:
                sock.sendall(request[position : position + 1])
            deadline = time.monotonic() + 0.1
            while time.monotonic() < deadline:  # a keep-alive client, served meanwhile
                started = time.monotonic()
                fast.request("POST", SECOND_FACTORS, headers={"Authorization": "Bearer y"})
                answer = fast.getresponse()
                answer.read()
                latencies.append(time.monotonic() - started)
                assert answer.status == 200
            if position == 20:  # about two seconds in: enough; the rest all at once
                for sock in slow:
                    sock.sendall(request[position + 1 :])
                break
        for sock in slow:
            raw = read_one(sock)
            assert parse(raw)[0] == 200, raw[:200]
    finally:
        fast.close()
        for sock in slow:
            sock.close()
    assert len(latencies) > 100
    assert max(latencies) < 1  # ~1 ms each; generous for a busy machine
    assert len(server.state.journal) == len(latencies) + len(slow)
    healthy(server)


def test_the_default_limit_is_one_mebibyte() -> None:
    assert DEFAULT_MAX_BODY_SIZE == 1 << 20
    with MockServer(State(parse_scenario(SCENARIO))) as mock:
        url, auth = mock.url + SECOND_FACTORS, {"Authorization": "Bearer x"}
        with requests.post(url, data=b"x" * DEFAULT_MAX_BODY_SIZE, headers=auth) as answer:
            assert answer.status_code == 200
        with connect(mock) as sock:
            sock.sendall(POLICY + b"Content-Length: %d\r\n\r\n" % (DEFAULT_MAX_BODY_SIZE + 1))
            message = envelope(read_to_end(sock), 413, 8)
    assert message == "request body too large: the limit is 1048576 bytes"


class _Adj:
    max_request_body_size = 101
    max_request_header_size = 51


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 3, "malformed request: Invalid header"),
        (413, 8, "request body too large: the limit is 100 bytes"),
        (431, 8, "request header fields too large: the limit is 50 bytes"),
        (500, 13, "An internal error occurred"),
        (501, 12, "not implemented: Invalid header"),
        (502, 2, "An internal error occurred"),
    ],
)
def test_each_status_has_its_code(status: int, code: int, message: str) -> None:
    got, body = limit_answer(status, "Invalid header", _Adj())
    assert got == code
    assert json.loads(body) == {"code": code, "message": message}


def test_serve_takes_the_body_limit() -> None:
    argv = ["serve", "-s", QUICKSTART, "--port", "0", "--max-body-size", "100"]
    with build_server(build_parser().parse_args(argv), load_scenario(QUICKSTART)) as mock:
        url, auth = mock.url + SECOND_FACTORS, {"Authorization": "Bearer acme-admin-token"}
        with requests.post(url, data=b"x" * 100, headers=auth) as answer:
            assert answer.status_code == 200
        with requests.post(url, data=b"x" * 101, headers=auth) as answer:
            assert answer.status_code == 413
            assert answer.json()["message"] == "request body too large: the limit is 100 bytes"
    default = build_parser().parse_args(["serve", "-s", QUICKSTART])
    assert default.max_body_size == DEFAULT_MAX_BODY_SIZE


@pytest.mark.parametrize(
    ("value", "message"),
    [("ten", "'ten' is not a number of bytes"), ("-1", "-1 is not a number of bytes (0 or more)")],
)
def test_a_bad_body_limit_is_one_line(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "-s", QUICKSTART, f"--max-body-size={value}"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(f"--max-body-size: {message}\n")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--header-timeout", "soon", "'soon' is not a number of seconds"),
        ("--header-timeout", "0", "0 is not a number of seconds above 0"),
        ("--header-timeout", "inf", "inf is not a number of seconds above 0"),
        ("--connection-limit", "0", "0 is not a positive number"),
    ],
)
def test_a_bad_slow_client_option_is_one_line(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "-s", QUICKSTART, f"{option}={value}"], serve=lambda args, out: 0)
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(f"{option}: {message}\n")


def test_serve_takes_the_slow_client_options() -> None:
    argv = ["serve", "-s", QUICKSTART, "--header-timeout", "2.5", "--connection-limit", "300"]
    with build_server(
        build_parser().parse_args([*argv, "--port", "0"]), load_scenario(QUICKSTART)
    ) as mock:
        assert mock.header_timeout == 2.5
        assert mock._server.adj.connection_limit == 300
        assert mock._server.adj.asyncore_use_poll  # select stops at descriptor 1024
    default = build_parser().parse_args(["serve", "-s", QUICKSTART])
    assert (default.header_timeout, default.connection_limit) == (10.0, 1000)


class _Resource:
    """A stand-in for the ``resource`` module: the descriptor limits, and what was set."""

    RLIMIT_NOFILE = 7
    RLIM_INFINITY = -1

    def __init__(self, soft: int, hard: int, settable: bool) -> None:
        self.limits = (soft, hard)
        self.settable = settable

    def getrlimit(self, which: int) -> tuple[int, int]:
        assert which == self.RLIMIT_NOFILE
        return self.limits

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        if not self.settable:
            raise ValueError("not allowed")
        self.limits = limits


@pytest.mark.parametrize(
    ("soft", "hard", "settable", "use_poll", "limit", "soft_after"),
    [
        (20000, 20000, True, True, 1000, 20000),  # room enough: nothing changes
        (1024, 65536, True, True, 1000, 2128),  # raised to twice the need
        (1024, 1500, True, True, 1000, 1500),  # raised up to the hard limit
        (1024, 1024, True, True, 960, 1024),  # the hard limit is too low: fewer connections
        (256, -1, False, True, 192, 256),  # cannot be raised (macOS): fewer connections
        (20000, 20000, True, False, 500, 20000),  # select (no poll) takes ~512 sockets
    ],
)
def test_the_connection_limit_fits_the_open_file_limit(
    monkeypatch: pytest.MonkeyPatch,
    soft: int,
    hard: int,
    settable: bool,
    use_poll: bool,
    limit: int,
    soft_after: int,
) -> None:
    from zitadel_mock.limits import fd_bounded_connection_limit

    fake = _Resource(soft, hard, settable)
    monkeypatch.setitem(sys.modules, "resource", fake)
    assert fd_bounded_connection_limit(1000, use_poll) == limit
    assert fake.limits == (soft_after, hard)
