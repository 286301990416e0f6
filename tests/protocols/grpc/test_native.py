"""Native gRPC (h2c) as grpc-go answers it inside ZITADEL: PROTOCOLS.md sections 1 to 3 and 6."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest
import requests
from google.protobuf import json_format
from grpckit import (
    AUTH_FACTORS,
    SECOND_FACTORS,
    SERVICE,
    RawH2,
    auth_factors_request,
    framed,
    stub,
)
from testkit import ACME, ALICE, GLOBEX, auth_factors
from testkit import SECOND_FACTORS as REST_SECOND_FACTORS

from zitadel_mock import MockServer
from zitadel_mock.protocols.grpc.messages import message_class
from zitadel_mock.testing import ZitadelMock

TOKEN_INVALID_DETAILS = (
    "CBASIUVycm9ycy5Ub2tlbi5JbnZhbGlkIChBVVRILTdmczFlKRpQCip0eXBlLmdvb2dsZWFwaXMuY29tL3ppdGFk"
    "ZWwudjEuRXJyb3JEZXRhaWwSIgoKQVVUSC03ZnMxZRIURXJyb3JzLlRva2VuLkludmFsaWQ"
)


def auth(token: str, org: str | None = None) -> list[tuple[str, str]]:
    headers = [("authorization", f"Bearer {token}")]
    return headers + ([("x-zitadel-orgid", org)] if org else [])


def details(trailers: Any) -> Any:
    raw = dict(trailers)["grpc-status-details-bin"]
    return message_class("google.rpc.Status").FromString(raw)


# -- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "rest", "request_message"),
    [
        (AUTH_FACTORS, auth_factors(ALICE), auth_factors_request(ALICE)),
        (SECOND_FACTORS, REST_SECOND_FACTORS, b""),
    ],
)
@pytest.mark.parametrize("org", [None, GLOBEX])
def test_both_rpcs_answer_what_rest_answers(
    server: MockServer, channel: grpc.Channel, path: str, rest: str, request_message: bytes,
    org: str | None,
) -> None:  # fmt: skip
    token = "acme-admin" if org is None else "globex-admin"
    got = stub(channel, path)(request_message, metadata=auth(token, org), timeout=10)
    expected = requests.post(server.url + rest, headers=dict(auth(token, org)), timeout=10)
    assert expected.status_code == 200
    assert json_format.MessageToDict(got) == expected.json()


def test_the_answer_is_the_exact_binary_message(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(AUTH_FACTORS, framed(auth_factors_request(ALICE)), auth("acme-admin"))
    response = message_class("zitadel.management.v1.ListHumanAuthFactorsResponse")()
    assert got.data[:5] == b"\x00" + (len(got.data) - 5).to_bytes(4, "big")  # one frame
    response.ParseFromString(got.data[5:])
    assert [f.WhichOneof("type") for f in response.result] == ["otp", "u2f", "otp_sms", "otp_email"]
    assert response.result[1].u2f.name == "YubiKey 5"


@pytest.mark.parametrize("content_type", ["application/grpc", "application/grpc+proto"])
def test_success_is_headers_one_message_then_trailers(
    server: MockServer, content_type: str
) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), auth("acme-admin"), content_type=content_type)
    assert got.header(":status") == "200"
    assert got.header("content-type") == content_type  # echoed, as grpc-go does
    assert not got.headers_ended_stream
    assert got.trailers == [("grpc-status", "0")]  # no grpc-message when it is empty
    assert got.ended
    assert got.header("trailer") == "Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin"


def test_zitadel_headers_and_no_date(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        ok = h2.request(SECOND_FACTORS, framed(b""), auth("acme-admin"))
        refused = h2.request(SECOND_FACTORS, framed(b""), [])
    for got in (ok, refused):  # NoCache runs before the auth check
        assert got.header("cache-control") == "no-store"
        assert got.header("pragma") == "no-cache"
        assert got.header("grpc-metadata-cache-control") == "no-store"
        assert got.header("grpc-metadata-pragma") == "no-cache"
        assert got.header("expires") == got.header("grpc-metadata-expires") is not None
        assert got.header("x-robots-tag") == "none"
        assert got.header("date") is None
        assert len(got.header("x-request-id") or "") == 20


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "metadata", "code", "text", "detail_id"),
    [
        (SECOND_FACTORS, [], 16, "auth header missing", None),
        (SECOND_FACTORS, [("authorization", "Basic eDp5")], 16, "invalid auth header (AUTH-toLo1)", "AUTH-toLo1"),
        (SECOND_FACTORS, [("authorization", "bearer acme-admin")], 16, "invalid auth header (AUTH-toLo1)", "AUTH-toLo1"),
        (SECOND_FACTORS, auth("nope"), 16, "Errors.Token.Invalid (AUTH-7fs1e)", "AUTH-7fs1e"),
        (SECOND_FACTORS, auth("expired"), 16, "Errors.Token.Invalid (AUTH-7fs1e)", "AUTH-7fs1e"),
        (SECOND_FACTORS, auth("acme-admin", "999"), 7, "Organisation doesn't exist (AUTH-Bs7Ds)", "AUTH-Bs7Ds"),
        (SECOND_FACTORS, auth("loner"), 5, "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk"),
        (AUTH_FACTORS, auth("acme-settings"), 7, "No matching permissions found (AUTH-5mWD2)", "AUTH-5mWD2"),
    ],
    ids=["missing", "basic", "lowercase-bearer", "unknown", "expired", "org", "membership", "permission"],
)  # fmt: skip
def test_each_auth_check_as_a_status(
    channel: grpc.Channel, path: str, metadata: Any, code: int, text: str, detail_id: str | None
) -> None:
    body = auth_factors_request(ALICE) if path == AUTH_FACTORS else b""
    with pytest.raises(grpc.RpcError) as caught:
        stub(channel, path)(body, metadata=metadata, timeout=10)
    error: Any = caught.value
    assert (error.code().value[0], error.details()) == (code, text)
    trailers = dict(error.trailing_metadata())
    if detail_id is None:
        assert "grpc-status-details-bin" not in trailers
        return
    status = details(error.trailing_metadata())
    assert (status.code, status.message) == (code, text)
    assert status.details[0].type_url == "type.googleapis.com/zitadel.v1.ErrorDetail"
    detail = message_class("zitadel.v1.ErrorDetail").FromString(status.details[0].value)
    assert (detail.id, detail.message) == (detail_id, text.rsplit(" (", 1)[0])


def test_validation_comes_after_auth_and_has_no_details(channel: grpc.Channel) -> None:
    call = stub(channel, AUTH_FACTORS)
    with pytest.raises(grpc.RpcError) as refused:  # empty user id, no token: auth first
        call(auth_factors_request(""), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as invalid:
        call(auth_factors_request(""), metadata=auth("acme-admin"), timeout=10)
    error: Any = invalid.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "invalid ListHumanAuthFactorsRequest.UserId: "
        "value length must be between 1 and 200 runes, inclusive"
    )
    assert "grpc-status-details-bin" not in dict(error.trailing_metadata())


def test_details_bin_is_unpadded_base64_of_zitadels_status(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), auth("nope"))
    assert not got.headers_ended_stream  # never trailers-only, errors included
    assert got.data == b""
    assert got.trailer("grpc-status") == "16"
    assert got.trailer("grpc-message") == "Errors.Token.Invalid (AUTH-7fs1e)"
    assert got.trailer("grpc-status-details-bin") == TOKEN_INVALID_DETAILS


def test_grpc_message_is_percent_encoded(
    server: MockServer, channel: grpc.Channel, mock: ZitadelMock
) -> None:
    text = "Zugriff verweigert: 100% für Ü\n"
    mock.fail(code="PERMISSION_DENIED", message=text, id="MOCK-1")
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), auth("acme-admin"))
    assert got.trailer("grpc-message") == ("Zugriff verweigert: 100%25 f%C3%BCr %C3%9C%0A (MOCK-1)")
    with pytest.raises(grpc.RpcError) as caught:  # and grpcio reads it back
        stub(channel, SECOND_FACTORS)(b"", metadata=auth("acme-admin"), timeout=10)
    assert caught.value.details() == f"{text} (MOCK-1)"  # type: ignore[attr-defined]


def test_a_forced_error_without_id_has_no_details(channel: grpc.Channel, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", code="UNAVAILABLE", times=1)
    with pytest.raises(grpc.RpcError) as caught:
        stub(channel, SECOND_FACTORS)(b"", metadata=auth("acme-admin"), timeout=10)
    error: Any = caught.value
    assert (error.code(), error.details()) == (grpc.StatusCode.UNAVAILABLE, "service unavailable")
    assert "grpc-status-details-bin" not in dict(error.trailing_metadata())
    assert stub(channel, SECOND_FACTORS)(b"", metadata=auth("acme-admin"), timeout=10)


# -- before any interceptor: unknown methods, bad frames, bad messages --------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (SERVICE + "ListUsers", "unknown method ListUsers for service zitadel.management.v1.ManagementService"),
        ("/zitadel.admin.v1.AdminService/Healthz", "unknown service zitadel.admin.v1.AdminService"),
    ],
)  # fmt: skip
def test_unknown_methods(server: MockServer, mock: ZitadelMock, path: str, text: str) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(path, framed(b""), auth("acme-admin"))
    assert (got.trailer("grpc-status"), got.trailer("grpc-message")) == ("12", text)
    assert got.header("cache-control") is None  # no interceptor ran
    assert "did you mean" in mock.requests[-1].why


def test_invalid_protobuf_fails_before_the_auth_check(
    server: MockServer, mock: ZitadelMock
) -> None:
    with RawH2(server.url) as h2:  # no token at all: the decode error still comes first
        got = h2.request(AUTH_FACTORS, framed(b"\x0a\xff\xff\xff\xff\x0f"))
    assert got.trailer("grpc-status") == "13"
    assert got.trailer("grpc-message") == (
        "grpc: error unmarshalling request: proto: cannot parse invalid wire-format data"
    )
    assert got.trailer("grpc-status-details-bin") is None
    assert got.header("cache-control") is None
    assert got.header("x-request-id") is None
    assert got.header("x-robots-tag") == "none"
    (call,) = mock.requests
    assert (call.protocol, call.rpc) == ("grpc", "ListHumanAuthFactors")
    assert "no valid protobuf" in call.why


def test_unknown_fields_are_ignored(channel: grpc.Channel) -> None:
    extra = auth_factors_request(ALICE) + b"\x12\x03abc\x18\x07"  # fields 2 and 3: unknown
    got = stub(channel, AUTH_FACTORS)(extra, metadata=auth("acme-admin"), timeout=10)
    assert len(got.result) == 4


def test_the_receive_limit_is_4_mib(server: MockServer) -> None:
    huge = 5 * 1024 * 1024
    with RawH2(server.url) as h2:
        got = h2.request(
            AUTH_FACTORS, b"\x00" + huge.to_bytes(4, "big") + b"\x0a", auth("acme-admin")
        )
    assert got.trailer("grpc-status") == "8"
    assert (
        got.trailer("grpc-message")
        == f"grpc: received message larger than max ({huge} vs. 4194304)"
    )


def test_a_compressed_flag_without_encoding(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b"", flag=1), auth("acme-admin"))
    assert got.trailer("grpc-status") == "13"
    assert (
        got.trailer("grpc-message") == "grpc: compressed flag set with identity or empty encoding"
    )


def test_gzip_messages_are_read(channel: grpc.Channel) -> None:
    got = stub(channel, AUTH_FACTORS)(
        auth_factors_request(ALICE), metadata=auth("acme-admin"), timeout=10,
        compression=grpc.Compression.Gzip,
    )  # fmt: skip
    assert len(got.result) == 4


# -- deadlines, namespaces, the journal -------------------------------------------------------


def test_grpc_timeout_ends_a_waiting_answer(server: MockServer, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", delay=30)
    started = time.monotonic()
    with RawH2(server.url) as h2:
        got = h2.request(
            SECOND_FACTORS, framed(b""), [*auth("acme-admin"), ("grpc-timeout", "200m")]
        )
    assert time.monotonic() - started < 10  # not the 30 s delay
    assert (got.trailer("grpc-status"), got.trailer("grpc-message")) == (
        "4", "context deadline exceeded",
    )  # fmt: skip


def test_grpcio_sees_its_deadline(channel: grpc.Channel, mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", delay=30)
    with pytest.raises(grpc.RpcError) as caught:
        stub(channel, SECOND_FACTORS)(b"", metadata=auth("acme-admin"), timeout=0.3)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # type: ignore[attr-defined]


def test_a_malformed_grpc_timeout_is_plain_http_400(server: MockServer) -> None:
    with RawH2(server.url) as h2:
        got = h2.request(SECOND_FACTORS, framed(b""), [*auth("acme-admin"), ("grpc-timeout", "1x")])
    assert got.header(":status") == "400"
    assert got.header("content-type") == "text/plain; charset=utf-8"
    assert got.data.startswith(b"malformed grpc-timeout")


def test_namespaces_by_metadata(
    server: MockServer, channel: grpc.Channel, mock: ZitadelMock
) -> None:
    metadata = [*auth("acme-admin"), ("x-mock-namespace", "job-7")]
    stub(channel, SECOND_FACTORS)(b"", metadata=metadata, timeout=10)
    assert [c.namespace for c in server.namespaces.get("job-7").journal] == ["job-7"]
    assert mock.requests == []
    with pytest.raises(grpc.RpcError) as caught:
        stub(channel, SECOND_FACTORS)(b"", metadata=[("x-mock-namespace", "a b")], timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_the_journal_records_the_protocol_and_why(channel: grpc.Channel, mock: ZitadelMock) -> None:
    stub(channel, AUTH_FACTORS)(
        auth_factors_request(ALICE), metadata=auth("acme-admin"), timeout=10
    )
    with pytest.raises(grpc.RpcError):
        stub(channel, SECOND_FACTORS)(b"", metadata=auth("acme-admin", ACME[:-1] + "9"), timeout=10)
    ok, refused = mock.requests
    assert (ok.protocol, ok.rpc, ok.user_id, ok.status) == (
        "grpc",
        "ListHumanAuthFactors",
        ALICE,
        200,
    )
    assert ok.why.startswith("answered: 4 ready auth factors of alice")
    assert refused.status == 403
    assert "names no organisation" in refused.why
    assert dict(refused.headers)["x-zitadel-orgid"] == ACME[:-1] + "9"
