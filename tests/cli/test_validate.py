"""``zitadel-mock validate``: one line per file, exit 0 only when every file is valid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zitadel_mock import ScenarioError, load_scenario
from zitadel_mock.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
BROKEN = ROOT / "tests" / "broken"


def loader_error(path: Path | str) -> str:
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    return str(error.value)


def test_valid_files(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in FIXTURES.glob("*.yaml"))
    assert main(["validate", *files]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"{f}: ok" for f in files]
    assert err == ""


def test_every_broken_file_gets_its_loader_line(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in BROKEN.iterdir())
    assert main(["validate", *files]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [loader_error(f) for f in files]
    assert err == ""


def test_one_invalid_file_among_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\norgs:\n  - name: A\n    users: [{username: u, type: robot}]\n")
    good = str(FIXTURES / "quickstart.yaml")
    assert main(["validate", good, str(bad), good]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{good}: ok",
        f"{bad}:4: orgs[0].users[0].type: 'robot' is not one of human, machine",
        f"{good}: ok",
    ]


def test_a_directory_stands_for_its_scenario_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.yaml").write_text("version: 1\norgs: [{name: A}]\n")
    (tmp_path / "nested" / "b.json").write_text('{"version": 1, "orgs": []}')
    (tmp_path / "notes.txt").write_text("not a scenario")
    (tmp_path / "empty").mkdir()
    assert main(["validate", str(tmp_path), str(tmp_path / "empty")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'a.yaml'}: ok",
        f"{tmp_path / 'nested' / 'b.json'}:1: orgs: expected at least one entry, got an empty list",
        f"{tmp_path / 'empty'}: is a directory, expected a scenario file",
    ]


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "nowhere.yaml"]) == 1
    assert capsys.readouterr().out == "nowhere.yaml: no such file\n"


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(FIXTURES / "quickstart.yaml")
    bad = str(BROKEN / "21-member-unknown-user.yaml")
    assert main(["validate", "--format", "json", good, bad]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "valid": False,
        "files": [
            {"path": good, "valid": True},
            {
                "path": bad,
                "valid": False,
                "error": loader_error(bad),
                "line": 5,
                "key_path": "orgs[0].members[0].user",
                "message": "no user 'alcie' in the scenario (did you mean 'alice'?)",
            },
        ],
    }
    assert main(["validate", "--format", "json", good]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "valid": True,
        "files": [{"path": good, "valid": True}],
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate"], "the following arguments are required: PATH"),
        (["validate", "--format", "xml", "x.yaml"], "argument --format: invalid choice: 'xml'"),
    ],
)
def test_bad_flags(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def test_exit_status_of_the_command() -> None:
    def run(*paths: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "zitadel_mock", "validate", *map(str, paths)]
        return subprocess.run(command, capture_output=True, text=True)

    assert run(FIXTURES).returncode == 0
    failed = run(FIXTURES / "quickstart.yaml", BROKEN / "06-version-2.yaml")
    assert failed.returncode == 1
    assert failed.stdout.splitlines()[1].endswith(
        "06-version-2.yaml:1: version: unsupported version 2; expected 1"
    )
    assert failed.stderr == ""
