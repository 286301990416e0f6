"""The response head the mock's task builds is waitress's own, byte for byte, on every branch."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest
from waitress.task import Task

from zitadel_mock._waitress import head as head_module
from zitadel_mock._waitress.head import (
    _SPELLED,
    MAX_SPELLED,
    MAX_TEMPLATES,
    build_response_header,
    spelled,
)

HEADER_SETS: list[list[tuple[str, str]]] = [
    [],
    [("content-type", "application/json")],
    [("Content-Length", "5"), ("x-robots-tag", "none")],
    [("content-length", "5")],
    [("date", "Thu, 01 Jan 1970 00:00:00 GMT"), ("server", "zitadel")],
    [("x-a", "1"), ("X-A", "2"), ("x-b-c", "3"), ("x-a", "4")],  # same names keep their order
    [("connection", "close"), ("grpc-metadata-x-request-id", "d4v0")],
    [("WWW-AUTHENTICATE", 'Bearer realm="x"'), ("cache-CONTROL", "no-store")],
    [("x--odd-", "1"), ("-", "2"), ("ümlaut", "3")],
    [("Content-Length", "5"), ("x-100%", "a%sb"), ("x-%s", "%")],  # % in names and values
    [("content-length", "5"), ("CONTENT-LENGTH", "")],  # the last one counts: empty
    [("Content-Length", "5"), ("date", "Thu, 01 Jan 1970 00:00:00 GMT")],
    [("Content-Length", "5"), ("SERVER", "zitadel"), ("x-b", "2"), ("x-a", "1")],
]


class Mock(Task):
    """Waitress's task, its head built by the mock's function."""

    build_response_header = build_response_header


def _task(
    cls: type[Any],
    version: str,
    connection: str | None,
    status: str,
    content_length: int | None,
    headers: list[tuple[str, str]],
    ident: str,
) -> Any:
    request = SimpleNamespace(
        version=version, headers={} if connection is None else {"CONNECTION": connection}
    )
    channel = SimpleNamespace(server=SimpleNamespace(adj=SimpleNamespace(ident=ident)))
    task = cls(channel, request)
    task.status = status
    task.content_length = content_length
    task.response_headers = list(headers)
    task.start_time = 1_756_377_982.25
    return task


CASES = list(
    itertools.product(
        ["1.0", "1.1"],
        [None, "", "keep-alive", "Keep-Alive", "close", "Upgrade"],
        ["200 OK", "204 No Content", "304 Not Modified", "101 Switching Protocols", "404 Nope"],
        [None, 0, 5],
        range(len(HEADER_SETS)),
        ["waitress", ""],
    )
)


def test_the_head_and_the_task_state_are_waitress_s_on_every_branch() -> None:
    assert len(CASES) == 4680
    for version, connection, status, length, which, ident in CASES:
        args = (version, connection, status, length, HEADER_SETS[which], ident)
        theirs, ours = _task(Task, *args), _task(Mock, *args)
        expected = theirs.build_response_header()
        assert ours.build_response_header() == expected, args
        for name in ("response_headers", "close_on_finish", "chunked_response"):
            assert getattr(ours, name) == getattr(theirs, name), (name, args)
        # A second answer, its names remembered by now, is built the same.
        assert _task(Mock, *args).build_response_header() == expected, args


def test_a_version_waitress_does_not_speak_is_refused_alike() -> None:
    args: tuple[Any, ...] = ("1.1", None, "200 OK", 5, [], "waitress")
    theirs, ours = _task(Task, *args), _task(Mock, *args)
    theirs.version = ours.version = "2.0"
    with pytest.raises(AssertionError, match=r"neither HTTP/1\.0 or HTTP/1\.1"):
        theirs.build_response_header()
    with pytest.raises(AssertionError, match=r"neither HTTP/1\.0 or HTTP/1\.1"):
        ours.build_response_header()


def test_spelling_is_waitress_s_and_the_remembered_names_are_bounded() -> None:
    assert spelled("grpc-metadata-x-request-id") == "Grpc-Metadata-X-Request-Id"
    assert spelled("WWW-AUTHENTICATE") == "Www-Authenticate"
    for number in range(MAX_SPELLED + 50):
        assert spelled(f"x-name-{number}") == f"X-Name-{number}"
    assert len(_SPELLED) <= MAX_SPELLED


def test_the_common_answer_is_made_from_a_template_that_is_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(head_module, "_TEMPLATES", {})  # other tests' lists: not here
    # The comparison above covers the template's path only if it is taken.
    headers = [("Content-Type", "application/json"), ("Content-Length", "5")]
    args = ("1.1", None, "200 OK", None, headers, "waitress")
    theirs, ours = _task(Task, *args), _task(Mock, *args)
    assert ours.build_response_header() == theirs.build_response_header()
    assert ours.response_headers == theirs.response_headers
    template = head_module._TEMPLATES[("Content-Type", "Content-Length")]
    assert template is not None
    assert template.text == (
        "HTTP/1.1 %s\r\nContent-Length: %s\r\nContent-Type: %s\r\nDate: %s\r\nServer: %s\r\n\r\n"
    )
    no_length = [("date", "Thu, 01 Jan 1970 00:00:00 GMT"), ("server", "zitadel")]
    _task(Mock, "1.1", None, "200 OK", None, no_length, "waitress").build_response_header()
    assert head_module._TEMPLATES[("date", "server")] is None  # no Content-Length


def test_the_date_is_waitress_s_for_every_second_formatted_once_each() -> None:
    args = ("1.1", None, "200 OK", None, [("Content-Length", "0")], "waitress")
    # Forwards, within a second, back again, across midnight, before 1970.
    for when in (
        1_756_377_982.0,
        1_756_377_982.999,
        1_756_377_983.5,
        1_756_377_982.1,
        86_399.9,
        86_400.0,
        0.0,
        -0.5,
        -1.0,
    ):
        theirs, ours = _task(Task, *args), _task(Mock, *args)
        theirs.start_time = ours.start_time = when
        assert ours.build_response_header() == theirs.build_response_header(), when


def test_a_name_that_cannot_be_hashed_fails_as_in_waitress() -> None:
    args = ("1.1", None, "200 OK", None, [(["x-a"], "1"), ("content-length", "1")], "w")
    theirs, ours = _task(Task, *args), _task(Mock, *args)
    with pytest.raises(AttributeError, match="'list' object has no attribute 'split'"):
        theirs.build_response_header()
    with pytest.raises(AttributeError, match="'list' object has no attribute 'split'"):
        ours.build_response_header()


def test_the_remembered_templates_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(head_module, "_TEMPLATES", {})
    for number in range(MAX_TEMPLATES + 20):
        args = ("1.1", None, "200 OK", None, [(f"x-{number}", "1"), ("content-length", "1")], "w")
        theirs, ours = _task(Task, *args), _task(Mock, *args)
        assert ours.build_response_header() == theirs.build_response_header()
    assert len(head_module._TEMPLATES) == MAX_TEMPLATES
