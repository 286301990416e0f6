"""The mock's WSGI task runs an application exactly as waitress's own does, errors included."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.task import WSGITask

from zitadel_mock._waitress import execute as execute_module
from zitadel_mock._waitress.execute import MAX_CHECKED, execute

MOCK_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("X-Robots-Tag", "none"),
    ("Expires", "Thu, 03 Dec 2026 15:00:00 GMT"),
    ("X-Request-Id", "d4v0abcdefghijklmnop"),
    ("Grpc-Metadata-X-Request-Id", "d4v0abcdefghijklmnoq"),
    ("Content-Length", "5"),
]


def _headers_list() -> Iterator[Any]:  # a generator: waitress reads it twice
    yield ("Content-Type", "text/plain")
    yield ("Content-Length", "5")


HEADER_CASES: list[Any] = [
    [],
    MOCK_HEADERS,
    [("content-length", "5")],
    [("content-length", "5"), ("CONTENT-LENGTH", "3")],
    [("Content-Length", "five")],  # int() refuses it, as waitress's loop does
    [("Content-Length", "5"), ("Content-Length", "x"), ("X-A", "b\n")],
    [("X-A", "1"), ("Content-Length", "7"), ("X-B", "a\rb")],  # the length is set, then refused
    [("Connection", "close")],  # hop-by-hop
    [("x-a", "1"), ("Transfer-Encoding", "chunked")],
    [("Upgrade", "h2c"), ("X-A", "\n")],  # the first error wins
    [(b"X-A", "1")],
    [("X-A", 1)],
    [("X-A", None), ("Content-Length", "5")],
    [("X-A\n", "1")],
    [("X-A\r", "1"), ("Content-Length", "5")],
    [("X-A", "a\nb")],
    [("X-A", "1", "2")],
    [("X-A",)],
    ["ab"],  # a string of two characters unpacks into a name and a value
    [["X-A", "1"], ["Content-Length", "5"]],  # lists, not tuples
    (("X-A", "1"), ("Content-Length", "5")),  # a tuple of pairs: not a list
    [("X-A", "1"), 5],
    [(["X-A"], "1")],  # a name that cannot be hashed
    [("Content-Length", "5"), ({"X-A": 1}, "1"), ("X-B", "\n")],
    _headers_list,
    [("Content-Length", "5"), ("x-%s", "100%")],
    [("Content-Length", "")],
]

STATUSES: list[Any] = ["200 OK", "204 No Content", b"200 OK", "200 OK\r\nX: y"]


def _body(kind: str) -> Callable[[], Any]:
    bodies: dict[str, Callable[[], Any]] = {
        "one": lambda: [b"hello"],
        "none": lambda: [],
        "short": lambda: [b"hel"],  # fewer bytes than its Content-Length
        "long": lambda: [b"hello, world"],
        "chunks": lambda: iter([b"", b"he", b"llo"]),
        "closing": lambda: Closing([b"hello"]),
        "file": lambda: ReadOnlyFileBasedBuffer(io.BytesIO(b"hello")),
        "empty-file": lambda: ReadOnlyFileBasedBuffer(io.BytesIO(b"")),
    }
    return bodies[kind]


class Closing(list[bytes]):
    closed = 0

    def close(self) -> None:
        Closing.closed += 1


class Logger:
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def warning(self, *args: Any) -> None:
        self.seen.append(args)


class Channel:
    def __init__(self, app: Any) -> None:
        self.server = SimpleNamespace(application=app, adj=SimpleNamespace(ident="waitress"))
        self.written: list[Any] = []

    def write_soon(self, data: Any) -> None:
        self.written.append(bytes(data) if isinstance(data, bytes) else type(data).__name__)


class Theirs(WSGITask):
    def get_environment(self) -> dict[str, Any]:
        return {}


class Ours(Theirs):
    execute = execute


STATE = (
    "status",
    "response_headers",
    "content_length",
    "complete",
    "close_on_finish",
    "content_bytes_written",
    "wrote_header",
    "chunked_response",
)


def _run(cls: type[Any], app: Any, command: str = "POST") -> tuple[Any, ...]:
    channel = Channel(app)
    task = cls(channel, SimpleNamespace(version="1.1", headers={}, command=command))
    task.start_time = 1_756_377_982.25
    task.logger = Logger()
    try:
        task.execute()
        error: Any = None
    except Exception as exc:
        error = (type(exc), str(exc))
    state = tuple(getattr(task, name) for name in STATE)
    return error, state, channel.written, task.logger.seen


def _app(status: Any, headers: Any, body: Callable[[], Any]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response(status, headers() if callable(headers) else list(headers))
        return body()

    return app


def test_every_call_is_answered_refused_and_left_as_waitress_does() -> None:
    compared = 0
    for status in STATUSES:
        for headers in HEADER_CASES:
            for body in ("one", "none", "short", "long", "chunks", "closing", "file"):
                app = _app(status, headers, _body(body))
                expected = _run(Theirs, app)
                # Twice: the first time checks the names, the second finds them checked.
                assert _run(Ours, app) == expected, (status, headers, body)
                assert _run(Ours, app) == expected, (status, headers, body)
                compared += 1
    assert compared == len(STATUSES) * len(HEADER_CASES) * 7 == 756


def test_the_header_checks_fail_for_the_reasons_waitress_gives() -> None:
    # The comparison above is only worth something if its cases reach waitress's errors.
    errors = {_run(Ours, _app("200 OK", h, _body("one")))[0] for h in HEADER_CASES}
    messages = " | ".join(sorted(message for _, message in filter(None, errors)))
    assert "is not a string" in messages
    assert "hop-by-hop" in messages
    assert "character present in header value" in messages
    assert "character present in header name" in messages
    assert "invalid literal for int()" in messages
    assert "too many values to unpack" in messages


def test_a_head_request_a_second_start_and_a_late_error_go_as_waitress_s() -> None:
    app = _app("200 OK", MOCK_HEADERS, _body("short"))
    assert _run(Ours, app, "HEAD") == _run(Theirs, app, "HEAD")

    def twice(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        start_response("500 Oops", [("X-A", "1")])
        return []

    assert _run(Ours, twice) == _run(Theirs, twice)

    def replaced(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("X-A", "1")])
        try:
            raise RuntimeError("late")
        except RuntimeError as exc:
            start_response("500 Oops", list(MOCK_HEADERS), (type(exc), exc, None))
        return [b"hello"]

    assert _run(Ours, replaced) == _run(Theirs, replaced)

    def after_writing(environ: dict[str, Any], start_response: Any) -> Any:
        write = start_response("200 OK", [("Content-Length", "5")])
        write(b"he")
        try:
            raise RuntimeError("too late")
        except RuntimeError as exc:
            start_response("500 Oops", [], (type(exc), exc, None))
        return []

    assert _run(Ours, after_writing) == _run(Theirs, after_writing)
    assert _run(Ours, after_writing)[0] == (RuntimeError, "too late")


def test_an_answer_without_a_content_length_and_an_empty_file() -> None:
    for body in ("one", "chunks", "empty-file", "file"):
        app = _app("200 OK", [("Content-Type", "text/plain")], _body(body))
        assert _run(Ours, app) == _run(Theirs, app), body


def test_closing_iterables_are_closed_once_either_way() -> None:
    app = _app("200 OK", MOCK_HEADERS, _body("closing"))
    before = Closing.closed
    _run(Theirs, app)
    _run(Ours, app)
    assert Closing.closed == before + 2


def test_the_checked_name_lists_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute_module, "_CHECKED", {})
    for number in range(MAX_CHECKED + 20):
        app = _app("200 OK", [(f"X-Name-{number}", "1"), ("Content-Length", "5")], _body("one"))
        assert _run(Ours, app) == _run(Theirs, app)
    assert len(execute_module._CHECKED) == MAX_CHECKED
    # Past the bound, each list is still checked, by waitress's loop.
    app = _app("200 OK", [("Connection", "close")], _body("one"))
    assert _run(Ours, app)[0] == _run(Theirs, app)[0] is not None
