"""The access log of ``zitadel-mock serve``: its lines, and a writer that never blocks serving.

The lines are checked against the format as it was when each line was written by the serving
thread (``reference_line``, ``reference_json``); the writer in process, with a small queue;
then ``serve`` itself, its stderr a small pipe that the test reads late, or never.
"""

from __future__ import annotations

import io
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from testkit import SECOND_FACTORS, bearer

from zitadel_mock import MockServer, load_scenario
from zitadel_mock.cli import access_log
from zitadel_mock.cli.access_log import (
    QUEUE_LIMIT,
    AccessLog,
    access_json,
    access_line,
    dropped_json,
    dropped_line,
)
from zitadel_mock.faults import Injection
from zitadel_mock.journal import Call
from zitadel_mock.limits import printable

QUICKSTART = str(Path(__file__).parents[2] / "fixtures" / "quickstart.yaml")
ACCESS_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ \S+ \S+ \d{3} .*")
DROPPED = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\d+) access-log lines dropped: "
    r"stderr is not being read"
)
SMALL_PIPE = 4096  # a page: a few dozen lines fill it
REQUEST = (
    f"POST {SECOND_FACTORS} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer acme-admin-token\r\n"
    "Content-Length: 0\r\n\r\n"
).encode()


# -- the lines ------------------------------------------------------------------------------------


def reference_time(ns: int) -> str:
    seconds, nanos = divmod(ns, 10**9)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{nanos // 10**6:03d}Z"


def reference_line(call: Call) -> str:
    """The text line as the serving thread wrote it, before the writer thread."""
    fault = call.injected.fault if call.injected is not None else None
    forced = f" ({fault})" if fault else " (forced)" if call.forced else ""
    method, path = printable(call.method), printable(call.path)
    return (
        f"{reference_time(call.time_ns or time.time_ns())} {method} {path} {call.rpc or '-'} "
        f"{call.status}{forced} {call.protocol} {call.duration * 1000:.1f}ms "
        f"why: {printable(call.why)}"
    )


def reference_json(call: Call) -> str:
    fault = call.injected.fault if call.injected is not None else None
    return json.dumps(
        {
            "time": reference_time(call.time_ns or time.time_ns()),
            "method": call.method,
            "path": call.path,
            "rpc": call.rpc,
            "status": call.status,
            "forced": call.forced,
            "fault": fault,
            "protocol": call.protocol,
            "namespace": call.namespace,
            "duration": round(call.duration, 6),
            "why": call.why,
        },
        ensure_ascii=True,
    )


def call(**fields: Any) -> Call:
    base: dict[str, Any] = {
        "rpc": "ListLoginPolicySecondFactors",
        "method": "POST",
        "path": SECOND_FACTORS,
        "user_id": None,
        "org_id": "259242039378444290",
        "token": "acme-admin-token",
        "status": 200,
        "body": b"{}",
        "why": "answered: 2 second factors of ACME's login policy",
        "time_ns": 1_764_757_485_677_123_456,
        "duration": 0.000_312_5,
    }
    return Call(**{**base, **fields})


CALLS = [
    call(),
    call(time_ns=1_764_757_485_000_000_000, duration=0.0),  # .000, 0.0ms
    call(time_ns=1_764_757_485_999_999_999, duration=0.000_049_99),  # .999, rounding
    call(time_ns=1, duration=12.5),  # 1970, and a long forced delay
    call(rpc=None, method="GET", path="/nope", status=404, why="no route takes GET"),
    call(status=503, forced=True, why="forced rule 0 (POST /_mock/errors): UNAVAILABLE"),
    call(
        status=0,
        forced=True,
        injected=Injection(rule=1, fault="connection_reset"),
        why="forced rule 1: connection_reset",
    ),
    call(status=200, injected=Injection(delay=0.25), duration=0.251_234_567),  # latency only
    call(path="/x\n2099-01-01 00:00:00,000 POST /_mock/reset - 200\n\x1b[31m", status=404),
    call(path="/y\r\x00\x7f\x85\u2028\u2029\\x0a/é", why="why \n with a newline and é"),
    call(rpc=None, path="/_mock/journal", protocol="control", namespace="ns-1", why="control API"),
    call(path="/" + "p" * 5000, why="w" * 3000),  # too long to be remembered
    call(duration=1e-7),  # json: 0.0
    call(duration=0.000_001),  # json: 1e-06
]


@pytest.mark.parametrize("index", range(len(CALLS)))
def test_the_text_line_is_the_same_as_before(index: int) -> None:
    one = CALLS[index]
    assert access_line(one) == reference_line(one)
    assert access_line(one) == reference_line(one)  # again, as remembered


@pytest.mark.parametrize("index", range(len(CALLS)))
def test_the_json_line_is_the_same_as_before(index: int) -> None:
    one = CALLS[index]
    assert access_json(one) == reference_json(one)
    assert access_json(one) == reference_json(one)
    assert json.loads(access_json(one))["path"] == one.path


def test_a_call_without_a_time_is_logged_at_the_time_of_formatting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_764_757_485_677_000_000)
    assert access_line(call(time_ns=0)).startswith("2025-12-03T10:24:45.677Z POST ")
    assert json.loads(access_json(call(time_ns=0)))["time"] == "2025-12-03T10:24:45.677Z"


