"""pytest plugin of zitadel-mock: ``pytest --zitadel-mock`` and the ``zitadel_mock`` fixture.

The plugin only composes fixtures over ``zitadel_mock.ZitadelMock``, where the logic lives.
pytest imports every installed plugin in every run of every project (and again in every xdist
worker), so this module imports nothing heavy: falcon, waitress and yaml are imported by the
fixtures, only when a test uses them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

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
_SCENARIO = pytest.StashKey["Path | _BadMarker | None"]()  # on the test item, from collection

# One entry per configured pytest run of this process, the innermost (the one running tests)
# last: pytester runs pytest inside a test. None: a run with the mock off.
_RUNS: list[tuple[pytest.Config, _Run | None]] = []


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
    """Register the ``zitadel_scenario`` marker (for ``--strict-markers``), and the run's hooks."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path): serve this scenario file (relative to the test file's folder) "
        "to the zitadel_mock fixture of this test, class or module",
    )
    run = _Run(config) if _enabled(config) else None
    _RUNS.append((config, run))
    if run is not None:
        config.pluginmanager.register(run, "zitadel-mock-run")


def pytest_unconfigure(config: pytest.Config) -> None:
    for index in range(len(_RUNS) - 1, -1, -1):
        if _RUNS[index][0] is config:
            del _RUNS[index]
            return


def _enabled(config: pytest.Config) -> bool:
    option = config.getoption("zitadel_mock")
    return bool(option) if option is not None else bool(config.getini("zitadel_mock"))


def _run() -> _Run:
    """The run with the mock on that is running tests; skip the test if the mock is off."""
    run = _RUNS[-1][1] if _RUNS else None
    if run is None:
        pytest.skip(_OFF)
    return run


@pytest.fixture(scope="session")
def zitadel_mock_server() -> ZitadelMock:
    """One mock server for the whole session (per xdist worker) on a free port.

    It serves the default scenario; ``zitadel_mock`` resets it to each test's scenario before
    the test (the same server): use that for a fresh state in every test.
    """
    run = _run()
    mock = run.server()
    run.use(mock, run.default)
    return mock


@pytest.fixture
def zitadel_mock() -> ZitadelMock:
    """The mock, reset to this test's scenario before the test; ``ZITADEL_MOCK_URL`` is set.

    An exception raised inside the mock while serving fails the test, with its traceback.
    """
    return _run().begin()


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


