"""pytest plugin of zitadel-mock: ``pytest --zitadel-mock`` and the ``zitadel_mock`` fixture.

The plugin only composes fixtures over ``zitadel_mock.ZitadelMock``, where the logic lives.
pytest imports every installed plugin in every run of every project (and again in every xdist
worker), so this module imports nothing heavy: falcon, waitress and yaml are imported by the
fixtures, only when a test uses them.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from zitadel_mock.mock import ZitadelMock

ENV_URL = "ZITADEL_MOCK_URL"
MARKER = "zitadel_scenario"
_OFF = (
    "zitadel-mock is off: run pytest with --zitadel-mock "
    "(or set zitadel_mock = true in the ini file)"
)
_SERVER_ERROR = "an exception was raised inside zitadel-mock while serving this test:\n"
_DEFAULT_SCENARIO = pytest.StashKey["Path | None"]()
_SERVER = pytest.StashKey["ZitadelMock"]()  # on the config, once the server is up
_HANDLE = pytest.StashKey["ZitadelMock"]()  # on the test item, while its fixture is set up
_SCENARIO = pytest.StashKey["Path | _BadMarker | None"]()  # on the test item, from collection


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--zitadel-mock`` and ``--zitadel-mock-scenario``, each with its ini twin."""
    group = parser.getgroup("zitadel-mock", "zitadel-mock (a mock of ZITADEL's MFA routes)")
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
        "scenario file served by default, relative to the ini file (like --zitadel-mock-scenario)",
        type="string",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``zitadel_scenario`` marker (for ``--strict-markers``), and the hooks."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path): serve this scenario file (relative to the test file's folder) "
        "to the zitadel_mock fixture of this test, class or module",
    )
    if _enabled(config):
        config.pluginmanager.register(_Hooks(), "zitadel-mock-hooks")


def _enabled(config: pytest.Config) -> bool:
    option = config.getoption("zitadel_mock")
    return bool(option) if option is not None else bool(config.getini("zitadel_mock"))


def _default_scenario(config: pytest.Config) -> Path | None:
    """The default scenario's path (None: built-in), worked out once per session."""
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
    """Say that the mock is on, and which scenario it serves by default."""
    if not _enabled(config):
        return None
    path = _default_scenario(config)
    if path is None:
        return "zitadel-mock: on, scenario: built-in"
    try:
        shown = str(path.relative_to(config.rootpath))
    except ValueError:
        shown = str(path)
    return f"zitadel-mock: on, scenario: {shown}"


def _server(config: pytest.Config) -> ZitadelMock:
    """The process's one mock server: started on first use, stopped when the session ends.

    Kept on the config rather than in a session fixture, so that each test resolves one
    fixture, not two: pytest's own cost per fixture is most of the per-test overhead.
    """
    mock = config.stash.get(_SERVER, None)
    if mock is not None:
        return mock
    if not _enabled(config):
        pytest.skip(_OFF)
    from zitadel_mock import MockServer, ZitadelMockError
    from zitadel_mock.builtin import builtin_scenario
    from zitadel_mock.mock import ZitadelMock

    mock = ZitadelMock(MockServer(builtin_scenario()))
    try:
        mock.use(_default_scenario(config))
    except ZitadelMockError as exc:
        pytest.fail(f"zitadel-mock: {exc}", pytrace=False)
    mock.server.start()
    config.stash[_SERVER] = mock
    config.add_cleanup(mock.server.stop)
    return mock


@pytest.fixture(scope="session")
def zitadel_mock_server(request: pytest.FixtureRequest) -> ZitadelMock:
    """One mock server for the whole session (per xdist worker) on a free port.

    It serves the default scenario; ``zitadel_mock`` resets it to each test's scenario before
    the test (the same server): use that for a fresh state in every test.
    """
    return _server(request.config)


@pytest.fixture
def zitadel_mock(request: pytest.FixtureRequest) -> Iterator[ZitadelMock]:
    """The mock, reset to this test's scenario before the test; ``ZITADEL_MOCK_URL`` is set.

    An exception raised inside the mock while serving fails the test, with its traceback.
    """
    from zitadel_mock import ZitadelMockError

    mock = _server(request.config)
    node = request.node
    path = node.stash.get(_SCENARIO, _UNSET)
    if path is _UNSET:  # an item this session's collection did not see
        path = _scenario_of(node)
    if isinstance(path, _BadMarker):
        pytest.fail(str(path), pytrace=False)
    try:
        mock.use(path if path is not None else _default_scenario(request.config))
    except ZitadelMockError as exc:
        pytest.fail(f"zitadel-mock: {exc}", pytrace=False)
    previous = os.environ.get(ENV_URL)
    os.environ[ENV_URL] = mock.url
    node.stash[_HANDLE] = mock
    try:
        yield mock
    finally:
        del node.stash[_HANDLE]
        if previous is None:
            os.environ.pop(ENV_URL, None)
        else:
            os.environ[ENV_URL] = previous
    # What the test's own phase did not report: a test that failed anyway, or requests sent
    # by the teardown of other fixtures.
    _fail_on_server_errors(mock)


class _BadMarker(str):
    """A ``zitadel_scenario`` marker with wrong arguments: the message the test fails with."""


_UNSET = _BadMarker()


def _scenario_of(node: pytest.Item) -> Path | _BadMarker | None:
    """The scenario of a test: its closest marker's path (relative to the test file's folder).

    None: no marker, the session's default scenario.
    """
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return None
    args = [*marker.args, *marker.kwargs.values()]
    if len(args) != 1 or set(marker.kwargs) - {"path"} or not isinstance(args[0], str | Path):
        return _BadMarker(
            f"{MARKER} takes one argument, the scenario's path: "
            f"@pytest.mark.{MARKER}('scenarios/strict.yaml')"
        )
    return node.path.parent / args[0]


def _fail_on_server_errors(mock: ZitadelMock) -> None:
    errors = mock.server_errors()
    if errors:
        mock.clear_server_errors()  # reported once, here
        pytest.fail(_SERVER_ERROR + "\n".join(errors), pytrace=False)


class _Hooks:
    """The hooks of a run with the mock on (a run without it pays for none of them)."""

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Work out each test's scenario once, at collection, rather than before every run."""
        for item in items:
            if "zitadel_mock" in getattr(item, "fixturenames", ()):
                item.stash[_SCENARIO] = _scenario_of(item)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        """Fail a test that passed although the mock raised an exception while serving it."""
        result = yield
        mock = item.stash.get(_HANDLE, None)
        if mock is not None:
            _fail_on_server_errors(mock)
        return result
