"""The line of a scenario error points at the mistake: block and flow style, JSON, anywhere."""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_scenario_errors import error_of, failure

from zitadel_mock import load_scenario, parse_scenario, scenario_from_data

# -- the line points at the mistake, in block and flow style ------------------------------------

# Each text marks the line of its mistake with "#<"; the error must name that line and path.
LINE_CASES = {
    "block user type": (
        """
        version: 1
        orgs:
          - name: A
            users:
              - username: u
                type: robot  #<
        """,
        "orgs[0].users[0].type",
    ),
    "flow user type": (
        """
        version: 1
        orgs: [{name: A,
                users: [{username: u,
                         type: robot}]}]  #<
        """,
        "orgs[0].users[0].type",
    ),
    "flow user type mid-collection": (
        """
        version: 1
        orgs: [{name: A, users: [{username: u,
                                  type: robot,  #<
                                  id: '5'}]}]
        """,
        "orgs[0].users[0].type",
    ),
    "block value on the next line": (
        """
        version: 1
        orgs:
          - name: A
            users:
              - username: u
                type:  #<
                  robot
        """,
        "orgs[0].users[0].type",
    ),
    "explicit key": (
        """
        version: 1
        orgs:
          - name: A
            users:
              - username: u
                ? type  #<
                : robot
        """,
        "orgs[0].users[0].type",
    ),
    "block second factor": (
        """
        version: 1
        orgs:
          - name: A
            login_policy:
              second_factors:
                - otp
                - totp  #<
        """,
        "orgs[0].login_policy.second_factors[1]",
    ),
    "flow second factor on its own line": (
        """
        version: 1
        orgs:
          - name: A
            login_policy: {second_factors: [
              otp,
              totp,  #<
            ]}
        """,
        "orgs[0].login_policy.second_factors[1]",
    ),
    "block duplicate org": (
        """
        version: 1
        orgs:
          - name: A
          - id: '7'
            name: A  #<
        """,
        "orgs[1].name",
    ),
    "flow duplicate org": (
        """
        version: 1
        orgs: [{name: A},
               {id: '7', name: A}]  #<
        """,
        "orgs[1].name",
    ),
    "role after comments and blank lines": (
        """
        version: 1
        orgs:
          - name: A
            # the members

            members:
              - user: u
                # every role
                roles:

                  - ORG_OWNER
                  - ORG_OWNR  #<
            users: [{username: u}]
        """,
        "orgs[0].members[0].roles[1]",
    ),
    "block unknown key": (
        """
        version: 1
        orgs:
          - name: A
            users:
              - username: u
                auth_factors:
                  - type: u2f
                    nmae: key  #<
        """,
        "orgs[0].users[0].auth_factors[0].nmae",
    ),
    "flow unknown key": (
        """
        version: 1
        orgs: [{name: A, users: [{username: u, auth_factors: [
                 {type: u2f, nmae: key}]}]}]  #<
        """,
        "orgs[0].users[0].auth_factors[0].nmae",
    ),
    "block duplicate key": (
        """
        version: 1
        orgs:
          - name: A
            users:
              - username: u
                type: human
                type: machine  #<
        """,
        "orgs[0].users[0].type",
    ),
    "flow duplicate key": (
        """
        version: 1
        orgs: [{name: A, users: [{username: u, type: human,
                                  type: machine}]}]  #<
        """,
        "orgs[0].users[0].type",
    ),
    "token user": (
        """
        version: 1
        orgs: [{name: A, users: [{username: u}]}]
        tokens:
          - token: t
            user: v  #<
        """,
        "tokens[0].user",
    ),
    "error code in flow": (
        """
        version: 1
        orgs: [{name: A}]
        errors: [{rpc: ListHumanAuthFactors,
                  code: UNAVAILIBLE}]  #<
        """,
        "errors[0].code",
    ),
    "an alias repeats an org": (
        """
        version: 1
        orgs:
          - &a {name: A}
          - *a  #<
        """,
        "orgs[1].name",
    ),
    "a merge brings in a bad factor": (
        """
        version: 1
        orgs:
          - name: A
            login_policy:
              <<: {second_factors: [totp]}  #<
        """,
        "orgs[0].login_policy.second_factors[0]",
    ),
    "a merge from an alias": (
        """
        version: 1
        orgs:
          - name: A
            users:
              - &base {username: u, type: machine}
              - <<: *base  #<
                id: '9'
        """,
        "orgs[0].users[1].username",
    ),
    "an explicit key after a merge": (
        """
        version: 1
        orgs:
          - &a {name: A, login_policy: {second_factors: [otp]}}
          - <<: *a
            name: B
            login_policy:
              second_factors: [totp]  #<
        """,
        "orgs[1].login_policy.second_factors[0]",
    ),
    "missing required key": (
        """
        version: 1
        orgs:
          - name: A
            users:
              - id: '5'  #<
                type: human
        """,
        "orgs[0].users[0]",
    ),
}


@pytest.mark.parametrize("case", sorted(LINE_CASES))
def test_the_line_points_at_the_mistake(case: str) -> None:
    text, path = LINE_CASES[case]
    text = textwrap.dedent(text).lstrip("\n")
    marked = [i + 1 for i, line in enumerate(text.splitlines()) if line.endswith("#<")]
    error = error_of(parse_scenario, text, source="s.yaml")
    assert (error.line, error.path) == (marked[0], path), str(error)


