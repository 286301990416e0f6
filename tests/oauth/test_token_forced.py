"""Forced rules, faults and the handle on the token endpoint: a team can test a failing sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import falcon.testing
import pytest
import requests
from oauthkit import ACME, ADMIN, API_SCOPE, SECOND_FACTORS, basic, post_token, scenario_text

from zitadel_mock import MockServer, ScenarioError, State, ZitadelMock, create_app, parse_scenario
from zitadel_mock.oauth_keys import KeyPair

SECRET = quote("acme admin+secret%", safe="")
CC = f"grant_type=client_credentials&scope={quote(API_SCOPE)}"


def test_a_scenario_rule_on_token(make_state) -> None:
    state: State = make_state(
        "errors: [{rpc: Token, user: acme-admin, code: UNAVAILABLE, message: down, times: 1}]\n"
    )
    client = falcon.testing.TestClient(create_app(state))
    first = post_token(client, CC, Authorization=basic("acme-admin", SECRET))
    assert first.status_code == 503
    assert first.content == b'{"error":"server_error","error_description":"down"}\n'
    assert post_token(client, CC, Authorization=basic("acme-admin", SECRET)).status_code == 200
    call = state.journal.calls()[0]
    assert (call.rpc, call.forced, call.user_id) == ("Token", True, ADMIN)
    assert call.why.startswith("forced rule 0 (oauth.yaml:")


def test_a_client_error_code_is_invalid_request(make_state) -> None:
    state: State = make_state("errors: [{rpc: Token, code: PERMISSION_DENIED, message: denied}]\n")
    client = falcon.testing.TestClient(create_app(state))
    answer = post_token(client, CC, Authorization=basic("acme-admin", SECRET))
    assert (answer.status_code, answer.json) == (
        403,
        {"error": "invalid_request", "error_description": "denied"},
    )


def test_a_rule_on_the_api_leaves_the_token_endpoint_alone(make_state) -> None:
    state: State = make_state("errors: [{rpc: ListHumanAuthFactors, code: INTERNAL}]\n")
    client = falcon.testing.TestClient(create_app(state))
    assert post_token(client, CC, Authorization=basic("acme-admin", SECRET)).status_code == 200


def test_a_rule_for_another_user_does_not_fire(make_state) -> None:
    state: State = make_state("errors: [{rpc: Token, user: bot, code: INTERNAL}]\n")
    client = falcon.testing.TestClient(create_app(state))
    assert post_token(client, CC, Authorization=basic("acme-admin", SECRET)).status_code == 200


@pytest.fixture
def mock(key_pair: KeyPair) -> Iterator[ZitadelMock]:
    scenario = parse_scenario(scenario_text(key_pair.public_pem), source="oauth.yaml")
    with MockServer(scenario) as server:
        yield ZitadelMock(server)


def _sign_in(mock: ZitadelMock) -> requests.Response:
    return requests.post(
        f"{mock.url}/oauth/v2/token",
        data={"grant_type": "client_credentials", "scope": f"openid {API_SCOPE}"},
        auth=("acme-admin", SECRET),  # escaped, as authlib sends it: ZITADEL unescapes both
        timeout=10,
    )


def test_requests_signs_in_over_a_socket(mock: ZitadelMock) -> None:
    answer = _sign_in(mock)
    assert answer.status_code == 200, answer.text
    api = requests.post(
        mock.url + SECOND_FACTORS,
        headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
        timeout=10,
    )
    assert api.status_code == 200
    mock.assert_called("Token", times=1, user="acme-admin", org="ACME")
    mock.assert_called("ListLoginPolicySecondFactors", times=1, org=ACME)


def test_a_dropped_connection_on_sign_in(mock: ZitadelMock) -> None:
    mock.fail("Token", fault="connection_reset", times=1)
    with pytest.raises(requests.ConnectionError):
        _sign_in(mock)
    assert _sign_in(mock).status_code == 200
    assert [call.status for call in mock.calls("Token")] == [0, 200]


def test_token_for_mints_a_token(mock: ZitadelMock) -> None:
    token = mock.token_for("acme-admin")
    answer = requests.post(
        mock.url + SECOND_FACTORS, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200
    without = mock.token_for("acme-admin", scopes=["openid"])
    expired = mock.token_for("bot", lifetime=0)
    for refused in (without, expired):
        answer = requests.post(
            mock.url + SECOND_FACTORS, headers={"Authorization": f"Bearer {refused}"}, timeout=10
        )
        assert answer.status_code == 401


def test_token_for_refuses_what_cannot_sign_in(mock: ZitadelMock) -> None:
    with pytest.raises(
        ScenarioError, match=r"user: no user 'acme-admn'; did you mean 'acme-admin'"
    ):
        mock.token_for("acme-admn")
    with pytest.raises(ScenarioError, match="'alice' is a human user"):
        mock.token_for("alice")
    with pytest.raises(ValueError, match="lifetime"):
        mock.token_for("bot", lifetime=-1)


def test_a_rule_without_rpc_applies_to_sign_ins_too(make_state) -> None:
    state: State = make_state("errors: [{code: UNAVAILABLE, times: 1}]\n")
    client = falcon.testing.TestClient(create_app(state))
    assert post_token(client, CC, Authorization=basic("acme-admin", SECRET)).status_code == 503
    assert post_token(client, CC, Authorization=basic("acme-admin", SECRET)).status_code == 200
