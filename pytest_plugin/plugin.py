"""pytest plugin of zitadel-mock: ``pytest --zitadel-mock`` and the ``zitadel_mock`` fixture.

Plain fixtures over ``zitadel_mock.ZitadelMock``, where the logic lives. pytest imports every
installed plugin in every run of every project (and again in every xdist worker), so this
module imports nothing heavy: zitadel_mock (and with it falcon, waitress, yaml) is imported by
the session fixture, only when a test uses the mock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from zitadel_mock import Usage, ZitadelMock

ENV_URL = "ZITADEL_MOCK_URL"
MARKER = "zitadel_scenario"
STRICT_MARKER = "zitadel_mock_strict"
WORKER_OUTPUT = "zitadel_mock_usage"  # the key of a worker's usage in xdist's workeroutput
_OFF = (
    "zitadel-mock is off: run pytest with --zitadel-mock "
    "(or set zitadel_mock = true in the ini file)"
)
_INI_STRICT = "zitadel_mock_strict"
_SERVER_ERROR = "an exception was raised inside zitadel-mock while serving this test:\n"
# On the config of a run with the mock on: its default scenario (None: the built-in one).
_DEFAULT = pytest.StashKey["Path | None"]()
# On a test while its zitadel_mock is set up, for the check after the test's call.
_IN_USE = pytest.StashKey["ZitadelMock"]()
# On the config: whether tests are strict unless marked otherwise.
_STRICT = pytest.StashKey[bool]()
# On the config of a run with --zitadel-mock-report: the usage per scenario (this process's),
# and the reports the xdist workers sent back (the controller's).
_USAGE: pytest.StashKey[dict[str, Usage]] = pytest.StashKey()
_WORKER_REPORTS: pytest.StashKey[list[dict[str, Any]]] = pytest.StashKey()


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
    group.addoption(
        "--zitadel-mock-strict",
        action="store_true",
        default=None,
        help="fail a test whose forced rules never fired, or a call of which the mock refused "
        "without the test expecting it (ini: zitadel_mock_strict = true)",
    )
    group.addoption(
        "--zitadel-mock-report",
        action="store_true",
        default=False,
        help="print at the end which scenario orgs, users, tokens, forced rules and RPCs "
        "no test exercised (ini: zitadel_mock_report = true)",
    )
    parser.addini("zitadel_mock", "serve a ZITADEL mock (like --zitadel-mock)", type="bool")
    parser.addini(
        "zitadel_mock_report",
        "print what no test exercised of each scenario (like --zitadel-mock-report)",
        type="bool",
    )
    parser.addini(
        "zitadel_mock_strict",
        "fail tests with forced rules that never fired or unexpected refusals "
        "(like --zitadel-mock-strict)",
        type="bool",
    )
    parser.addini(
        "zitadel_mock_scenario",
        "scenario file served by default, relative to the ini file (like --zitadel-mock-scenario)",
        type="string",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``zitadel_scenario`` marker (for ``--strict-markers``); note if on."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path): serve this scenario file (relative to the test file's folder) "
        "to the zitadel_mock fixture of this test, class or module",
    )
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}(on=True): make this test, class or module strict, or with False "
        "not strict, whatever --zitadel-mock-strict says",
    )
    option = config.getoption("zitadel_mock")
    if option if option is not None else config.getini("zitadel_mock"):
        config.stash[_DEFAULT] = _default_scenario(config)
        strict = config.getoption("zitadel_mock_strict")
        config.stash[_STRICT] = bool(strict if strict is not None else config.getini(_INI_STRICT))
        if config.getoption("zitadel_mock_report") or config.getini("zitadel_mock_report"):
            config.stash[_USAGE] = {}
            config.stash[_WORKER_REPORTS] = []


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say that the mock is on, and which scenario it serves by default."""
    if _DEFAULT not in config.stash:
        return []
    return [f"zitadel-mock: on, scenario: {_shown(config, config.stash[_DEFAULT])}"]