def test_what_lines_share_is_remembered_within_bounds() -> None:
    for number in range(access_log._MEMO_SIZE * 3):
        access_line(call(path=f"/p/{number}"))
        access_json(call(path=f"/p/{number}"))
    assert 0 < len(access_log._text_memo) <= access_log._MEMO_SIZE
    assert 0 < len(access_log._json_memo) <= access_log._MEMO_SIZE
    long = call(path="/" + "p" * access_log._MEMO_TEXT)
    access_line(long)
    access_json(long)
    remembered = [*access_log._text_memo, *access_log._json_memo]
    assert not any(key[1] == long.path for key in remembered)


def test_the_dropped_line_says_how_many() -> None:
    assert DROPPED.fullmatch(dropped_line(12)).group(1) == "12"  # type: ignore[union-attr]
    said = json.loads(dropped_json(12))
    assert (said["dropped"], said["message"]) == (
        12,
        "12 access-log lines dropped: stderr is not being read",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", said["time"])


# -- the writer, in process ---------------------------------------------------------------------


def small_pipe() -> tuple[int, int]:
    read, write = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, SMALL_PIPE)
    except (ImportError, AttributeError, OSError):  # not Linux: the default size, larger
        pass
    return read, write


class Reader:
    """Reads a descriptor to its end in a thread, from when ``start`` is called."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Reader:
        self.thread.start()
        return self

    def _run(self) -> None:
        while chunk := os.read(self.fd, 65536):
            self.data += chunk

    def text(self) -> str:
        return bytes(self.data).decode("utf-8")

    def wait_for(self, pattern: re.Pattern[str], seconds: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = pattern.search(self.text())
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{pattern.pattern!r} not read in {seconds} s: {self.text()[-500:]}")


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(load_scenario(QUICKSTART)) as mock:
        yield mock


def test_requests_are_answered_while_the_stream_is_full_and_drops_are_counted(
    server: MockServer,
) -> None:
    read, write = small_pipe()
    stream = os.fdopen(write, "w", encoding="utf-8")
    log = AccessLog(stream, limit=50, interval=0.01).start()
    server.state.observers.append(log.observe)
    try:
        with requests.Session() as session:
            for _ in range(300):
                answer = session.post(
                    server.url + SECOND_FACTORS, headers=bearer("acme-admin-token"), timeout=30
                )
                assert answer.status_code == 200
        assert log.dropped > 0  # nothing read yet: the pipe and the queue are full
        reader = Reader(read).start()
        dropped = int(reader.wait_for(DROPPED).group(1))
        assert log.close()
    finally:
        server.state.observers.remove(log.observe)
        stream.close()
    reader.thread.join(30)
    os.close(read)
    lines = reader.text().splitlines()
    logged = [line for line in lines if ACCESS_LINE.fullmatch(line)]
    assert len(logged) + dropped == 300, lines
    assert len(lines) == len(logged) + 1
    # The lines queued before the drops come first, then the line that counts the drops.
    assert DROPPED.fullmatch(lines[-1]) or DROPPED.fullmatch(lines[len(logged)])


def test_close_writes_what_is_queued() -> None:
    out = io.StringIO()  # no descriptor: written through the stream
    log = AccessLog(out, interval=3600).start()  # no batch before close
    for number in range(5):
        log.observe(call(path=f"/p/{number}"))
    assert out.getvalue() == ""
    assert log.close()
    assert out.getvalue().splitlines() == [access_line(call(path=f"/p/{n}")) for n in range(5)]


def test_json_lines_and_their_dropped_line() -> None:
    out = io.StringIO()
    log = AccessLog(out, json_lines=True, limit=2, interval=3600).start()
    for number in range(5):
        log.observe(call(path=f"/p/{number}"))
    assert log.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line.get("path") for line in lines] == ["/p/0", "/p/1", None]
    assert lines[-1]["dropped"] == 3


def test_a_stream_whose_reader_is_gone_is_given_up(server: MockServer) -> None:
    read, write = small_pipe()
    os.close(read)  # writes now fail with EPIPE (Python ignores SIGPIPE)
    stream = os.fdopen(write, "w", encoding="utf-8")
    log = AccessLog(stream, interval=0.01).start()
    server.state.observers.append(log.observe)
    try:
        with requests.Session() as session:
            for _ in range(50):
                answer = session.post(server.url + SECOND_FACTORS, timeout=30)
                assert answer.status_code == 401
        assert log.close()
    finally:
        server.state.observers.remove(log.observe)
        stream.close()


# -- serve -----------------------------------------------------------------------------------


def serve(*options: str) -> tuple[subprocess.Popen[bytes], int]:
    """``serve`` with its stderr a small pipe that nobody reads yet; its port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "zitadel_mock", "serve", "-s", QUICKSTART, "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        import fcntl

        fcntl.fcntl(proc.stderr.fileno(), fcntl.F_SETPIPE_SZ, SMALL_PIPE)
    except (ImportError, AttributeError, OSError):
        pass
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.select(60)
    line = proc.stdout.readline().decode()
    match = re.fullmatch(r"Serving on http://127\.0\.0\.1:(\d+)\n", line)
    if not match:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"serve did not start: {line!r}")
    return proc, int(match.group(1))


