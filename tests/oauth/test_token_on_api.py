"""An issued access token on the Management API (PROTOCOLS.md 5.4), and where tokens live."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import falcon.testing
import pytest
from oauthkit import ACME, ADMIN, API_SCOPE, SECOND_FACTORS, basic, post_token

import zitadel_mock.oauth
from zitadel_mock import State, create_app

SECRET = quote("acme admin+secret%", safe="")
GLOBEX = "259242039378444300"


def _sign_in(client: falcon.testing.TestClient, scope: str = f"openid {API_SCOPE}") -> str:
    answer = post_token(
        client,
        f"grant_type=client_credentials&scope={quote(scope)}",
        Authorization=basic("acme-admin", SECRET),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json["access_token"])


def _api(client: falcon.testing.TestClient, token: str, **headers: str):
    return client.simulate_post(
        SECOND_FACTORS, headers={"Authorization": f"Bearer {token}", **headers}
    )


def test_the_token_acts_as_the_service_user(client, state: State) -> None:
    answer = _api(client, _sign_in(client))
    assert answer.status_code == 200
    call = state.journal.calls()[-1]
    assert (call.rpc, call.org_id) == ("ListLoginPolicySecondFactors", ACME)


def test_its_memberships_decide(client, state: State) -> None:
    # acme-admin is ORG_OWNER of ACME only: Globex in context is no membership.
    answer = _api(client, _sign_in(client), **{"x-zitadel-orgid": GLOBEX})
    assert answer.status_code == 404
    assert answer.json["message"] == "membership not found (AUTHZ-cdgFk)"


def test_without_the_api_audience_it_is_refused(client, state: State) -> None:
    answer = _api(client, _sign_in(client, "openid"))
    assert answer.status_code == 401
    assert answer.json["message"] == "Errors.Token.Invalid (AUTH-7fs1e)"
    assert "issued without the scope" in state.journal.calls()[-1].why


def test_an_expired_token_is_refused(state: State, asgi: bool) -> None:
    from zitadel_mock.oauth import mint

    client = falcon.testing.TestClient(create_app(state, asgi=asgi))
    admin = state.view.users.get(ADMIN)
    fresh = mint(state, admin, (API_SCOPE,), lifetime_ns=1)
    answer = _api(client, fresh.token)  # the frozen clock: 1 ns is never over
    assert answer.status_code == 200
    spent = mint(state, admin, (API_SCOPE,), lifetime_ns=0)
    answer = _api(client, spent.token)
    assert answer.status_code == 401
    assert "has expired" in state.journal.calls()[-1].why


def test_it_expires_after_12_hours_of_the_wall_clock(make_state, monkeypatch) -> None:
    # Without a frozen clock, by the real time: moved 12 h on, the answer changes.
    state = make_state()
    state.load(replace(state.scenario, clock_ns=None))
    client = falcon.testing.TestClient(create_app(state))
    token = _sign_in(client)
    assert _api(client, token).status_code == 200
    later = state.view.issued[token].expires_ns
    monkeypatch.setattr("zitadel_mock.answers.time.time_ns", lambda: later)
    assert _api(client, token).status_code == 401


def test_a_reset_forgets_issued_tokens(client, state: State) -> None:
    token = _sign_in(client)
    state.reset()
    assert _api(client, token).status_code == 401


def test_the_store_is_bounded(client, state: State, monkeypatch) -> None:
    monkeypatch.setattr(zitadel_mock.oauth, "MAX_ISSUED", 3)
    tokens = [_sign_in(client) for _ in range(5)]
    assert list(state.view.issued) == tokens[2:]
    assert _api(client, tokens[0]).status_code == 401
    assert _api(client, tokens[-1]).status_code == 200


def test_tokens_are_per_namespace(client) -> None:
    token = _sign_in(client)
    answer = _api(client, token, **{"X-Mock-Namespace": "other"})
    assert answer.status_code == 401


@pytest.mark.parametrize("scenario_tokens", [True, False])
def test_open_scenarios_too(make_state, scenario_tokens: bool) -> None:
    # Without a tokens section any bearer acts as IAM_OWNER; an issued token still acts as
    # its user, so its refusal without the audience shows.
    state = make_state()
    if not scenario_tokens:
        state.load(replace(state.scenario, tokens=None))
    client = falcon.testing.TestClient(create_app(state))
    token = _sign_in(client, "openid")
    assert _api(client, token).status_code == 401
