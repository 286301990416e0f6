"""The two answers: second factors and auth factors, in ZITADEL's JSON (BEHAVIOR 2, 3, 4)."""

from __future__ import annotations

import pytest
from support import (
    ACME,
    ALICE,
    CAROL,
    GLOBEX,
    MAIN,
    SECOND_FACTORS,
    U2F_ID,
    auth_factors,
    bearer,
    checked,
    client,
)

STAMP = "2025-08-28T10:46:22.123456Z"


def test_custom_policy_of_the_org_in_context(asgi: bool) -> None:
    result = client(MAIN, asgi).simulate_post(SECOND_FACTORS, headers=bearer("acme-admin"))
    assert result.content == (
        b'{"details":{"totalResult":"2","viewTimestamp":"' + STAMP.encode() + b'"},'
        b'"result":["SECOND_FACTOR_TYPE_OTP_EMAIL","SECOND_FACTOR_TYPE_U2F"]}'
    )


def test_org_without_custom_policy_falls_back_to_the_instance_default(asgi: bool) -> None:
    result = client(MAIN, asgi).simulate_post(SECOND_FACTORS, headers=bearer("globex-admin"))
    body = checked(result)
    # The scenario sets no instance policy: a new instance's default is OTP then U2F.
    assert body["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
    assert body["details"]["totalResult"] == "2"


def test_org_header_selects_the_org(asgi: bool) -> None:
    c = client(MAIN, asgi)
    own = checked(c.simulate_post(SECOND_FACTORS, headers=bearer("iam-viewer")))
    other = checked(
        c.simulate_post(SECOND_FACTORS, headers={**bearer("iam-viewer"), "x-zitadel-orgid": ACME})
    )
    assert own["result"] == ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"]
    assert other == own
    globex = checked(
        c.simulate_post(SECOND_FACTORS, headers={**bearer("iam-viewer"), "x-zitadel-orgid": GLOBEX})
    )
    assert globex["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]


def test_empty_org_header_means_the_callers_org(asgi: bool) -> None:
    c = client(MAIN, asgi)
    headers = {**bearer("globex-admin"), "x-zitadel-orgid": ""}
    body = checked(c.simulate_post(SECOND_FACTORS, headers=headers))
    assert body["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]


@pytest.mark.parametrize(
    ("factors", "expected"),
    [
        ("[otp_sms, otp, u2f, otp_email]", ["OTP_SMS", "OTP", "U2F", "OTP_EMAIL"]),
        ("[u2f]", ["U2F"]),
        ("[SECOND_FACTOR_TYPE_OTP_EMAIL, otp]", ["OTP_EMAIL", "OTP"]),
    ],
)
def test_policy_order_and_names(asgi: bool, factors: str, expected: list[str]) -> None:
    text = f"""
    version: 1
    orgs: [{{name: A, login_policy: {{second_factors: {factors}}}}}]
    """
    body = checked(client(text, asgi).simulate_post(SECOND_FACTORS, headers=bearer("any")))
    assert body["result"] == [f"SECOND_FACTOR_TYPE_{name}" for name in expected]
    assert body["details"]["totalResult"] == str(len(expected))


def test_instance_policy_is_the_default_of_every_org(asgi: bool) -> None:
    text = """
    version: 1
    instance: {login_policy: {second_factors: [otp_sms]}}
    orgs: [{name: A}]
    """
    body = checked(client(text, asgi).simulate_post(SECOND_FACTORS, headers=bearer("x")))
    assert body["result"] == ["SECOND_FACTOR_TYPE_OTP_SMS"]


def test_policy_without_second_factors_omits_result_and_total(asgi: bool) -> None:
    text = """
    version: 1
    clock: "2025-01-02T03:04:05Z"
    orgs: [{name: A, login_policy: {second_factors: []}}]
    """
    result = client(text, asgi).simulate_post(SECOND_FACTORS, headers=bearer("x"))
    assert result.status_code == 200
    assert result.content == b'{"details":{"viewTimestamp":"2025-01-02T03:04:05Z"}}'


def test_processed_sequence_only_when_set(asgi: bool) -> None:
    text = """
    version: 1
    clock: "2025-01-02T03:04:05.5Z"
    orgs: [{name: A, login_policy: {second_factors: [otp], processed_sequence: 267831}}]
    """
    result = client(text, asgi).simulate_post(SECOND_FACTORS, headers=bearer("x"))
    assert result.content == (
        b'{"details":{"totalResult":"1","processedSequence":"267831",'
        b'"viewTimestamp":"2025-01-02T03:04:05.500Z"},"result":["SECOND_FACTOR_TYPE_OTP"]}'
    )


@pytest.mark.parametrize(
    ("clock", "written"),
    [
        ("2025-08-28T10:46:22Z", "2025-08-28T10:46:22Z"),
        ("2025-08-28T10:46:22.1Z", "2025-08-28T10:46:22.100Z"),
        ("2025-08-28T10:46:22.123Z", "2025-08-28T10:46:22.123Z"),
        ("2025-08-28T10:46:22.1234Z", "2025-08-28T10:46:22.123400Z"),
        ("2025-08-28T10:46:22.123456789Z", "2025-08-28T10:46:22.123456789Z"),
        ("2025-08-28T12:46:22.000+02:00", "2025-08-28T10:46:22Z"),
    ],
)
def test_timestamps_in_utc_with_0_3_6_or_9_digits(asgi: bool, clock: str, written: str) -> None:
    text = f"""
    version: 1
    clock: "{clock}"
    orgs: [{{name: A}}]
    """
    body = checked(client(text, asgi).simulate_post(SECOND_FACTORS, headers=bearer("x")))
    assert body["details"]["viewTimestamp"] == written


def test_view_timestamp_without_clock_is_the_load_time(asgi: bool) -> None:
    import time

    before = time.time()
    body = checked(
        client("version: 1\norgs: [{name: A}]\n", asgi).simulate_post(
            SECOND_FACTORS, headers=bearer("x")
        )
    )
    from datetime import datetime

    stamp = datetime.fromisoformat(body["details"]["viewTimestamp"].replace("Z", "+00:00"))
    assert before - 1 <= stamp.timestamp() <= time.time() + 1


def test_auth_factors_ready_only_in_registration_order(asgi: bool) -> None:
    result = client(MAIN, asgi).simulate_post(auth_factors(ALICE), headers=bearer("acme-admin"))
    assert result.content == (
        b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","u2f":{"id":"' + U2F_ID.encode() + b'",'
        b'"name":"YubiKey 5"}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","otpSms":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","otpEmail":{}}]}'
    )


def test_u2f_without_name_omits_the_name(asgi: bool) -> None:
    text = """
    version: 1
    orgs: [{name: A, users: [{username: u, id: "1", auth_factors: [{type: u2f, id: "77"}]}]}]
    """
    result = client(text, asgi).simulate_post(auth_factors("1"), headers=bearer("x"))
    assert result.content == b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","u2f":{"id":"77"}}]}'


def test_generated_u2f_id(asgi: bool) -> None:
    text = """
    version: 1
    orgs: [{name: A, users: [{username: u, id: "1", auth_factors: [u2f]}]}]
    """
    body = checked(client(text, asgi).simulate_post(auth_factors("1"), headers=bearer("x")))
    assert len(body["result"][0]["u2f"]["id"]) == 18


@pytest.mark.parametrize(
    "user_id",
    [
        "259242039378444294",  # bob: a human without factors
        "259242039378444295",  # a machine user
        "404404404404404404",  # no such user
        "alice",  # a username is no id
        "x" * 200,
    ],
)
def test_no_user_check_gives_an_empty_answer(asgi: bool, user_id: str) -> None:
    result = client(MAIN, asgi).simulate_post(auth_factors(user_id), headers=bearer("acme-admin"))
    assert result.status_code == 200
    assert result.content == b"{}"


def test_only_not_ready_factors_give_an_empty_answer(asgi: bool) -> None:
    text = """
    version: 1
    orgs:
      - name: A
        users: [{username: u, id: "1", auth_factors: [{type: otp, state: not_ready}]}]
    """
    result = client(text, asgi).simulate_post(auth_factors("1"), headers=bearer("x"))
    assert result.content == b"{}"


def test_users_of_another_org_are_listed(asgi: bool) -> None:
    # The caller passes user.read in its own org (ACME); carol belongs to Globex.
    result = client(MAIN, asgi).simulate_post(auth_factors(CAROL), headers=bearer("acme-admin"))
    body = checked(result)
    assert body == {
        "result": [
            {"state": "AUTH_FACTOR_STATE_READY", "u2f": {"id": "259242039378444302", "name": "key"}}
        ]
    }


def test_auth_factors_answer_has_no_details(asgi: bool) -> None:
    body = checked(
        client(MAIN, asgi).simulate_post(auth_factors(ALICE), headers=bearer("acme-admin"))
    )
    assert "details" not in body


@pytest.mark.parametrize("length", [1, 199, 200])
def test_user_id_up_to_200_runes(asgi: bool, length: int) -> None:
    result = client(MAIN, asgi).simulate_post(
        auth_factors("é" * length), headers=bearer("acme-admin")
    )
    assert result.status_code == 200
