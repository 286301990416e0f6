"""Integers over Python's 4,300-digit limit: a precise one-line error everywhere, never a crash.

``int("1" * 5000)`` raises ValueError; json.loads and YAML's int constructor both hit it. Each
reader says where the number is instead: exit 2 (serve), 422 (control API), reload_error.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import falcon.testing
import pytest
from testkit import MAIN, scenario

from zitadel_mock import ScenarioError, State, create_app, parse_scenario, scenario_from_data
from zitadel_mock.cli.main import main
from zitadel_mock.cli.reload import Reloader
from zitadel_mock.namespaces import Namespaces

HUGE = "1" * 5000
YAML = textwrap.dedent(
    f"""\
    version: 1
    orgs:
      - name: A
        users:
          - {{username: u, id: {HUGE}}}
    """
)
JSON = json.dumps({"version": 1, "orgs": [{"name": "A", "users": [{"username": "u"}]}]}).replace(
    '"u"}', f'"u", "id": {HUGE}}}'
)
WHERE = "orgs[0].users[0].id: an integer of 5,000 digits; at most 4,300 can be read"


@pytest.mark.parametrize(("text", "fmt", "line"), [(YAML, "yaml", 5), (JSON, "json", 1)])
def test_scenario_text_names_the_line_and_key_path(text: str, fmt: str, line: int) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, source="s", format=fmt)
    assert str(error.value).startswith(f"s:{line}: {WHERE}")


def test_serve_and_validate_say_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(YAML)
    assert main(["serve", "--scenario", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:5: {WHERE}")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert main(["validate", str(path)]) == 1  # validate's status for an invalid file
    assert capsys.readouterr().out.startswith(f"{path}:5: {WHERE}")


def test_reload_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\norgs: [{name: A}]\n")
    spaces = Namespaces(parse_scenario(path.read_text()))
    reloader = Reloader(path, spaces)
    path.write_text(YAML + "# edited\n")
    assert reloader.check() is False
    assert spaces.reload_error is not None
    assert spaces.reload_error.startswith(f"{path}:5: {WHERE}")


@pytest.mark.parametrize(
    ("method", "route", "body", "path"),
    [
        ("PUT", "/_mock/scenario", YAML, "orgs[0].users[0].id"),
        ("PUT", "/_mock/scenario", JSON, "orgs[0].users[0].id"),
        ("POST", "/_mock/errors", f'{{"code": "UNAVAILABLE", "times": {HUGE}}}', "times"),
        ("POST", "/_mock/users", f'{{"username": "z", "id": {HUGE}}}', "id"),
        ("POST", "/_mock/users/alice/factors", f'{{"type": "u2f", "id": {HUGE}}}', "id"),
        ("POST", "/_mock/tokens", f'{{"token": "t", "user": {HUGE}}}', "user"),
    ],
)
def test_the_control_api_answers_422_with_the_key_path(
    method: str, route: str, body: str, path: str
) -> None:
    state = State(scenario(MAIN))
    c = falcon.testing.TestClient(create_app(state, control=True))
    answer = c.simulate_request(method, route, body=body)
    assert answer.status_code == 422, answer.text
    assert f"{path}: an integer of 5,000 digits" in answer.json["error"]
    assert answer.json["errors"][0]["path"] == path
    assert state.server_errors == []


def test_python_callers_get_a_scenario_error() -> None:
    huge = 10**5000
    with pytest.raises(ScenarioError, match=r"an integer of about 5,00\d digits"):
        scenario_from_data({"version": 1, "seed": huge, "orgs": [{"name": "A"}]})
    with pytest.raises(ScenarioError, match=r"an integer of about 5,00\d digits"):
        scenario_from_data({"version": huge, "orgs": [{"name": "A"}]})
    state = State(scenario(MAIN))
    with pytest.raises(ScenarioError, match=r"an integer of about 5,00\d digits"):
        state.add_user("z", id=huge)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match=r"an integer of about 5,00\d digits"):
        state.add_token("t", huge)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match=r"an integer of about 5,00\d digits"):
        state.add_error(code=huge)
