"""The README's worked example of testing retries runs as written, with the pytest plugin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# Import before pytester's in-process runs (see test_plugin.py).
import zitadel_mock  # noqa: F401

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"
QUIET = ("-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:cacheprovider")


def worked_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### A worked example") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def test_the_worked_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retries=worked_example())
    result = pytester.runpytest(*QUIET, "--zitadel-mock")
    result.assert_outcomes(passed=2)
