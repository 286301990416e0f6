"""Each fault on native gRPC, as the wire carries it and as grpcio reports it (README's table)."""

from __future__ import annotations

import time

import grpc
import pytest
from grpckit import SECOND_FACTORS, RawH2, framed, stub

from zitadel_mock import MockServer
from zitadel_mock.testing import ZitadelMock

ADMIN = [("authorization", "Bearer acme-admin")]


def test_connection_reset_resets_the_connection(server: MockServer, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault="connection_reset")
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), ADMIN)
    assert got.closed
    assert got.headers == []


def test_empty_response_ends_the_stream_without_a_status(
    server: MockServer, mock: ZitadelMock
) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault="empty_response")
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), ADMIN)
        after = h2.request(SECOND_FACTORS, framed(b""), ADMIN)  # the connection lives on
    assert got.header(":status") == "200"
    assert (got.data, got.trailers, got.ended) == (b"", None, True)
    assert after.trailers is None  # the rule fires on every call


def test_malformed_body_is_a_truncated_frame(server: MockServer, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault="malformed_body")
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), ADMIN)
    announced = int.from_bytes(got.data[1:5], "big")
    assert 0 < len(got.data) - 5 < announced
    assert (got.trailers, got.ended) == (None, True)


def test_random_data_then_close(server: MockServer, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault="random_data_then_close")
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), ADMIN)
    assert got.closed
    assert got.trailers is None


def test_timeout_holds_the_call_then_deadline_exceeded(
    server: MockServer, mock: ZitadelMock
) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault="timeout", hold=0.3)
    started = time.monotonic()
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), ADMIN)
    assert time.monotonic() - started >= 0.3
    assert got.trailers == [("grpc-status", "4"), ("grpc-message", "context deadline exceeded")]


def test_a_held_call_holds_up_no_other(server: MockServer, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault="timeout", hold=30, times=1)
    with RawH2(server.url) as h2:  # both on one connection, as the Node SDKs multiplex
        held = h2.h2.get_next_available_stream_id()
        h2.h2.send_headers(
            held,
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", h2.host),
                (":path", SECOND_FACTORS),
                ("content-type", "application/grpc"),
                *ADMIN,
            ],
        )
        h2.h2.send_data(held, framed(b""), end_stream=True)
        h2.sock.sendall(h2.h2.data_to_send())
        started = time.monotonic()
        other = h2.request(SECOND_FACTORS, framed(b""), ADMIN)
    assert other.trailers == [("grpc-status", "0")]
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("fault", "codes"),
    [
        ("connection_reset", {grpc.StatusCode.UNAVAILABLE}),
        ("empty_response", {grpc.StatusCode.UNKNOWN}),
        ("malformed_body", {grpc.StatusCode.UNKNOWN}),
        # What random bytes parse as varies: a frame too large, a bad preface, a reset.
        (
            "random_data_then_close",
            {grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL},
        ),
        ("timeout", {grpc.StatusCode.DEADLINE_EXCEEDED}),
    ],
)
def test_what_grpcio_reports(
    server: MockServer, mock: ZitadelMock, fault: str, codes: set[grpc.StatusCode]
) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault=fault, hold=0.2 if fault == "timeout" else None)
    target = server.url.removeprefix("http://")
    with grpc.insecure_channel(target) as channel, pytest.raises(grpc.RpcError) as caught:
        stub(channel, SECOND_FACTORS)(b"", metadata=ADMIN, timeout=10)
    assert caught.value.code() in codes  # type: ignore[attr-defined]
    call = mock.requests[-1]
    sent = 200 if fault == "malformed_body" else 0  # the journal's status: 0 when nothing came
    assert (call.protocol, call.status, call.injected is not None) == ("grpc", sent, True)
