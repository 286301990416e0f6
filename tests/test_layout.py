"""The package's layout: no import cycle, no module over 400 lines, a core free of HTTP, and
every sub-package in the wheel."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "zitadel_mock"
# The domain core: what a request becomes an answer in. No protocol, server or test runner.
CORE = [
    "answers",
    "answers_v2",
    "faults",
    "journal",
    "model",
    "namespaces",
    "recording",
    "serving",
    "state",
    "versions",
]


def _import_graph() -> object:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts/import_graph.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycle_and_no_module_over_400_lines() -> None:
    graph: object = _import_graph()
    arrows, lines = graph.graph(PACKAGE, typing=True)  # type: ignore[attr-defined]
    assert graph.cycles(arrows) == []  # type: ignore[attr-defined]
    assert {name: n for name, n in lines.items() if n > 400} == {}


def test_the_core_imports_no_protocol_server_or_test_runner() -> None:
    code = (
        "import sys\n"
        + "".join(f"import zitadel_mock.{name}\n" for name in CORE)
        + "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'falcon', 'waitress', 'pytest', '_pytest', 'faker'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_sub_package_is_shipped() -> None:
    # setuptools puts in the wheel only the packages pyproject lists: a new sub-package left
    # out would install a package that fails on import.
    listed = re.search(r"^packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.M | re.S)
    assert listed is not None
    packages = set(re.findall(r'"([\w.]+)"', listed.group(1)))
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in PACKAGE.rglob("__init__.py")
    }
    assert on_disk <= packages
