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
      - name: C
        login_policy: *strict
    """
    scenario = parse_scenario(text)
    assert scenario.orgs[0].login_policy == scenario.orgs[1].login_policy
    assert scenario.orgs[2].login_policy == scenario.orgs[0].login_policy


def test_explicit_keys_override_merged_ones() -> None:
    text = """
    version: 1
    orgs:
      - &base
        name: A
        login_policy: {second_factors: [otp], processed_sequence: 1}
      - <<: *base
        name: B
      - name: C
        login_policy:
          <<: [{second_factors: [u2f]}, {second_factors: [otp_sms], processed_sequence: 2}]
          processed_sequence: 3
    """
    a, b, c = parse_scenario(text).orgs
    assert (b.name, b.login_policy) == ("B", a.login_policy)
    # The first mapping of a merge list wins over later ones; explicit keys win over both.
    assert c.login_policy == LoginPolicy((Factor.U2F,), 3)


def test_a_merged_user_is_a_new_user() -> None:
    text = """
    version: 1
    orgs:
      - name: A
        users:
          - &bot {username: bot-1, type: machine}
          - {<<: *bot, username: bot-2}
    """
    users = parse_scenario(text).users
    assert [(u.username, u.type) for u in users] == [
        ("bot-1", UserType.MACHINE),
        ("bot-2", UserType.MACHINE),
    ]
    assert users[0].id != users[1].id


GENERATED = "version: 1\nseed: {seed}\norgs: [{{name: A, users: [{users}]}}]\n"


def load_generated(seed: int, users: str) -> dict[str, str]:
    scenario = parse_scenario(GENERATED.format(seed=seed, users=users))
    ids = {"org": scenario.orgs[0].id}
    for user in scenario.users:
        ids[user.username] = user.id
        ids.update({f"{user.username}/{f.name}": f.id for f in user.auth_factors if f.id})
    return ids


def test_same_file_same_ids_on_every_load(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\nseed: 5\norgs: [{name: A, users: [{username: u, auth_factors: [u2f]}]}]\n"
    )
    first, second = load_scenario(path), load_scenario(path)
    assert first.orgs == second.orgs
    assert first.users == second.users
    assert first.users[0].auth_factors[0].id


def test_generated_ids_depend_on_the_seed_and_the_name_only() -> None:
    users = "{username: u, auth_factors: [{type: u2f, name: k}]}, {username: v}"
    base = load_generated(1, users)
    assert all(len(id) == 18 and id.isdigit() for id in base.values()), base
    assert len(set(base.values())) == len(base)
    assert load_generated(1, users) == base
    assert set(load_generated(2, users).values()).isdisjoint(base.values())
    # Another user, before the others, changes no one else's id.
    more = load_generated(1, "{username: a}, " + users)
    assert {k: more[k] for k in base} == base


def test_explicit_ids_are_never_generated() -> None:
    taken = load_generated(0, "{username: u}")
    text = GENERATED.format(seed=0, users=f"{{username: x, id: '{taken['u']}'}}, {{username: u}}")
    scenario = parse_scenario(text)
    assert scenario.users[0].id == taken["u"]
    assert scenario.users[1].id != taken["u"]


def test_references_by_id_and_by_name() -> None:
    scenario = parse_scenario(
        """
        version: 1
        instance: {members: [{user: 7, roles: [IAM_OWNER_VIEWER]}]}
        orgs:
          - name: A
            id: 3
            members: [{user: "7", roles: [ORG_OWNER, PROJECT_OWNER]}]
            users: [{username: u, id: 7, type: machine}]
        tokens: [{token: t, user: 7}]
        errors: [{org: 3, user: u, code: unavailable}]
        """
    )
    assert scenario.instance_members[0].user_id == "7"
    assert scenario.orgs[0].members == (Member("7", frozenset({"ORG_OWNER", "PROJECT_OWNER"})),)
    assert scenario.tokens == (Token("t", "7"),)
    assert scenario.errors == (ErrorRule(14, None, "7", "3"),)


def test_names_in_every_accepted_spelling() -> None:
    scenario = parse_scenario(
        """
        version: 1
        orgs:
          - name: A
            login_policy: {second_factors: [SECOND_FACTOR_TYPE_OTP_EMAIL, Otp_Sms]}
            users:
              - username: u
                auth_factors:
                  - OTP
                  - {type: second_factor_type_u2f, state: AUTH_FACTOR_STATE_NOT_READY}
                  - {type: u2f, state: Ready}
        errors:
          - {rpc: /zitadel.management.v1.ManagementService/ListHumanAuthFactors, code: 13}
          - {code: resource_exhausted}
        """
    )
    assert scenario.orgs[0].login_policy == LoginPolicy((Factor.OTP_EMAIL, Factor.OTP_SMS))
    factors = scenario.users[0].auth_factors
    assert [(f.type, f.state) for f in factors] == [
        (Factor.OTP, FactorState.READY),
        (Factor.U2F, FactorState.NOT_READY),
        (Factor.U2F, FactorState.READY),
    ]
    assert [(e.rpc, e.code) for e in scenario.errors] == [("ListHumanAuthFactors", 13), (None, 8)]


@pytest.mark.parametrize(
    ("clock", "ns"),
    [
        ('"2025-08-28T10:46:22Z"', 1756377982 * 10**9),
        ("2025-08-28T10:46:22Z", 1756377982 * 10**9),  # a YAML timestamp
        ('"2025-08-28T12:46:22.5+02:00"', 1756377982 * 10**9 + 5 * 10**8),
        ('"2025-08-28T10:46:22.123456789Z"', 1756377982 * 10**9 + 123456789),
    ],
)
def test_clock_forms(clock: str, ns: int) -> None:
    assert parse_scenario(f"version: 1\nclock: {clock}\norgs: [{{name: A}}]\n").clock_ns == ns


def test_tokens_absent_or_empty() -> None:
    # No tokens section: any bearer token is accepted. An empty one: none is.
    assert parse_scenario("version: 1\norgs: [{name: A}]\n").tokens is None
    assert parse_scenario("version: 1\norgs: [{name: A}]\ntokens: []\n").tokens == ()


def test_files_with_a_byte_order_mark_and_windows_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\r\norgs:\r\n  - name: A\r\n")
    assert load_scenario(path).orgs[0].name == "A"


def test_json_with_a_yaml_suffix_is_still_yaml(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"version": 1, "orgs": [{"name": "A"}]}))
    assert load_scenario(path).orgs[0].name == "A"
