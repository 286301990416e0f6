"""The live page in a real headless Chromium, driven through chromedriver's W3C WebDriver API.

Skipped when chromium or chromedriver is not installed here; CI (.ci/run) installs both, and
sets ZITADEL_MOCK_ARTIFACTS to a folder it keeps, where the screenshot is written.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from testkit import MAIN, SECOND_FACTORS, bearer, scenario

from zitadel_mock import MockServer, State

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver); .ci/run installs them",
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
]
WAIT = 30.0  # seconds: generous, a shared 2-core machine can be slow to start a browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """A WebDriver session: just the few commands the test needs."""

    def __init__(self, url: str, session: str) -> None:
        self.base = f"{url}/session/{session}"

    def command(self, method: str, path: str, body: Any = None) -> Any:
        answer = requests.request(method, self.base + path, json=body, timeout=WAIT)
        answer.raise_for_status()
        return answer.json()["value"]

    def open(self, url: str) -> None:
        self.command("POST", "/url", {"url": url})

    def run(self, script: str) -> Any:
        return self.command("POST", "/execute/sync", {"script": script, "args": []})

    def until(self, script: str) -> Any:
        """Run ``script`` until it returns something true; that value."""
        deadline = time.monotonic() + WAIT
        while True:
            value = self.run(script)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {WAIT} s for: {script}")
            time.sleep(0.2)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    assert DRIVER is not None
    port = _free_port()
    driver = subprocess.Popen(
        [DRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if requests.get(url + "/status", timeout=2).json()["value"]["ready"]:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chromedriver was not ready within {WAIT} s")
            time.sleep(0.1)
        options = {"binary": CHROMIUM, "args": [*FLAGS, f"--user-data-dir={tmp_path / 'p'}"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options}
        answer = requests.post(
            url + "/session",
            json={"capabilities": {"alwaysMatch": capabilities}},
            timeout=WAIT * 2,
        )
        answer.raise_for_status()
        session = answer.json()["value"]["sessionId"]
        try:
            yield Browser(url, session)
        finally:
            requests.delete(f"{url}/session/{session}", timeout=WAIT)
    finally:
        driver.terminate()
        try:
            driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.wait()


EVIL = "/nowhere/<script>window.pwned=1</script><img/src=x/onerror=window.pwned=2>"


def test_the_page_shows_a_request_made_meanwhile(browser: Browser, tmp_path: Path) -> None:
    with MockServer(State(scenario(MAIN))) as mock:
        browser.open(mock.url + "/_mock/")
        assert browser.until("return document.body.getAttribute('data-polls')")
        assert browser.run("return document.querySelectorAll('#journal tbody tr').length") == 0
        assert "alice" in browser.run("return document.getElementById('users').textContent")

        # Made while the page is open: a refused call, and a path that tries to run a script.
        assert requests.post(mock.url + SECOND_FACTORS, headers=bearer("nobody")).status_code
        grpc_web = "/zitadel.management.v1.ManagementService/ListLoginPolicySecondFactors"
        requests.post(
            mock.url + grpc_web,
            data=b"\0\0\0\0\0",
            headers={"content-type": "application/grpc-web+proto", **bearer("acme-admin")},
        )
        with socket.create_connection(("127.0.0.1", mock.port)) as raw:  # the path as is
            raw.sendall(f"GET {EVIL} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            raw.recv(65536)

        rows = browser.until(
            "var rows = document.querySelectorAll('#journal tbody tr');"
            "return rows.length >= 3 && Array.from(rows).map(function (r) {"
            "  return Array.from(r.cells).map(function (c) { return c.textContent; }); });"
        )
        by_path = {row[6]: row for row in rows}
        refused = by_path[SECOND_FACTORS]
        assert (refused[2], refused[3], refused[4]) == (
            "401",
            "ListLoginPolicySecondFactors",
            "rest",
        )
        assert EVIL in by_path  # shown as text, exactly as sent
        assert by_path[grpc_web][2:5] == ["200", "ListLoginPolicySecondFactors", "grpc-web"]
        assert browser.run("return window.pwned === undefined")
        assert browser.run("return document.querySelectorAll('#journal img').length") == 0
        # The why column, once the journal has it; a status filter narrows the rows.
        browser.run(
            "var box = document.getElementById('f-status'); box.value = '401';"
            "box.dispatchEvent(new Event('input'));"
        )
        assert browser.until(
            "var rows = document.querySelectorAll('#journal tbody tr');"
            "return rows.length === 1 && rows[0].cells[2].textContent === '401';"
        )

        png = base64.b64decode(browser.command("GET", "/screenshot"))
        assert png.startswith(b"\x89PNG")
        folder = Path(os.environ.get("ZITADEL_MOCK_ARTIFACTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "page.png").write_bytes(png)


def test_with_a_token_the_page_works_once_given_it(browser: Browser) -> None:
    with MockServer(State(scenario(MAIN)), control_token="s3cret") as mock:
        # The credentials in the URL stand for what a person types into the browser's prompt.
        browser.open(f"http://me:s3cret@127.0.0.1:{mock.port}/_mock/")
        assert browser.until("return document.body.getAttribute('data-polls')")
        assert "alice" in browser.run("return document.getElementById('users').textContent")
        browser.open(f"http://me:wrong@127.0.0.1:{mock.port}/_mock/")
        assert browser.run("return document.getElementById('journal')") is None