def test_a_control_character_after_non_ascii_text() -> None:
    # libyaml reports the position in bytes; the line must count characters.
    text = "version: 1\n# Zürich, Genève, Bern: é é é é é é\norgs:\n  - name: A\x07\n"
    assert error_of(parse_scenario, text).line == 4
    assert error_of(parse_scenario, text.replace("\n", "\r")).line == 4


def test_an_odd_key_is_quoted_in_the_path() -> None:
    text = 'version: 1\norgs:\n  - name: A\n    "line\\nbreak and space": x\n'
    error = error_of(parse_scenario, text)
    assert error.path == "orgs[0]['line\\nbreak and space']"
    assert error.line == 4


def test_crlf_and_cr_line_breaks_count_as_lines() -> None:
    text = "version: 1\norgs:\n  - name: A\n    users:\n      - {username: u, type: robot}\n"
    for newline in ("\r\n", "\r"):
        error = error_of(parse_scenario, text.replace("\n", newline))
        assert error.line == 5


# -- JSON: the same schema and the same errors --------------------------------------------------

JSON_CASES = [
    "version: 2\norgs: [{name: A}]\n",
    "version: 1\norgs: [{name: A, users: [{username: u, type: robot}]}]\n",
    "version: 1\norgs: [{name: A}, {name: A}]\n",
    "version: 1\norgs: [{name: A, users: [{username: u, auth_factors: [{type: otp, name: x}]}]}]\n",
    "version: 1\norgs: [{name: A, members: [{user: u, roles: [IAM_OWNER]}],"
    " users: [{username: u}]}]\n",
    "version: 1\norgs: [{name: A, users: [{username: u}]}]\ntokens: [{token: t, user: v}]\n",
    "version: 1\norgs: [{name: A}]\nerrors: [{code: 14, times: 0}]\n",
    "version: 1\norgs: [{name: A, login_policy: {second_factors: [otp, otp]}}]\n",
    "version: 1\norgs: [{name: A, users: {}}]\n",
]


@pytest.mark.parametrize("text", JSON_CASES)
def test_a_json_file_gets_the_same_error(text: str, tmp_path: Path) -> None:
    from_yaml = error_of(parse_scenario, text)
    path = tmp_path / "s.json"
    written = json.dumps(yaml.safe_load(text), indent=2)
    path.write_text(written)
    from_json = error_of(load_scenario, path)
    assert (from_json.path, from_json.message) == (from_yaml.path, from_yaml.message)
    assert from_json.line is not None
    line = written.splitlines()[from_json.line - 1].strip()
    last = from_json.path.rsplit(".", 1)[-1]
    if last.endswith("]"):  # a list entry: the line holds the entry, not a key
        assert ":" not in line, line
    else:
        assert line.startswith(f'"{last}":'), line


def test_json_is_guessed_from_the_text() -> None:
    error = error_of(parse_scenario, '{"version": 1, "orgs": [{"name": "A"}],}')
    assert error.message.startswith("invalid JSON: ")


def test_a_json_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'\xef\xbb\xbf{"version": 1, "orgs": [{"name": "A"}]}')
    assert load_scenario(path).orgs[0].name == "A"


# -- wrong types everywhere ---------------------------------------------------------------------

FULL = yaml.safe_load(
    """
    version: 1
    seed: 3
    clock: "2025-08-28T10:46:22Z"
    instance:
      login_policy: {second_factors: [otp_email], processed_sequence: 9}
      members: [{user: root, roles: [IAM_OWNER]}]
    orgs:
      - name: ACME
        id: "10"
        login_policy: {second_factors: [otp, u2f]}
        members: [{user: admin, roles: [ORG_OWNER]}]
        users:
          - username: alice
            id: "11"
            type: human
            auth_factors: [otp, {type: u2f, name: Key, id: "12", state: ready}]
          - {username: admin, type: machine}
      - name: Globex
        users: [{username: root}]
    tokens: [{token: t, user: admin, expired: false}]
    errors:
      - {rpc: ListHumanAuthFactors, user: alice, org: ACME, code: 14, message: m, id: X, times: 2}
    """
)
WRONG_VALUES: list[Any] = [None, True, 7, 1.5, "x", "", [], [1], {}, {"a": 1}]


def paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in items:
        yield from paths(child, (*path, key))


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copied = copy.deepcopy(data)
    parent = copied
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = copy.deepcopy(value)
    return copied


def test_the_full_scenario_loads() -> None:
    assert len(scenario_from_data(FULL).users) == 3


@pytest.mark.parametrize("path", list(paths(FULL)), ids=lambda p: ".".join(map(str, p)))
@pytest.mark.parametrize("style", ["block", "flow"])
def test_a_wrong_value_anywhere_gives_one_precise_line(path: tuple[Any, ...], style: str) -> None:
    for value in WRONG_VALUES:
        data = replaced(FULL, path, value)
        if style == "block":
            text = yaml.safe_dump(data, sort_keys=False)
        else:  # flow collections, broken over many lines
            text = yaml.safe_dump(data, sort_keys=False, default_flow_style=True, width=30)
        error = failure(text, "s.yaml")
        if error is None:
            continue
        message = str(error)
        assert "\n" not in message
        assert error.line is not None, message
        assert message.startswith(f"s.yaml:{error.line}: "), message
        line = text.splitlines()[error.line - 1]
        # The line holds the key the path ends with, or the list entry it names.
        last = error.path.rsplit(".", 1)[-1]
        if last.endswith("]"):
            if style == "block":
                assert line.lstrip().startswith("-"), (message, line)
        elif last and style == "block":
            assert line.lstrip(" -").startswith(f"{last}:"), (message, line)
        elif last:
            assert f"{last}:" in line, (message, line)
