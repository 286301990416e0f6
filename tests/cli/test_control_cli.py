"""serve's control options: parsing, the server they build, and what serve says about them."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import pytest

from zitadel_mock import load_scenario
from zitadel_mock.cli.main import main
from zitadel_mock.cli.serve import TOKEN_ENV, ServeExtras, build_server

QUICKSTART = str(Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml")


def parsed(*argv: str) -> argparse.Namespace:
    seen: list[argparse.Namespace] = []

    def serve(args: argparse.Namespace, out: Any) -> int:
        seen.append(args)
        return 0

    assert main(["serve", "-s", QUICKSTART, *argv], serve=serve) == 0
    return seen[0]


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    args = parsed()
    assert (args.reload, args.control_token, args.no_control) == (False, None, False)
    assert (args.journal_size, args.max_namespaces) == (10_000, 1000)


def test_options_build_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    args = parsed("--journal-size", "5", "--max-namespaces", "3", "--control-token", "t0k")
    server = build_server(args, load_scenario(QUICKSTART))
    assert server.state.journal.maxlen == 5
    assert server.namespaces.max_namespaces == 3
    assert server.namespaces.get("x").journal.maxlen == 5
    assert server._control == (True, "t0k")
    off = build_server(parsed("--no-control"), load_scenario(QUICKSTART))
    assert off._control == (False, None)


def test_the_token_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    assert parsed().control_token == "from-env"
    assert parsed("--control-token", "given").control_token == "given"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--control-token", "t", "--no-control"],
            "argument --no-control: not allowed with argument --control-token",
        ),
        (["--control-token", " "], "argument --control-token: the token is empty"),
        (["--journal-size", "0"], "argument --journal-size: 0 is not a positive number"),
        (["--max-namespaces", "many"], "argument --max-namespaces: 'many' is not a whole number"),
    ],
)
def test_bad_flags_give_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "-s", QUICKSTART, *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(
    ("argv", "host", "said"),
    [
        ([], "127.0.0.1", "control API on (127.0.0.1 is a loopback address) at {url}/_mock/"),
        (["--no-control"], "127.0.0.1", "control API off (--no-control)"),
        (
            ["--control-token", "t"],
            "0.0.0.0",
            "control API on; the token is required at {url}/_mock/",
        ),
        (
            [],
            "0.0.0.0",
            "control API off: 0.0.0.0 is not a loopback address; "
            "give --control-token TOKEN to serve it with a token",
        ),
    ],
)
def test_serve_says_what_it_decided(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], host: str, said: str
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    args = parsed("--host", host, "--port", "0", *argv)
    server = build_server(args, load_scenario(QUICKSTART))
    out = io.StringIO()
    with server:
        ServeExtras(args).start(server, out)
        assert out.getvalue() == said.format(url=server.url) + "\n"
