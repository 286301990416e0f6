"""ListAuthenticationFactors (PROTOCOLS.md 4.1), on Connect JSON, Connect binary and REST."""

from __future__ import annotations

from v2kit import V2Client

RPC = "ListAuthenticationFactors"
OTP = {"state": "AUTH_FACTOR_STATE_READY", "otp": {}}
YUBIKEY = {"state": "AUTH_FACTOR_STATE_READY", "u2f": {"id": "1004", "name": "YubiKey"}}
SMS = {"state": "AUTH_FACTOR_STATE_READY", "otpSms": {}}


def test_without_filters_every_type_in_state_ready(v2: V2Client) -> None:
    reply = v2(RPC, "1003")
    assert (reply.status, reply.body) == (200, {"result": [OTP, YUBIKEY, SMS]})


def test_the_type_filter(v2: V2Client) -> None:
    reply = v2(RPC, "1003", auth_factors=("U2F", "OTP_SMS"))
    assert reply.body == {"result": [YUBIKEY, SMS]}


def test_otp_is_the_zero_value_and_still_filters(v2: V2Client) -> None:
    assert v2(RPC, "1003", auth_factors=("OTP",)).body == {"result": [OTP]}


def test_the_state_filter_shows_an_unverified_u2f_without_its_name(v2: V2Client) -> None:
    reply = v2(RPC, "1003", states=("AUTH_FACTOR_STATE_NOT_READY",))
    assert reply.body == {
        "result": [
            {"state": "AUTH_FACTOR_STATE_NOT_READY", "u2f": {"id": "1005"}},
            {"state": "AUTH_FACTOR_STATE_NOT_READY", "otpEmail": {}},
        ]
    }


def test_no_organisation_filter(v2: V2Client) -> None:
    # root is an IAM_OWNER with ACME in context; gina is in Globex (v1 filters from 4.12.2).
    reply = v2(RPC, "2002", token="root-token", org="259242039378444290")
    assert reply.body == {"result": [OTP]}


def test_the_user_itself_needs_no_permission(v2: V2Client) -> None:
    assert v2(RPC, "1003", token="alice-token").body == {"result": [OTP, YUBIKEY, SMS]}


def test_rows_found_without_membership_in_the_users_org(v2: V2Client) -> None:
    reply = v2(RPC, "1003", token="bob-token")
    assert reply.status == 404
    assert reply.error() == (5, "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk")


def test_rows_found_without_user_read_in_the_users_org(v2: V2Client) -> None:
    reply = v2(RPC, "1003", token="settings-token")
    assert reply.status == 403
    assert reply.error() == (7, "No matching permissions found (AUTH-AWfge)", "AUTH-AWfge")


def test_the_permission_is_checked_in_the_users_own_org(v2: V2Client) -> None:
    # ivan owns Initech, the org in context; alice is in ACME, where he is nobody.
    assert v2(RPC, "1003", token="ivan-token").status == 404


def test_no_rows_no_permission_check(v2: V2Client) -> None:
    assert (v2(RPC, "999", token="bob-token").status, v2(RPC, "999").body) == (200, {})
    assert v2(RPC, "1006", token="settings-token").body == {}  # bob has no factors
    assert v2(RPC, "1007", token="settings-token").body == {}  # a machine user
    filtered = v2(RPC, "1003", token="bob-token", auth_factors=("OTP_EMAIL",))
    assert (filtered.status, filtered.body) == (200, {})


def test_the_user_id_is_validated_after_the_auth_checks(v2: V2Client) -> None:
    long_id = "1" * 201
    reply = v2(RPC, long_id)
    assert reply.status == 400
    message = (
        "invalid ListAuthenticationFactorsRequest.UserId: "
        "value length must be between 1 and 200 runes, inclusive"
    )
    assert reply.error() == (3, message, None)
    assert v2(RPC, long_id, token=None).status == 401


def test_the_interceptors_checks(v2: V2Client) -> None:
    assert v2(RPC, "1003", token=None).error() == (16, "auth header missing", None)
    assert v2(RPC, "1003", token="Basic abc").error()[2] == "AUTH-toLo1"
    expired = v2(RPC, "1003", token="expired-token")
    assert (expired.status, expired.error()[2]) == (401, "AUTH-7fs1e")
    missing = v2(RPC, "1003", org="404")
    assert (missing.status, missing.error()[2]) == (403, "AUTH-Bs7Ds")
