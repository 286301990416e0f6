"""Options of the reliability suite: how many fuzz examples, how long the soak runs.

CI runs the short variants (a few thousand examples, a soak of a few seconds). Longer runs::

    pytest tests/reliability --fuzz-examples 20000 --soak-seconds 300

``ZITADEL_MOCK_FUZZ_EXAMPLES`` and ``ZITADEL_MOCK_SOAK_SECONDS`` set the same from the
environment (an option on the command line wins). Tests marked ``slow`` only run when their
option asks for a long run.
"""

from __future__ import annotations

import os

import pytest

DEFAULT_FUZZ_EXAMPLES = 1500
DEFAULT_SOAK_SECONDS = 0.0  # 0: the short, count-bounded soak only


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"expected a whole number of 1 or more, not {value!r}")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 24 * 3600:
        raise ValueError(f"expected seconds from 0 to 86400, not {value!r}")
    return number


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reliability", "zitadel-mock reliability suite")
    group.addoption(
        "--fuzz-examples",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"hypothesis examples per fuzz test (default {DEFAULT_FUZZ_EXAMPLES})",
    )
    group.addoption(
        "--soak-seconds",
        type=_seconds,
        default=None,
        metavar="S",
        help="run the long soak test for S seconds (default: only the short soak)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a long variant; runs only when its option (--soak-seconds) asks for it"
    )


def _option(config: pytest.Config, name: str, env: str) -> str | None:
    # The options exist only when this folder was named on the command line (pytest reads a
    # sub-folder's options only then); the environment works from any invocation.
    value = config.getoption(name, default=None)
    return str(value) if value is not None else os.environ.get(env)


def fuzz_examples(config: pytest.Config) -> int:
    """The number of examples each fuzz test runs (scaled down by the slower ones)."""
    value = _option(config, "fuzz_examples", "ZITADEL_MOCK_FUZZ_EXAMPLES")
    return _positive_int(value) if value is not None else DEFAULT_FUZZ_EXAMPLES


def soak_seconds(config: pytest.Config) -> float:
    """How long the long soak runs; 0 when it is not asked for."""
    value = _option(config, "soak_seconds", "ZITADEL_MOCK_SOAK_SECONDS")
    return _seconds(value) if value is not None else DEFAULT_SOAK_SECONDS


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
