"""Every mistake in a scenario gives one precise line, ``file:line: key.path: what was expected``.

Nothing is half-loaded and nothing else escapes: no traceback, no other exception, no crash.
The corpus of broken files is here; where lines point is tested in test_scenario_lines.py, and
random edits of a valid file in test_scenario_fuzz.py.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zitadel_mock import ScenarioError, load_scenario, parse_scenario, scenario_from_data
from zitadel_mock.scenario import read as scenario_module

BROKEN = Path(__file__).parents[1] / "broken"

# Each broken file, loaded by its bare name from tests/broken, and the one line it must give.
EXPECTED = {
    "01-yaml-syntax.yaml": "01-yaml-syntax.yaml:4: invalid YAML: did not find expected ',' or ']'",
    "02-tab-indent.yaml": "02-tab-indent.yaml:3: invalid YAML: a tab character; YAML is indented with spaces",
    "03-empty.yaml": "03-empty.yaml: the scenario is empty; expected a mapping with 'version' and 'orgs'",
    "04-top-level-list.yaml": "04-top-level-list.yaml:1: expected a mapping, got a list",
    "05-no-version.yaml": "05-no-version.yaml:1: missing required key 'version'",
    "06-version-2.yaml": "06-version-2.yaml:1: version: unsupported version 2; expected 1",
    "07-version-string.yaml": "07-version-string.yaml:1: version: expected 1, got a string ('1')",
    "08-unknown-top-key.yaml": "08-unknown-top-key.yaml:2: org: unknown key (did you mean 'orgs'?); expected one of: clock, errors, generate, instance, latency, orgs, rate_limit, seed, tokens, version, zitadel_version",
    "09-no-orgs.yaml": "09-no-orgs.yaml:2: orgs: expected at least one entry, got an empty list",
    "10-org-not-mapping.yaml": "10-org-not-mapping.yaml:3: orgs[0]: expected a mapping, got a string ('ACME')",
    "11-duplicate-org.yaml": "11-duplicate-org.yaml:4: orgs[1].name: an org named 'ACME' is already defined",
    "12-duplicate-username.yaml": "12-duplicate-username.yaml:8: orgs[1].users[0].username: a user named 'alice' is already defined",
    "13-duplicate-id.yaml": "13-duplicate-id.yaml:7: orgs[0].users[0].id: id '100' is already used at orgs[0].id",
    "14-duplicate-key.yaml": "14-duplicate-key.yaml:4: orgs[0].name: key 'name' is given twice (first on line 3)",
    "15-unknown-factor.yaml": "15-unknown-factor.yaml:9: orgs[0].users[2].auth_factors[0].type: 'totp' is not one of otp, u2f, otp_sms, otp_email",
    "16-factor-twice-in-policy.yaml": "16-factor-twice-in-policy.yaml:5: orgs[0].login_policy.second_factors[2]: 'otp' is listed twice",
    "17-name-on-otp.yaml": "17-name-on-otp.yaml:8: orgs[0].users[0].auth_factors[0].name: only a u2f factor has a name",
    "18-bad-state.yaml": "18-bad-state.yaml:7: orgs[0].users[0].auth_factors[0].state: 'pending' is not one of ready, not_ready",
    "19-factors-on-machine.yaml": "19-factors-on-machine.yaml:7: orgs[0].users[0].auth_factors: a machine user has no auth factors; only human users do",
    "20-bad-user-type.yaml": "20-bad-user-type.yaml:6: orgs[0].users[0].type: 'robot' is not one of human, machine",
    "21-member-unknown-user.yaml": "21-member-unknown-user.yaml:5: orgs[0].members[0].user: no user 'alcie' in the scenario (did you mean 'alice'?)",
    "22-unknown-role.yaml": "22-unknown-role.yaml:5: orgs[0].members[0].roles[0]: 'ORG_OWNR' is not a known role (did you mean 'ORG_OWNER'?)",
    "23-org-role-at-instance.yaml": "23-org-role-at-instance.yaml:4: instance.members[0].roles[0]: 'ORG_OWNER' is an org role: list it under an org's members",
    "24-instance-role-in-org.yaml": "24-instance-role-in-org.yaml:5: orgs[0].members[0].roles[0]: 'IAM_OWNER' is an instance role: list it under instance.members",
    "25-empty-roles.yaml": "25-empty-roles.yaml:5: orgs[0].members[0].roles: expected at least one entry, got an empty list",
    "26-duplicate-member.yaml": "26-duplicate-member.yaml:6: orgs[0].members[1].user: 'alice' is already a member here; list all roles in one entry",
    "27-token-unknown-user.yaml": "27-token-unknown-user.yaml:7: tokens[0].user: no user 'bob' in the scenario",
    "28-duplicate-token.yaml": "28-duplicate-token.yaml:8: tokens[1].token: this token is already defined",
    "29-expired-not-bool.yaml": "29-expired-not-bool.yaml:7: tokens[0].expired: expected true or false, got a string ('yes')",
    "30-bad-clock.yaml": "30-bad-clock.yaml:2: clock: 'yesterday' is not an RFC 3339 time like '2025-08-28T10:46:22.123456Z'",
    "31-bad-code.yaml": "31-bad-code.yaml:5: errors[0].code: 'UNAVAILIBLE' is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)",
    "32-bad-rpc.yaml": "32-bad-rpc.yaml:5: errors[0].rpc: 'ListAuthFactors' is not one of ListLoginPolicySecondFactors, ListHumanAuthFactors, ListAuthenticationFactors, ListAuthenticationMethodTypes, GetLoginSettings, Token (did you mean 'ListHumanAuthFactors'?)",
    "33-user-on-policy-rule.yaml": "33-user-on-policy-rule.yaml:8: errors[0].user: ListLoginPolicySecondFactors has no user in its path, so this rule could never match",
    "34-times-zero.yaml": "34-times-zero.yaml:5: errors[0].times: expected a whole number of at least 1, got 0",
    "35-error-unknown-org.yaml": "35-error-unknown-org.yaml:5: errors[0].org: no org 'ACNE' in the scenario (did you mean 'ACME'?)",
    "36-users-not-list.yaml": "36-users-not-list.yaml:4: orgs[0].users: expected a list, got a mapping",
    "37-unknown-user-key.yaml": "37-unknown-user-key.yaml:6: orgs[0].users[0].auth_factor: unknown key (did you mean 'auth_factors'?); expected one of: auth_factors, client_secret, id, idp_links, keys, passkeys, password, recovery_codes, type, username",
    "38-recursive-alias.yaml": "38-recursive-alias.yaml:4: orgs[0].users: a recursive alias: *orgs is used inside the &orgs it refers to",
    "39-code-ok.yaml": "39-code-ok.yaml:5: errors[0].code: 'OK' is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)",
    "40-policy-misspelled-key.yaml": "40-policy-misspelled-key.yaml:3: instance.login_policy.factors: unknown key (did you mean 'multi_factors'?); expected one of: allow_domain_discovery, allow_external_idp, allow_register, allow_username_password, default_redirect_uri, disable_login_with_email, disable_login_with_phone, external_login_check_lifetime, force_mfa, force_mfa_local_only, hide_password_reset, ignore_unknown_usernames, mfa_init_skip_lifetime, multi_factor_check_lifetime, multi_factors, passkeys_type, password_check_lifetime, processed_sequence, second_factor_check_lifetime, second_factors",
    "41-bad-json.json": "41-bad-json.json:3: invalid JSON: Expecting property name enclosed in double quotes",
    "42-json-unknown-key.json": "42-json-unknown-key.json:4: orgs[0].user: unknown key (did you mean 'users'?); expected one of: id, login_policy, members, name, users",
    "43-negative-sequence.yaml": "43-negative-sequence.yaml:6: orgs[0].login_policy.processed_sequence: expected a whole number of at least 0, got -1",
    "44-not-utf8.yaml": "44-not-utf8.yaml:3: not UTF-8 text: byte 0xff cannot start or continue a character",
    "45-unknown-instance-key.yaml": "45-unknown-instance-key.yaml:3: instance.member: unknown key (did you mean 'members'?); expected one of: id, login_policy, members",
    "46-unknown-factor-key.yaml": "46-unknown-factor-key.yaml:8: orgs[0].users[0].auth_factors[0].nmae: unknown key (did you mean 'name'?); expected one of: id, name, state, type",
    "47-unknown-member-key.yaml": "47-unknown-member-key.yaml:6: orgs[0].members[0].role: unknown key (did you mean 'roles'?); expected one of: roles, user",
    "48-unknown-token-key.yaml": "48-unknown-token-key.yaml:7: tokens[0].expires: unknown key (did you mean 'expired'?); expected one of: expired, token, user",
    "49-unknown-error-key.yaml": "49-unknown-error-key.yaml:6: errors[0].tims: unknown key (did you mean 'times'?); expected one of: after, code, delay, fault, hold, id, message, org, probability, rpc, then, times, user",
    "50-seed-not-number.yaml": "50-seed-not-number.yaml:2: seed: expected a whole number, got a string ('forty-two')",
    "51-roles-not-list.yaml": "51-roles-not-list.yaml:6: orgs[0].members[0].roles: expected a list, got a string ('ORG_OWNER')",
    "52-factors-not-list.yaml": "52-factors-not-list.yaml:6: orgs[0].users[0].auth_factors: expected a list, got a string ('otp')",
    "53-name-read-as-boolean.yaml": "53-name-read-as-boolean.yaml:4: orgs[0].name: expected a string, got a boolean (false); put it in quotes to make it a string",
    "54-second-factors-mapping.yaml": "54-second-factors-mapping.yaml:5: orgs[0].login_policy.second_factors: expected a list, got a mapping",
    "55-u2f-id-is-a-user-id.yaml": "55-u2f-id-is-a-user-id.yaml:8: orgs[0].users[0].auth_factors[0].id: id '500' is already used at orgs[0].users[0].id",
    "56-duplicate-key-flow.yaml": "56-duplicate-key-flow.yaml:4: orgs[0].name: key 'name' is given twice (first on line 3)",
    "57-id-on-otp-sms.yaml": "57-id-on-otp-sms.yaml:7: orgs[0].users[0].auth_factors[0].id: only a u2f factor has an id",
    "58-error-unknown-user.yaml": "58-error-unknown-user.yaml:8: errors[0].user: no user 'alcie' in the scenario (did you mean 'alice'?)",
    "59-nested-too-deep.yaml": "59-nested-too-deep.yaml:4: invalid YAML: nested more than 64 levels deep",
    "60-control-character.yaml": "60-control-character.yaml:3: invalid YAML: the control character U+0007 is not allowed",
    "61-utf16.yaml": "61-utf16.yaml:1: not UTF-8 text: it is UTF-16 text; save it as UTF-8",
    "62-name-is-another-id.yaml": "62-name-is-another-id.yaml:5: orgs[0].users[0].username: '1001' is already used as the id of orgs[0].users[1], so a reference to it would be ambiguous",
    "63-factor-not-a-name.yaml": "63-factor-not-a-name.yaml:6: orgs[0].users[0].auth_factors[1]: expected a factor name or a mapping, got a number (2)",
    "64-key-not-a-name.yaml": "64-key-not-a-name.yaml:4: orgs[0].2: unknown key: a number (2), not a name; expected one of: id, login_policy, members, name, users",
    "65-json-duplicate-key.json": "65-json-duplicate-key.json:7: orgs[0].name: key 'name' is given twice (first on line 5)",
    "66-json-wrong-type.json": "66-json-wrong-type.json:5: tokens[0].expired: expected true or false, got a string ('yes')",
    "67-clock-without-time.yaml": "67-clock-without-time.yaml:2: clock: expected an RFC 3339 time like '2025-08-28T10:46:22.123456Z', got a date (2025-08-28)",
    "68-error-in-merged-keys.yaml": "68-error-in-merged-keys.yaml:7: orgs[1].login_policy.second_factors[0]: 'totp' is not one of otp, u2f, otp_sms, otp_email, recovery_codes",
    "69-alias-repeats-an-org.yaml": "69-alias-repeats-an-org.yaml:5: orgs[1].name: an org named 'ACME' is already defined",
    "70-users-a-number.yaml": "70-users-a-number.yaml:4: orgs[0].users: expected a list, got a number (5)",
    "71-user-type-capitalised.yaml": "71-user-type-capitalised.yaml:6: orgs[0].users[0].type: 'Machine' is not one of human, machine (did you mean 'machine'?)",
    "72-role-lowercase.yaml": "72-role-lowercase.yaml:4: instance.members[0].roles[0]: 'iam_owner' is not a known role (did you mean 'IAM_OWNER'?)",
    "73-json-no-version.json": "73-json-no-version.json:1: missing required key 'version'",
    "74-missing-policy-factors.yaml": "74-missing-policy-factors.yaml:4: orgs[0].login_policy: missing required key 'second_factors'",
    "75-member-of-unknown-user-by-id.yaml": "75-member-of-unknown-user-by-id.yaml:4: instance.members[0].user: no user '259242039378444291' in the scenario",
    "76-times-not-number.yaml": "76-times-not-number.yaml:5: errors[0].times: expected a whole number, got a string ('twice')",
    "77-alias-repeats-users.yaml": "77-alias-repeats-users.yaml:7: orgs[1].users[0].username: a user named 'alice' is already defined",
    "78-multiple-documents.yaml": "78-multiple-documents.yaml:4: invalid YAML: a second document starts here; a scenario file holds one document",
    "79-unknown-fault.yaml": "79-unknown-fault.yaml:6: errors[0].fault: 'conection_reset' is not one of connection_reset, empty_response, malformed_body, random_data_then_close, timeout (did you mean 'connection_reset'?)",
    "80-probability-above-one.yaml": "80-probability-above-one.yaml:6: errors[0].probability: expected a number from 0 to 1, got a number (1.5)",
    "81-then-without-times.yaml": "81-then-without-times.yaml:6: errors[0].then: then takes over once times are used up: add times",
    "82-code-and-fault.yaml": "82-code-and-fault.yaml:6: errors[0].fault: a rule answers with a code or a fault, not both",
    "83-hold-without-timeout.yaml": "83-hold-without-timeout.yaml:6: errors[0].hold: only a timeout fault holds a request",
    "84-delay-with-unit.yaml": "84-delay-with-unit.yaml:5: errors[0].delay: expected seconds, {uniform: [low, high]} or {lognormal: {median, sigma}}, got a string ('1s')",
    "85-uniform-one-bound.yaml": "85-uniform-one-bound.yaml:5: errors[0].delay.uniform: expected two bounds [low, high], got 1",
    "86-lognormal-without-sigma.yaml": "86-lognormal-without-sigma.yaml:5: latency.lognormal: missing required key 'sigma'",
    "87-rate-limit-misspelled-key.yaml": "87-rate-limit-misspelled-key.yaml:6: rate_limit.windows: unknown key (did you mean 'window'?); expected one of: id, message, requests, window",
    "88-negative-latency.yaml": "88-negative-latency.yaml:4: latency: expected a number of seconds of at least 0, got -0.5",
    "89-rpc-in-then.yaml": "89-rpc-in-then.yaml:8: errors[0].then.rpc: then takes over the requests of its rule; rpc goes on the rule",
    "90-message-without-code.yaml": "90-message-without-code.yaml:6: errors[0].message: only an error answer has a message; add a code",
    "91-rule-without-answer.yaml": "91-rule-without-answer.yaml:5: errors[0]: missing required key: one of 'code', 'fault', 'delay'",
    "92-misspelled-key-in-then.yaml": "92-misspelled-key-in-then.yaml:7: errors[0].then.dealy: unknown key (did you mean 'delay'?); expected one of: after, code, delay, fault, hold, id, message, probability, then, times",
    "93-uniform-bounds-reversed.yaml": "93-uniform-bounds-reversed.yaml:6: errors[0].delay.uniform: the low bound 2 is above the high bound 0.5",
    "94-rate-limit-zero-requests.yaml": "94-rate-limit-zero-requests.yaml:4: rate_limit.requests: expected a whole number of at least 1, got 0",
    "95-two-distributions.yaml": "95-two-distributions.yaml:4: latency: expected one distribution: uniform or lognormal",
}


def failure(text: str, source: str | None = None) -> ScenarioError | None:
    """The error of loading ``text``, or None if it loads; any other exception escapes."""
    try:
        parse_scenario(text, source=source)
    except ScenarioError as error:
        return error
    return None


def error_of(load: Any, *args: Any, **kwargs: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as raised:
        load(*args, **kwargs)
    message = str(raised.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return raised.value


# -- the corpus -------------------------------------------------------------------------------


def test_the_corpus_and_the_table_agree() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_broken_file_gives_its_precise_line(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BROKEN)
    error = error_of(load_scenario, name)
    assert str(error) == EXPECTED[name]
    assert error.source == name


def test_the_file_is_named_as_it_was_given() -> None:
    for name, expected in EXPECTED.items():
        path = BROKEN / name
        assert str(error_of(load_scenario, path)) == str(path) + expected[len(name) :]


def test_the_error_carries_its_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN)
    error = error_of(load_scenario, "15-unknown-factor.yaml")
    assert (error.source, error.line) == ("15-unknown-factor.yaml", 9)
    assert error.path == "orgs[0].users[2].auth_factors[0].type"
    assert error.message == "'totp' is not one of otp, u2f, otp_sms, otp_email"


# -- paths that are no scenario file ----------------------------------------------------------


def test_a_missing_file_a_directory_and_an_empty_path(tmp_path: Path) -> None:
    assert (
        str(error_of(load_scenario, tmp_path / "nope.yaml"))
        == f"{tmp_path}/nope.yaml: no such file"
    )
    assert (
        str(error_of(load_scenario, tmp_path))
        == f"{tmp_path}: is a directory, expected a scenario file"
    )
    assert (
        str(error_of(load_scenario, ""))
        == "'': expected the path of a scenario file, got an empty one"
    )


def test_a_file_too_large_is_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenario_module, "MAX_FILE_SIZE", 1024 * 1024)
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\norgs: [{name: A}]\n" + "#" * (1024 * 1024) + "\n")
    assert str(error_of(load_scenario, big)) == f"{big}: larger than 1 MiB"


def test_megabytes_of_junk_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(random.Random(1).randbytes(4 * 1024 * 1024))
    error = error_of(load_scenario, junk)
    assert error.message.startswith("not UTF-8 text: byte 0x")
    assert error.line == 1


def test_megabytes_of_junk_text(tmp_path: Path) -> None:
    rng = random.Random(2)
    junk = tmp_path / "junk.yaml"
    junk.write_text("".join(rng.choice(":-[]{},&*!|>'\"#% \nab1") for _ in range(2_000_000)))
    error = error_of(load_scenario, junk)
    assert error.message.startswith("invalid YAML: ")
    assert error.line is not None


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\norgs: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "version: 1\norgs: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n",
        "version: 1\norgs:\n  - " + "- " * 50_000 + "x\n",
    ],
    ids=["flow-sequences", "flow-mappings", "block-sequences"],
)
def test_deep_nesting_is_refused_without_a_crash(text: str, tmp_path: Path) -> None:
    # In a child process: should the guard fail, libyaml's recursion would crash the process.
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    code = (
        "import sys\nfrom zitadel_mock import ScenarioError, load_scenario\n"
        "try:\n    load_scenario(sys.argv[1])\nexcept ScenarioError as e:\n    print(e)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith(": invalid YAML: nested more than 64 levels deep\n")


def test_deep_json_is_refused() -> None:
    text = '{"version": 1, "orgs": ' + "[" * 100_000 + "]" * 100_000 + "}"
    error = error_of(parse_scenario, text, source="deep.json", format="json")
    assert error.message == "invalid JSON: nested too deeply"


def test_billion_laughs_is_refused_at_once() -> None:
    # Nine levels of nine references: each alias counts what it refers to, expanded.
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    error = error_of(parse_scenario, "\n".join(lines) + "\norgs: [{name: A}]\n")
    assert (error.line, error.message) == (
        8,
        "invalid YAML: aliases bring in more than 1,000,000 values (*a5 holds 597,871)",
    )


def test_a_lone_surrogate_in_text() -> None:
    error = error_of(parse_scenario, "version: 1\norgs: [{name: \ud800}]\n")
    assert (error.line, error.message) == (2, "invalid YAML: U+D800 is not a character")


# -- data given as Python objects, and recursive aliases ----------------------------------------


def test_python_data_errors_have_a_path_but_no_line() -> None:
    error = error_of(scenario_from_data, {"version": 1, "orgs": [{"name": "A", "users": [5]}]})
    assert str(error) == "<scenario>: orgs[0].users[0]: expected a mapping, got a number (5)"
    error = error_of(scenario_from_data, [{"version": 1}])  # a list, not a mapping
    assert str(error) == "<scenario>: expected a mapping, got a list"
    loop: dict[str, Any] = {"name": "A"}
    loop["users"] = [loop]
    error = error_of(scenario_from_data, {"version": 1, "orgs": [loop]}, source="data")
    assert str(error) == "data: orgs[0].users[0]: a collection that contains itself"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\ninstance: &i\n  members: [*i]\norgs: [{name: A}]\n",
            "<scenario>:3: instance.members[0]: a recursive alias: *i is used inside the &i it refers to",
        ),
        (
            "version: 1\norgs:\n  - &o\n    name: A\n    users: [{username: u, auth_factors: [*o]}]\n",
            "<scenario>:5: orgs[0].users[0].auth_factors[0]: a recursive alias: *o is used inside the &o it refers to",
        ),
        (
            "version: 1\norgs: [&o {name: A, users: [{username: u}], members: [*o]}]\n",
            "<scenario>:2: orgs[0].members[0]: a recursive alias: *o is used inside the &o it refers to",
        ),
    ],
)
def test_recursive_aliases(text: str, expected: str) -> None:
    assert str(error_of(parse_scenario, text)) == expected


def test_no_traceback_from_the_command_line() -> None:
    for name in ("01-yaml-syntax.yaml", "38-recursive-alias.yaml", "61-utf16.yaml"):
        run = subprocess.run(
            [sys.executable, "-m", "zitadel_mock", "serve", "--scenario", name],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=BROKEN,
        )
        assert (run.returncode, run.stdout) == (2, "")
        assert run.stderr == f"error: {EXPECTED[name]}\n"
