"""A few of the behaviours again over a real socket, through MockServer and ``requests``:
what a client sees on the wire, with waitress in between."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from testkit import SECOND_FACTORS, auth_factors, check_answer

from zitadel_mock import MockServer, State, parse_scenario

SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22.123456789Z"
instance:
  members: [{user: viewer, roles: [IAM_OWNER_VIEWER]}]
orgs:
  - name: ACME
    id: "100"
    login_policy: {second_factors: [otp_email, u2f]}
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - username: alice
        id: "101"
        auth_factors:
          - otp
          - {type: u2f, id: "102", name: "fido key"}
          - {type: otp_sms, state: not_ready}
      - {username: admin, id: "103", type: machine}
  - name: Globex
    id: "200"
    users: [{username: viewer, id: "201", type: machine}]
tokens:
  - {token: admin, user: admin}
  - {token: viewer, user: viewer}
"""
ADMIN = {"Authorization": "Bearer admin"}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(State(parse_scenario(SCENARIO))) as mock:
        yield mock


@pytest.fixture
def http(server: MockServer) -> Iterator[requests.Session]:
    server.state.reset()  # before the test: a clean state whatever ran earlier
    with requests.Session() as session:
        yield session


def call(
    http: requests.Session, server: MockServer, method: str, path: str, **kwargs: object
) -> requests.Response:
    response = http.request(method, server.url + path, **kwargs)  # type: ignore[arg-type]
    check_answer(method, path, response.status_code, response.headers, response.content)
    return response


def test_second_factors_on_the_wire(http: requests.Session, server: MockServer) -> None:
    response = call(http, server, "POST", SECOND_FACTORS, headers=ADMIN)
    assert response.status_code == 200
    assert response.content == (
        b'{"details":{"totalResult":"2","viewTimestamp":"2025-08-28T10:46:22.123456789Z"},'
        b'"result":["SECOND_FACTOR_TYPE_OTP_EMAIL","SECOND_FACTOR_TYPE_U2F"]}'
    )
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["Expires"] == "Thu, 28 Aug 2025 10:46:22 GMT"
    assert response.headers["X-Robots-Tag"] == "none"


def test_auth_factors_on_the_wire_whatever_the_request_carries(
    http: requests.Session, server: MockServer
) -> None:
    path = auth_factors("101")
    plain = call(http, server, "POST", path, headers=ADMIN)
    noisy = call(
        http,
        server,
        "POST",
        path + "?limit=1&userId=999",
        headers={**ADMIN, "Content-Type": "text/plain", "Accept": "text/html"},
        data=b"{not json",
    )
    assert (
        plain.content
        == noisy.content
        == (
            b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
            b'{"state":"AUTH_FACTOR_STATE_READY","u2f":{"id":"102","name":"fido key"}}]}'
        )
    )
    assert noisy.headers["Content-Type"] == "application/json"


def test_org_header_on_the_wire(http: requests.Session, server: MockServer) -> None:
    viewer = {"Authorization": "Bearer viewer"}
    own = call(http, server, "POST", SECOND_FACTORS, headers=viewer)
    acme = call(http, server, "POST", SECOND_FACTORS, headers={**viewer, "x-zitadel-orgid": "100"})
    assert own.json()["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
    assert acme.json()["result"] == ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"]


def test_401_with_www_authenticate_on_the_wire(http: requests.Session, server: MockServer) -> None:
    response = call(http, server, "POST", SECOND_FACTORS, headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Errors.Token.Invalid (AUTH-7fs1e)"
    assert response.json()["details"][0]["id"] == "AUTH-7fs1e"


def test_validation_on_the_wire(http: requests.Session, server: MockServer) -> None:
    response = call(http, server, "POST", auth_factors("é" * 201), headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert call(http, server, "POST", auth_factors("é" * 200), headers=ADMIN).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", SECOND_FACTORS, 405, b'{"code":12,"message":"Method Not Allowed"}'),
        ("DELETE", auth_factors("101"), 405, b'{"code":12,"message":"Method Not Allowed"}'),
        ("POST", "/management/v1/nope", 404, b'{"code":5,"message":"Not Found"}'),
    ],
)
def test_routing_errors_on_the_wire(
    http: requests.Session, server: MockServer, method: str, path: str, status: int, body: bytes
) -> None:
    response = call(http, server, method, path)
    assert (response.status_code, response.content) == (status, body)


def test_a_forced_error_on_the_wire(http: requests.Session, server: MockServer) -> None:
    server.state.add_error(code="UNAVAILABLE", message="upstream down", id="QUERY-1", times=1)
    first = call(http, server, "POST", SECOND_FACTORS)  # no Authorization: the rule wins
    assert first.status_code == 503
    assert first.json()["message"] == "upstream down (QUERY-1)"
    assert call(http, server, "POST", SECOND_FACTORS).status_code == 401
