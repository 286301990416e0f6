"""The plugin's installed package name: a consumer's own ``pytest_plugin`` package must work."""

from __future__ import annotations

import ast
import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

import zitadel_mock  # (see test_plugin.py: imported before pytester's runs)

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:cacheprovider")
ROOT = Path(__file__).resolve().parents[2]
CONSUMER = {
    "pytest_plugin/__init__.py": 'OWNER = "the consumer"\n',
    "test_own.py": (
        "from pytest_plugin import OWNER\n"
        "\n"
        "def test_uses_both(zitadel_mock):\n"
        '    assert OWNER == "the consumer"\n'
        "    zitadel_mock.assert_not_called()\n"
    ),
}


@pytest.fixture
def consumer(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with a ``pytest_plugin`` package of its own, which its test imports."""
    for name, text in CONSUMER.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pytester


def test_the_plugin_is_installed_under_its_own_name() -> None:
    assert "zitadel_mock_pytest.plugin" in sys.modules
    assert "pytest_plugin" not in sys.modules


def test_a_consumer_package_named_pytest_plugin(consumer: pytest.Pytester) -> None:
    # In process, the plugin is already imported, as with the ``pytest`` script, which loads
    # entry points before the project's folder is on sys.path. (A wheel's old top-level
    # ``pytest_plugin`` broke ``python -m pytest`` too, at start-up; CI's run of
    # examples/consumer against the wheel covers that. An editable install hides it.)
    consumer.runpytest(*QUIET, "--zitadel-mock").assert_outcomes(passed=1)


def test_the_plugin_imports_only_public_names() -> None:
    # The package's modules may move; its public names (``__all__``) stay.
    tree = ast.parse((ROOT / "pytest_plugin" / "plugin.py").read_text())
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zitadel_mock")
        for alias in node.names
    }
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("zitadel_mock")
    }
    assert modules <= {"zitadel_mock"}
    assert imported
    assert {module for module, _ in imported} == {"zitadel_mock"}
    assert {name for _, name in imported} <= set(zitadel_mock.__all__)


def _check_wheel() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_wheel", ROOT / ".ci" / "check_wheel.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ((), None),
        (
            ("pytest_plugin/__init__.py",),
            "installs a top-level 'pytest_plugin', which can collide with a consumer's own package",
        ),
        (("helpers.py",), "installs a top-level 'helpers'"),
    ],
)
def test_the_wheel_check_refuses_a_top_level_name_of_another_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], expected: str | None
) -> None:
    check = _check_wheel()
    wheel = tmp_path / "zitadel_mock-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name in (*check.REQUIRED, *extra):
            archive.writestr(name, "")
        archive.writestr(
            "zitadel_mock-0.1.0.dist-info/entry_points.txt",
            "\n".join(check.ENTRY_POINTS),
        )
    status = check.main(str(wheel))
    err = capsys.readouterr().err
    if expected is None:
        assert (status, err) == (0, "")
    else:
        assert status == 1
        assert expected in err
