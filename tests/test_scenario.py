"""Valid scenarios become the right immutable objects."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from zitadel_mock import (
    AuthFactor,
    Factor,
    FactorState,
    LoginPolicy,
    load_scenario,
    parse_scenario,
    scenario_from_data,
)
from zitadel_mock.model import ErrorRule, Member, Token, User, UserType

FULL = """
version: 1
seed: 3
clock: "2025-08-28T10:46:22.123456Z"
instance:
  login_policy: {second_factors: [otp_email], processed_sequence: 9}
  members: [{user: root, roles: [IAM_OWNER, IAM_USER_MANAGER]}]
orgs:
  - name: ACME
    id: 10
    login_policy: {second_factors: [SECOND_FACTOR_TYPE_OTP_SMS, u2f]}
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - username: alice
        id: "11"
        auth_factors: [otp, {type: u2f, name: Key, id: "12"}, {type: otp_sms, state: not_ready}]
      - {username: admin, id: "13", type: machine}
  - name: Globex
    users: [{username: root}]
tokens:
  - {token: t, user: admin}
  - {token: old, user: "11", expired: true}
errors:
  - {rpc: ListHumanAuthFactors, user: alice, org: ACME, code: 14, message: down, id: X-1, times: 2}
"""


def test_every_feature_builds_the_right_objects() -> None:
    scenario = parse_scenario(FULL)
    acme, globex = scenario.orgs
    assert (acme.id, acme.name) == ("10", "ACME")
    assert acme.login_policy == LoginPolicy((Factor.OTP_SMS, Factor.U2F))
    assert acme.members == (Member("13", frozenset({"ORG_OWNER"})),)
    assert globex.login_policy is None
    assert len(globex.id) == 18
    alice, admin, root = scenario.users
    assert alice == User(
        "11",
        "alice",
        "10",
        UserType.HUMAN,
        (
            AuthFactor(Factor.OTP),
            AuthFactor(Factor.U2F, FactorState.READY, "12", "Key"),
            AuthFactor(Factor.OTP_SMS, FactorState.NOT_READY),
        ),
    )
    assert (admin.type, root.org_id) == (UserType.MACHINE, globex.id)
    assert scenario.instance_policy == LoginPolicy((Factor.OTP_EMAIL,), 9)
    assert scenario.instance_members == (
        Member(root.id, frozenset({"IAM_OWNER", "IAM_USER_MANAGER"})),
    )
    assert scenario.tokens == (Token("t", "13"), Token("old", "11", expired=True))
    assert scenario.errors == (ErrorRule(14, "ListHumanAuthFactors", "11", "10", "down", "X-1", 2),)
    assert scenario.seed == 3
    assert scenario.clock_ns == scenario.loaded_ns == 1756377982123456000


def test_objects_are_immutable() -> None:
    scenario = parse_scenario(FULL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.orgs[0].name = "x"  # type: ignore[misc]


def test_defaults() -> None:
    scenario = parse_scenario("version: 1\norgs: [{name: A}]\n")
    assert scenario.instance_policy == LoginPolicy((Factor.OTP, Factor.U2F))
    assert scenario.tokens is None
    assert scenario.errors == ()
    assert scenario.clock_ns is None


def test_json_file_same_schema(tmp_path: Path) -> None:
    data = yaml.safe_load(FULL)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data, indent=2))
    from_json = load_scenario(path)
    from_yaml = parse_scenario(FULL)
    assert from_json.orgs == from_yaml.orgs
    assert from_json.users == from_yaml.users


def test_python_data() -> None:
    scenario = scenario_from_data(
        {"version": 1, "orgs": [{"name": "A", "users": [{"username": "u"}]}]}
    )
    assert scenario.users[0].username == "u"


def test_anchors_aliases_and_merge_keys() -> None:
    # Unknown top-level keys are errors, so anchors live where they are used.
    text = """
    version: 1
    orgs:
      - {name: A, login_policy: &strict {second_factors: [u2f]}}
      - name: B
        login_policy:
          <<: *strict
    """
    scenario = parse_scenario(text)
    assert scenario.orgs[0].login_policy == scenario.orgs[1].login_policy


def test_same_file_same_ids_on_every_load(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\nseed: 5\norgs: [{name: A, users: [{username: u, auth_factors: [u2f]}]}]\n"
    )
    first, second = load_scenario(path), load_scenario(path)
    assert first.orgs == second.orgs
    assert first.users == second.users
