"""The v2 RPCs over native gRPC (h2c), answered as over Connect, headers as connect-go's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from v2kit import V2Client, scenario_state

from zitadel_mock import MockServer
from zitadel_mock.protocols.grpc.messages import message_class


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(scenario_state()) as mock:
        yield mock


def call(
    server: MockServer, service: str, rpc: str, message: dict[str, Any], token: str = "admin-token"
) -> Any:
    package = service.rsplit(".", 1)[0]
    request = message_class(f"{package}.{rpc}Request")()
    json_format.ParseDict(message, request)
    with grpc.insecure_channel(server.url.removeprefix("http://")) as channel:
        method = channel.unary_unary(
            f"/{service}/{rpc}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=message_class(f"{package}.{rpc}Response").FromString,
        )
        return method.with_call(
            request, metadata=[("authorization", f"Bearer {token}")], timeout=10
        )


USER = "zitadel.user.v2.UserService"
SETTINGS = "zitadel.settings.v2.SettingsService"


@pytest.mark.parametrize(
    ("service", "rpc", "message", "user_id", "options"),
    [
        (USER, "ListAuthenticationFactors", {"userId": "1003"}, "1003", {}),
        (USER, "ListAuthenticationFactors", {"userId": "1003", "authFactors": ["U2F"], "states": ["AUTH_FACTOR_STATE_NOT_READY"]},
         "1003", {"auth_factors": ("U2F",), "states": ("AUTH_FACTOR_STATE_NOT_READY",)}),
        (USER, "ListAuthenticationMethodTypes", {"userId": "1003"}, "1003", {}),
        (SETTINGS, "GetLoginSettings", {}, None, {}),
        (SETTINGS, "GetLoginSettings", {"ctx": {"orgId": "2001"}}, None, {"ctx": {"orgId": "2001"}}),
    ],
)  # fmt: skip
def test_each_v2_rpc_answers_as_over_connect(
    server: MockServer, service: str, rpc: str, message: dict[str, Any], user_id: str | None,
    options: dict[str, Any],
) -> None:  # fmt: skip
    answer, grpc_call = call(server, service, rpc, message)
    connect = V2Client(scenario_state(), "connect-json", False)(rpc, user_id, **options)
    assert connect.status == 200
    assert json_format.MessageToDict(answer) == connect.body
    headers = dict(grpc_call.initial_metadata())
    assert headers["cache-control"] == "no-store"
    assert "grpc-metadata-cache-control" not in headers  # connect-go's NoCache: once


def test_a_v2_permission_error_has_no_cache_headers(server: MockServer) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        call(server, USER, "ListAuthenticationFactors", {"userId": "1003"}, token="ivan-token")
    error: Any = caught.value
    assert (error.code(), error.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "membership not found (AUTHZ-cdgFk)",
    )
    assert "cache-control" not in dict(error.initial_metadata())
    assert [c.protocol for c in server.state.journal.calls()][-1] == "grpc"
