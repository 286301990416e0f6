"""pytest plugin of zitadel-mock: ``pytest --zitadel-mock`` and the ``zitadel_mock`` fixture.

pytest imports every installed plugin in every run of every project, so this module imports
nothing heavy: falcon, waitress and yaml are imported by the fixtures, only when they are used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from zitadel_mock.mock import ZitadelMock

ENV_URL = "ZITADEL_MOCK_URL"
_OFF = (
    "zitadel-mock is off: run pytest with --zitadel-mock "
    "(or set zitadel_mock = true in the ini file)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zitadel-mock", "a faithful mock of ZITADEL's MFA routes")
    group.addoption(
        "--zitadel-mock",
        action="store_true",
        default=None,
        help="serve a ZITADEL mock to tests that use the zitadel_mock fixture "
        "(ini: zitadel_mock = true)",
    )
    group.addoption(
        "--zitadel-mock-scenario",
        metavar="PATH",
        default=None,
        help="scenario file served by default, relative to the current directory "
        "(ini: zitadel_mock_scenario, relative to the ini file); default: a built-in one",
    )
    parser.addini("zitadel_mock", "serve a ZITADEL mock (like --zitadel-mock)", type="bool")
    parser.addini(
        "zitadel_mock_scenario",
        "scenario file served by default, relative to the ini file",
        type="string",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "zitadel_scenario(path): serve this scenario file (relative to the test file's folder) "
        "to the zitadel_mock fixture of this test, class or module",
    )


def _enabled(config: pytest.Config) -> bool:
    option = config.getoption("zitadel_mock")
    return bool(option) if option is not None else bool(config.getini("zitadel_mock"))


_DEFAULT_SCENARIO = pytest.StashKey["Path | None"]()


def _default_scenario(config: pytest.Config) -> Path | None:
    """The default scenario's path, worked out once per session (it runs before every test)."""
    if _DEFAULT_SCENARIO not in config.stash:
        config.stash[_DEFAULT_SCENARIO] = _find_default_scenario(config)
    return config.stash[_DEFAULT_SCENARIO]


def _find_default_scenario(config: pytest.Config) -> Path | None:
    option = config.getoption("zitadel_mock_scenario")
    if option:
        return Path(config.invocation_params.dir, option)
    value = config.getini("zitadel_mock_scenario")
    if value:
        base = config.inipath.parent if config.inipath else config.rootpath
        return base / str(value)
    return None


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _enabled(config):
        return None
    scenario = _default_scenario(config)
    return f"zitadel-mock: on, scenario: {scenario if scenario else 'built-in'}"


@pytest.fixture(scope="session")
def zitadel_mock_server(pytestconfig: pytest.Config) -> Iterator[ZitadelMock]:
    """One mock server for the whole session (per xdist worker), on a free port."""
    if not _enabled(pytestconfig):
        pytest.skip(_OFF)
    from zitadel_mock import MockServer, ZitadelMockError
    from zitadel_mock.builtin import builtin_scenario
    from zitadel_mock.mock import ZitadelMock

    mock = ZitadelMock(MockServer(builtin_scenario()))
    try:
        mock.use(_default_scenario(pytestconfig))
        mock.server.start()
    except ZitadelMockError as exc:
        pytest.fail(f"zitadel-mock: {exc}", pytrace=False)
    try:
        yield mock
    finally:
        mock.server.stop()


@pytest.fixture
def zitadel_mock(
    zitadel_mock_server: ZitadelMock, request: pytest.FixtureRequest
) -> Iterator[ZitadelMock]:
    """The mock, reset to this test's scenario before the test; ``ZITADEL_MOCK_URL`` is set."""
    from zitadel_mock import ZitadelMockError

    marker = request.node.get_closest_marker("zitadel_scenario")
    if marker is not None:
        if len(marker.args) != 1:
            pytest.fail("zitadel_scenario takes one argument: the scenario's path", pytrace=False)
        path: Path | None = request.path.parent / str(marker.args[0])
    else:
        path = _default_scenario(request.config)
    try:
        zitadel_mock_server.use(path)
    except ZitadelMockError as exc:
        pytest.fail(f"zitadel-mock: {exc}", pytrace=False)
    previous = os.environ.get(ENV_URL)
    os.environ[ENV_URL] = zitadel_mock_server.url
    try:
        yield zitadel_mock_server
    finally:
        if previous is None:
            os.environ.pop(ENV_URL, None)
        else:
            os.environ[ENV_URL] = previous
    errors = zitadel_mock_server.server.state.server_errors
    if errors:
        pytest.fail(
            "an exception was raised inside zitadel-mock while serving this test:\n"
            + "\n".join(errors),
            pytrace=False,
        )
