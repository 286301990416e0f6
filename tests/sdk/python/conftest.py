"""ZITADEL's official Python SDK (PyPI ``zitadel-client``, pinned in the dev extra) on the mock.

The tests here are written as a consumer of the SDK writes them: a ``Zitadel`` client built
with one of its three sign-ins, pointed at the mock's ``http://127.0.0.1:PORT``, calling the
v2 RPCs through the SDK's own request and answer models. What they expect is read from
``scenario.yaml`` next to this file, never from the mock.

The key file ``keys/301234567890123460.json`` is a test key made with ``zitadel-mock new-key``
for this scenario only; it guards nothing.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from zitadel_mock import MockServer, State, load_scenario

# zitadel-client 4.1.9 imports authlib.jose, which warns on import that it is deprecated (and
# authlib.deprecate adds an "always" filter for its warnings on import, ahead of any of ours).
# The warning is the SDK's to fix: imported here once, under a filter placed after authlib's,
# the test modules find the SDK loaded. catch_warnings also drops authlib's global filter.
with warnings.catch_warnings():
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from zitadel_client import TransportOptions, Zitadel


HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "scenario.yaml"
KEY_FILE = HERE / "keys" / "301234567890123460.json"
FLOWS = ("personal_access_token", "client_credentials", "private_key")

# Builds a client for a flow: (flow, base URL, transport options) -> Zitadel.
MakeClient = Callable[..., Zitadel]


@pytest.fixture(scope="session")
def scenario() -> dict[str, Any]:
    """The scenario file as plain data: what the tests expect the SDK to be answered."""
    loaded = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def mock_state() -> State:
    return State(load_scenario(SCENARIO))


@pytest.fixture(scope="module")
def mock_server(mock_state: State) -> Iterator[MockServer]:
    with MockServer(mock_state) as server:
        yield server
    # A refused call's ApiError holds, through its traceback, the response that read it, and
    # so its socket, in a reference cycle that only the collector frees: free them now, before
    # another module's test counts the process's open descriptors.
    gc.collect()


@pytest.fixture
def mock_url(mock_server: MockServer, mock_state: State) -> str:
    """The mock's URL, its state back to the scenario (no token issued yet) for each test."""
    mock_state.reset()
    return mock_server.url


def robot(scenario: dict[str, Any]) -> dict[str, Any]:
    """The scenario's machine user, whose credentials every flow signs in with."""
    users = [user for org in scenario["orgs"] for user in org["users"]]
    return next(user for user in users if user.get("type") == "machine")


@pytest.fixture
def make_client(scenario: dict[str, Any]) -> MakeClient:
    """``make(flow, url, transport_options=None)``: a client signed in as the machine user."""
    user = robot(scenario)
    pat = next(t["token"] for t in scenario["tokens"] if t["user"] == user["username"])

    def make(flow: str, url: str, transport_options: TransportOptions | None = None) -> Zitadel:
        if flow == "personal_access_token":
            return Zitadel.with_access_token(url, pat, transport_options=transport_options)
        if flow == "client_credentials":
            return Zitadel.with_client_credentials(
                url, user["username"], user["client_secret"], transport_options=transport_options
            )
        if flow == "private_key":
            return Zitadel.with_private_key(url, str(KEY_FILE), transport_options=transport_options)
        raise AssertionError(f"no such flow {flow!r}")

    return make


@pytest.fixture(params=FLOWS)
def flow(request: pytest.FixtureRequest) -> str:
    return str(request.param)
