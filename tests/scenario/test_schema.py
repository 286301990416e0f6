"""The JSON Schema and the loader agree: on every example, every broken file, and edge cases.

Valid files validate under the schema. A broken file is rejected by the schema too, unless the
loader's error is of a kind that JSON Schema cannot express (``LOADER_ONLY``); those are told
apart by the loader's message, below, so no file is ever skipped silently.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from zitadel_mock import ScenarioError, load_scenario, parse_scenario
from zitadel_mock.scenario.schema import CLOCK_PATTERN, LOADER_ONLY, scenario_schema
from zitadel_mock.scenario.source import parse_text

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = (".yaml", ".yml", ".json")
FIXTURES = sorted(p for p in (ROOT / "fixtures").iterdir() if p.suffix in SUFFIXES)
BROKEN = sorted(p for p in (ROOT / "tests" / "broken").iterdir() if p.is_file())
VALIDATOR = jsonschema.Draft7Validator(scenario_schema())


def _clock_form_but_no_date(message: str) -> bool:
    value = re.match(r"'(.*)' is not an RFC 3339 time", message)
    return value is not None and re.search(CLOCK_PATTERN, value.group(1)) is not None


# How each kind of LOADER_ONLY mistake is recognised in the loader's message.
LOADER_ONLY_MESSAGES: dict[str, Any] = {
    "unknown reference": re.compile(r"no (user|org) '.*' in the scenario").search,
    "duplicate": re.compile(r"already (defined|used|a member)|is listed twice").search,
    "calendar": _clock_form_but_no_date,
    "syntax": re.compile(
        r"^(invalid YAML|invalid JSON|key .* is given twice|not UTF-8|a recursive alias)"
    ).search,
    "number form": re.compile(r"expected a whole number, got a number \(-?\d+\.0\)").search,
    "bounds": re.compile(r"the low bound .* is above the high bound").search,
    "version": re.compile(r"is not a version the mock knows|needs zitadel_version").search,
    "key": re.compile(r"^key file |^not an RSA public key in PEM").search,
}


def plain(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """The data as JSON (and an editor) sees it: YAML timestamps are strings, keys are strings.

    Shared and recursive nodes (YAML aliases) stay shared, so a recursive file stays finite.
    """
    memo = {} if memo is None else memo
    if isinstance(value, datetime.datetime):
        # The loader reads a timestamp without a zone as UTC.
        text = value.isoformat()
        return text if value.tzinfo is not None else text + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        if id(value) in memo:
            return memo[id(value)]
        if isinstance(value, dict):
            mapping: dict[str, Any] = {}
            memo[id(value)] = mapping
            for key, item in value.items():
                name = key if isinstance(key, str) else f"<non-string key {key!r}>"
                mapping[name] = plain(item, memo)
            return mapping
        items: list[Any] = []
        memo[id(value)] = items
        items.extend(plain(item, memo) for item in value)
        return items
    return value


def data_of(path: Path) -> Any:
    """The parsed file, or ScenarioError if it cannot even be parsed (a syntax error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", source=str(path)) from None
    return plain(parse_text(text, str(path), "json" if path.suffix == ".json" else "yaml"))


def schema_errors(data: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)
    ]


def test_the_schema_is_a_valid_draft_7_schema() -> None:
    jsonschema.Draft7Validator.check_schema(scenario_schema())
    assert json.loads(json.dumps(scenario_schema())) == scenario_schema()


def test_every_loader_only_kind_is_recognised() -> None:
    assert [kind for kind, _ in LOADER_ONLY] == list(LOADER_ONLY_MESSAGES)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_example_is_valid_under_the_schema(path: Path) -> None:
    load_scenario(path)
    assert schema_errors(data_of(path)) == []


