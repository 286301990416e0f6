"""The Node SDKs' consumer programs, installed once per run.

``node_sdks`` (session scope) installs ``tests/sdk/node`` with ``npm ci`` when its
``node_modules`` is missing or older than the lock; without ``node`` and ``npm`` on PATH (or
when the install fails) the tests that use it are skipped, unless ``ZITADEL_MOCK_REQUIRE_SDKS=1``
(CI sets it): then they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
LOCK = NODE_DIR / "package-lock.json"
# npm ci writes this last, so it is older than the lock only when the lock changed since.
INSTALLED = NODE_DIR / "node_modules" / ".package-lock.json"
REQUIRE_ENV = "ZITADEL_MOCK_REQUIRE_SDKS"
INSTALL_TIMEOUT = 600.0
MIN_NODE = 20  # connect-node 2.1 and the SDKs need it


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the environment requires the SDKs (CI)."""
    __tracebackhide__ = True
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the SDK tests must run)", pytrace=False)
    pytest.skip(f"{reason}; set {REQUIRE_ENV}=1 to make this a failure")


def _installed() -> bool:
    return INSTALLED.exists() and INSTALLED.stat().st_mtime >= LOCK.stat().st_mtime


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """Two xdist workers must not run ``npm ci`` in the same folder at once."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no concurrent workers are expected there
        yield
        return
    with open(LOCK, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def node_sdks() -> Path:
    """The folder of the consumer programs, its dependencies installed as the lock pins them."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        _unavailable(f"the Node SDK tests need {missing} on PATH (Node {MIN_NODE} or newer)")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < MIN_NODE:
        _unavailable(f"the Node SDK tests need Node {MIN_NODE} or newer; {node} is {version!r}")
    with _install_lock():
        if not _installed():
            try:
                done = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=NODE_DIR,
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                _unavailable(f"npm ci in {NODE_DIR} took longer than {INSTALL_TIMEOUT:.0f} s")
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
                _unavailable(f"npm ci in {NODE_DIR} failed (exit {done.returncode}):\n{tail}")
    return NODE_DIR
