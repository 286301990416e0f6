"""One port for HTTP/1.1 and h2c: prior knowledge, ``Upgrade: h2c``, and the bounds of HTTP/2."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from grpckit import AUTH_FACTORS, SECOND_FACTORS, RawH2, auth_factors_request, framed, message
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import DataReceived, ResponseReceived, StreamEnded, TrailersReceived
from testkit import ALICE, MAIN, scenario
from testkit import SECOND_FACTORS as REST_SECOND_FACTORS

from zitadel_mock import MockServer

ADMIN = [("authorization", "Bearer acme-admin")]


def upgrade(server: MockServer, request: bytes) -> tuple[bytes, dict[str, object]]:
    """Send an HTTP/1.1 request asking for h2c; read the 101, then stream 1's answer over h2."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    client = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
    settings = client.initiate_upgrade_connection()  # already the header's base64url
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.replace(b"SETTINGS", settings))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        sock.sendall(client.data_to_send())  # the preface, after the 101
        got: dict[str, object] = {"data": b""}
        while "ended" not in got:
            data = sock.recv(65536)
            if not data:
                break
            for event in client.receive_data(data):
                if isinstance(event, ResponseReceived):
                    got["headers"] = dict(event.headers)
                elif isinstance(event, DataReceived):
                    got["data"] = got["data"] + event.data  # type: ignore[operator]
                elif isinstance(event, TrailersReceived):
                    got["trailers"] = dict(event.headers)
                elif isinstance(event, StreamEnded):
                    got["ended"] = True
            sock.sendall(client.data_to_send())
    return head, got


