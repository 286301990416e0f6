"""The public API: exactly the names in ``zitadel_mock.__all__``, sorted, documented, typed."""

from __future__ import annotations

import importlib.metadata
import inspect
import subprocess
import sys
import types
from pathlib import Path

import zitadel_mock

PUBLIC = [
    "AuthFactor",
    "Call",
    "ErrorRule",
    "Factor",
    "FactorState",
    "Journal",
    "LoginPolicy",
    "MockAssertionError",
    "MockServer",
    "Org",
    "Scenario",
    "ScenarioError",
    "ServerError",
    "ServerSideError",
    "State",
    "Token",
    "Usage",
    "User",
    "ZitadelMock",
    "ZitadelMockError",
    "__version__",
    "create_app",
    "load_scenario",
    "parse_scenario",
    "scenario_from_data",
]


def test_all_is_pinned_and_sorted() -> None:
    assert zitadel_mock.__all__ == PUBLIC
    assert sorted(zitadel_mock.__all__) == zitadel_mock.__all__


def test_every_public_name_of_the_package_is_exported() -> None:
    # Anything imported into the package's namespace is exported, or private: submodules
    # aside, a name cannot be reachable as ``zitadel_mock.X`` without being in __all__.
    # Most public names are imported on first use (zitadel_mock._LAZY), so count those too.
    names = {
        name
        for name, value in vars(zitadel_mock).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    names -= {"annotations", "TYPE_CHECKING", "Any"}  # from __future__ and typing
    names |= set(zitadel_mock._LAZY)
    assert names | {"__version__"} == set(zitadel_mock.__all__)


def test_importing_the_package_imports_nothing_heavy() -> None:
    code = (
        "import sys, zitadel_mock; "
        "print(sorted(m for m in ('falcon', 'waitress', 'yaml', 'faker') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from zitadel_mock import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(zitadel_mock.__all__)


def test_every_exported_class_and_function_is_documented() -> None:
    for name in zitadel_mock.__all__:
        value = getattr(zitadel_mock, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"
            assert value.__module__.startswith("zitadel_mock."), name


def test_the_version_is_the_installed_one() -> None:
    assert zitadel_mock.__version__ == importlib.metadata.version("zitadel-mock")


def test_the_package_is_typed() -> None:
    assert (Path(zitadel_mock.__file__).parent / "py.typed").is_file()


def test_errors_share_one_base() -> None:
    base = zitadel_mock.ZitadelMockError
    errors = {
        value
        for value in (getattr(zitadel_mock, name) for name in zitadel_mock.__all__)
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    assert errors == {
        base,
        zitadel_mock.ScenarioError,
        zitadel_mock.ServerError,
        zitadel_mock.ServerSideError,
        zitadel_mock.MockAssertionError,
    }
    for error in errors - {zitadel_mock.MockAssertionError}:
        assert issubclass(error, base), error
    # A failed ``assert_called`` is a failed assertion, reported by pytest as one.
    assert issubclass(zitadel_mock.MockAssertionError, AssertionError)
