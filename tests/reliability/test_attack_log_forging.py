"""Log forging: whatever a request's path holds, ``zitadel-mock serve`` writes one access-log
line per request, with control characters escaped.

Before, the path ``/x%0A2099-01-01%2000:00:00,000%20POST%20/_mock/reset%20-%20200%0A%1B[31m``
gave three lines, one of them a forged ``POST /_mock/reset - 200``, and a raw ESC that turned a
terminal red.
"""

from __future__ import annotations

import logging
import re
import selectors
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

QUICKSTART = str(Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml")
FORGED = "/x%0A2099-01-01%2000:00:00,000%20POST%20/_mock/reset%20-%20200%0A%1B[31m"
# Other ways to break or fake a line: CR, NUL, DEL, C1 NEL (U+0085, in UTF-8), the Unicode
# line and paragraph separators, a backslash that could fake an escape.
OTHERS = "/y%0D%00%7F%C2%85%E2%80%A8%E2%80%A9%5Cx0a"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
# What follows the status: the protocol, the duration and why (here: the nearest route).
TAIL = re.compile(r" rest \d+\.\dms why: no route takes GET to this path; did you mean POST \S+\?$")


def first_line(proc: subprocess.Popen[str], seconds: float = 60) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(seconds):
            return ""
    return proc.stdout.readline()


def send(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_a_forged_path_is_one_escaped_log_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "zitadel_mock", "serve", "-s", QUICKSTART, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",  # anything that is not UTF-8 shows, and fails the test
    )
    try:
        match = re.fullmatch(r"Serving on http://127\.0\.0\.1:(\d+)\n", first_line(proc))
        assert match, proc.poll()
        port = int(match.group(1))
        for path in (FORGED, OTHERS, "/z"):
            assert send(port, path).startswith(b"HTTP/1.1 404 ")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = err.splitlines()
    access = [line for line in lines if "GET /" in line]
    assert access == [line for line in lines if re.match(TIMESTAMP, line)]
    # One line per request, in order; every character the request's path held is shown.
    assert all(TAIL.search(line) for line in access), access
    assert [TAIL.sub("", line[25:]) for line in access] == [
        r"GET /x\x0a2099-01-01 00:00:00,000 POST /_mock/reset - 200\x0a\x1b[31m - 404",
        r"GET /y\x0d\x00\x7f\x85\u2028\u2029\\x0a - 404",
        "GET /z - 404",
    ]
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", err)
    assert "POST /_mock/reset - 200" not in [line[25:] for line in lines]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/plain/path-é_~", "/plain/path-é_~"),  # printable text, non-ASCII too, is kept
        ("\n\r\t\x00\x1b", r"\x0a\x0d\x09\x00\x1b"),  # C0
        ("\x7f", r"\x7f"),  # DEL
        ("\x80\x85\x9f", r"\x80\x85\x9f"),  # C1
        ("\u2028\u2029", r"\u2028\u2029"),  # line and paragraph separators
        ("\\x0a", r"\\x0a"),  # a backslash cannot fake an escape
    ],
)
def test_printable_escapes_what_breaks_a_line(text: str, shown: str) -> None:
    from zitadel_mock.limits import printable

    assert printable(text) == shown


def test_waitress_own_log_lines_are_escaped_too(caplog: pytest.LogCaptureFixture) -> None:
    """Waitress logs a request's path in a few messages ("Exception while serving PATH")."""
    from zitadel_mock import MockServer, load_scenario

    with MockServer(load_scenario(QUICKSTART)):
        pass
    logging.getLogger("waitress").error("Exception while serving %s", "/x\n2099-01-01 \x1b[31m")
    assert [record.getMessage() for record in caplog.records] == [
        r"Exception while serving /x\x0a2099-01-01 \x1b[31m"
    ]
