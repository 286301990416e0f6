"""Fixtures shared by the tests: both apps, and test clients that check every answer."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any, TypeAlias

import falcon.testing
import pytest
from schema_facts import check_answer

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

    Every answer is checked against ``schema_facts``: the headers every answer carries, and
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