def test_there_are_files_to_check() -> None:
    assert len(FIXTURES) >= 3
    assert len(BROKEN) >= 40


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_every_broken_file_is_rejected_by_both(path: Path) -> None:
    with pytest.raises(ScenarioError) as loader:
        load_scenario(path)
    message = loader.value.message
    try:
        data = data_of(path)
    except ScenarioError:
        assert LOADER_ONLY_MESSAGES["syntax"](message), message
        return
    if schema_errors(data):
        return
    kinds = [kind for kind, matches in LOADER_ONLY_MESSAGES.items() if matches(message)]
    assert kinds, (
        f"the schema accepts {path.name}, which the loader rejects with {message!r}: "
        "make the schema reject it, or name its kind in schema.LOADER_ONLY"
    )


def _both(text: str) -> tuple[bool, list[str]]:
    text = textwrap.dedent(text)
    try:
        parse_scenario(text)
        loads = True
    except ScenarioError:
        loads = False
    return loads, schema_errors(plain(parse_text(text, None, "yaml")))


ORG = "orgs: [{name: A, users: [{username: alice}]}]"
V = "version: 1\n"


def with_org(*lines: str) -> str:
    """A scenario with org A and its user alice, plus these top-level lines."""
    return V + ORG + "\n" + "".join(line + "\n" for line in lines)


def with_org_field(fields: str) -> str:
    """A scenario whose only org is ``{name: A, <fields>}``."""
    return f"{V}orgs: [{{name: A, {fields}}}]\n"


def with_user(fields: str) -> str:
    """A scenario whose only user is ``{username: u, <fields>}``."""
    return with_org_field(f"users: [{{username: u, {fields}}}]")


@pytest.mark.parametrize(
    "text",
    [
        with_org(),
        "version: 1.0\norgs: [{name: A}]\n",
        "version: 1\nseed: -5\nclock: 2025-08-28T10:46:22Z\norgs: [{name: A}]\n",
        "version: 1\nclock: '2025-08-28 10:46:22.123456789+02:00'\norgs: [{name: A}]\n",
        with_org_field("id: 5, login_policy: {second_factors: [' OTP ', SECOND_FACTOR_TYPE_U2F]}"),
        with_org_field("login_policy: {second_factors: [Otp_Sms], processed_sequence: 0}"),
        V + "instance: {login_policy: {second_factors: []}}\norgs: [{name: A}]\n",
        """\
        version: 1
        orgs:
          - name: A
            users:
              - username: alice
                id: 12
                auth_factors:
                  - OTP_EMAIL
                  - type: second_factor_type_u2f
                    name: Key
                    id: 13
                    state: AUTH_FACTOR_STATE_NOT_READY
                  - {type: otp, state: Ready}
              - {username: bot, type: machine, auth_factors: []}
        """,
        with_org(
            "errors:",
            "  - rpc: zitadel.management.v1.ManagementService/ListHumanAuthFactors",
            "    user: alice",
            "    code: ' unavailable '",
        ),
        with_org(
            "errors: [{rpc: ListLoginPolicySecondFactors, org: A, code: 16, times: 1, id: X-1}]"
        ),
        with_org(
            "tokens: []", "instance: {members: [{user: alice, roles: [IAM_OWNER, IAM_OWNER]}]}"
        ),
        with_org(
            "latency: {lognormal: {median: 0.05, sigma: 0.5}}",
            "rate_limit: {requests: 10, window: 1.5, message: slow down, id: QUOTA-1}",
            "errors:",
            "  - {fault: timeout, hold: 0.5, after: 2, probability: 0.25}",
            "  - {delay: {uniform: [0, 0.2]}, code: UNAVAILABLE, times: 2, then: {delay: 1}}",
            "  - {fault: malformed_body, times: 1, then: {code: 14, times: 1, then: {delay: 0}}}",
        ),
        "version: 1\nzitadel_version: '4.12.3'\norgs: [{name: A}]\n",
        "version: 1\nzitadel_version: ' v4.13 '\norgs: [{name: A}]\n",
        "version: 1\nzitadel_version: '4.10'\n"
        "instance: {login_policy: {second_factors: [otp, SECOND_FACTOR_TYPE_RECOVERY_CODES]}}\n"
        "orgs: [{name: A, login_policy: {second_factors: [recovery_codes]}}]\n",
    ],
)
def test_both_accept(text: str) -> None:
    loads, errors = _both(text)
    assert loads
    assert errors == []


