"""Connect unary as connect-go serves it (PROTOCOLS.md 2.5, 2.6, 4.4, 7), on both apps."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import falcon.testing
import pytest
from v2kit import scenario_state

from zitadel_mock import create_app
from zitadel_mock.protocols.grpc.messages import message_class

FACTORS = "/zitadel.user.v2.UserService/ListAuthenticationFactors"
SETTINGS = "/zitadel.settings.v2.SettingsService/GetLoginSettings"
JSON = {"Content-Type": "application/json", "Authorization": "Bearer admin-token"}


@pytest.fixture
def client(v2_asgi: bool) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(scenario_state(), asgi=v2_asgi))


def _post(client: Any, path: str, body: bytes | str, **headers: str) -> Any:
    return client.simulate_post(path, headers={**JSON, **headers}, body=body)


def test_an_unknown_token_is_connects_error_with_its_detail(client: Any) -> None:
    reply = _post(client, FACTORS, '{"userId":"1003"}', Authorization="Bearer nope")
    assert reply.status_code == 401
    assert reply.content == (
        b'{"code":"unauthenticated","message":"Errors.Token.Invalid (AUTH-7fs1e)",'
        b'"details":[{"type":"zitadel.v1.ErrorDetail",'
        b'"value":"CgpBVVRILTdmczFlEhRFcnJvcnMuVG9rZW4uSW52YWxpZA",'
        b'"debug":{"id":"AUTH-7fs1e","message":"Errors.Token.Invalid"}}]}'
    )
    assert reply.headers["content-type"] == "application/json"
    assert "www-authenticate" not in reply.headers


def test_no_auth_header_has_no_details(client: Any) -> None:
    reply = client.simulate_post(FACTORS, headers={"Content-Type": "application/json"}, body="{}")
    assert (reply.status_code, reply.text) == (
        401,
        '{"code":"unauthenticated","message":"auth header missing"}',
    )


def test_the_detail_value_is_the_error_detail_in_unpadded_base64(client: Any) -> None:
    reply = _post(client, FACTORS, '{"userId":"1003"}', Authorization="Bearer settings-token")
    detail = reply.json["details"][0]
    assert not detail["value"].endswith("=")
    decoded = message_class("zitadel.v1.ErrorDetail").FromString(
        base64.b64decode(detail["value"] + "=" * (-len(detail["value"]) % 4))
    )
    assert (decoded.id, decoded.message) == ("AUTH-AWfge", "No matching permissions found")
    assert reply.json["code"] == "permission_denied"


def test_headers_of_success_and_of_an_error(client: Any) -> None:
    ok = _post(client, FACTORS, '{"userId":"1003"}')
    assert ok.headers["accept-encoding"] == "gzip"
    assert ok.headers["cache-control"] == "no-store"
    assert ok.headers["pragma"] == "no-cache"
    assert "expires" in ok.headers
    assert ok.headers["x-robots-tag"] == "none"
    error = _post(client, FACTORS, '{"userId":"1003"}', Authorization="Bearer nope")
    assert error.headers["accept-encoding"] == "gzip"
    assert error.headers["x-robots-tag"] == "none"
    for name in ("cache-control", "pragma", "expires"):
        assert name not in error.headers


def test_an_empty_json_body_is_refused_before_the_auth_checks(client: Any) -> None:
    reply = client.simulate_post(FACTORS, headers={"Content-Type": "application/json"}, body="")
    assert (reply.status_code, reply.json) == (
        400,
        {
            "code": "invalid_argument",
            "message": "unmarshal message: zero-length payload is not a valid JSON object",
        },
    )
    assert "cache-control" not in reply.headers


def test_an_empty_json_object_is_a_request(client: Any) -> None:
    assert _post(client, SETTINGS, "{}").status_code == 200


def test_proto_field_names_unknown_fields_and_charset(client: Any) -> None:
    body = '{"user_id":"1003","somethingNew":1}'
    reply = _post(client, FACTORS, body, **{"Content-Type": "application/json; charset=utf-8"})
    assert reply.status_code == 200
    assert len(reply.json["result"]) == 3


def test_invalid_json_and_invalid_binary(client: Any) -> None:
    bad = _post(client, FACTORS, "{not json")
    assert bad.status_code == 400
    assert bad.json["code"] == "invalid_argument"
    assert bad.json["message"].startswith("unmarshal message: ")
    # protojson's DiscardUnknown drops unknown enum names too: no filter, the default one.
    unknown_name = _post(client, FACTORS, '{"userId":"1003","authFactors":["TOTP"]}')
    assert (unknown_name.status_code, len(unknown_name.json["result"])) == (200, 3)
    wrong_type = _post(client, FACTORS, '{"userId":5}')
    assert wrong_type.json["code"] == "invalid_argument"
    binary = _post(client, FACTORS, b"\x0a\xff", **{"Content-Type": "application/proto"})
    assert (binary.status_code, binary.headers["content-type"]) == (400, "application/json")
    assert binary.json["message"].startswith("unmarshal message: ")


def test_an_empty_binary_body_is_the_empty_message(client: Any) -> None:
    reply = _post(client, SETTINGS, b"", **{"Content-Type": "application/proto"})
    assert (reply.status_code, reply.headers["content-type"]) == (200, "application/proto")
    response = message_class("zitadel.settings.v2.GetLoginSettingsResponse").FromString(
        reply.content
    )
    assert response.details.resource_owner == "259242039378444290"


def test_an_error_on_a_binary_request_is_json(client: Any) -> None:
    reply = _post(
        client, FACTORS, b"", **{"Content-Type": "application/proto", "Authorization": "x"}
    )
    assert (reply.status_code, reply.headers["content-type"]) == (401, "application/json")
    assert reply.json["details"][0]["debug"]["id"] == "AUTH-toLo1"


def test_a_gzip_body(client: Any) -> None:
    body = gzip.compress(b'{"userId":"1003"}')
    reply = _post(client, FACTORS, body, **{"Content-Encoding": "gzip"})
    assert (reply.status_code, len(reply.json["result"])) == (200, 3)
    other = _post(client, FACTORS, body, **{"Content-Encoding": "br"})
    assert (other.status_code, other.json["code"]) == (501, "unimplemented")


def test_another_content_type_is_415(client: Any) -> None:
    reply = _post(client, FACTORS, "{}", **{"Content-Type": "text/plain"})
    assert reply.status_code == 415
    assert reply.headers["accept-post"] == "application/json, application/proto"


def test_only_post(v2_asgi: bool) -> None:
    state = scenario_state()
    client = falcon.testing.TestClient(create_app(state, asgi=v2_asgi))
    reply = client.simulate_get(FACTORS, headers=JSON)
    assert (reply.status_code, reply.headers["allow"]) == (405, "POST")
    call = state.journal.calls()[-1]
    assert (call.status, call.protocol) == (405, "connect")
    assert call.why == f"Connect takes POST, not 'GET': POST {FACTORS}"


def test_a_method_the_mock_does_not_serve_is_connect_gos_404(client: Any) -> None:
    reply = _post(client, "/zitadel.user.v2.UserService/GetUserByID", '{"userId":"1003"}')
    assert (reply.status_code, reply.text) == (404, "404 page not found\n")


@pytest.mark.parametrize("content_type", ["application/json", "application/proto"])
def test_a_v1_method_over_connect_is_the_gateways_404(client: Any, content_type: str) -> None:
    reply = client.simulate_post(
        "/zitadel.management.v1.ManagementService/ListHumanAuthFactors",
        headers={**JSON, "Content-Type": content_type},
        body=b"",
    )
    assert (reply.status_code, reply.json) == (404, {"code": 5, "message": "Not Found"})


def test_a_request_id_from_4_13_only(v2_asgi: bool) -> None:
    new = falcon.testing.TestClient(create_app(scenario_state(), asgi=v2_asgi))
    assert len(_post(new, SETTINGS, "{}").headers["x-request-id"]) == 20
    assert len(_post(new, SETTINGS, "{}", Authorization="x").headers["x-request-id"]) == 20
    text = "version: 1\nzitadel_version: '4.12'\norgs: [{name: ACME}]\n"
    old = falcon.testing.TestClient(create_app(scenario_state(text), asgi=v2_asgi))
    assert "x-request-id" not in _post(old, SETTINGS, "{}").headers


def test_journal_and_why(v2_asgi: bool) -> None:
    state = scenario_state()
    client = falcon.testing.TestClient(create_app(state, asgi=v2_asgi))
    _post(client, FACTORS, '{"userId":"1003"}', Authorization="Bearer settings-token")
    _post(client, SETTINGS, "")
    first, second = state.journal.calls()
    assert (first.rpc, first.status, first.protocol) == (
        "ListAuthenticationFactors",
        403,
        "connect",
    )
    assert first.why == "settings holds ORG_SETTINGS_MANAGER in ACME; needs user.read"
    assert (second.rpc, second.status) == ("GetLoginSettings", 400)
    assert "empty JSON body" in second.why
    assert json.loads(second.body)["code"] == 3
