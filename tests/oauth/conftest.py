"""Fixtures of the OAuth tests: a key pair, the scenario's state, clients of both apps."""

from __future__ import annotations

from collections.abc import Callable

import falcon.testing
import pytest
from oauthkit import scenario_text

from zitadel_mock import State, create_app, parse_scenario
from zitadel_mock.oauth_keys import KeyPair, new_key_pair

MakeState = Callable[..., State]


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    return new_key_pair()


@pytest.fixture
def make_state(key_pair: KeyPair) -> MakeState:
    def make(extra: str = "", version: str = "4.13.1") -> State:
        text = scenario_text(key_pair.public_pem, extra, version)
        return State(parse_scenario(text, source="oauth.yaml"))

    return make


@pytest.fixture
def state(make_state: MakeState) -> State:
    return make_state()


@pytest.fixture
def client(state: State, asgi: bool) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(state, asgi=asgi))
