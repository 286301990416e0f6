"""Hostile scenario text: alias chains, alias and merge bombs, numbers too long to read.

Each is a precise error with its line, from the loader, ``validate``, ``serve`` and the control
API alike, found before any work grows with what the text could expand to.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from zitadel_mock import MockServer, ScenarioError, parse_scenario
from zitadel_mock.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "fixtures" / "quickstart.yaml"
HEAD = "version: 1\norgs: [{name: ACME}]\n"


def rules_each_aliasing_the_previous(count: int) -> str:
    """``count`` forced rules whose ``then`` is the rule before: a chain, nested as it expands."""
    lines = [HEAD + "errors:", "  - &r0 {code: UNAVAILABLE, times: 1}"]
    lines += [
        f"  - &r{i} {{code: UNAVAILABLE, times: 1, then: *r{i - 1}}}" for i in range(1, count)
    ]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int) -> str:
    """Each level merges the level before twice: 2**levels mappings if merges were copied."""
    lines = [HEAD + "x0: &x0 {a0: 1}"]
    lines += [f"x{i}: &x{i} {{<<: [*x{i - 1}, *x{i - 1}], a{i}: 1}}" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def huge_number(digits: int) -> str:
    return HEAD.replace("orgs: [{name: ACME}]", f"seed: {'7' * digits}\norgs: [{{name: ACME}}]")


ATTACKS = {
    # 300 rules (15 KB): the chain nests past the depth limit at its 63rd rule.
    "300 rules, each then the previous": (
        rules_each_aliasing_the_previous(300),
        66,
        "invalid YAML: nested more than 64 levels deep (through *r61)",
    ),
    # 1,200 rules (64 KB): the same error, as early; nothing is expanded.
    "1,200-deep alias chain": (
        rules_each_aliasing_the_previous(1200),
        66,
        "invalid YAML: nested more than 64 levels deep (through *r61)",
    ),
    # 22 levels of <<: [*prev, *prev] (1.4 KB): counted as expanded, refused at level 16.
    "merge bomb": (
        merge_bomb(22),
        19,
        "invalid YAML: aliases bring in more than 1,000,000 values (*x15 holds 262,139)",
    ),
    "an integer of 5,000 digits": (
        huge_number(5000),
        2,
        "seed: an integer of 5,000 digits; at most 4,300 can be read"
        " (write it as a string if it is an id)",
    ),
}


@pytest.mark.parametrize(("text", "line", "message"), ATTACKS.values(), ids=ATTACKS.keys())
def test_the_loader_refuses_with_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="attack.yaml")
    error = caught.value
    assert (error.line, f"{error.path}: {error.message}".lstrip(": ")) == (line, message)


def test_validate_and_serve_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = []
    for index, (text, line, message) in enumerate(ATTACKS.values()):
        path = tmp_path / f"attack{index}.yaml"
        path.write_text(text)
        files.append((path, f"{path}:{line}: {message}"))
    assert main(["validate", *(str(path) for path, _ in files)]) == 1
    assert capsys.readouterr().out.splitlines() == [expected for _, expected in files]
    for path, expected in files:
        run = subprocess.run(
            [sys.executable, "-m", "zitadel_mock", "serve", "--scenario", str(path), "--port", "0"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (run.returncode, run.stderr) == (2, f"error: {expected}\n")


def test_the_control_api_answers_422() -> None:
    from zitadel_mock import load_scenario

    with MockServer(load_scenario(QUICKSTART)) as mock:
        for text, line, message in ATTACKS.values():
            answer = requests.put(
                f"{mock.url}/_mock/scenario",
                data=text.encode(),
                headers={"Content-Type": "application/yaml"},
                timeout=30,
            )
            assert answer.status_code == 422, answer.text
            (error,) = answer.json()["errors"]
            assert (error["line"], f"{error['path']}: {error['message']}".lstrip(": ")) == (
                line,
                message,
            )
        # A JSON body with a number too long to read: the same, in JSON's words.
        body = '{"version": 1, "seed": ' + "7" * 5000 + ', "orgs": [{"name": "ACME"}]}'
        answer = requests.put(
            f"{mock.url}/_mock/scenario",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 422, answer.text
        assert json.loads(answer.text)["errors"] == [
            {
                "line": 1,
                "path": "seed",
                "message": "an integer of 5,000 digits; at most 4,300 can be read"
                " (write it as a string if it is an id)",
            }
        ]
