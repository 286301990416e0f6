"""The zitadel-mock command: options, one-line errors, and a few real processes.

Most tests inject the serve function into ``main`` and open no socket; a few run
``python -m zitadel_mock serve`` for real, send requests and stop it with a signal.
"""

from __future__ import annotations

import argparse
import re
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest
import requests
from testkit import SECOND_FACTORS, bearer

from zitadel_mock import __version__
from zitadel_mock.cli.main import build_parser, main

ROOT = Path(__file__).parents[2]
QUICKSTART = str(ROOT / "fixtures" / "quickstart.yaml")
BROKEN = ROOT / "tests" / "broken"
ACCESS_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S+ \S+ \S+ \d{3}.*)")
DURATION = re.compile(r" \d+\.\dms ")


class FakeServe:
    """A serve function that records its arguments instead of serving."""

    def __init__(self, status: int = 0) -> None:
        self.calls: list[tuple[argparse.Namespace, TextIO]] = []
        self.status = status

    def __call__(self, args: argparse.Namespace, out: TextIO) -> int:
        self.calls.append((args, out))
        return self.status


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.endswith("\n")
    assert "Traceback" not in err
    return err


# -- options ------------------------------------------------------------------------------------


def test_serve_options_and_defaults() -> None:
    serve = FakeServe()
    assert main(["serve", "--scenario", QUICKSTART], serve=serve) == 0
    args, out = serve.calls[0]
    assert out is sys.stdout
    assert (args.scenario, args.host, args.port) == (QUICKSTART, "127.0.0.1", 8080)
    assert (args.threads, args.quiet) == (0, False)
    main(
        ["serve", "-s", QUICKSTART, "--host", "::1", "-p", "0", "--threads", "8", "-q"], serve=serve
    )
    args, _ = serve.calls[1]
    assert (args.host, args.port, args.threads, args.quiet) == ("::1", 0, 8, True)


def test_the_exit_status_is_the_one_serve_returns() -> None:
    assert main(["serve", "-s", QUICKSTART], serve=FakeServe(3)) == 3


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo the help's line wrapping
    serve = next(
        choice
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name, choice in action.choices.items()
        if name == "serve"
    )
    options = [option for action in serve._actions for option in action.option_strings]
    assert {"--scenario", "-s", "--host", "--port", "-p", "--threads", "--quiet", "-q"} <= set(
        options
    )
    for option in options:
        assert option in text, option
    for fact in ("default: 127.0.0.1", "default: 8080", "0: a free one", "SIGTERM", "Ctrl-C"):
        assert fact in text, fact
    assert "Serving on http://HOST:PORT" in text
    assert "access-log line per request on stderr" in text


def test_the_command_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for word in ("serve", "validate", "schema", "--version", "--port 0"):
        assert word in text, word


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"zitadel-mock {__version__}\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["launch"], "argument COMMAND: invalid choice: 'launch'"),
        (["serve"], "the following arguments are required: --scenario/-s"),
        (["serve", "-s"], "argument --scenario/-s: expected one argument"),
        (["serve", "-s", "x", "--port"], "argument --port/-p: expected one argument"),
        (["serve", "-s", "x", "--port", "http"], "argument --port/-p: 'http' is not a port number"),
        (["serve", "-s", "x", "--port", "70000"], "70000 is not a port number (0 to 65535)"),
        (["serve", "-s", "x", "--port", "-1"], "-1 is not a port number (0 to 65535)"),
        (["serve", "-s", "x", "--threads", "two"], "'two' is not a whole number"),
        (["serve", "-s", "x", "--threads", "-1"], "-1 is not a number of threads (0 or more)"),
        (["serve", "-s", "x", "--bogus"], "unrecognized arguments: --bogus"),
        (["serve", "-s", "x", "extra"], "unrecognized arguments: extra"),
    ],
)
def test_a_bad_flag_gives_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    serve = FakeServe()
    with pytest.raises(SystemExit) as exited:
        main(argv, serve=serve)
    assert exited.value.code == 2
    err = one_error_line(capsys)
    assert err.startswith("zitadel-mock")
    assert ": error: " in err
    assert message in err
    assert serve.calls == []


