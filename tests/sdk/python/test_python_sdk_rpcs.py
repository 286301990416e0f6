"""zitadel-client calls the three v2 RPCs with each of its sign-ins and gets the scenario's answers.

Every expectation is built from scenario.yaml (see conftest.py), through the names ZITADEL's
API gives the scenario's words; the SDK's pydantic models parse every answer on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from zitadel_client import Zitadel
from zitadel_client.models import (
    SettingsServiceGetLoginSettingsRequest,
    SettingsServiceGetLoginSettingsResponse,
    SettingsServiceRequestContext,
    UserServiceAuthFactor,
    UserServiceListAuthenticationFactorsRequest,
    UserServiceListAuthenticationMethodTypesRequest,
)

from zitadel_mock import State

MakeClient = Callable[..., Zitadel]  # conftest's make_client

# The scenario's words as ZITADEL's v2 API names them.
FACTOR_FIELD = {"otp": "otp", "u2f": "u2f", "otp_sms": "otp_sms", "otp_email": "otp_email"}
FACTOR_FILTER = {"otp": "OTP", "u2f": "U2F", "otp_sms": "OTP_SMS", "otp_email": "OTP_EMAIL"}
FACTOR_STATE = {"ready": "AUTH_FACTOR_STATE_READY", "not_ready": "AUTH_FACTOR_STATE_NOT_READY"}
METHOD_TYPE = {"otp": "TOTP", "u2f": "U2F", "otp_sms": "OTP_SMS", "otp_email": "OTP_EMAIL"}
# A new instance's login policy, for the settings a scenario's policy leaves out.
DEFAULT_POLICY: dict[str, Any] = {
    "allow_register": True,
    "force_mfa": False,
    "passkeys_type": "allowed",
    "multi_factors": ["u2f_with_verification"],
    "second_factor_check_lifetime": 64800,
    "default_redirect_uri": "",
}


def human(scenario: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario's human user with factors, and their org."""
    return next(
        (user, org) for org in scenario["orgs"] for user in org["users"] if user.get("auth_factors")
    )


