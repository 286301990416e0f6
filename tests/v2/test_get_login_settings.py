"""GetLoginSettings (PROTOCOLS.md 4.3), on Connect JSON, Connect binary and REST."""

from __future__ import annotations

from typing import Any

from v2kit import V2Client, scenario_state

RPC = "GetLoginSettings"
STAMP = "2025-08-28T10:46:22.123456Z"
INSTANCE_ID = "259242039378440001"
ACME = "259242039378444290"
# A new instance's login policy, every field (4.3's JSON of the default).
DEFAULT_SETTINGS: dict[str, Any] = {
    "allowUsernamePassword": True,
    "allowLocalAuthentication": True,
    "allowRegister": True,
    "allowExternalIdp": True,
    "passkeysType": "PASSKEYS_TYPE_ALLOWED",
    "passwordCheckLifetime": "864000s",
    "externalLoginCheckLifetime": "864000s",
    "mfaInitSkipLifetime": "2592000s",
    "secondFactorCheckLifetime": "64800s",
    "multiFactorCheckLifetime": "43200s",
    "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"],
    "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
    "allowDomainDiscovery": True,
    "resourceOwnerType": "RESOURCE_OWNER_TYPE_INSTANCE",
}
DEFAULT = {
    "details": {"changeDate": STAMP, "resourceOwner": INSTANCE_ID, "creationDate": STAMP},
    "settings": DEFAULT_SETTINGS,
}
ACME_SETTINGS = {
    "details": {
        "sequence": "42",
        "changeDate": STAMP,
        "resourceOwner": ACME,
        "creationDate": STAMP,
    },
    "settings": {
        "allowUsernamePassword": True,
        "allowLocalAuthentication": True,
        "allowRegister": True,
        "allowExternalIdp": True,
        "forceMfa": True,
        "defaultRedirectUri": "https://acme.example/home",
        "passwordCheckLifetime": "3600s",
        "externalLoginCheckLifetime": "864000s",
        "mfaInitSkipLifetime": "2592000s",
        "secondFactorCheckLifetime": "64800s",
        "multiFactorCheckLifetime": "43200s",
        "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_OTP_EMAIL"],
        "allowDomainDiscovery": True,
        "resourceOwnerType": "RESOURCE_OWNER_TYPE_ORG",
    },
}


def test_the_context_org_without_a_policy_gets_the_instance_default(v2: V2Client) -> None:
    reply = v2(RPC, token="ivan-token")
    assert (reply.status, reply.body) == (200, DEFAULT)


def test_ctx_instance(v2: V2Client) -> None:
    assert v2(RPC, ctx={"instance": True}).body == DEFAULT


def test_the_context_orgs_own_policy(v2: V2Client) -> None:
    assert v2(RPC).body == ACME_SETTINGS
    assert v2(RPC, token="root-token", org=ACME).body == ACME_SETTINGS


def test_ctx_org_id(v2: V2Client) -> None:
    assert v2(RPC, token="root-token", ctx={"orgId": ACME}).body == ACME_SETTINGS


def test_an_unknown_org_id_falls_back_to_the_instance_default(v2: V2Client) -> None:
    reply = v2(RPC, ctx={"orgId": "404"})
    assert (reply.status, reply.body) == (200, DEFAULT)


def test_policy_read_is_checked_in_the_callers_context_org_not_in_ctx(v2: V2Client) -> None:
    # ivan owns Initech (in context) and is nobody in ACME.
    assert v2(RPC, token="ivan-token", ctx={"orgId": ACME}).body == ACME_SETTINGS
    missing = v2(RPC, token="bob-token", ctx={"instance": True})
    assert (missing.status, missing.error()[2]) == (404, "AUTHZ-cdgFk")
    denied = v2(RPC, token="impostor-token")
    assert denied.status == 403
    assert denied.error() == (7, "No matching permissions found (AUTH-5mWD2)", "AUTH-5mWD2")


def test_ctx_instance_must_be_true(v2: V2Client) -> None:
    reply = v2(RPC, ctx={"instance": False})
    assert reply.status == 400
    assert reply.error() == (
        3,
        "invalid GetLoginSettingsRequest.Ctx: embedded message failed validation | "
        "caused by: invalid RequestContext.Instance: value must equal true",
        None,
    )


def test_the_interceptors_checks(v2: V2Client) -> None:
    assert v2(RPC, token=None).error() == (16, "auth header missing", None)
    assert v2(RPC, org="404").error()[2] == "AUTH-Bs7Ds"


def test_the_scenarios_second_factors_feed_second_factors(make_v2: Any) -> None:
    state = scenario_state(
        """
        version: 1
        clock: "2025-08-28T10:46:22Z"
        instance:
          id: "77"
          login_policy: {second_factors: [u2f, recovery_codes, otp]}
        orgs:
          - name: ACME
        """
    )
    body = make_v2(state)(RPC, token="any").body
    assert body["settings"]["secondFactors"] == [
        "SECOND_FACTOR_TYPE_U2F",
        "SECOND_FACTOR_TYPE_RECOVERY_CODES",
        "SECOND_FACTOR_TYPE_OTP",
    ]
    assert body["details"]["resourceOwner"] == "77"


def test_a_change_at_run_time_is_answered(make_v2: Any) -> None:
    state = scenario_state()
    state.set_second_factors("Initech", ["otp_sms"])
    reply = make_v2(state)(RPC, token="ivan-token")
    assert reply.body["settings"]["secondFactors"] == ["SECOND_FACTOR_TYPE_OTP_SMS"]
    assert reply.body["details"]["resourceOwner"] == "3001"
