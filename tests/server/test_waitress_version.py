"""The waitress release installed is one the mock's use of waitress internals was checked on."""

from __future__ import annotations

import ast
from importlib.metadata import version
from pathlib import Path

import pytest

import zitadel_mock
from zitadel_mock._waitress import CHECKED_VERSIONS, version_problem


def test_the_installed_waitress_was_checked() -> None:
    problem = version_problem(version("waitress"))
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_an_unchecked_release_is_named_with_the_module_and_the_checked_ones() -> None:
    assert version_problem("3.1.0") == (
        "waitress 3.1.0 is installed, but zitadel_mock._waitress relies on waitress internals "
        "checked only on 3.0.0, 3.0.1, 3.0.2: check every use listed in its docstring against "
        "this release, then add it to CHECKED_VERSIONS"
    )
    assert all(version_problem(v) is None for v in CHECKED_VERSIONS)


def test_nothing_outside_the_private_package_imports_waitress() -> None:
    root = Path(zitadel_mock.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "_waitress":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            found += [
                f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] == "waitress"
            ]
    assert found == []
