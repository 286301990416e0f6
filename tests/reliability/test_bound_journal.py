"""The journal is bounded in bytes as well as entries: long values are stored cut, marked."""

from __future__ import annotations

from testkit import MAIN, SECOND_FACTORS, auth_factors, bearer, client, scenario

from zitadel_mock import State
from zitadel_mock.journal import MAX_BYTES, MAX_VALUE, Call, Journal


def test_long_tokens_are_stored_truncated_with_a_marker() -> None:
    state = State(scenario(MAIN))
    c = client(state, asgi=False)
    token = "t" * 250_000
    for _ in range(300):
        c.simulate_post(SECOND_FACTORS, headers=bearer(token))
    calls = state.journal.calls()
    assert len(calls) == 300
    stored = calls[0].token
    assert stored is not None
    assert stored == "t" * MAX_VALUE + f"\u2026[truncated {250_000 - MAX_VALUE:,} bytes]"
    assert calls[0].status == 401  # everything else is kept as it was
    # 300 calls of 250 KB tokens held 75 MB before; now about 300 entries of ~1 KB.
    assert state.journal.bytes < 2_000_000
    assert sum(len(call.token or "") for call in calls) < 2_000_000


def test_every_long_value_is_cut_and_the_total_is_bounded() -> None:
    log = Journal(10_000, max_bytes=1_000_000)
    long = "x" * 100_000
    for _ in range(500):
        log.append(
            Call(None, "POST", "/" + long, long, long, long, 200, b"{" + b"a" * 200_000 + b"}")
        )
    calls = log.calls()
    assert log.bytes <= 1_000_000
    assert len(calls) + log.dropped == 500
    assert log.dropped > 0
    for value in (calls[-1].path, calls[-1].user_id, calls[-1].org_id, calls[-1].token):
        assert value is not None
        assert len(value) < MAX_VALUE + 40
        assert "[truncated" in value
    assert b"[truncated" in calls[-1].body
    assert calls[-1].answer is None  # a cut body is no JSON
    log.clear()
    assert (log.bytes, log.dropped, len(log)) == (0, 0, 0)


def test_the_default_bound_in_bytes_is_documented() -> None:
    assert Journal().max_bytes == MAX_BYTES == 32 * 1024 * 1024
    assert MAX_VALUE == 1024
    state = State(scenario(MAIN))
    c = client(state, asgi=False)
    c.simulate_post(auth_factors("1" * 5000), headers=bearer("acme-admin"))
    assert state.journal.calls()[0].path.endswith("[truncated 4,018 bytes]")
