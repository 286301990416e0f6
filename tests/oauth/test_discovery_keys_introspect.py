"""Discovery (PROTOCOLS.md 5.1), the JWKS and introspection (5.3), on both apps."""

from __future__ import annotations

import json
from urllib.parse import quote

import falcon.testing
from oauthkit import ADMIN, API_SCOPE, FORM, HOST, KEY_ID, assertion, basic, post_token

from zitadel_mock import State
from zitadel_mock.oauth_keys import KeyPair

SECRET = quote("acme admin+secret%", safe="")


def test_discovery_fields_in_order(client: falcon.testing.TestClient) -> None:
    answer = client.simulate_get("/.well-known/openid-configuration", **HOST)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document = json.loads(answer.content)
    assert answer.content.endswith(b"}\n")
    issuer = "http://zitadel.test:8080"
    assert list(document)[:9] == [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
        "device_authorization_endpoint",
        "jwks_uri",
    ]
    assert document["issuer"] == issuer
    assert document["token_endpoint"] == issuer + "/oauth/v2/token"
    assert document["jwks_uri"] == issuer + "/oauth/v2/keys"
    assert list(document)[9:] == [
        "scopes_supported",
        "response_types_supported",
        "response_modes_supported",
        "grant_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
        "token_endpoint_auth_methods_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "revocation_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
        "introspection_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
        "claims_supported",
        "code_challenge_methods_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
    ]
    assert API_SCOPE not in document["scopes_supported"]
    assert "urn:ietf:params:oauth:grant-type:jwt-bearer" in document["grant_types_supported"]
    assert document["request_uri_parameter_supported"] is False


def test_the_issuer_follows_host_and_scheme(client: falcon.testing.TestClient) -> None:
    answer = client.simulate_get(
        "/.well-known/openid-configuration", protocol="https", host="id.example"
    )
    assert answer.json["issuer"] == "https://id.example"


def test_keys(client: falcon.testing.TestClient) -> None:
    answer = client.simulate_get("/oauth/v2/keys")
    assert answer.headers["cache-control"] == "max-age=300, must-revalidate"
    (key,) = answer.json["keys"]
    assert list(key) == ["use", "kty", "kid", "alg", "n", "e"]
    assert (key["use"], key["kty"], key["alg"]) == ("sig", "RSA", "RS256")


def _introspect(client: falcon.testing.TestClient, body: str, **headers: str):
    return client.simulate_post(
        "/oauth/v2/introspect", body=body, headers={**FORM, **headers}, **HOST
    )


def _token(client: falcon.testing.TestClient, scope: str) -> str:
    answer = post_token(
        client,
        f"grant_type=client_credentials&scope={quote(scope)}",
        Authorization=basic("acme-admin", SECRET),
    )
    return str(answer.json["access_token"])


def test_introspection_without_credentials(client: falcon.testing.TestClient) -> None:
    answer = _introspect(client, "token=x")
    assert answer.status_code == 400
    assert answer.json == {
        "error": "invalid_client",
        "error_description": "client must be authenticated",
    }


def test_introspection_with_a_bad_client(client: falcon.testing.TestClient) -> None:
    answer = _introspect(client, "token=x", Authorization=basic("acme-admin", "wrong"))
    assert (answer.status_code, answer.json["error"]) == (400, "unauthorized_client")


def test_an_active_token(client: falcon.testing.TestClient) -> None:
    token = _token(client, f"openid {API_SCOPE}")
    answer = _introspect(client, f"token={token}", Authorization=basic("acme-admin", SECRET))
    assert answer.status_code == 200
    body = answer.json
    assert body["active"] is True
    assert (body["sub"], body["client_id"], body["iss"]) == (
        ADMIN,
        "acme-admin",
        "http://zitadel.test:8080",
    )


def test_introspection_with_a_client_assertion(
    client: falcon.testing.TestClient, key_pair: KeyPair
) -> None:
    token = _token(client, API_SCOPE)
    form = (
        f"token={token}&client_assertion_type="
        f"{quote('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}"
        f"&client_assertion={assertion(key_pair, kid=KEY_ID)}"
    )
    assert _introspect(client, form).json["active"] is True


def test_inactive_tokens(client: falcon.testing.TestClient, state: State) -> None:
    without_audience = _token(client, "openid")
    auth = basic("acme-admin", SECRET)
    assert _introspect(client, f"token={without_audience}", Authorization=auth).json == {
        "active": False
    }
    assert _introspect(client, "token=unknown", Authorization=auth).json == {"active": False}