def factors(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """The human's factors as mappings, in the scenario's order."""
    user, _ = human(scenario)
    return [{"type": f} if isinstance(f, str) else f for f in user["auth_factors"]]


def seen(factor: UserServiceAuthFactor) -> tuple[str, str, dict[str, str]]:
    """A factor as the SDK parsed it: its state, which kind it is, and that kind's fields."""
    kinds = {name: getattr(factor, name) for name in FACTOR_FIELD.values()}
    (kind, value), *others = [(name, value) for name, value in kinds.items() if value is not None]
    assert others == [], f"a factor of more than one kind: {factor!r}"
    fields = value if isinstance(value, dict) else value.model_dump(exclude_none=True)
    assert factor.state is not None
    return factor.state.value, kind, fields


def expected(factor: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    fields = {k: factor[k] for k in ("id", "name") if k in factor}
    return FACTOR_STATE[factor.get("state", "ready")], FACTOR_FIELD[factor["type"]], fields


def test_list_authentication_factors_gives_the_ready_factors_in_the_scenario_order(
    flow: str, make_client: MakeClient, mock_url: str, scenario: dict[str, Any]
) -> None:
    user, _ = human(scenario)
    answer = make_client(flow, mock_url).users.list_authentication_factors(
        UserServiceListAuthenticationFactorsRequest(user_id=user["id"])
    )
    ready = [f for f in factors(scenario) if f.get("state", "ready") == "ready"]
    assert 0 < len(ready) < len(factors(scenario))  # and one factor that is left out
    assert [seen(f) for f in answer.result or []] == [expected(f) for f in ready]


def test_list_authentication_factors_filters_by_type_and_state(
    flow: str, make_client: MakeClient, mock_url: str, scenario: dict[str, Any]
) -> None:
    user, _ = human(scenario)
    client = make_client(flow, mock_url)
    not_ready = client.users.list_authentication_factors(
        UserServiceListAuthenticationFactorsRequest(
            user_id=user["id"], states=["AUTH_FACTOR_STATE_NOT_READY"]
        )
    )
    assert [seen(f) for f in not_ready.result or []] == [
        expected(f) for f in factors(scenario) if f.get("state") == "not_ready"
    ]
    u2f = client.users.list_authentication_factors(
        UserServiceListAuthenticationFactorsRequest(
            user_id=user["id"], auth_factors=[FACTOR_FILTER["u2f"]]
        )
    )
    assert [seen(f) for f in u2f.result or []] == [
        expected(f) for f in factors(scenario) if f["type"] == "u2f"
    ]


def test_list_authentication_method_types_gives_each_kind_the_user_has(
    flow: str, make_client: MakeClient, mock_url: str, scenario: dict[str, Any]
) -> None:
    user, _ = human(scenario)
    answer = make_client(flow, mock_url).users.list_authentication_method_types(
        UserServiceListAuthenticationMethodTypesRequest(user_id=user["id"])
    )
    # ZITADEL's order: passkey, the ready factor types as registered, password, IdP.
    ready = [METHOD_TYPE[f["type"]] for f in factors(scenario) if f.get("state") != "not_ready"]
    want = (
        ["PASSKEY"] * bool(user.get("passkeys"))
        + list(dict.fromkeys(ready))
        + ["PASSWORD"] * bool(user.get("password"))
        + ["IDP"] * bool(user.get("idp_links"))
    )
    assert [t.value for t in answer.auth_method_types or []] == [
        f"AUTHENTICATION_METHOD_TYPE_{name}" for name in want
    ]
    assert answer.details is not None
    assert answer.details.total_result == str(len(want))
    clock = datetime.fromisoformat(scenario["clock"].replace("Z", "+00:00"))
    assert answer.details.timestamp == clock


def policy_of(settings: SettingsServiceGetLoginSettingsResponse) -> dict[str, Any]:
    """What the SDK parsed, in the scenario's words."""
    found = settings.settings
    assert found is not None
    return {
        "second_factors": [
            f.value.removeprefix("SECOND_FACTOR_TYPE_").lower() for f in found.second_factors or []
        ],
        "allow_register": bool(found.allow_register),
        "force_mfa": bool(found.force_mfa),
        # protojson leaves out an enum's zero value, which is NOT_ALLOWED.
        "passkeys_type": (
            found.passkeys_type.value.removeprefix("PASSKEYS_TYPE_").lower()
            if found.passkeys_type is not None
            else "not_allowed"
        ),
        "multi_factors": [
            f.value.removeprefix("MULTI_FACTOR_TYPE_").lower() for f in found.multi_factors or []
        ],
        "second_factor_check_lifetime": int(str(found.second_factor_check_lifetime).rstrip("s")),
        "default_redirect_uri": found.default_redirect_uri or "",
    }


def scenario_policy(policy: dict[str, Any]) -> dict[str, Any]:
    return {key: policy.get(key, default) for key, default in DEFAULT_POLICY.items()} | {
        "second_factors": policy["second_factors"]
    }


def owner_of(settings: SettingsServiceGetLoginSettingsResponse) -> tuple[str | None, str]:
    assert settings.details is not None
    assert settings.settings is not None
    assert settings.settings.resource_owner_type is not None
    return settings.details.resource_owner, settings.settings.resource_owner_type.value


def test_get_login_settings_gives_the_callers_org_policy(
    flow: str, make_client: MakeClient, mock_url: str, scenario: dict[str, Any]
) -> None:
    _, org = human(scenario)
    client = make_client(flow, mock_url)
    own = client.settings.get_login_settings(SettingsServiceGetLoginSettingsRequest())
    named = client.settings.get_login_settings(
        SettingsServiceGetLoginSettingsRequest(ctx=SettingsServiceRequestContext(org_id=org["id"]))
    )
    for answer in (own, named):
        assert policy_of(answer) == scenario_policy(org["login_policy"])
        assert owner_of(answer) == (org["id"], "RESOURCE_OWNER_TYPE_ORG")
    instance = scenario_policy(scenario["instance"]["login_policy"])
    assert policy_of(own) != instance  # the scenario tells the two apart


@pytest.mark.parametrize(
    "ctx",
    [
        SettingsServiceRequestContext(instance=True),
        # ZITADEL falls back to the instance's policy for an id that is no org, without error.
        SettingsServiceRequestContext(org_id="999999999999999999"),
    ],
    ids=["instance", "unknown-org-id"],
)
def test_get_login_settings_gives_the_instance_default(
    flow: str,
    make_client: MakeClient,
    mock_url: str,
    scenario: dict[str, Any],
    ctx: SettingsServiceRequestContext,
) -> None:
    answer = make_client(flow, mock_url).settings.get_login_settings(
        SettingsServiceGetLoginSettingsRequest(ctx=ctx)
    )
    assert policy_of(answer) == scenario_policy(scenario["instance"]["login_policy"])
    assert owner_of(answer) == (scenario["instance"]["id"], "RESOURCE_OWNER_TYPE_INSTANCE")


def key_paths(value: object, prefix: str = "") -> set[str]:
    """Every key of a JSON-like value, as dotted paths (list items under ``[]``)."""
    if isinstance(value, dict):
        found = set()
        for key, item in value.items():
            found |= {f"{prefix}{key}"} | key_paths(item, f"{prefix}{key}.")
        return found
    if isinstance(value, list):
        return set().union(*(key_paths(item, f"{prefix}[].") for item in value))
    return set()


def test_the_sdk_models_know_every_field_of_each_answer(
    make_client: MakeClient, mock_url: str, mock_state: State, scenario: dict[str, Any]
) -> None:
    # The SDK's models read the fields they know and drop any other without a word: a field the
    # mock misnamed would be lost silently. So what the SDK parsed must hold every key sent.
    user, org = human(scenario)
    client = make_client("personal_access_token", mock_url)
    every_state = ["AUTH_FACTOR_STATE_READY", "AUTH_FACTOR_STATE_NOT_READY"]
    answers = [
        client.users.list_authentication_factors(
            UserServiceListAuthenticationFactorsRequest(user_id=user["id"], states=every_state)
        ),
        client.users.list_authentication_method_types(
            UserServiceListAuthenticationMethodTypesRequest(user_id=user["id"])
        ),
        client.settings.get_login_settings(
            SettingsServiceGetLoginSettingsRequest(
                ctx=SettingsServiceRequestContext(org_id=org["id"])
            )
        ),
        client.settings.get_login_settings(
            SettingsServiceGetLoginSettingsRequest(ctx=SettingsServiceRequestContext(instance=True))
        ),
    ]
    sent = [call.answer for call in mock_state.journal.calls()]
    for answer, body in zip(answers, sent, strict=True):
        assert isinstance(body, dict)
        assert len(key_paths(body)) > 2, body
        assert key_paths(body) - key_paths(answer.to_dict()) == set(), body
