"""Fixtures of the v2 tests: each on every transport and both apps (native gRPC: MockServer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from v2kit import TRANSPORTS, V2Client, scenario_state

# Each transport on each falcon app; native gRPC on MockServer (its HTTP/2 listener) only.
MODES = [(t, app) for t in TRANSPORTS for app in ("wsgi", "asgi") if t != "grpc" or app == "wsgi"]


@pytest.fixture(params=MODES, ids=["-".join(mode) for mode in MODES])
def v2_mode(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def transport(v2_mode: tuple[str, str]) -> str:
    return v2_mode[0]


@pytest.fixture
def v2_asgi(v2_mode: tuple[str, str]) -> bool:
    return v2_mode[1] == "asgi"


@pytest.fixture
def v2(transport: str, v2_asgi: bool) -> Iterator[V2Client]:
    """A client of the v2 scenario, on each transport and each app."""
    client = V2Client(scenario_state(), transport, v2_asgi)
    yield client
    client.close()


@pytest.fixture
def make_v2(transport: str, v2_asgi: bool) -> Iterator[Any]:
    """``make(state)``: a client of another state, on each transport and each app."""
    made: list[V2Client] = []

    def make(state: Any) -> V2Client:
        made.append(V2Client(state, transport, v2_asgi))
        return made[-1]

    yield make
    for client in made:
        client.close()
