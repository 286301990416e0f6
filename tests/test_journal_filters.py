"""The journal filter helpers: what a user, org or status filter takes, and the names offered."""

from __future__ import annotations

import sys
import threading

import pytest

from zitadel_mock import journal as journal_module
from zitadel_mock.journal import (
    MAX_COMPARED,
    MAX_VALUE,
    Call,
    Journal,
    is_id,
    nearest,
    parse_status,
)


def test_nearest_in_a_scenario_too_large_to_compare_every_name() -> None:
    names = [f"user-{n:05}" for n in range(20 * MAX_COMPARED)]
    assert nearest("user-12345x", names)[0] == "user-12345"
    assert nearest("USER-00000", names)[0] == "user-00000"  # case aside, at the very start
    assert nearest("zed", [*names, "zedd"]) == ["zedd"]  # at the very end


def test_nearest_ignores_a_value_too_long_to_be_a_typo() -> None:
    assert nearest("alice" * 100, ["alice" * 100 + "x"]) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("259242039378444291", True),
        ("9" * 200, True),
        ("9" * 201, False),
        ("", False),
        ("12a", False),
        ("\u00b2", False),
        ("\u0661\u0662", False),
        ("-1", False),
    ],
)
def test_a_well_formed_id(value: str, expected: bool) -> None:
    assert is_id(value) is expected


@pytest.mark.parametrize(("text", "status"), [("100", 100), ("200", 200), ("599", 599)])
def test_parse_status(text: str, status: int) -> None:
    assert parse_status(text) == status


@pytest.mark.parametrize("text", ["99", "600", "+200", " 200", "2e2", "\uff12\uff10\uff10"])
def test_parse_status_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"^status: .* is not an HTTP status \(100 to 599\)$"):
        parse_status(text)


def test_a_full_journal_never_holds_more_than_its_bound_not_even_for_a_moment() -> None:
    """``len()`` is read without the lock (the control API's ``total``): room is made first."""
    journal = Journal(50)
    call = Call(None, "POST", "/", None, None, None, 200, b"")
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(len(journal))

    reader = threading.Thread(target=read)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        reader.start()
        for _ in range(30_000):
            journal.append(call)
    finally:
        done.set()
        reader.join()
        sys.setswitchinterval(interval)
    assert len(seen) > 100
    assert max(seen) == 50


def test_a_journal_keeps_at_least_one_call() -> None:
    with pytest.raises(ValueError, match="a journal keeps at least 1 call, not 0"):
        Journal(0)


def _entry(headers: tuple[tuple[str, str], ...]) -> Call:
    return Call("r", "POST", "/p", None, None, None, 200, b"{}", headers=headers)


def test_an_entry_s_size_counts_its_headers_whether_their_set_was_seen_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(journal_module, "_HEADER_SIZES", {})  # other tests' sets: not here
    small = (("Host", "h"), ("User-Agent", "ua/1"), ("Authorization", "Bearer acme-a\u2026"))
    other = (("Host", "h"), ("User-Agent", "ua/2"))
    alone = Journal(100)
    alone.append(_entry(()))
    base = alone.bytes
    journal = Journal(100)
    for headers in (small, other, small, small, other, ()):
        before = journal.bytes
        journal.append(_entry(headers))
        assert journal.bytes - before == base + sum(len(n) + len(v) for n, v in headers)
    assert journal_module._HEADER_SIZES[small] == 46


def test_remembered_header_sizes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "_HEADER_SIZES", {})
    journal = Journal(10)
    for number in range(journal_module.MAX_SIZED + 10):
        journal.append(_entry((("X-N", str(number)),)))
    assert len(journal_module._HEADER_SIZES) <= journal_module.MAX_SIZED
    long = (("X-Long", "v" * (MAX_VALUE - 5)), ("X-More", "w" * 10))  # cut: sized each time
    journal.append(_entry(long))
    assert long not in journal_module._HEADER_SIZES


def test_a_journal_entry_has_every_field_in_its_place() -> None:
    from zitadel_mock.answers import Request
    from zitadel_mock.faults import Injection
    from zitadel_mock.recording import journal_entry

    request = Request(
        "rpc", "POST", "/p", "Bearer t", None, "7", (("Host", "h"),), 5, 0.0, "grpc", "ns"
    )
    entry = journal_entry("rpc", request, "7", "100", "t", 200, b"{}", None, "answered")
    assert len(entry) == len(Call._fields)
    assert entry == Call(
        rpc="rpc",
        method="POST",
        path="/p",
        user_id="7",
        org_id="100",
        token="t",
        status=200,
        body=b"{}",
        forced=False,
        injected=None,
        why="answered",
        time_ns=5,
        duration=0.0,
        headers=(("Host", "h"),),
        protocol="grpc",
        namespace="ns",
    )
    fault = Injection(fault="connection_reset", why="rule 0 fired")
    dropped = journal_entry("rpc", request, "7", "100", "t", 200, b"{}", fault, "answered")
    assert (dropped.status, dropped.body, dropped.injected, dropped.forced) == (0, b"", fault, True)
    assert dropped.why == "rule 0 fired"  # the fault replaced the answer


def test_headers_given_as_lists_are_sized_too() -> None:
    journal = Journal(10)
    journal.append(_entry((("Host", "h"),)))
    base = journal.bytes
    listed = Call("r", "POST", "/p", None, None, None, 200, b"{}", headers=[["Host", "h"]])  # type: ignore[list-item]
    journal.append(listed)
    assert journal.bytes == 2 * base
