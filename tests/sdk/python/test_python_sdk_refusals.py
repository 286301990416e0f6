"""zitadel-client meets ZITADEL's refusals as its documented exceptions.

A refused call raises ``zitadel_client.ApiError``: ``code`` the HTTP status, ``response_body``
Connect's error (``code``, ``message``, ``details`` with ZITADEL's ``ErrorDetail`` id). A sign-in
refused at the token endpoint raises ``zitadel_client.ZitadelError`` at the first call, its
message naming the OAuth error.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from zitadel_client import ApiError, TransportOptions, Zitadel, ZitadelError
from zitadel_client.auth.no_auth_authenticator import NoAuthAuthenticator
from zitadel_client.models import (
    SettingsServiceGetLoginSettingsRequest,
    UserServiceListAuthenticationFactorsRequest,
    UserServiceListAuthenticationMethodTypesRequest,
)

from zitadel_mock import State

KEY_FILE = Path(__file__).resolve().parent / "keys" / "301234567890123460.json"  # a test key
MakeClient = Callable[..., Zitadel]  # conftest's make_client
USER_ID = "301234567890123457"  # dana, in scenario.yaml
UNKNOWN_ORG = "999999999999999999"
TOKEN_INVALID = ("unauthenticated", "Errors.Token.Invalid", "AUTH-7fs1e")
ORG_UNKNOWN = ("permission_denied", "Organisation doesn't exist", "AUTH-Bs7Ds")


def call(client: Zitadel, rpc: str, **options: Any) -> object:
    """One of the three v2 RPCs, as a consumer calls it."""
    if rpc == "ListAuthenticationFactors":
        return client.users.list_authentication_factors(
            UserServiceListAuthenticationFactorsRequest(user_id=USER_ID), **options
        )
    if rpc == "ListAuthenticationMethodTypes":
        return client.users.list_authentication_method_types(
            UserServiceListAuthenticationMethodTypesRequest(user_id=USER_ID), **options
        )
    return client.settings.get_login_settings(SettingsServiceGetLoginSettingsRequest(), **options)


RPCS = ["ListAuthenticationFactors", "ListAuthenticationMethodTypes", "GetLoginSettings"]


def refusal(error: ApiError) -> tuple[int, str, str, str]:
    """The HTTP status, Connect code, message and ZITADEL error id of a refused call."""
    body = error.response_body
    assert isinstance(body, dict), body
    (detail,) = body["details"]
    assert detail["type"] == "zitadel.v1.ErrorDetail"
    # The detail's value is the ErrorDetail message itself (protobuf, unpadded base64): field 1
    # the id, field 2 the message; the debug form must say the same.
    raw = base64.b64decode(detail["value"] + "=" * (-len(detail["value"]) % 4))
    assert raw[0] == 0x0A
    assert raw[2 : 2 + raw[1]].decode() == detail["debug"]["id"]
    message = detail["debug"]["message"]
    assert body["message"] == f"{message} ({detail['debug']['id']})"
    return error.code, body["code"], message, detail["debug"]["id"]


@pytest.mark.parametrize("rpc", RPCS)
def test_a_call_without_a_token_is_unauthenticated(mock_url: str, rpc: str) -> None:
    with pytest.raises(ApiError) as raised:
        call(Zitadel(NoAuthAuthenticator(mock_url)), rpc)
    # ZITADEL's "auth header missing" carries no ErrorDetail.
    assert (raised.value.code, raised.value.response_body) == (
        401,
        {"code": "unauthenticated", "message": "auth header missing"},
    )


@pytest.mark.parametrize("rpc", RPCS)
def test_an_unknown_personal_access_token_is_unauthenticated(mock_url: str, rpc: str) -> None:
    with pytest.raises(ApiError) as raised:
        call(Zitadel.with_access_token(mock_url, "not-a-token-of-the-scenario"), rpc)
    assert refusal(raised.value) == (401, *TOKEN_INVALID)


@pytest.mark.parametrize("flow", ["client_credentials", "private_key"])
def test_a_signed_in_token_the_server_forgot_is_unauthenticated(
    flow: str, make_client: MakeClient, mock_url: str, mock_state: State
) -> None:
    client = make_client(flow, mock_url)
    call(client, "GetLoginSettings")  # signs in; the SDK keeps the token for its lifetime
    mock_state.reset()  # the server forgets the tokens it issued, as after a restart
    for rpc in RPCS:
        with pytest.raises(ApiError) as raised:
            call(client, rpc)
        assert refusal(raised.value) == (401, *TOKEN_INVALID)


@pytest.mark.parametrize("rpc", RPCS)
def test_an_unknown_org_header_is_permission_denied(
    flow: str, make_client: MakeClient, mock_url: str, rpc: str
) -> None:
    # The SDK's way to send a header with every request (the sign-in's too: ZITADEL's token
    # endpoint does not read it).
    options = TransportOptions(default_headers={"x-zitadel-orgid": UNKNOWN_ORG})
    with pytest.raises(ApiError) as raised:
        call(make_client(flow, mock_url, options), rpc)
    assert refusal(raised.value) == (403, *ORG_UNKNOWN)


def test_an_unknown_org_header_on_one_call_is_permission_denied(
    flow: str, make_client: MakeClient, mock_url: str
) -> None:
    client = make_client(flow, mock_url)
    with pytest.raises(ApiError) as raised:
        call(client, "GetLoginSettings", _headers={"x-zitadel-orgid": UNKNOWN_ORG})
    assert refusal(raised.value) == (403, *ORG_UNKNOWN)
    call(client, "GetLoginSettings")  # the next call, without it, is answered


def test_a_wrong_client_secret_fails_the_sign_in(mock_url: str) -> None:
    client = Zitadel.with_client_credentials(mock_url, "globex-robot", "not-the-secret")
    wrong = r"invalid_request: Errors\.User\.Machine\.Secret\.Invalid"
    with pytest.raises(ZitadelError, match=wrong):
        call(client, "GetLoginSettings")


def test_an_unknown_client_fails_the_sign_in(mock_url: str) -> None:
    client = Zitadel.with_client_credentials(mock_url, "nobody", "a-secret")
    with pytest.raises(ZitadelError, match="invalid_client: client not found"):
        call(client, "GetLoginSettings")


@pytest.fixture
def other_key_file(tmp_path: Path) -> Path:
    """A key file with the scenario's key id and user but another private key (a test key)."""
    scenario_key = json.loads(KEY_FILE.read_text(encoding="utf-8"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    key_file = tmp_path / "other-key.json"
    key_file.write_text(json.dumps(scenario_key | {"key": pem}), encoding="utf-8")
    return key_file


def test_an_assertion_signed_with_another_key_fails_the_sign_in(
    mock_url: str, other_key_file: Path
) -> None:
    # ZITADEL up to 4.13.1 answers a bad assertion 500 server_error; authlib reports the status.
    client = Zitadel.with_private_key(mock_url, str(other_key_file))
    with pytest.raises(ZitadelError, match="500 Server Error"):
        call(client, "GetLoginSettings")


def test_a_url_with_a_trailing_slash_fails_the_key_sign_in(mock_url: str) -> None:
    # The SDK signs the URL as given as the assertion's audience, and the issuer has no slash.
    client = Zitadel.with_private_key(mock_url + "/", str(KEY_FILE))
    with pytest.raises(ZitadelError, match="500 Server Error"):
        call(client, "GetLoginSettings")
    call(Zitadel.with_private_key(mock_url, str(KEY_FILE)), "GetLoginSettings")


def test_a_forced_outage_reaches_the_sdk_as_its_status_and_code(
    flow: str, make_client: MakeClient, mock_url: str, mock_state: State
) -> None:
    # What a consumer's retry logic sees: the HTTP status, Connect's code, the rule's message.
    mock_state.add_error(
        rpc="ListAuthenticationMethodTypes", code="UNAVAILABLE", id="QUERY-down1", times=1
    )
    client = make_client(flow, mock_url)
    with pytest.raises(ApiError) as raised:
        call(client, "ListAuthenticationMethodTypes")
    assert refusal(raised.value)[:2] == (503, "unavailable")
    assert refusal(raised.value)[3] == "QUERY-down1"
    call(client, "ListAuthenticationMethodTypes")  # times=1: the retry is answered


@pytest.mark.parametrize("flow", ["client_credentials", "private_key"])
def test_a_forced_error_at_the_token_endpoint_fails_the_sign_in(
    flow: str, make_client: MakeClient, mock_url: str, mock_state: State
) -> None:
    # A 5xx kind is OAuth's server_error, which authlib reports by its HTTP status alone.
    mock_state.add_error(rpc="Token", code="UNAVAILABLE", times=1)
    client = make_client(flow, mock_url)
    with pytest.raises(ZitadelError, match=r"^Failed to refresh token: 5\d\d Server Error"):
        call(client, "GetLoginSettings")
    call(client, "GetLoginSettings")  # the SDK signs in again at the next call