def pipelined(port: int, count: int) -> None:
    """Send ``count`` requests on one connection at once; return when all are answered 200."""
    mark = b"HTTP/1.1 200 OK\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sender = threading.Thread(target=sock.sendall, args=(REQUEST * count,), daemon=True)
        sender.start()
        answered, tail = 0, b""
        while answered < count:
            chunk = sock.recv(1 << 16)  # a server blocked by its log times out here
            assert chunk, f"closed after {answered} answers"
            data = tail + chunk
            answered += data.count(mark)
            tail = data[-(len(mark) - 1) :]
        sender.join(30)


def access_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if ACCESS_LINE.fullmatch(line)]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def test_serve_answers_while_nobody_reads_its_stderr_and_counts_the_lines_dropped(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    proc, port = serve()
    processes.append(proc)
    sent = QUEUE_LIMIT + 2000  # more than the queue and the pipe hold
    pipelined(port, sent)
    assert proc.stderr is not None
    reader = Reader(proc.stderr.fileno()).start()  # the parent reads, at last
    reader.wait_for(DROPPED)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    reader.thread.join(30)
    text = reader.text()
    dropped = sum(int(found.group(1)) for found in DROPPED.finditer(text))
    assert dropped > 0
    assert len(access_lines(text)) + dropped == sent
    assert "Traceback" not in text


def test_serve_writes_the_lines_queued_on_sigterm(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    proc, port = serve()
    processes.append(proc)
    pipelined(port, 300)  # more lines than the pipe holds: the rest wait in the queue
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)  # read from now on: the writer goes on
    assert proc.returncode == 0, err
    assert len(access_lines(err.decode())) == 300
    assert "dropped" not in err.decode()


def test_serve_exits_on_sigterm_even_if_its_stderr_is_never_read(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    proc, port = serve("--log-format", "json")
    processes.append(proc)
    pipelined(port, 300)
    proc.send_signal(signal.SIGTERM)
    # The last lines get about a second; then serve exits, its writer still blocked.
    assert proc.wait(timeout=60) == 0
    assert proc.stderr is not None
    written = proc.stderr.read().decode()
    # What the pipe held: whole lines, then the start of the line the writer was blocked in.
    lines = [json.loads(line) for line in written[: written.rindex("\n")].splitlines()]
    assert 0 < len(lines) < 300
    assert all(line["status"] == 200 for line in lines)
