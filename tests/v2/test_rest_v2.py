"""The v2 REST routes of the gateway: query strings, methods, headers (PROTOCOLS.md 4)."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest
from v2kit import scenario_state

from zitadel_mock import create_app

FACTORS = "/v2/users/1003/authentication_factors/_search"
METHODS = "/v2/users/1003/authentication_methods"
SETTINGS = "/v2/settings/login"
ADMIN = {"Authorization": "Bearer admin-token"}


@pytest.fixture
def client(v2_asgi: bool) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(scenario_state(), asgi=v2_asgi))


def test_filters_by_proto_name_and_number_and_the_body_is_ignored(client: Any) -> None:
    reply = client.simulate_post(
        FACTORS, headers=ADMIN, query_string="auth_factors=3&states=2", body="{not json"
    )
    assert reply.json == {
        "result": [{"state": "AUTH_FACTOR_STATE_READY", "u2f": {"id": "1004", "name": "YubiKey"}}]
    }


def test_a_value_the_gateway_cannot_read_is_400_before_auth(client: Any) -> None:
    reply = client.simulate_post(FACTORS, query_string="authFactors=TOTP")
    assert reply.status_code == 400
    assert reply.json == {
        "code": 3,
        "message": "parsing field \"auth_factors\": 'TOTP' is not one of "
        "OTP, OTP_SMS, OTP_EMAIL, U2F",
    }
    both = client.simulate_get(
        SETTINGS, headers=ADMIN, query_string="ctx.orgId=1&ctx.instance=true"
    )
    assert (both.status_code, both.json["code"]) == (400, 3)
    not_bool = client.simulate_get(SETTINGS, headers=ADMIN, query_string="ctx.instance=yes")
    assert not_bool.status_code == 400


def test_unknown_query_keys_are_ignored(client: Any) -> None:
    reply = client.simulate_get(METHODS, headers=ADMIN, query_string="domainQuery.domain=x&y=1")
    assert reply.status_code == 200


def test_ctx_in_the_query_string(client: Any) -> None:
    instance = client.simulate_get(SETTINGS, headers=ADMIN, query_string="ctx.instance=true")
    assert instance.json["settings"]["resourceOwnerType"] == "RESOURCE_OWNER_TYPE_INSTANCE"
    org = client.simulate_get(
        SETTINGS,
        headers={"Authorization": "Bearer ivan-token"},
        query_string="ctx.orgId=259242039378444290",
    )
    assert org.json["details"]["resourceOwner"] == "259242039378444290"


@pytest.mark.parametrize(
    ("method", "path", "takes"),
    [
        ("GET", FACTORS, "POST"),
        ("POST", METHODS, "GET"),
        ("DELETE", SETTINGS, "GET"),
        ("OPTIONS", SETTINGS, "GET"),
    ],
)
def test_another_method_is_the_gateways_405(
    v2_asgi: bool, method: str, path: str, takes: str
) -> None:
    state = scenario_state()
    app = falcon.testing.TestClient(create_app(state, asgi=v2_asgi))
    reply = app.simulate_request(method, path, headers=ADMIN)
    assert (reply.status_code, reply.json) == (405, {"code": 12, "message": "Method Not Allowed"})
    assert state.journal.calls()[-1].why.endswith(f"not {method}: {takes} " + _template(path))


def _template(path: str) -> str:
    return path.replace("1003", "{user_id}")


def test_the_gateways_headers_and_www_authenticate(client: Any) -> None:
    ok = client.simulate_get(SETTINGS, headers=ADMIN)
    assert ok.headers["content-type"] == "application/json"
    assert ok.headers["cache-control"] == "no-store"
    assert "accept-encoding" not in ok.headers
    refused = client.simulate_get(SETTINGS, headers={"Authorization": "Bearer nope"})
    assert refused.headers["www-authenticate"] == "Errors.Token.Invalid (AUTH-7fs1e)"
    assert refused.json["details"][0]["@type"] == "type.googleapis.com/zitadel.v1.ErrorDetail"
