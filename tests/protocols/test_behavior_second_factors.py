"""BEHAVIOR 3: ListLoginPolicySecondFactors: the org's custom login policy, else the instance's
default (OTP, U2F on a new instance); order as added; details."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from falcon.testing import TestClient
from testkit import SECOND_FACTOR_TYPES, SECOND_FACTORS

from zitadel_mock import Factor, State, parse_scenario

Make = Callable[..., TestClient]

ANY = {"Authorization": "Bearer any"}  # the scenarios list no tokens: any bearer is an owner
STAMP = "2025-08-28T10:46:22.123456Z"


def scenario(org_policy: str | None, instance_policy: str | None = None) -> str:
    org = f", login_policy: {org_policy}" if org_policy is not None else ""
    instance = f"instance: {{login_policy: {instance_policy}}}" if instance_policy else ""
    return f"""
    version: 1
    clock: "{STAMP}"
    {instance}
    orgs: [{{name: A, id: "1"{org}}}]
    """


def names(*short: str) -> list[str]:
    return [f"SECOND_FACTOR_TYPE_{name}" for name in short]


def test_custom_policy_of_the_org_in_context(make_client: Make) -> None:
    text = f"""
    version: 1
    clock: "{STAMP}"
    orgs:
      - {{name: A, id: "1", login_policy: {{second_factors: [otp_email, u2f]}}}}
      - {{name: B, id: "2", login_policy: {{second_factors: [otp_sms]}}}}
    """
    client = make_client(text)
    first = client.simulate_post(SECOND_FACTORS, headers={**ANY, "x-zitadel-orgid": "1"})
    assert first.content == (
        b'{"details":{"totalResult":"2","viewTimestamp":"' + STAMP.encode() + b'"},'
        b'"result":["SECOND_FACTOR_TYPE_OTP_EMAIL","SECOND_FACTOR_TYPE_U2F"]}'
    )
    second = client.simulate_post(SECOND_FACTORS, headers={**ANY, "x-zitadel-orgid": "2"})
    assert second.json["result"] == names("OTP_SMS")


def test_default_instance_policy_is_otp_then_u2f(make_client: Make) -> None:
    result = make_client(scenario(None)).simulate_post(SECOND_FACTORS, headers=ANY)
    assert result.content == (
        b'{"details":{"totalResult":"2","viewTimestamp":"' + STAMP.encode() + b'"},'
        b'"result":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"]}'
    )


def test_org_without_custom_policy_follows_the_instance_policy(make_client: Make) -> None:
    text = scenario(None, "{second_factors: [otp_sms, otp_email]}")
    result = make_client(text).simulate_post(SECOND_FACTORS, headers=ANY)
    assert result.json["result"] == names("OTP_SMS", "OTP_EMAIL")
    assert result.json["details"]["totalResult"] == "2"


def test_custom_policy_wins_over_the_instance_policy(make_client: Make) -> None:
    text = scenario("{second_factors: [u2f]}", "{second_factors: [otp_sms, otp_email]}")
    result = make_client(text).simulate_post(SECOND_FACTORS, headers=ANY)
    assert result.json["result"] == names("U2F")


@pytest.mark.parametrize(
    "order",
    [
        ["otp", "u2f", "otp_email", "otp_sms"],
        ["otp_sms", "otp_email", "u2f", "otp"],
        ["u2f", "otp"],
        ["otp_email", "otp", "otp_sms"],
        ["otp_sms"],
    ],
)
@pytest.mark.parametrize("where", ["org", "instance"])
def test_result_in_the_order_the_factors_were_added(
    make_client: Make, order: list[str], where: str
) -> None:
    policy = f"{{second_factors: [{', '.join(order)}]}}"
    text = scenario(policy) if where == "org" else scenario(None, policy)
    details = make_client(text).simulate_post(SECOND_FACTORS, headers=ANY).json
    assert details["result"] == names(*(name.upper() for name in order))
    assert details["details"]["totalResult"] == str(len(order))


def test_full_enum_names_in_a_scenario(make_client: Make) -> None:
    text = scenario("{second_factors: [SECOND_FACTOR_TYPE_OTP_SMS, SECOND_FACTOR_TYPE_OTP]}")
    result = make_client(text).simulate_post(SECOND_FACTORS, headers=ANY)
    assert result.json["result"] == names("OTP_SMS", "OTP")


@pytest.mark.parametrize(
    "text",
    [
        scenario("{second_factors: []}"),
        # An empty custom policy is still the org's own: no fallback to a non-empty default.
        scenario("{second_factors: []}", "{second_factors: [otp, u2f, otp_sms]}"),
        scenario(None, "{second_factors: []}"),
    ],
    ids=["org", "org-over-instance", "instance"],
)
def test_a_policy_without_second_factors(make_client: Make, text: str) -> None:
    result = make_client(text).simulate_post(SECOND_FACTORS, headers=ANY)
    assert result.status_code == 200
    assert result.content == b'{"details":{"viewTimestamp":"' + STAMP.encode() + b'"}}'


@pytest.mark.parametrize("where", ["org", "instance"])
def test_processed_sequence_only_when_set(make_client: Make, where: str) -> None:
    for policy, expected in [
        ("{second_factors: [otp]}", None),
        ("{second_factors: [otp], processed_sequence: 267831}", "267831"),
        ("{second_factors: [], processed_sequence: 5}", "5"),
    ]:
        text = scenario(policy) if where == "org" else scenario(None, policy)
        details = make_client(text).simulate_post(SECOND_FACTORS, headers=ANY).json["details"]
        assert details.get("processedSequence") == expected
        assert details["viewTimestamp"] == STAMP


def test_details_with_every_field(make_client: Make) -> None:
    text = scenario("{second_factors: [otp, u2f, otp_email], processed_sequence: 267831}")
    result = make_client(text).simulate_post(SECOND_FACTORS, headers=ANY)
    assert result.content.startswith(
        b'{"details":{"totalResult":"3","processedSequence":"267831",'
        b'"viewTimestamp":"' + STAMP.encode() + b'"},"result":['
    )


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_second_factor_type_names_and_numbers(number: int) -> None:
    factor = Factor(number)
    assert factor.second_factor_type == SECOND_FACTOR_TYPES[number]


def test_a_policy_change_is_served_with_its_time(make_client: Make) -> None:
    state = State(parse_scenario(scenario(None)))
    client = make_client(state)
    state.set_second_factors("A", ["otp_email"])
    result = client.simulate_post(SECOND_FACTORS, headers=ANY)
    assert result.json == {
        "details": {"totalResult": "1", "viewTimestamp": STAMP},
        "result": names("OTP_EMAIL"),
    }
    state.set_second_factors("A", None)  # back to the instance default
    assert client.simulate_post(SECOND_FACTORS, headers=ANY).json["result"] == names("OTP", "U2F")