# -- errors while serving, in this process ------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda tmp: tmp / "bad.yaml",
            "{path}:4: orgs[0].users[0].type: 'robot' is not one of human, machine",
        ),
        (lambda tmp: tmp / "missing.yaml", "{path}: no such file"),
        (lambda tmp: tmp, "{path}: is a directory, expected a scenario file"),
        (
            lambda tmp: BROKEN / "14-duplicate-key.yaml",
            "{path}:4: orgs[0].name: key 'name' is given twice (first on line 3)",
        ),
    ],
    ids=["invalid", "missing", "directory", "duplicate-key"],
)
def test_a_bad_scenario_gives_one_error_line(
    make: object, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "version: 1\norgs:\n  - name: A\n    users: [{username: u, type: robot}]\n"
    )
    path = make(tmp_path)  # type: ignore[operator]
    assert main(["serve", "--scenario", str(path)]) == 2
    assert one_error_line(capsys) == f"error: {expected.format(path=path)}\n"


def test_a_busy_port_gives_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "-s", QUICKSTART, "--port", str(port), "--quiet"]) == 2
    assert re.fullmatch(
        rf"error: cannot listen on 127\.0\.0\.1:{port}: .+\n", one_error_line(capsys)
    )


def test_an_unknown_host_gives_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "-s", QUICKSTART, "--host", "no-such-host.invalid", "--quiet"]) == 2
    assert one_error_line(capsys).startswith("error: cannot resolve 'no-such-host.invalid': ")


def test_ctrl_c_before_serving_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: argparse.Namespace, out: TextIO) -> int:
        raise KeyboardInterrupt

    assert main(["serve", "-s", QUICKSTART], serve=interrupted) == 130
    assert capsys.readouterr() == ("", "")


# -- real processes -----------------------------------------------------------------------------


def first_line(proc: subprocess.Popen[str], seconds: float = 60) -> str:
    """The first line the process prints, or '' if it prints none in time (or exits)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(seconds):
            return ""
    return proc.stdout.readline()


def serving(*options: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "zitadel_mock", "serve", "-s", QUICKSTART, "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first_line(proc)
        match = re.fullmatch(r"Serving on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, (line, proc.poll())
        assert int(match.group(2)) > 0
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


@pytest.fixture
def process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    yield from serving()


@pytest.fixture
def quiet_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    yield from serving("--quiet")


def stop(proc: subprocess.Popen[str], sig: signal.Signals) -> str:
    """Send ``sig``; return stderr once the process has ended by itself, with status 0."""
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_prints_its_url_answers_logs_and_stops_cleanly(
    process: tuple[subprocess.Popen[str], str], sig: signal.Signals
) -> None:
    proc, url = process
    with requests.Session() as session:
        ok = session.post(url + SECOND_FACTORS, headers=bearer("acme-admin-token"))
        assert ok.json()["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
        assert session.get(url + SECOND_FACTORS).status_code == 405
        assert session.post(url + SECOND_FACTORS).status_code == 401
    err = stop(proc, sig)
    logged = [
        DURATION.sub(" Nms ", m.group(1)) for m in map(ACCESS_LINE.fullmatch, err.splitlines()) if m
    ]
    assert logged == [
        f"POST {SECOND_FACTORS} ListLoginPolicySecondFactors 200 rest Nms "
        "why: answered: 2 second factors of ACME's login policy",
        f"GET {SECOND_FACTORS} - 405 rest Nms why: ListLoginPolicySecondFactors takes POST, "
        f"not GET: POST {SECOND_FACTORS}",
        f"POST {SECOND_FACTORS} ListLoginPolicySecondFactors 401 rest Nms "
        "why: no Authorization header",
    ]


def test_quiet_serves_without_an_access_log(
    quiet_process: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = quiet_process
    assert requests.post(url + SECOND_FACTORS, headers=bearer("acme-admin-token")).ok
    err = stop(proc, signal.SIGTERM)
    assert not any(ACCESS_LINE.fullmatch(line) for line in err.splitlines()), err