@pytest.mark.parametrize(
    "text",
    [
        "version: true\norgs: [{name: A}]\n",
        "version: 1\nseed: yes\norgs: [{name: A}]\n",
        f"version: 1\nseed: {2**63}\norgs: [{{name: A}}]\n",
        with_org_field(f"login_policy: {{second_factors: [], processed_sequence: {2**64}}}"),
        "version: 1\nclock: 2025-08-28\norgs: [{name: A}]\n",
        "version: 1\norgs: [{name: ' '}]\n",
        with_org_field("id: -1"),
        with_org_field(f"id: '{'1' * 201}'"),
        with_org_field("login_policy: {second_factors: [sms]}"),
        with_org_field("login_policy: {}"),
        with_user("auth_factors: [{type: otp, id: '1'}]"),
        with_user("auth_factors: [{type: u2f, state: ' ready'}]"),
        with_user("auth_factors: [{name: k}]"),
        with_user("type: Human"),
        with_org("tokens: [{token: t, user: alice, expired: 1}]"),
        with_org("errors: [{code: 0}]"),
        with_org("errors: [{code: 17}]"),
        with_org("errors: [{code: true}]"),
        with_org("errors: [{code: 14, rpc: listhumanauthfactors}]"),
        with_org("errors: [{code: 14, rpc: svc/ListLoginPolicySecondFactors, user: alice}]"),
        with_org("errors: [{code: 14, message: ''}]"),
        with_org("instance: {members: [{user: alice, roles: []}]}"),
        with_org("1: x"),
        with_org("instance: null"),
        with_org("errors: [{rpc: ListHumanAuthFactors}]"),
        with_org("errors: [{code: 14, fault: timeout}]"),
        with_org("errors: [{delay: 1, id: X-1}]"),
        with_org("errors: [{fault: timeout, hold: 0}]"),
        with_org("errors: [{fault: empty_response, hold: 1}]"),
        with_org("errors: [{code: 14, then: {delay: 1}}]"),
        with_org("errors: [{code: 14, times: 1, then: {user: alice, delay: 1}}]"),
        with_org("errors: [{code: 14, times: 1, then: {times: 2}}]"),
        with_org("errors: [{delay: true}]"),
        with_org("errors: [{delay: 3601}]"),
        with_org("errors: [{delay: {uniform: [1, 2, 3]}}]"),
        with_org("errors: [{delay: {lognormal: {median: 0, sigma: 1}}}]"),
        with_org("errors: [{fault: drop}]"),
        with_org("errors: [{code: 14, probability: -0.1}]"),
        with_org("errors: [{code: 14, after: -1}]"),
        with_org("latency: {}"),
        with_org("rate_limit: {requests: 1}"),
        with_org("rate_limit: {requests: 1, window: 0}"),
        "version: 1\nzitadel_version: 4.13\norgs: [{name: A}]\n",
        "version: 1\nzitadel_version: '4'\norgs: [{name: A}]\n",
        "version: 1\nzitadel_version: '4.13.1.2'\norgs: [{name: A}]\n",
        "version: 1\nzitadel_version: '٤.13'\norgs: [{name: A}]\n",
        with_user("auth_factors: [recovery_codes]"),
        with_user("auth_factors: [{type: recovery_codes}]"),
    ],
)
def test_both_reject(text: str) -> None:
    loads, errors = _both(text)
    assert not loads
    assert errors


