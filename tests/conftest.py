"""Fixtures shared by the tests: both apps, and test clients that check every answer; the
reliability suite's options."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from typing import Any, TypeAlias

import falcon.testing
import pytest
from testkit import check_answer

from zitadel_mock import Scenario, State, create_app, parse_scenario

# A scenario as YAML text (dedented first), a loaded Scenario, or a live State.
Source: TypeAlias = "str | Scenario | State"
MakeClient = Callable[..., "CheckedClient"]


@pytest.fixture(params=["wsgi", "asgi"])
def app_kind(request: pytest.FixtureRequest) -> str:
    """Run a test against the WSGI and the ASGI app."""
    return str(request.param)


@pytest.fixture
def asgi(app_kind: str) -> bool:
    """``app_kind`` as ``create_app``'s flag."""
    return app_kind == "asgi"


def as_state(source: Source) -> State:
    """Load YAML text or wrap a Scenario; a State is used as it is."""
    if isinstance(source, State):
        return source
    if isinstance(source, str):
        source = parse_scenario(textwrap.dedent(source), source="test.yaml")
    return State(source)


class CheckedClient(falcon.testing.TestClient):
    """A falcon TestClient that fails on any answer ZITADEL would not give.

    Every answer is checked against ``testkit``: the headers every answer carries, and
    a body of the route's answer kind (or an error) in protojson form.
    """

    def simulate_request(self, *args: Any, **kwargs: Any) -> falcon.testing.Result:
        result = super().simulate_request(*args, **kwargs)
        method = str(args[0] if args else kwargs.get("method", "GET"))
        path = str(args[1] if len(args) > 1 else kwargs.get("path", "/"))
        check_answer(method, path, result.status_code, result.headers, result.content)
        return result


@pytest.fixture
def make_client(app_kind: str) -> MakeClient:
    """Return ``make(source, asgi=None)``: a checked client over a new app for ``source``.

    ``asgi=None`` follows the ``app_kind`` parameter, so a test using this fixture runs
    against both apps.
    """

    def make(source: Source, asgi: bool | None = None) -> CheckedClient:
        use_asgi = app_kind == "asgi" if asgi is None else asgi
        return CheckedClient(create_app(as_state(source), asgi=use_asgi))

    return make


# The options of tests/reliability, declared here: pytest reads a folder's options only when
# that folder is named on the command line, and these work however pytest is run (from the
# repository, the folder, with or without paths). The environment sets the same.
# Small by default: the request fuzz was the longest part of every run (1,500 examples took
# 12 s of a 60 s suite); --fuzz-examples or the environment asks for a long run.
DEFAULT_FUZZ_EXAMPLES = 300
FUZZ_EXAMPLES_ENV = "ZITADEL_MOCK_FUZZ_EXAMPLES"
SOAK_SECONDS_ENV = "ZITADEL_MOCK_SOAK_SECONDS"


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
    # A string default goes through the option's type, as if given on the command line.
    group.addoption(
        "--fuzz-examples",
        type=_positive_int,
        default=os.environ.get(FUZZ_EXAMPLES_ENV) or DEFAULT_FUZZ_EXAMPLES,
        metavar="N",
        help=f"hypothesis examples per fuzz test (default: ${FUZZ_EXAMPLES_ENV}, else "
        f"{DEFAULT_FUZZ_EXAMPLES})",
    )
    group.addoption(
        "--soak-seconds",
        type=_seconds,
        default=os.environ.get(SOAK_SECONDS_ENV) or 0.0,
        metavar="S",
        help=f"also run the long soak test, for S seconds (default: ${SOAK_SECONDS_ENV}, else "
        "0: only the short soak)",
    )
