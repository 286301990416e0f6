"""What a scenario gives the v2 RPCs: precise one-line errors, and the schema agrees."""

from __future__ import annotations

import jsonschema
import pytest

from zitadel_mock import ScenarioError, parse_scenario
from zitadel_mock.scenario.schema import scenario_schema
from zitadel_mock.scenario.source import parse_text

VALIDATOR = jsonschema.Draft7Validator(scenario_schema())


def _user(fields: str, version: str = "") -> str:
    return f"version: 1\n{version}orgs: [{{name: A, users: [{{username: u, {fields}}}]}}]\n"


def _policy(fields: str) -> str:
    return f"version: 1\norgs: [{{name: A, login_policy: {{second_factors: [], {fields}}}}}]\n"


ACCEPTED = [
    _user("password: true, passkeys: [Mac, {name: Key, state: not_ready}], idp_links: [g]"),
    _user("recovery_codes: true"),
    _user("recovery_codes: false"),
    _policy("force_mfa: true, passkeys_type: PASSKEYS_TYPE_NOT_ALLOWED, multi_factors: []"),
    _policy("password_check_lifetime: 0, default_redirect_uri: '', allow_register: false"),
    _policy("multi_factors: [u2f_with_verification], force_mfa_local_only: true"),
    "version: 1\ninstance: {id: '77'}\norgs: [{name: A}]\n",
]

REJECTED = {
    _user("password: yes please"): "orgs[0].users[0].password: expected true or false, "
    "got a string ('yes please')",
    _user("type: machine, password: true"): "orgs[0].users[0].password: a machine user has no "
    "password; only human users do",
    _user("passkeys: [{name: k, state: done}]"): "orgs[0].users[0].passkeys[0].state: 'done' "
    "is not one of ready, not_ready",
    _user("idp_links: ['']"): "orgs[0].users[0].idp_links[0]: expected a non-empty string",
    _user("passkey: [k]"): "orgs[0].users[0].passkey: unknown key (did you mean 'passkeys'?)",
    _policy("passkeys_type: sometimes"): "orgs[0].login_policy.passkeys_type: 'sometimes' is "
    "not one of allowed, not_allowed",
    _policy("password_check_lifetime: -1"): "orgs[0].login_policy.password_check_lifetime: "
    "expected a whole number of at least 0, got -1",
    _policy("multi_factors: [u2f]"): "orgs[0].login_policy.multi_factors[0]: 'u2f' is not one "
    "of u2f_with_verification",
    _policy("force_mfa: 1"): "orgs[0].login_policy.force_mfa: expected true or false, "
    "got a number (1)",
    "version: 1\ninstance: {id: ''}\norgs: [{name: A}]\n": "instance.id: expected a "
    "non-empty string",
}


@pytest.mark.parametrize("text", ACCEPTED)
def test_the_loader_and_the_schema_accept(text: str) -> None:
    parse_scenario(text)
    assert list(VALIDATOR.iter_errors(parse_text(text, None, "yaml"))) == []


@pytest.mark.parametrize(("text", "message"), REJECTED.items())
def test_the_loader_says_what_is_wrong_and_the_schema_rejects(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="s.yaml")
    assert str(caught.value).split(": ", 1)[1].startswith(message)
    assert "\n" not in str(caught.value)
    assert list(VALIDATOR.iter_errors(parse_text(text, None, "yaml")))


def test_the_instance_id_is_made_from_the_seed_and_is_stable() -> None:
    text = "version: 1\nseed: 7\norgs: [{name: A, users: [{username: u}]}]\n"
    first, second = parse_scenario(text), parse_scenario(text)
    assert first.instance_id == second.instance_id
    assert first.instance_id not in (first.orgs[0].id, first.users[0].id)
    # The other ids are those of a scenario before the instance had one.
    assert first.orgs[0].id == parse_scenario(text + "instance: {id: '5'}\n").orgs[0].id
