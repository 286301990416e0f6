"""The zitadel-mock command: options, errors, and a few real processes."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest
import requests
from support import SECOND_FACTORS, bearer

from zitadel_mock.cli import main

QUICKSTART = str(Path(__file__).parent.parent / "fixtures" / "quickstart.yaml")


def fake_serve(seen: list[argparse.Namespace]) -> object:
    def serve(args: argparse.Namespace, out: TextIO) -> int:
        seen.append(args)
        return 0

    return serve


def test_serve_options_and_defaults() -> None:
    seen: list[argparse.Namespace] = []
    assert main(["serve", "--scenario", QUICKSTART], serve=fake_serve(seen)) == 0  # type: ignore[arg-type]
    args = seen[0]
    assert (args.host, args.port, args.threads, args.quiet) == ("127.0.0.1", 8080, 0, False)
    main(
        ["serve", "-s", QUICKSTART, "--host", "::1", "-p", "0", "--threads", "8", "-q"],
        serve=fake_serve(seen),  # type: ignore[arg-type]
    )
    assert (seen[1].host, seen[1].port, seen[1].threads, seen[1].quiet) == ("::1", 0, 8, True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["serve"], "the following arguments are required: --scenario/-s"),
        (["serve", "-s", "x", "--port", "http"], "argument --port/-p: 'http' is not a port number"),
        (["serve", "-s", "x", "--port", "70000"], "70000 is not a port number (0 to 65535)"),
        (["serve", "-s", "x", "--threads", "-1"], "-1 is not a number of threads (0 or more)"),
        (["serve", "-s", "x", "--bogus"], "unrecognized arguments: --bogus"),
        (["launch"], "argument COMMAND: invalid choice: 'launch'"),
    ],
)
def test_bad_flags_give_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def test_bad_scenario_gives_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\norgs:\n  - name: A\n    users: [{username: u, type: robot}]\n")
    assert main(["serve", "--scenario", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {bad}:4: orgs[0].users[0].type: 'robot' is not one of human, machine\n"


def test_help_documents_everything(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--scenario",
        "--host",
        "--port",
        "--threads",
        "--quiet",
        "127.0.0.1",
        "SIGTERM",
    ):
        assert option in text


@pytest.fixture
def process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "zitadel_mock", "serve", "--scenario", QUICKSTART, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.fullmatch(r"Serving on (http://127\.0\.0\.1:(\d+))\n", line)
    assert match, line
    assert int(match.group(2)) > 0
    try:
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_logs_and_stops_cleanly(
    process: tuple[subprocess.Popen[str], str], sig: signal.Signals
) -> None:
    proc, url = process
    with requests.Session() as session:
        assert session.post(url + SECOND_FACTORS, headers=bearer("acme-admin-token")).ok
        assert session.get(url + SECOND_FACTORS).status_code == 405
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(f"POST {SECOND_FACTORS} ListLoginPolicySecondFactors 200")
    assert lines[1].endswith(f"GET {SECOND_FACTORS} - 405")
