"""The reliability suite: how many fuzz examples, how long the soak runs.

CI runs the short variants (300 examples per fuzz test, a soak of a few seconds). Longer runs::

    pytest tests/reliability --fuzz-examples 20000 --soak-seconds 300

``ZITADEL_MOCK_FUZZ_EXAMPLES`` and ``ZITADEL_MOCK_SOAK_SECONDS`` set the same from the
environment (an option on the command line wins). The options are declared in the tests'
top conftest, so that they exist however pytest is run. Tests marked ``slow`` only run when
their option asks for a long run.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a long variant; runs only when its option (--soak-seconds) asks for it"
    )


def fuzz_examples(config: pytest.Config) -> int:
    """The number of examples each fuzz test runs (scaled down by the slower ones)."""
    return int(config.getoption("fuzz_examples"))


def soak_seconds(config: pytest.Config) -> float:
    """How long the long soak runs; 0 when it is not asked for."""
    return float(config.getoption("soak_seconds"))


@pytest.fixture(scope="session")
def examples(pytestconfig: pytest.Config) -> int:
    """``--fuzz-examples``: hypothesis examples for each fuzz test."""
    return fuzz_examples(pytestconfig)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if soak_seconds(config) > 0:
        return
    skip = pytest.mark.skip(reason="a long variant: run with --soak-seconds S")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
