"""gRPC-web (binary and text, HTTP/1.1 and HTTP/2) and what is not served: PROTOCOLS.md 1.1-2.4."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import requests
from grpckit import AUTH_FACTORS, SECOND_FACTORS, RawH2, auth_factors_request, framed
from testkit import ALICE, MAIN, client

from zitadel_mock import MockServer
from zitadel_mock.protocols.grpc.messages import message_class
from zitadel_mock.testing import ZitadelMock

OK_TRAILER = b"\x80\x00\x00\x00\x10grpc-status: 0\r\n"
ADMIN = {"authorization": "Bearer acme-admin"}


def decode_parts(text: bytes) -> bytes:
    """Text mode: each flushed part is base64 of its own, padded (as grpc-web clients read it)."""
    return b"".join(
        base64.b64decode(part) for part in re.findall(rb"[A-Za-z0-9+/]*=*", text) if part
    )


def post(server: MockServer, path: str, body: bytes, content_type: str, **headers: str) -> Any:
    sent = {"content-type": content_type, "x-grpc-web": "1", **headers}
    return requests.post(server.url + path, data=body, headers=sent, timeout=10)


@pytest.mark.parametrize("content_type", ["application/grpc-web", "application/grpc-web+proto"])
def test_binary_success_is_a_data_frame_then_a_trailer_frame(
    server: MockServer, content_type: str
) -> None:
    got = post(server, AUTH_FACTORS, framed(auth_factors_request(ALICE)), content_type, **ADMIN)
    assert got.status_code == 200
    assert got.headers["content-type"] == content_type
    length = int.from_bytes(got.content[1:5], "big")
    assert got.content[0] == 0
    assert got.content[5 + length :] == OK_TRAILER
    answer = message_class("zitadel.management.v1.ListHumanAuthFactorsResponse").FromString(
        got.content[5 : 5 + length]
    )
    assert len(answer.result) == 4
    assert got.headers["cache-control"] == "no-store"
    assert got.headers["grpc-metadata-pragma"] == "no-cache"
    exposed = got.headers["access-control-expose-headers"]
    assert exposed.endswith("grpc-status, grpc-message")
    assert "Grpc-Metadata-Expires" in exposed


def test_an_error_is_trailers_only_in_the_http_headers(server: MockServer) -> None:
    got = post(
        server,
        SECOND_FACTORS,
        framed(b""),
        "application/grpc-web+proto",
        authorization="Bearer nope",
    )
    assert (got.status_code, got.content) == (200, b"")
    assert got.headers["grpc-status"] == "16"
    assert got.headers["grpc-message"] == "Errors.Token.Invalid (AUTH-7fs1e)"
    status = message_class("google.rpc.Status").FromString(
        base64.b64decode(got.headers["grpc-status-details-bin"] + "==")
    )
    assert status.details[0].type_url == "type.googleapis.com/zitadel.v1.ErrorDetail"
    assert got.headers["cache-control"] == "no-store"


def test_text_mode_is_base64_both_ways(server: MockServer) -> None:
    body = base64.b64encode(framed(b""))
    got = post(server, SECOND_FACTORS, body, "application/grpc-web-text", **ADMIN)
    assert got.headers["content-type"] == "application/grpc-web-text"
    raw = decode_parts(got.content)
    assert raw.endswith(OK_TRAILER)
    assert got.content.count(b"=") >= 1  # the data frame and the trailer frame: two parts
    answer = message_class("zitadel.management.v1.ListLoginPolicySecondFactorsResponse").FromString(
        raw[5 : -len(OK_TRAILER)]
    )
    assert list(answer.result) == [3, 2]  # ACME: otp_email, u2f


def test_text_mode_reads_several_padded_parts(server: MockServer) -> None:
    data = framed(auth_factors_request(ALICE))
    body = base64.b64encode(data[:4]) + base64.b64encode(data[4:])  # the first one padded
    assert b"=" in base64.b64encode(data[:4])
    got = post(server, AUTH_FACTORS, body, "application/grpc-web-text+proto", **ADMIN)
    assert got.headers["content-type"] == "application/grpc-web-text+proto"
    assert decode_parts(got.content).endswith(OK_TRAILER)


def test_text_mode_with_invalid_base64(server: MockServer) -> None:
    got = post(server, SECOND_FACTORS, b"!!!", "application/grpc-web-text", **ADMIN)
    assert got.headers["grpc-status"] == "13"


def test_grpc_web_over_http2(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(
            SECOND_FACTORS,
            framed(b""),
            list(ADMIN.items()),
            content_type="application/grpc-web+proto",
        )
    assert got.header("content-type") == "application/grpc-web+proto"
    assert got.data.endswith(OK_TRAILER)
    assert got.trailers is None  # the status is in the body's trailer frame


def test_cors_preflight(server: MockServer) -> None:
    got = requests.options(
        server.url + AUTH_FACTORS,
        headers={
            "origin": "http://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "x-grpc-web,content-type,authorization,x-zitadel-orgid",
        },
        timeout=10,
    )
    assert got.status_code == 204
    assert got.headers["access-control-allow-origin"] == "http://app.example"
    assert got.headers["access-control-allow-credentials"] == "true"
    assert got.headers["access-control-max-age"] == "600"
    answer = post(
        server,
        SECOND_FACTORS,
        framed(b""),
        "application/grpc-web+proto",
        origin="http://app.example",
        **ADMIN,
    )
    assert answer.headers["access-control-allow-origin"] == "http://app.example"


def test_faults_drop_the_http1_connection(server: MockServer, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", fault="connection_reset", times=1)
    with pytest.raises(requests.ConnectionError):
        post(server, SECOND_FACTORS, framed(b""), "application/grpc-web+proto", **ADMIN)
    mock.fail("ListLoginPolicySecondFactors", fault="malformed_body", times=1)
    cut = post(server, SECOND_FACTORS, framed(b""), "application/grpc-web+proto", **ADMIN)
    assert int.from_bytes(cut.content[1:5], "big") > len(cut.content) - 5
    assert OK_TRAILER not in cut.content


def test_grpc_timeout_on_grpc_web(server: MockServer, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", delay=30, times=1)
    got = post(
        server,
        SECOND_FACTORS,
        framed(b""),
        "application/grpc-web+proto",
        **{"grpc-timeout": "100m"},
        **ADMIN,
    )
    assert got.headers["grpc-status"] == "4"


def test_the_journal_says_grpc_web(server: MockServer, mock: ZitadelMock) -> None:
    post(server, SECOND_FACTORS, framed(b""), "application/grpc-web+proto", **ADMIN)
    assert [c.protocol for c in mock.requests] == ["grpc-web"]


# -- not served: they fall through to the REST gateway's 404 ---------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),  # Connect, JSON
        ("application/proto", b""),  # Connect, binary
        ("application/grpc", framed(b"")),  # gRPC over HTTP/1.1
        ("application/grpc;charset=utf-8", framed(b"")),  # not the anchored content type
    ],
)
def test_connect_and_http1_grpc_to_v1_get_the_gateway_404(
    server: MockServer, mock: ZitadelMock, content_type: str, body: bytes
) -> None:
    got = requests.post(
        server.url + SECOND_FACTORS,
        data=body,
        headers={"content-type": content_type, **ADMIN},
        timeout=10,
    )
    assert got.status_code == 404
    assert got.headers["content-type"] == "application/json"
    assert got.json() == {"code": 5, "message": "Not Found"}
    assert "did you mean" in mock.requests[-1].why


def test_connect_over_http2_also_gets_the_404(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(
            SECOND_FACTORS, b"{}", list(ADMIN.items()), content_type="application/json"
        )
    assert got.header(":status") == "404"
    assert got.data == b'{"code":5,"message":"Not Found"}'


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_the_falcon_app_alone_serves_grpc_web(asgi: bool) -> None:
    app = client(MAIN, asgi)
    got = app.simulate_post(
        SECOND_FACTORS,
        body=framed(b""),
        headers={"content-type": "application/grpc-web+proto", **ADMIN},
    )
    assert got.status_code == 200
    assert got.content.endswith(OK_TRAILER)
    refused = app.simulate_post(
        SECOND_FACTORS, body=framed(b""), headers={"content-type": "application/grpc-web"}
    )
    assert (refused.headers["grpc-status"], refused.content) == ("16", b"")
