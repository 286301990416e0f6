"""ListAuthenticationMethodTypes (PROTOCOLS.md 4.2), on Connect JSON, Connect binary and REST."""

from __future__ import annotations

import pytest
from v2kit import V2Client

from zitadel_mock import ScenarioError, parse_scenario

RPC = "ListAuthenticationMethodTypes"
STAMP = "2025-08-28T10:46:22.123456Z"
ALICE = [
    "AUTHENTICATION_METHOD_TYPE_PASSKEY",
    "AUTHENTICATION_METHOD_TYPE_TOTP",
    "AUTHENTICATION_METHOD_TYPE_U2F",
    "AUTHENTICATION_METHOD_TYPE_OTP_SMS",
    "AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE",
    "AUTHENTICATION_METHOD_TYPE_PASSWORD",
    "AUTHENTICATION_METHOD_TYPE_IDP",
]


def test_ready_factor_types_then_password_then_idp(v2: V2Client) -> None:
    reply = v2(RPC, "1003")
    assert reply.status == 200
    assert reply.body == {
        "details": {"totalResult": "7", "timestamp": STAMP},
        "authMethodTypes": ALICE,
    }


def test_the_user_itself(v2: V2Client) -> None:
    assert v2(RPC, "1003", token="alice-token").body["authMethodTypes"] == ALICE


def test_a_password_alone(v2: V2Client) -> None:
    reply = v2(RPC, "2002", token="root-token")
    assert reply.body["authMethodTypes"] == [
        "AUTHENTICATION_METHOD_TYPE_TOTP",
        "AUTHENTICATION_METHOD_TYPE_PASSWORD",
    ]


def test_details_carry_the_timestamp_even_when_empty(v2: V2Client) -> None:
    assert v2(RPC, "1006", token="bob-token").body == {"details": {"timestamp": STAMP}}
    assert v2(RPC, "1007").body == {"details": {"timestamp": STAMP}}  # a machine user


def test_an_unknown_user_is_an_empty_list_once_the_permission_passed(v2: V2Client) -> None:
    assert v2(RPC, "999").body == {"details": {"timestamp": STAMP}}


def test_the_permission_is_checked_before_the_query(v2: V2Client) -> None:
    # Even for a user that does not exist, unlike ListAuthenticationFactors.
    denied = v2(RPC, "999", token="settings-token")
    assert denied.status == 403
    assert denied.error() == (7, "No matching permissions found (AUTH-AWfge)", "AUTH-AWfge")
    missing = v2(RPC, "999", token="bob-token")
    assert (missing.status, missing.error()[2]) == (404, "AUTHZ-cdgFk")


def test_the_permission_is_checked_in_the_callers_context_org(v2: V2Client) -> None:
    # ivan owns Initech (his org, in context) and nothing in ACME, alice's org.
    assert v2(RPC, "1003", token="ivan-token").body["authMethodTypes"] == ALICE
    # With ACME in context he has no membership there.
    assert v2(RPC, "1003", token="ivan-token", org="259242039378444290").status == 404


def test_the_user_id_is_validated(v2: V2Client) -> None:
    reply = v2(RPC, "1" * 201)
    assert reply.status == 400
    assert reply.error()[1].startswith("invalid ListAuthenticationMethodTypesRequest.UserId: ")


def test_the_interceptors_checks(v2: V2Client) -> None:
    assert v2(RPC, "1003", token=None).status == 401
    assert v2(RPC, "1003", token="expired-token").error()[2] == "AUTH-7fs1e"
    assert v2(RPC, "1003", org="404").error()[2] == "AUTH-Bs7Ds"


def test_recovery_codes_need_4_10() -> None:
    text = """
    version: 1
    zitadel_version: "4.9"
    orgs:
      - name: ACME
        users:
          - {username: alice, recovery_codes: true}
    """
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text.replace("\n    ", "\n"), source="s.yaml")
    assert str(caught.value) == (
        "s.yaml:7: orgs[0].users[0].recovery_codes: a user's recovery_codes needs "
        "zitadel_version 4.10.0 or later; this scenario answers as 4.9.0"
    )