def test_native_grpc_by_upgrade(server: MockServer) -> None:
    body = framed(auth_factors_request(ALICE))
    request = (
        f"POST {AUTH_FACTORS} HTTP/1.1\r\nHost: mock\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        f"Upgrade: h2c\r\nHTTP2-Settings: SETTINGS\r\nContent-Type: application/grpc\r\n"
        f"Authorization: Bearer acme-admin\r\nTE: trailers\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    head, got = upgrade(server, request)
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Upgrade: h2c" in head
    assert got["trailers"] == {"grpc-status": "0"}
    assert len(got["data"]) > 5  # type: ignore[arg-type]


def test_rest_by_upgrade(server: MockServer) -> None:
    request = (
        f"POST {REST_SECOND_FACTORS} HTTP/1.1\r\nHost: mock\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        "Upgrade: h2c\r\nHTTP2-Settings: SETTINGS\r\nAuthorization: Bearer acme-admin\r\n\r\n"
    ).encode()
    _, got = upgrade(server, request)
    expected = requests.post(server.url + REST_SECOND_FACTORS, headers=dict(ADMIN), timeout=10)
    assert got["data"] == expected.content
    assert got["headers"]["content-type"] == "application/json"  # type: ignore[index]


def test_an_invalid_http2_settings_header_is_refused(server: MockServer) -> None:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            b"Upgrade: h2c\r\nHTTP2-Settings: !!\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_an_upgrade_without_http2_settings_in_connection_stays_http1(server: MockServer) -> None:
    got = requests.post(
        server.url + REST_SECOND_FACTORS,
        headers={**dict(ADMIN), "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAAQAoAAAAAIAAAAA"},
        timeout=10,
    )
    assert got.status_code == 200  # x/net's h2c wants HTTP2-Settings among Connection's tokens


def test_rest_and_the_control_api_over_prior_knowledge(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        rest = h2.request(REST_SECOND_FACTORS, headers=ADMIN, content_type="application/json")
        page = h2.request("/_mock/journal", method="GET", content_type="text/plain")
    assert rest.header(":status") == "200"
    assert (
        rest.data
        == requests.post(server.url + REST_SECOND_FACTORS, headers=dict(ADMIN), timeout=10).content
    )
    assert page.header(":status") == "200"


def test_a_preface_in_pieces_is_still_http2(server: MockServer) -> None:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    client = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
    client.initiate_connection()
    preface = client.data_to_send()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(preface[:5])
        time.sleep(0.2)
        sock.sendall(preface[5:])
        assert sock.recv(9)[3] == 4  # the server's first frame: SETTINGS


def test_a_body_over_the_limit_on_http2() -> None:
    with MockServer(scenario(MAIN), max_request_body_size=1024) as server, RawH2(server.url) as h2:
        got = h2.request(REST_SECOND_FACTORS, b"x" * 5000, ADMIN, content_type="application/json")
    assert got.header(":status") == "413"
    assert b"request body too large" in got.data


def test_stopping_closes_http2_connections() -> None:
    server = MockServer(scenario(MAIN)).start()
    with RawH2(server.url) as h2:
        assert h2.request(SECOND_FACTORS, framed(b""), ADMIN).trailers == [("grpc-status", "0")]
        started = time.monotonic()
        server.stop()
        h2.sock.settimeout(5)
        closed = False
        try:
            while h2.sock.recv(1024):  # until the end of the connection (or its reset)
                pass
            closed = True
        except ConnectionResetError:
            closed = True
    assert closed
    assert time.monotonic() - started < 5


def test_idle_http2_connections_are_closed() -> None:
    with MockServer(scenario(MAIN), channel_timeout=1) as server, RawH2(server.url) as h2:
        assert h2.request(SECOND_FACTORS, framed(b""), ADMIN).ended
        h2.sock.settimeout(10)
        started = time.monotonic()
        while h2.sock.recv(1024):  # a GOAWAY, then the end of the connection
            pass
    assert time.monotonic() - started < 9


def test_streams_reset_at_once_queue_no_work_without_bound(server: MockServer) -> None:
    with RawH2(server.url) as h2:  # the rapid-reset pattern, on REST streams (worker threads)
        for _ in range(500):
            stream_id = h2.h2.get_next_available_stream_id()
            h2.h2.send_headers(
                stream_id,
                [
                    (":method", "GET"),
                    (":scheme", "http"),
                    (":authority", h2.host),
                    (":path", "/_mock/journal"),
                ],
                end_stream=True,
            )
            h2.h2.reset_stream(stream_id)
        h2.sock.sendall(h2.h2.data_to_send())
        after = h2.request(SECOND_FACTORS, framed(b""), ADMIN)
    assert after.trailers == [("grpc-status", "0")]


def test_an_answer_larger_than_the_flow_control_window() -> None:
    factors = ", ".join(
        f'{{type: u2f, id: "{9000 + i}", name: "{"k" * 200}"}}' for i in range(2000)
    )
    text = MAIN.replace(
        '      - {username: bob, id: "259242039378444294"}',
        f'      - {{username: bob, id: "259242039378444294", auth_factors: [{factors}]}}',
    )
    assert text != MAIN
    with MockServer(scenario(text)) as server, RawH2(server.url) as h2:
        request = framed(
            message(
                "zitadel.management.v1.ListHumanAuthFactorsRequest", user_id="259242039378444294"
            ).SerializeToString()
        )
        got = h2.request(AUTH_FACTORS, request, ADMIN)
        again = h2.request(AUTH_FACTORS, request, ADMIN)  # the connection's window, used twice
    assert len(got.data) > 400_000 > 65_535
    assert got.trailers == [("grpc-status", "0")]
    assert again.data == got.data


def test_a_request_that_never_ends_is_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("zitadel_mock.protocols.http2.server.REQUEST_TIMEOUT", 1.0)
    with MockServer(scenario(MAIN)) as server, RawH2(server.url) as h2:
        stream_id = h2.h2.get_next_available_stream_id()
        h2.h2.send_headers(
            stream_id,
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", h2.host),
                (":path", SECOND_FACTORS),
                ("content-type", "application/grpc"),
                *ADMIN,
            ],
        )
        h2.sock.sendall(h2.h2.data_to_send())  # headers, then nothing: no body, no end
        got = h2.read(stream_id, timeout=10)
    assert got.reset == 8  # CANCEL


def test_http2_connections_count_against_the_connection_limit() -> None:
    # Counted as waitress counts (its listener and trigger are two): two connections here.
    with (
        MockServer(scenario(MAIN), connection_limit=4) as server,
        RawH2(server.url) as first,
        RawH2(server.url) as second,
    ):
        assert first.request(SECOND_FACTORS, framed(b""), ADMIN).ended
        assert second.request(SECOND_FACTORS, framed(b""), ADMIN).ended
        with RawH2(server.url) as third:  # closed at once, or left in the listen backlog
            third.sock.settimeout(3)
            try:
                greeting = third.sock.recv(65536)
            except TimeoutError:
                greeting = b""
        assert greeting == b""  # no SETTINGS: not served
        assert first.request(SECOND_FACTORS, framed(b""), ADMIN).ended  # the others are
