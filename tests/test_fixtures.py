"""Every example scenario in fixtures/ loads and serves, so examples never rot."""

from __future__ import annotations

from pathlib import Path

import falcon.testing
import pytest
from support import SECOND_FACTORS, auth_factors, checked

from zitadel_mock import State, create_app, load_scenario

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures").glob("*.yaml"))


def test_there_are_examples() -> None:
    assert {p.name for p in FIXTURES} >= {"quickstart.yaml", "multi-org.yaml", "outage.yaml"}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_example_loads_and_serves(path: Path) -> None:
    scenario = load_scenario(path)
    client = falcon.testing.TestClient(create_app(scenario))
    token = scenario.tokens[0].token if scenario.tokens else "anything"
    for route in (SECOND_FACTORS, auth_factors(scenario.users[0].id)):
        result = client.simulate_post(route, headers={"Authorization": f"Bearer {token}"})
        assert result.status_code < 500 or path.name == "outage.yaml"
        checked(result)


def quickstart() -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(load_scenario("fixtures/quickstart.yaml")))


def test_quickstart_answers_as_the_readme_shows() -> None:
    headers = {"Authorization": "Bearer acme-admin-token"}
    client = quickstart()
    assert client.simulate_post(SECOND_FACTORS, headers=headers).content == (
        b'{"details":{"totalResult":"2","viewTimestamp":"2025-08-28T10:46:22.123456Z"},'
        b'"result":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"]}'
    )
    assert client.simulate_post(auth_factors("259242039378444291"), headers=headers).content == (
        b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY",'
        b'"u2f":{"id":"259242039378444292","name":"YubiKey 5"}}]}'
    )


def test_multi_org_tokens_do_what_the_comments_say() -> None:
    client = falcon.testing.TestClient(create_app(load_scenario("fixtures/multi-org.yaml")))

    def status(token: str, route: str, org: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        if org:
            headers["x-zitadel-orgid"] = org
        return client.simulate_post(route, headers=headers).status_code

    alice = auth_factors("259242039378444291")
    globex = load_scenario("fixtures/multi-org.yaml").org("Globex")
    assert globex is not None
    assert status("platform-token", SECOND_FACTORS, globex.id) == 200
    assert status("acme-token", alice) == 200
    assert status("acme-token", SECOND_FACTORS, globex.id) == 404
    assert status("settings-token", SECOND_FACTORS) == 200
    assert status("settings-token", alice) == 403
    assert status("revoked-token", SECOND_FACTORS) == 401


def test_outage_sequence() -> None:
    state = State(load_scenario("fixtures/outage.yaml"))
    client = falcon.testing.TestClient(create_app(state))
    headers = {"Authorization": "Bearer x"}
    alice, dave = auth_factors("259242039378444291"), auth_factors("259242039378444295")
    assert [client.simulate_post(alice, headers=headers).status_code for _ in range(3)] == [
        503,
        503,
        200,
    ]
    assert client.simulate_post(dave, headers=headers).json["message"] == (
        "An internal error occurred (QUERY-Dgs2f)"
    )
    initech = {**headers, "x-zitadel-orgid": "259242039378444299"}
    assert client.simulate_post(SECOND_FACTORS, headers=initech).status_code == 429
