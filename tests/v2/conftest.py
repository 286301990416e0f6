"""Fixtures of the v2 tests: each runs on the three transports and on both apps."""

from __future__ import annotations

from typing import Any

import pytest
from v2kit import TRANSPORTS, V2Client, scenario_state


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["wsgi", "asgi"])
def v2_asgi(request: pytest.FixtureRequest) -> bool:
    return request.param == "asgi"


@pytest.fixture
def v2(transport: str, v2_asgi: bool) -> V2Client:
    """A client of the v2 scenario, on each transport and each app."""
    return V2Client(scenario_state(), transport, v2_asgi)


@pytest.fixture
def make_v2(transport: str, v2_asgi: bool) -> Any:
    """``make(state)``: a client of another state, on each transport and each app."""
    return lambda state: V2Client(state, transport, v2_asgi)
