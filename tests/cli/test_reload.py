"""``serve --reload``: a valid edit is served, an invalid one is refused and the old one kept."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from testkit import SECOND_FACTORS, bearer

from zitadel_mock import MockServer, ScenarioError, load_scenario
from zitadel_mock.cli.reload import Reloader
from zitadel_mock.namespaces import Namespaces


def scenario_text(*factors: str) -> str:
    return (
        "version: 1\n"
        "orgs:\n"
        "  - name: ACME\n"
        f"    login_policy: {{second_factors: [{', '.join(factors)}]}}\n"
    )


BROKEN = "version: 1\norgs:\n  - name: ACME\n    login_policy: {second_factors: [totp]}\n"


def loader_error(path: Path) -> str:
    """What loading the file says (the reloader must say the same)."""
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    return str(error.value)


class File:
    """A scenario file whose every write gets a new modification time, as a real edit does."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.stamp = 1_700_000_000 * 10**9
        self.write(text)

    def write(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.path.write_bytes(data)
        self.stamp += 10**9
        os.utime(self.path, ns=(self.stamp, self.stamp))


@pytest.fixture
def file(tmp_path: Path) -> File:
    return File(tmp_path / "scenario.yaml", scenario_text("otp"))


@pytest.fixture
def namespaces(file: File) -> Namespaces:
    return Namespaces(load_scenario(file.path))


def served(namespaces: Namespaces, name: str | None = None) -> list[str]:
    policy = namespaces.get(name).scenario.orgs[0].login_policy
    assert policy is not None
    return [f.key for f in policy.second_factors]


def test_a_valid_edit_is_served_in_every_namespace(file: File, namespaces: Namespaces) -> None:
    reloader = Reloader(file.path, namespaces)
    namespaces.get("job").add_error(code="INTERNAL")
    assert reloader.check() is None
    file.write(scenario_text("u2f", "otp_sms"))
    assert reloader.check() is True
    assert served(namespaces) == served(namespaces, "job") == ["u2f", "otp_sms"]
    assert served(namespaces, "new") == ["u2f", "otp_sms"]
    assert namespaces.get("job").errors() == []  # a reload is a reset
    assert namespaces.reload_error is None
    assert reloader.check() is None


def test_a_file_caught_while_it_is_written_is_read_again(
    file: File, namespaces: Namespaces, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("zitadel_mock.cli.reload.SETTLE", 1.0)
    reloader = Reloader(file.path, namespaces)
    file.write("")  # truncated: the writer's next write is on its way
    writer = threading.Timer(0.1, file.write, (scenario_text("u2f"),))
    writer.start()
    assert reloader.check() is None  # not reported as broken
    writer.join()
    assert namespaces.reload_error is None
    assert reloader.check() is True
    assert served(namespaces) == ["u2f"]


def test_an_invalid_edit_keeps_the_last_good_scenario(
    file: File, namespaces: Namespaces, caplog: pytest.LogCaptureFixture
) -> None:
    reloader = Reloader(file.path, namespaces)
    before = namespaces.default.scenario
    with caplog.at_level(logging.ERROR, logger="zitadel_mock.reload"):
        file.write(BROKEN)
        assert reloader.check() is False
    error = loader_error(file.path)
    assert error.startswith(f"{file.path}:4: orgs[0].login_policy.second_factors[0]: 'totp'")
    assert namespaces.default.scenario is before
    assert namespaces.reload_error == error
    assert caplog.messages == [f"{error} (still serving the last good scenario)"]
    assert reloader.check() is None  # reported once
    file.write(scenario_text("otp"))  # the edit is undone: nothing to load, nothing wrong
    assert reloader.check() is None
    assert namespaces.reload_error is None
    assert namespaces.default.scenario is before


@pytest.mark.parametrize(
    "content",
    [b"version: 1\norgs: [\n", b"version: 1\norgs: [{name: \xff}]\n", b"\xff\xfe", None],
)
def test_unreadable_edits_are_refused_as_the_loader_says(
    file: File, namespaces: Namespaces, content: bytes | None
) -> None:
    reloader = Reloader(file.path, namespaces)
    if content is None:
        file.path.unlink()
    else:
        file.write(content)
    with pytest.raises(ScenarioError) as loader:
        load_scenario(file.path)
    assert reloader.check() is False
    assert namespaces.reload_error == str(loader.value)
    assert served(namespaces) == ["otp"]
    file.write(scenario_text("u2f"))
    assert reloader.check() is True
    assert namespaces.reload_error is None


def test_a_file_replaced_by_rename_is_seen(file: File, namespaces: Namespaces) -> None:
    reloader = Reloader(file.path, namespaces)
    other = File(file.path.with_name("tmp.yaml"), scenario_text("otp_email"))
    os.replace(other.path, file.path)  # how many editors save
    assert reloader.check() is True
    assert served(namespaces) == ["otp_email"]


@pytest.fixture
def server(namespaces: Namespaces) -> Iterator[MockServer]:
    with MockServer(namespaces) as mock:
        yield mock


def test_over_a_socket_with_the_watching_thread(
    file: File, namespaces: Namespaces, server: MockServer
) -> None:
    loaded = threading.Event()
    rejected = threading.Event()
    original = namespaces.load

    def load(scenario: object) -> None:
        original(scenario)  # type: ignore[arg-type]
        loaded.set()

    namespaces.load = load  # type: ignore[method-assign]

    def answer() -> list[str]:
        result = requests.post(server.url + SECOND_FACTORS, headers=bearer("any"))
        return list(result.json()["result"])

    with Reloader(file.path, namespaces, interval=0.01) as reloader:
        assert answer() == ["SECOND_FACTOR_TYPE_OTP"]
        file.write(scenario_text("u2f"))
        assert loaded.wait(timeout=30)
        assert answer() == ["SECOND_FACTOR_TYPE_U2F"]

        original_reject = reloader._reject

        def reject(error: str | None) -> None:
            original_reject(error)
            if error is not None:
                rejected.set()

        reloader._reject = reject  # type: ignore[method-assign]
        file.write(BROKEN)
        assert rejected.wait(timeout=30)
        assert answer() == ["SECOND_FACTOR_TYPE_U2F"]
        health = requests.get(server.url + "/_mock/health").json()
        assert health["reload_error"] == loader_error(file.path)


def test_serve_reload_in_a_real_process(file: File) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zitadel_mock",
            "serve",
            "-s",
            str(file.path),
            "-p",
            "0",
            "-q",
            "--reload",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A line that never comes must not hang the run: the process is killed, readline ends.
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        url = re.fullmatch(r"Serving on (\S+)\n", proc.stdout.readline())
        assert url, "no URL printed"
        assert proc.stdout.readline().startswith("control API on (127.0.0.1 is a loopback")
        file.write(BROKEN)
        line = proc.stderr.readline()  # the reloader's log line; blocks until it comes
        assert line.endswith(f"{loader_error(file.path)} (still serving the last good scenario)\n")
        answer = requests.post(url.group(1) + SECOND_FACTORS, headers=bearer("any"))
        assert answer.json()["result"] == ["SECOND_FACTOR_TYPE_OTP"]
        file.write(scenario_text("otp_sms"))
        assert proc.stderr.readline().endswith(f"reloaded {file.path}\n")
        answer = requests.post(url.group(1) + SECOND_FACTORS, headers=bearer("any"))
        assert answer.json()["result"] == ["SECOND_FACTOR_TYPE_OTP_SMS"]
    finally:
        watchdog.cancel()
        watchdog.join()
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
