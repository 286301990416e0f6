"""Every broken scenario in tests/broken/ gives its one precise line, and nothing loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from zitadel_mock import ScenarioError, load_scenario, parse_scenario

BROKEN = Path(__file__).parent / "broken"

# file name -> the exact error, where {path} stands for the path the file was loaded by.
EXPECTED = {
    "01-yaml-syntax.yaml": "{path}:5: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence started on line 4)",
    "02-tab-indent.yaml": "{path}:3: invalid YAML: a tab character; YAML is indented with spaces",
    "03-empty.yaml": "{path}: the scenario is empty; expected a mapping with 'version' and 'orgs'",
    "04-top-level-list.yaml": "{path}:1: expected a mapping, got a list",
    "05-no-version.yaml": "{path}:1: missing required key 'version'",
    "06-version-2.yaml": "{path}:1: version: unsupported version 2; expected 1",
    "07-version-string.yaml": "{path}:1: version: unsupported version '1'; expected 1",
    "08-unknown-top-key.yaml": "{path}:2: org: unknown key (did you mean 'orgs'?); expected one of: clock, errors, instance, orgs, seed, tokens, version",
    "09-no-orgs.yaml": "{path}:2: orgs: expected at least one entry, got an empty list",
    "10-org-not-mapping.yaml": "{path}:3: orgs[0]: expected a mapping, got a string ('ACME')",
    "11-duplicate-org.yaml": "{path}:4: orgs[1].name: an org named 'ACME' is already defined",
    "12-duplicate-username.yaml": "{path}:8: orgs[1].users[0].username: a user named 'alice' is already defined",
    "13-duplicate-id.yaml": "{path}:7: orgs[0].users[0].id: id '100' is already used at orgs[0].id",
    "14-duplicate-key.yaml": "{path}:4: key 'name' is given twice",
    "15-unknown-factor.yaml": "{path}:9: orgs[0].users[2].auth_factors[0].type: 'totp' is not one of otp, u2f, otp_sms, otp_email",
    "16-factor-twice-in-policy.yaml": "{path}:5: orgs[0].login_policy.second_factors[2]: 'otp' is listed twice",
    "17-name-on-otp.yaml": "{path}:8: orgs[0].users[0].auth_factors[0].name: only a u2f factor has a name",
    "18-bad-state.yaml": "{path}:7: orgs[0].users[0].auth_factors[0].state: 'pending' is not one of ready, not_ready",
    "19-factors-on-machine.yaml": "{path}:7: orgs[0].users[0].auth_factors: a machine user has no auth factors; only human users do",
    "20-bad-user-type.yaml": "{path}:6: orgs[0].users[0].type: 'robot' is not one of human, machine",
    "21-member-unknown-user.yaml": "{path}:5: orgs[0].members[0].user: no user 'alcie' in the scenario (did you mean 'alice'?)",
    "22-unknown-role.yaml": "{path}:5: orgs[0].members[0].roles[0]: 'ORG_OWNR' is not a known role (did you mean 'ORG_OWNER'?)",
    "23-org-role-at-instance.yaml": "{path}:4: instance.members[0].roles[0]: 'ORG_OWNER' is an org role: list it under an org's members",
    "24-instance-role-in-org.yaml": "{path}:5: orgs[0].members[0].roles[0]: 'IAM_OWNER' is an instance role: list it under instance.members",
    "25-empty-roles.yaml": "{path}:5: orgs[0].members[0].roles: expected at least one entry, got an empty list",
    "26-duplicate-member.yaml": "{path}:6: orgs[0].members[1].user: 'alice' is already a member here; list all roles in one entry",
    "27-token-unknown-user.yaml": "{path}:7: tokens[0].user: no user 'bob' in the scenario",
    "28-duplicate-token.yaml": "{path}:8: tokens[1].token: this token is already defined",
    "29-expired-not-bool.yaml": "{path}:7: tokens[0].expired: expected true or false, got a string ('yes')",
    "30-bad-clock.yaml": "{path}:2: clock: 'yesterday' is not an RFC 3339 time like '2025-08-28T10:46:22.123456Z'",
    "31-bad-code.yaml": "{path}:5: errors[0].code: 'UNAVAILIBLE' is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)",
    "32-bad-rpc.yaml": "{path}:5: errors[0].rpc: 'ListAuthFactors' is not one of ListLoginPolicySecondFactors, ListHumanAuthFactors (did you mean 'ListHumanAuthFactors'?)",
    "33-user-on-policy-rule.yaml": "{path}:8: errors[0].user: ListLoginPolicySecondFactors has no user in its path, so this rule could never match",
    "34-times-zero.yaml": "{path}:5: errors[0].times: expected a whole number of at least 1, got 0",
    "35-error-unknown-org.yaml": "{path}:5: errors[0].org: no org 'ACNE' in the scenario (did you mean 'ACME'?)",
    "36-users-not-list.yaml": "{path}:4: orgs[0].users: expected a list, got a mapping",
    "37-unknown-user-key.yaml": "{path}:6: orgs[0].users[0].auth_factor: unknown key (did you mean 'auth_factors'?); expected one of: auth_factors, id, type, username",
    "38-recursive-alias.yaml": "{path}:3: orgs[0].users[0].name: unknown key (did you mean 'username'?); expected one of: auth_factors, id, type, username",
    "39-code-ok.yaml": "{path}:5: errors[0].code: 'OK' is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)",
    "40-policy-missing-key.yaml": "{path}:3: instance.login_policy.factors: unknown key (did you mean 'second_factors'?); expected one of: processed_sequence, second_factors",
    "41-bad-json.json": "{path}:3: invalid JSON: Expecting property name enclosed in double quotes",
    "42-json-unknown-key.json": "{path}:4: orgs[0].user: unknown key (did you mean 'users'?); expected one of: id, login_policy, members, name, users",
    "43-negative-sequence.yaml": "{path}:6: orgs[0].login_policy.processed_sequence: expected a whole number of at least 0, got -1",
    "44-not-utf8.yaml": "{path}: not UTF-8 text",
}


def test_the_corpus_and_the_table_agree() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_broken_file_gives_its_precise_line(name: str) -> None:
    path = str(BROKEN / name)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert message == EXPECTED[name].format(path=path)
    assert "\n" not in message
    assert raised.value.source == path


def test_a_missing_file_and_a_directory() -> None:
    with pytest.raises(ScenarioError, match=r"^nope\.yaml: no such file$"):
        load_scenario("nope.yaml")
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(BROKEN)


def test_parse_without_a_file_names_the_scenario() -> None:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario("version: 1\norgs: [{name: A, users: [{username: u, type: robot}]}]\n")
    assert (
        str(raised.value)
        == "<scenario>:2: orgs[0].users[0].type: 'robot' is not one of human, machine"
    )


def test_flow_and_block_styles_point_at_the_same_key() -> None:
    block = "version: 1\norgs:\n  - name: A\n    users:\n      - username: u\n        type: robot\n"
    flow = "version: 1\norgs:\n  - {name: A,\n     users: [{username: u,\n              type: robot}]}\n"
    for text, line in ((block, 6), (flow, 5)):
        with pytest.raises(ScenarioError) as raised:
            parse_scenario(text, source="s.yaml")
        assert raised.value.line == line
        assert raised.value.path == "orgs[0].users[0].type"


def test_no_traceback_from_the_command_line(tmp_path: Path) -> None:
    for name in sorted(EXPECTED)[:5]:
        run = subprocess.run(
            [sys.executable, "-m", "zitadel_mock", "serve", "--scenario", str(BROKEN / name)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 2
        assert run.stdout == ""
        assert run.stderr.count("\n") == 1
        assert run.stderr.startswith("error: ")
        assert "Traceback" not in run.stderr