@pytest.hookimpl(trylast=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Fail a test that passed although the mock raised an exception while serving it.

    Called after the test function, unless it failed (then the fixture's teardown reports it).
    """
    mock = item.stash.get(_IN_USE, None)
    if mock is not None:
        _fail_on_server_errors(mock)
        if _is_strict(item):
            _check_strict(mock)


def _is_strict(item: pytest.Item) -> bool:
    """The closest zitadel_mock_strict marker's word, else the run's (read after the test)."""
    strict = item.config.stash.get(_STRICT, False)
    # A keyword lookup costs a third of the marker's: the common case, strict off and no
    # marker, pays only that (BENCHMARKS.md, strict tests).
    if not strict and STRICT_MARKER not in item.keywords:
        return False
    marker = item.get_closest_marker(STRICT_MARKER)
    if marker is None:
        return strict
    args = [*marker.args, *marker.kwargs.values()]
    if len(args) > 1 or set(marker.kwargs) - {"on"} or not all(type(a) is bool for a in args):
        pytest.fail(
            f"{STRICT_MARKER} takes at most one argument, True or False: "
            f"@pytest.mark.{STRICT_MARKER}(False)",
            pytrace=False,
        )
    return args[0] if args else True


def _check_strict(mock: ZitadelMock) -> None:
    try:
        mock.assert_strict()
    except AssertionError as exc:  # MockAssertionError
        error = f"zitadel-mock (strict): {exc}"
    else:
        return
    pytest.fail(error, pytrace=False)  # out of the except: no chained exception shown


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker: send this worker's usage report to the controller."""
    config = session.config
    usage = config.stash.get(_USAGE, None)
    output = getattr(config, "workeroutput", None)
    if usage is not None and output is not None:
        output[WORKER_OUTPUT] = [u.report() for u in usage.values()]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """In the xdist controller: keep a worker's usage report, to merge at the end."""
    reports = node.config.stash.get(_WORKER_REPORTS, None)
    if reports is not None:
        reports.extend(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT, ()))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """With --zitadel-mock-report: what no test exercised, per scenario (workers merged)."""
    usage = config.stash.get(_USAGE, None)
    if usage is None or hasattr(config, "workeroutput"):
        return
    from zitadel_mock import Usage

    reports = [*config.stash[_WORKER_REPORTS], *(u.report() for u in usage.values())]
    terminalreporter.write_sep("-", "zitadel-mock usage")
    if not reports:
        terminalreporter.write_line("no test used the zitadel_mock fixture")
    for line in Usage.text(Usage.merge(reports)):
        terminalreporter.write_line(line)


class _Server:
    """The run's one mock, and the scenarios it could not load with the test that said why."""

    def __init__(self, mock: ZitadelMock, config: pytest.Config) -> None:
        from zitadel_mock import ZitadelMockError

        self.mock, self.url, self.config = mock, mock.url, config
        self.default = config.stash[_DEFAULT]
        self.mistake = ZitadelMockError
        self.broken: dict[Path | None, str] = {}
        self.usage = config.stash.get(_USAGE, None)  # None: no report asked for

    def record_usage(self) -> None:
        """Count the calls of the test that ends into its scenario's usage (for the report)."""
        from zitadel_mock import Usage

        usage = self.usage
        assert usage is not None
        for _, state in self.mock.server.namespaces.items():
            scenario = state.scenario
            key = _shown(self.config, Path(scenario.source) if scenario.source else None)
            seen = usage.get(key)
            if seen is None:
                seen = usage[key] = Usage(scenario, key)
            seen.observe_all(state.journal.calls())

    def use(self, path: Path | None, where: str) -> ZitadelMock:
        """Serve ``path`` from a clean state; fail the test if it cannot be loaded.

        Only the first test that needs a broken scenario (``where``) gives its error; the
        others point there rather than all repeating it.
        """
        if path in self.broken:
            pytest.fail(
                f"zitadel-mock: the scenario {_shown(self.config, path)} cannot be loaded; "
                f"its error is reported at {self.broken[path]}",
                pytrace=False,
            )
        try:
            self.mock.use(path)
            return self.mock
        except self.mistake as exc:
            self.broken[path] = where
            error = f"zitadel-mock: {exc}"
        pytest.fail(error, pytrace=False)  # out of the except: no chained exception shown


@pytest.fixture(scope="session")
def _zitadel_mock(pytestconfig: pytest.Config) -> Iterator[_Server]:
    """Start the run's one server (per xdist worker) on a free port; skip the test if off."""
    if _DEFAULT not in pytestconfig.stash:
        pytest.skip(_OFF)
    from zitadel_mock import MockServer, ZitadelMock, scenario_from_data

    # Any scenario that loads: each test loads its own before it runs, so a broken default
    # fails only the tests that use it.
    placeholder = scenario_from_data({"version": 1, "orgs": [{"name": "zitadel-mock"}]})
    with MockServer(placeholder) as server:
        yield _Server(ZitadelMock(server), pytestconfig)


@pytest.fixture(scope="session")
def zitadel_mock_server(_zitadel_mock: _Server) -> ZitadelMock:
    """One mock server for the whole session (per xdist worker) on a free port.

    It serves the default scenario; ``zitadel_mock`` resets it to each test's scenario before
    the test (the same server): use that for a fresh state in every test.
    """
    return _zitadel_mock.use(_zitadel_mock.default, "the first test that uses zitadel_mock_server")


@pytest.fixture
def zitadel_mock(request: pytest.FixtureRequest, _zitadel_mock: _Server) -> Iterator[ZitadelMock]:
    """The mock, reset to this test's scenario before the test; ``ZITADEL_MOCK_URL`` is set.

    An exception raised inside the mock while serving fails the test, with its traceback.
    """
    server, node = _zitadel_mock, request.node
    mock = server.use(_scenario(node, server.default), node.nodeid)
    # What monkeypatch.setenv does, without the cost of a second fixture (BENCHMARKS.md).
    previous = os.environ.get(ENV_URL)
    os.environ[ENV_URL] = server.url
    node.stash[_IN_USE] = mock
    yield mock
    del node.stash[_IN_USE]
    if server.usage is not None:
        server.record_usage()
    if previous is None:
        os.environ.pop(ENV_URL, None)
    else:
        os.environ[ENV_URL] = previous
    # What the test's call did not report: a test that failed anyway, or requests sent by the
    # teardown of fixtures that use this one (torn down before it).
    _fail_on_server_errors(mock)


def _scenario(node: pytest.Item, default: Path | None) -> Path | None:
    """The closest marker's path (relative to the test file's folder), else ``default``."""
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return default
    args = [*marker.args, *marker.kwargs.values()]
    if len(args) != 1 or set(marker.kwargs) - {"path"} or not isinstance(args[0], str | Path):
        pytest.fail(
            f"{MARKER} takes one argument, the scenario's path: "
            f"@pytest.mark.{MARKER}('scenarios/strict.yaml')",
            pytrace=False,
        )
    return node.path.parent / args[0]


def _fail_on_server_errors(mock: ZitadelMock) -> None:
    errors = mock.server_errors()
    if errors:
        mock.clear_server_errors()  # reported once, here
        pytest.fail(_SERVER_ERROR + "\n".join(errors), pytrace=False)


def _shown(config: pytest.Config, path: Path | None) -> str:
    """A scenario's path as the report shows it: relative to the root folder if inside."""
    if path is None:
        return "built-in"
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


def _default_scenario(config: pytest.Config) -> Path | None:
    option = config.getoption("zitadel_mock_scenario")
    if option:
        return Path(config.invocation_params.dir, option)
    value = config.getini("zitadel_mock_scenario")
    if value:
        base = config.inipath.parent if config.inipath else config.rootpath
        return base / str(value)
    return None
