"""A scenario's ``generate:`` block: built at load time next to the hand-written orgs and users."""

from __future__ import annotations

import sys
import textwrap

import pytest

import zitadel_mock.generate
from zitadel_mock import ScenarioError, State, parse_scenario
from zitadel_mock.answers import Request, handle
from zitadel_mock.model import Scenario, UserType

ACME = """\
version: 1
seed: 4
orgs:
  - name: ACME
    members: [{user: acme-admin, roles: [ORG_OWNER]}]
    users:
      - {username: alice, auth_factors: [otp, {type: u2f, name: key}]}
      - {username: bob, id: "259242039378444293"}
      - {username: acme-admin, type: machine}
"""


def load(text: str, fmt: str = "yaml") -> Scenario:
    return parse_scenario(textwrap.dedent(text), source="s.yaml", format=fmt)


def all_ids(scenario: Scenario) -> list[str]:
    ids = [o.id for o in scenario.orgs] + [u.id for u in scenario.users]
    return ids + [f.id for u in scenario.users for f in u.auth_factors if f.id]


def test_hand_written_orgs_and_users_keep_their_ids() -> None:
    alone = load(ACME)
    mixed = load(ACME + "generate: {orgs: 3, users_per_org: 20}\n")
    assert mixed.orgs[0] == alone.orgs[0]
    assert mixed.users[:3] == alone.users
    assert len(mixed.orgs) == 4
    assert len(mixed.users) == 63
    assert len(set(all_ids(mixed))) == len(all_ids(mixed))
    assert State(mixed).view.first_org_id == alone.orgs[0].id  # the hand-written org comes first


def test_only_a_generate_block() -> None:
    scenario = load("version: 1\ngenerate: {orgs: 2, users_per_org: 3}\n")
    assert len(scenario.orgs) == 2
    assert len(scenario.users) == 6
    assert load("version: 1\norgs: []\ngenerate: {orgs: 1, users_per_org: 1}\n").users


def test_the_block_follows_the_scenario_seed_unless_it_has_its_own() -> None:
    def usernames(text: str) -> list[str]:
        return [u.username for u in load(text).users]

    block = "generate: {{orgs: 1, users_per_org: 5{more}}}\n"
    seed_4 = usernames("version: 1\nseed: 4\n" + block.format(more=""))
    assert seed_4 == usernames("version: 1\nseed: 9\n" + block.format(more=", seed: 4"))
    assert seed_4 != usernames("version: 1\nseed: 5\n" + block.format(more=""))


def test_generated_names_avoid_hand_written_ones() -> None:
    generated = load("version: 1\nseed: 4\ngenerate: {orgs: 1, users_per_org: 2}\n")
    org, owner = generated.orgs[0], generated.users[0]
    mixed = load(
        f"""\
        version: 1
        seed: 4
        orgs:
          - name: {org.name!r}
            users: [{{username: {owner.username}}}]
        generate: {{orgs: 1, users_per_org: 2}}
        """
    )
    assert mixed.orgs[1].name != org.name
    assert mixed.users[1].username != owner.username
    assert len({u.username for u in mixed.users}) == 3


def test_generated_tokens_avoid_hand_written_ones() -> None:
    generated = load("version: 1\nseed: 4\ngenerate: {orgs: 1, users_per_org: 2}\n")
    token = generated.tokens[0].token
    mixed = load(
        f"""\
        version: 1
        seed: 4
        orgs: [{{name: ACME, users: [{{username: alice}}]}}]
        tokens: [{{token: {token}, user: alice}}]
        generate: {{orgs: 1, users_per_org: 2}}
        """
    )
    assert [t.token for t in mixed.tokens] == [token, f"{token}-2"]
    assert mixed.tokens[0].user_id == mixed.users[0].id
    assert mixed.tokens[1].user_id == mixed.users[1].id


def test_hand_written_parts_may_refer_to_generated_users_and_orgs() -> None:
    generated = load("version: 1\nseed: 4\ngenerate: {orgs: 1, users_per_org: 3}\n")
    user, org = generated.users[1], generated.orgs[0]
    mixed = load(
        ACME
        + "generate: {orgs: 1, users_per_org: 3}\n"
        + f"tokens: [{{token: t, user: {user.username}}}]\n"
        + f"errors: [{{org: {org.name!r}, code: UNAVAILABLE}}]\n"
    )
    assert mixed.tokens[0].user_id == user.id
    assert mixed.errors[0].org_id == org.id


