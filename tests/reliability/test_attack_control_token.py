"""Control tokens beyond ASCII: ``--control-token pässwörd`` (or ``MockServer(control_token=...)``)
is matched against the bytes a client sends, in UTF-8 (curl, Go, browsers) or, for a token that
fits latin-1, in latin-1 (what Python's http.client and requests send for a str); a token that
no header could carry is refused at start with a clear error.

Before, a non-ASCII token could never match: the header, read as latin-1, was compared with the
token's UTF-8 form.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from zitadel_mock import MockServer, ServerError, load_scenario
from zitadel_mock.cli.main import build_parser, main
from zitadel_mock.cli.serve import build_server

QUICKSTART = str(Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml")
TOKENS = ["pässwörd", "密码-token", "ключ 2", "emoji-🔑"]


def status(mock_url: str, header: bytes) -> int:
    """The status of ``GET /_mock/health`` with this raw header line (bytes as sent)."""
    host, port = mock_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: m\r\nConnection: close\r\n" + header)
        sock.sendall(b"\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def served(token: str) -> Iterator[MockServer]:
    argv = ["serve", "-s", QUICKSTART, "--port", "0", "--control-token", token]
    with build_server(build_parser().parse_args(argv), load_scenario(QUICKSTART)) as mock:
        yield mock


@pytest.fixture(params=["cli", "MockServer"])
def make(request: pytest.FixtureRequest) -> object:
    if request.param == "cli":
        return served

    def direct(token: str) -> Iterator[MockServer]:
        with MockServer(load_scenario(QUICKSTART), control_token=token) as mock:
            yield mock

    return direct


@pytest.mark.parametrize("token", TOKENS)
def test_a_non_ascii_token_opens_the_control_api(make: object, token: str) -> None:
    for mock in make(token):  # type: ignore[operator]
        utf8 = token.encode()
        assert status(mock.url, b"X-Mock-Token: " + utf8) == 200
        assert status(mock.url, b"Authorization: Bearer " + utf8) == 200
        assert status(mock.url, b"X-Mock-Token: " + utf8[:-1]) == 401
        assert status(mock.url, b"X-Mock-Token: " + utf8 + b"x") == 401
        double = utf8.decode("latin-1").encode()  # UTF-8 taken as latin-1, encoded again
        assert status(mock.url, b"X-Mock-Token: " + double) == 401
        assert status(mock.url, b"") == 401


def test_a_latin1_token_also_matches_as_requests_sends_it() -> None:
    for mock in served("pässwörd"):
        # requests (http.client) sends a str header as latin-1: one byte per character.
        answer = requests.get(mock.url + "/_mock/health", headers={"X-Mock-Token": "pässwörd"})
        assert answer.status_code == 200
        wrong = requests.get(mock.url + "/_mock/health", headers={"X-Mock-Token": "passwörd"})
        assert wrong.status_code == 401
        # A str beyond latin-1 cannot be sent by requests: its UTF-8 bytes can.
    for mock in served("密码"):
        answer = requests.get(mock.url + "/_mock/health", headers={"X-Mock-Token": "密码".encode()})
        assert answer.status_code == 200


def test_a_non_ascii_token_from_the_command_line_of_a_real_process() -> None:
    """The token passes through argv (and the environment) as the OS gives it: UTF-8 bytes."""
    env = {**os.environ, "ZITADEL_MOCK_CONTROL_TOKEN": "pässwörd"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "zitadel_mock", "serve", "-s", QUICKSTART, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            assert selector.select(60)
        match = re.fullmatch(r"Serving on (http://127\.0\.0\.1:\d+)\n", proc.stdout.readline())
        assert match, proc.poll()
        assert status(match.group(1), "X-Mock-Token: pässwörd".encode()) == 200
        assert status(match.group(1), b"X-Mock-Token: passwords") == 401
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


CANNOT_MATCH = [
    (" token", "the token starts or ends with a space, which a header value loses"),
    ("token ", "the token starts or ends with a space, which a header value loses"),
    ("to\nken", "the token holds a control character, which no header can carry"),
    ("tok\ten", "the token holds a control character, which no header can carry"),
    ("tok\x7fen", "the token holds a control character, which no header can carry"),
    ("  ", "the token is empty"),
]


@pytest.mark.parametrize(("token", "message"), CANNOT_MATCH)
def test_a_token_no_header_can_carry_is_refused_at_start(
    token: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:  # refused while the options are read
        main(["serve", "-s", QUICKSTART, "--control-token", token], serve=lambda args, out: 0)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith(f"argument --control-token: {message}\n")
    assert err.count("\n") == 1
    with pytest.raises(ServerError, match=f"^control_token: {re.escape(message)}$"):
        MockServer(load_scenario(QUICKSTART), control_token=token)


def test_a_lone_surrogate_is_refused_by_mock_server() -> None:
    with pytest.raises(ServerError, match="lone surrogate"):
        MockServer(load_scenario(QUICKSTART), control_token="x\ud800")