def test_schema_command_prints_the_schema() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "zitadel_mock", "schema"], capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout) == scenario_schema()
    assert run.stderr == ""


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("unknown reference", f"version: 1\n{ORG}\ntokens: [{{token: t, user: bob}}]\n"),
        ("duplicate", "version: 1\norgs: [{name: A}, {name: A}]\n"),
        ("calendar", "version: 1\nclock: '2025-02-30T10:00:00Z'\norgs: [{name: A}]\n"),
        ("syntax", "version: 1\nversion: 1\norgs: [{name: A}]\n"),
        ("number form", "version: 1\nseed: 3.0\norgs: [{name: A}]\n"),
        ("bounds", "version: 1\norgs: [{name: A}]\nlatency: {uniform: [1, 0]}\n"),
        ("version", "version: 1\nzitadel_version: '5.1'\norgs: [{name: A}]\n"),
        (
            "version",
            "version: 1\nzitadel_version: '4.9'\n"
            "orgs: [{name: A, login_policy: {second_factors: [recovery_codes]}}]\n",
        ),
    ],
)
def test_loader_only_kinds_are_accepted_by_the_schema(kind: str, text: str) -> None:
    with pytest.raises(ScenarioError) as loader:
        parse_scenario(text)
    assert LOADER_ONLY_MESSAGES[kind](loader.value.message), loader.value.message
    # What a standard parser (an editor's) makes of the text passes the schema.
    assert schema_errors(plain(yaml.safe_load(text))) == []


# -- what editors show: a description on every key, and the names they can complete ------------


def _declared(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every key the schema declares (a ``properties`` entry of a closed object), by path.

    The ``properties`` of a condition (if/then/else, an anyOf that narrows) only constrain
    keys declared elsewhere: they are no declarations.
    """
    if isinstance(node, dict):
        if node.get("additionalProperties") is False:
            for key, value in node.get("properties", {}).items():
                yield f"{path}/{key}", value
        for key, value in node.items():
            yield from _declared(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _declared(value, f"{path}/{index}")


def test_every_key_has_a_description() -> None:
    declared = list(_declared(scenario_schema()))
    assert len(declared) >= 89  # every key of the format, the generate: block's included
    missing = [path for path, value in declared if not str(value.get("description", "")).strip()]
    assert missing == []


def _offered(schema: dict[str, Any]) -> list[Any]:
    """The values an editor completes for ``schema``: its enums, in any anyOf branch."""
    values = list(schema.get("enum", ()))
    for branch in schema.get("anyOf", ()):
        values += _offered(branch)
    if "items" in schema:
        values += _offered(schema["items"])
    return values


def test_editors_are_offered_the_names() -> None:
    schema = scenario_schema()
    org = schema["properties"]["orgs"]["items"]["properties"]
    user = org["users"]["items"]["properties"]
    factor = user["auth_factors"]["items"]["anyOf"][1]["properties"]
    error = schema["properties"]["errors"]["items"]["properties"]
    policy = org["login_policy"]["properties"]
    assert _offered(factor["type"]) == ["otp", "otp_email", "otp_sms", "u2f"]
    assert _offered(user["auth_factors"]["items"]["anyOf"][0]) == _offered(factor["type"])
    assert "recovery_codes" in _offered(policy["second_factors"])
    assert _offered(factor["state"]) == ["ready", "not_ready"]
    assert "UNAVAILABLE" in _offered(error["code"])
    assert "OK" not in _offered(error["code"])
    assert _offered(error["fault"]) == [
        "connection_reset",
        "empty_response",
        "malformed_body",
        "random_data_then_close",
        "timeout",
    ]
    assert "ListHumanAuthFactors" in _offered(error["rpc"])
    assert "ORG_OWNER" in _offered(org["members"]["items"]["properties"]["roles"])
    assert _offered(user["type"]) == ["human", "machine"]


@pytest.mark.parametrize(
    ("value", "valid"),
    [("u2f", True), ("U2F", True), (" second_factor_type_otp ", True), ("sms", False)],
)
def test_an_offered_name_and_the_loader_s_other_spellings_agree(value: str, valid: bool) -> None:
    text = f"""
        version: 1
        orgs: [{{name: A, users: [{{username: a, auth_factors: [{{type: {value!r}}}]}}]}}]
    """
    data = plain(yaml.safe_load(textwrap.dedent(text)))
    assert VALIDATOR.is_valid(data) is valid
    if valid:
        parse_scenario(textwrap.dedent(text))
    else:
        with pytest.raises(ScenarioError):
            parse_scenario(textwrap.dedent(text))
