"""BEHAVIOR 4: ListHumanAuthFactors: READY factors only, in the oneof JSON form, in registration
order; the user is not checked at all; no ``details``.

Reading a user of another organisation than the one in context is what BEHAVIOR 4 describes
for ZITADEL 4.0 to 4.12.1 only: those tests serve ``BEFORE_ORG_FILTER`` (4.12.1); from 4.12.2 such
a user answers ``{}`` (tests/test_versions.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from falcon.testing import TestClient
from testkit import AUTH_FACTOR_STATES, auth_factors

from zitadel_mock import FactorState, State, parse_scenario

Make = Callable[..., TestClient]

SCENARIO = """
version: 1
orgs:
  - name: ACME
    id: "100"
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - username: alice
        id: "101"
        auth_factors:
          - {type: otp_sms, state: not_ready}
          - otp_email
          - {type: u2f, id: "110", name: "YubiKey 5"}
          - {type: u2f, id: "111", state: not_ready}
          - otp
          - {type: u2f, id: "112"}
          - {type: otp, state: ready}
          - otp_sms
      - {username: bob, id: "102"}
      - username: pending
        id: "103"
        auth_factors: [{type: otp, state: not_ready}, {type: u2f, state: not_ready}]
      - {username: admin, id: "104", type: machine}
  - name: Globex
    id: "200"
    users:
      - username: carol
        id: "201"
        auth_factors: [{type: u2f, id: "210", name: "key"}, otp]
tokens:
  - {token: admin, user: admin}
"""
BEFORE_ORG_FILTER = SCENARIO.replace("version: 1\n", "version: 1\nzitadel_version: '4.12.1'\n", 1)
ADMIN = {"Authorization": "Bearer admin"}
READY = "AUTH_FACTOR_STATE_READY"


@pytest.fixture
def client(make_client: Make) -> TestClient:
    return make_client(SCENARIO)


def test_ready_factors_only_in_registration_order(client: TestClient) -> None:
    result = client.simulate_post(auth_factors("101"), headers=ADMIN)
    assert result.status_code == 200
    assert result.content == (
        b'{"result":['
        b'{"state":"AUTH_FACTOR_STATE_READY","otpEmail":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","u2f":{"id":"110","name":"YubiKey 5"}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","u2f":{"id":"112"}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","otpSms":{}}]}'
    )


@pytest.mark.parametrize(
    ("factor", "written"),
    [
        ("otp", b'"otp":{}'),
        ("otp_sms", b'"otpSms":{}'),
        ("otp_email", b'"otpEmail":{}'),
        ('{type: u2f, id: "9", name: "fido key"}', b'"u2f":{"id":"9","name":"fido key"}'),
        ('{type: u2f, id: "9"}', b'"u2f":{"id":"9"}'),
    ],
)
def test_each_type_in_its_oneof_form(make_client: Make, factor: str, written: bytes) -> None:
    text = f"""
    version: 1
    orgs: [{{name: A, users: [{{username: u, id: "1", auth_factors: [{factor}]}}]}}]
    """
    result = make_client(text).simulate_post(
        auth_factors("1"), headers={"Authorization": "Bearer x"}
    )
    assert result.content == b'{"result":[{"state":"AUTH_FACTOR_STATE_READY",' + written + b"}]}"


def test_a_u2f_factor_without_id_gets_a_zitadel_id(make_client: Make) -> None:
    text = """
    version: 1
    orgs: [{name: A, users: [{username: u, id: "1", auth_factors: [u2f, {type: u2f, name: k}]}]}]
    """
    result = make_client(text).simulate_post(
        auth_factors("1"), headers={"Authorization": "Bearer x"}
    )
    ids = [factor["u2f"]["id"] for factor in result.json["result"]]
    assert len(set(ids)) == 2
    assert all(id.isdigit() and len(id) == 18 for id in ids)
    assert "name" not in result.json["result"][0]["u2f"]


@pytest.mark.parametrize(
    "user_id",
    [
        "102",  # a human without factors
        "103",  # a human whose factors are all still being set up
        "104",  # a machine user
        "999",  # no such user
        "259242039378444290",  # an id-shaped unknown
        "alice",  # a username is no id
        "not an id at all",
        "x" * 200,
    ],
)
def test_the_user_is_not_checked(client: TestClient, user_id: str) -> None:
    result = client.simulate_post(auth_factors(user_id), headers=ADMIN)
    assert (result.status_code, result.content) == (200, b"{}")


def test_a_removed_user_gives_an_empty_answer(make_client: Make) -> None:
    state = State(parse_scenario(BEFORE_ORG_FILTER))
    client = make_client(state)
    assert client.simulate_post(auth_factors("201"), headers=ADMIN).json != {}
    assert state.remove_factor("carol", "u2f") == 1
    assert state.remove_factor("carol", "otp") == 1
    result = client.simulate_post(auth_factors("201"), headers=ADMIN)
    assert (result.status_code, result.content) == (200, b"{}")


def test_users_of_another_org_are_listed_before_4_12_2(make_client: Make) -> None:
    # The admin passes user.read in ACME, its own org; carol belongs to Globex.
    client = make_client(BEFORE_ORG_FILTER)
    result = client.simulate_post(auth_factors("201"), headers=ADMIN)
    assert result.json == {
        "result": [
            {"state": READY, "u2f": {"id": "210", "name": "key"}},
            {"state": READY, "otp": {}},
        ]
    }


@pytest.mark.parametrize("user_id", ["101", "201", "999"])
def test_no_details(client: TestClient, user_id: str) -> None:
    assert "details" not in client.simulate_post(auth_factors(user_id), headers=ADMIN).json


def test_a_factor_added_later_comes_last(make_client: Make) -> None:
    state = State(parse_scenario(BEFORE_ORG_FILTER))
    client = make_client(state)
    state.add_factor("carol", "otp_sms")
    state.add_factor("carol", {"type": "otp_email", "state": "not_ready"})
    members = [
        list(f)[1] for f in client.simulate_post(auth_factors("201"), headers=ADMIN).json["result"]
    ]
    assert members == ["u2f", "otp", "otpSms"]


@pytest.mark.parametrize("state", list(FactorState))
def test_auth_factor_state_names_and_numbers(state: FactorState) -> None:
    assert state.wire == AUTH_FACTOR_STATES[state.value]