class _Run:
    """A run with the mock on: its one server, the test being run, and its hooks.

    The fixtures take no argument and learn their test from ``pytest_runtest_setup``: asking
    pytest for ``request`` costs more per test than everything the fixture does.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.default = _default_scenario(config)  # None: the built-in scenario
        self.mock: ZitadelMock | None = None  # the server, once started
        self.url = ""  # the server's, once started
        self.mistake: type[Exception] = Exception  # ZitadelMockError, once imported
        self.item: pytest.Item | None = None  # the test being set up or run
        self.handle: ZitadelMock | None = None  # while a test's zitadel_mock is set up
        # ZITADEL_MOCK_URL is set by the first test that uses the mock, and kept while the
        # following tests use it too; restored before a test that does not, and at the end.
        self.url_set = False
        self.previous_url: str | None = None
        # Scenarios that could not be loaded, with the test that reported why: reported in
        # full once, the other tests that need one only point there.
        self.broken: dict[Path | None, str] = {}
        config.add_cleanup(self.restore_url)

    def server(self) -> ZitadelMock:
        """The process's one mock server: started on first use, stopped when the run ends.

        It starts on the built-in scenario, which always loads: each test then loads its own,
        so a broken default scenario fails only the tests that use it.
        """
        if self.mock is not None:
            return self.mock
        from zitadel_mock import MockServer, ZitadelMockError
        from zitadel_mock.builtin import builtin_scenario
        from zitadel_mock.mock import ZitadelMock

        mock = ZitadelMock(MockServer(builtin_scenario()))
        mock.server.start()
        self.mock, self.url, self.mistake = mock, mock.url, ZitadelMockError
        self.config.add_cleanup(mock.server.stop)
        return mock

    def use(self, mock: ZitadelMock, path: Path | None) -> None:
        """Serve ``path`` (None: built-in); fail the test if it cannot be loaded (see ``begin``)."""
        if self.broken and path in self.broken:
            self.fail_broken(path)
        try:
            mock.use(path)
        except self.mistake as exc:
            raise self.unloadable(path, exc) from None  # no chained exception in the report

    def unloadable(self, path: Path | None, exc: Exception) -> BaseException:
        """The failure of the first test that needs a scenario that cannot be loaded.

        It gives the scenario's one-line error; the other tests that need it fail with a
        short line naming this test (``fail_broken``), rather than all repeating it.
        """
        self.broken[path] = self.item.nodeid if self.item is not None else "the first test"
        return pytest.fail.Exception(f"zitadel-mock: {exc}", pytrace=False)

    def fail_broken(self, path: Path | None) -> NoReturn:
        pytest.fail(
            f"zitadel-mock: the scenario {self.shown(path)} cannot be loaded; "
            f"its error is reported at {self.broken[path]}",
            pytrace=False,
        )

    def shown(self, path: Path | None) -> str:
        """A scenario's path as the report shows it: relative to the root folder if inside."""
        if path is None:
            return "built-in"
        try:
            return str(path.relative_to(self.config.rootpath))
        except ValueError:
            return str(path)

    def begin(self) -> ZitadelMock:
        """Set up ``zitadel_mock`` for the test being set up; undone by ``end``."""
        item = self.item
        if item is None:
            pytest.fail("zitadel_mock can only be set up for a test", pytrace=False)
        mock = self.mock if self.mock is not None else self.server()
        path = item.stash.get(_SCENARIO, _UNSET)
        if path is _UNSET:  # an item this run's collection did not see
            path = _scenario_of(item)
        if isinstance(path, _BadMarker):
            pytest.fail(str(path), pytrace=False)
        scenario = path if path is not None else self.default
        # As ``use``, inline: this runs before every test.
        if self.broken and scenario in self.broken:
            self.fail_broken(scenario)
        try:
            mock.use(scenario)
        except self.mistake as exc:
            raise self.unloadable(scenario, exc) from None
        if not self.url_set:
            self.previous_url, self.url_set = os.environ.get(ENV_URL), True
        if os.environ.get(ENV_URL) != self.url:  # also if a test changed it and left it so
            os.environ[ENV_URL] = self.url
        self.handle = mock
        # Added after the fixtures this one needs and before those that need it: run after the
        # teardown of every fixture that can still send requests to the mock.
        item.addfinalizer(self.end)
        return mock

    def end(self) -> None:
        mock, self.handle = self.handle, None
        # What the test's own phase did not report: a test that failed anyway, or requests sent
        # by the teardown of other fixtures.
        if mock is not None:
            _fail_on_server_errors(mock)

    def restore_url(self) -> None:
        """Put ``ZITADEL_MOCK_URL`` back as it was before the mock set it."""
        if self.url_set:
            self.url_set = False
            if self.previous_url is None:
                os.environ.pop(ENV_URL, None)
            else:
                os.environ[ENV_URL] = self.previous_url

    @pytest.hookimpl
    def pytest_report_header(self) -> str:
        """Say that the mock is on, and which scenario it serves by default."""
        return f"zitadel-mock: on, scenario: {self.shown(self.default)}"

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Work out each test's scenario once, at collection, rather than before every run."""
        for item in items:
            if "zitadel_mock" in getattr(item, "fixturenames", ()):
                item.stash[_SCENARIO] = _scenario_of(item)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.item = item
        if self.url_set and _SCENARIO not in item.stash:  # a test that does not use the mock
            self.restore_url()

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_call(self) -> None:
        """Fail a test that passed although the mock raised an exception while serving it.

        Called after the test function, unless it failed (then ``end`` reports it).
        """
        if self.handle is not None:
            _fail_on_server_errors(self.handle)


def _default_scenario(config: pytest.Config) -> Path | None:
    option = config.getoption("zitadel_mock_scenario")
    if option:
        return Path(config.invocation_params.dir, option)
    value = config.getini("zitadel_mock_scenario")
    if value:
        base = config.inipath.parent if config.inipath else config.rootpath
        return base / str(value)
    return None