def test_generated_tokens_make_the_scenario_list_its_tokens() -> None:
    state = State(load(ACME + "generate: {orgs: 1, users_per_org: 2}\n"))
    anyone = Request("ListLoginPolicySecondFactors", "POST", "/", "Bearer anything", None)
    assert handle(state, anyone).status == 401
    admin = state.scenario.tokens[0]
    org_id = state.view.users.get(admin.user_id).org_id
    ok = Request("ListLoginPolicySecondFactors", "POST", "/", f"Bearer {admin.token}", org_id)
    assert handle(state, ok).status == 200


def test_a_json_scenario_takes_the_block_too() -> None:
    text = '{"version": 1, "seed": 4, "generate": {"orgs": 2, "users_per_org": 4,'
    text += ' "factors": {"otp": 1}, "locale": "fr_FR"}}'
    scenario = load(text, "json")
    people = [u for u in scenario.users if u.type is UserType.HUMAN]
    assert all(f.type.key == "otp" for u in people for f in u.auth_factors)
    assert all(u.auth_factors for u in people)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("generate: 3", "s.yaml:2: generate: expected a mapping, got a number (3)"),
        ("generate: {orgs: 2}", "s.yaml:2: generate: missing required key 'users_per_org'"),
        (
            "generate: {orgs: 0, users_per_org: 5}",
            "s.yaml:2: generate.orgs: expected a whole number of at least 1, got 0",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, org: 1}",
            "s.yaml:2: generate.org: unknown key (did you mean 'orgs'?); expected one of: "
            "custom_policy_share, factors, locale, machine_share, not_ready_share, orgs, seed, "
            "users_per_org",
        ),
        (
            "generate:\n  orgs: 2\n  users_per_org: 5\n  factors: totp=0.5",
            "s.yaml:5: generate.factors: 'totp' is not one of otp, u2f, otp_sms, otp_email, "
            "none (did you mean 'otp'?)",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, factors: 'otp=0.5,none=0.2'}",
            "s.yaml:2: generate.factors: the factor shares add up to 0.5, less than the 0.8 of "
            "human users that have a factor (none=0.2), each of whom has at least one",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, factors: 'otp=0.9,none=0.2'}",
            "s.yaml:2: generate.factors: otp=0.9 is more than the 0.8 of human users that have "
            "a factor (none=0.2)",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, factors: 'otp:0.5'}",
            "s.yaml:2: generate.factors: expected name=share pairs like 'otp=0.6,u2f=0.3', "
            "got 'otp:0.5'",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, factors: 'otp=0.5,otp=0.5'}",
            "s.yaml:2: generate.factors: 'otp' is given twice",
        ),
        (
            "generate:\n  orgs: 2\n  users_per_org: 5\n  factors: {otp: 2}",
            "s.yaml:5: generate.factors.otp: expected a share from 0 to 1, got 2",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, machine_share: yes}",
            "s.yaml:2: generate.machine_share: expected a share from 0 to 1, got a boolean (true)",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, locale: en_UK}",
            "s.yaml:2: generate.locale: 'en_UK' is not a locale Faker knows (did you mean "
            "'en_US'?)",
        ),
        (
            "generate: {orgs: 2, users_per_org: 5, locale: 'english please'}",
            "s.yaml:2: generate.locale: 'english please' is not a locale like en_US or de_DE",
        ),
        (
            "generate: {orgs: 2000, users_per_org: 1000}",
            "s.yaml:2: generate: 2000 orgs of 1000 users make 2,000,000 users; at most "
            "200,000 can be generated by a scenario's generate: block",
        ),
    ],
)
def test_a_bad_block_gives_a_precise_error(block: str, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        load(f"version: 1\n{block}\n")
    assert str(raised.value) == message


def test_without_orgs_or_a_block_orgs_are_still_required() -> None:
    with pytest.raises(ScenarioError, match="missing required key 'orgs'"):
        load("version: 1\n")
    with pytest.raises(ScenarioError, match="orgs: expected at least one entry"):
        load("version: 1\norgs: []\n")


def test_without_faker_the_block_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faker", None)  # what an import of a missing module meets
    monkeypatch.delitem(sys.modules, "zitadel_mock.generate.population", raising=False)
    monkeypatch.delattr(zitadel_mock.generate, "population", raising=False)
    with pytest.raises(ScenarioError) as raised:
        load("version: 1\ngenerate: {orgs: 1, users_per_org: 1}\n")
    assert str(raised.value) == (
        "s.yaml:2: generate: generating needs Faker: pip install 'zitadel-mock[generate]'"
    )
