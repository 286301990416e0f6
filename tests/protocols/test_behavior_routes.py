"""BEHAVIOR 1: the two routes, POST only; body, query string and Content-Type are ignored;
``x-zitadel-orgid`` selects the organisation, absent or empty it is the caller's own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from falcon.testing import TestClient
from testkit import SECOND_FACTORS, auth_factors

from zitadel_mock import State, parse_scenario

Make = Callable[..., TestClient]

SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22.123456Z"
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
        auth_factors: [otp, {type: u2f, id: "102", name: key}]
      - {username: admin, id: "103", type: machine}
  - name: Globex
    id: "200"
    users:
      - {username: viewer, id: "201", type: machine}
tokens:
  - {token: admin, user: admin}
  - {token: viewer, user: viewer}
"""
ADMIN = {"Authorization": "Bearer admin"}
VIEWER = {"Authorization": "Bearer viewer"}
ALICE = auth_factors("101")
ROUTES = [SECOND_FACTORS, ALICE]
ACME_POLICY = ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"]
DEFAULT_POLICY = ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]


@pytest.fixture
def client(make_client: Make) -> TestClient:
    return make_client(SCENARIO)


def test_second_factors_route(client: TestClient) -> None:
    result = client.simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert result.status_code == 200
    assert result.json["result"] == ACME_POLICY


def test_auth_factors_route_takes_the_user_from_the_path(client: TestClient) -> None:
    result = client.simulate_post(ALICE, headers=ADMIN)
    assert result.status_code == 200
    assert [list(f)[1] for f in result.json["result"]] == ["otp", "u2f"]
    assert client.simulate_post(auth_factors("103"), headers=ADMIN).json == {}


def test_each_route_is_its_grpc_method(make_client: Make) -> None:
    state = State(parse_scenario(SCENARIO))
    client = make_client(state)
    for path in ROUTES:
        client.simulate_post(path, headers=ADMIN)
    assert [call.rpc for call in state.journal.calls()] == [
        "ListLoginPolicySecondFactors",
        "ListHumanAuthFactors",
    ]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    "body",
    [
        None,
        b"",
        b"{}",
        b"{not json",
        b"[1, 2",
        b'{"query":{"offset":"5","limit":1,"asc":true},"unknown":[1,2]}',
        b'{"userId":"103"}',  # the user comes from the path only
        b"\x00\xff\xfe binary",
        b"a=b&c=d",
    ],
    ids=["none", "empty", "object", "invalid", "truncated", "unknown", "user", "binary", "form"],
)
def test_the_body_is_never_read(client: TestClient, path: str, body: bytes | None) -> None:
    reference = client.simulate_post(path, headers=ADMIN)
    result = client.simulate_post(path, headers=ADMIN, body=body)
    assert (result.status_code, result.content) == (200, reference.content)


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/grpc",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "no/such-type",
        "",
    ],
)
def test_any_content_type_is_accepted(client: TestClient, path: str, content_type: str) -> None:
    reference = client.simulate_post(path, headers=ADMIN)
    headers = {**ADMIN, "Content-Type": content_type}
    result = client.simulate_post(path, headers=headers, body=b'{"x":1}')
    assert (result.status_code, result.content) == (200, reference.content)


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    "query",
    [
        "limit=1",
        "query.offset=1&query.limit=1&query.asc=true",
        "user_id=103&userId=103",
        "x-zitadel-orgid=200&orgId=200",
        "%zz=&&=",
    ],
)
def test_the_query_string_is_never_read(client: TestClient, path: str, query: str) -> None:
    reference = client.simulate_post(path, headers=ADMIN)
    result = client.simulate_post(path, headers=ADMIN, query_string=query)
    assert (result.status_code, result.content) == (200, reference.content)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (VIEWER, DEFAULT_POLICY),  # no header: the caller's org, Globex
        ({**VIEWER, "x-zitadel-orgid": ""}, DEFAULT_POLICY),  # empty: the same
        ({**VIEWER, "x-zitadel-orgid": "100"}, ACME_POLICY),
        ({**VIEWER, "X-Zitadel-OrgID": "100"}, ACME_POLICY),  # header names ignore case
        ({**VIEWER, "x-zitadel-orgid": "200"}, DEFAULT_POLICY),
        ({**ADMIN, "x-zitadel-orgid": ""}, ACME_POLICY),
    ],
    ids=["absent", "empty", "acme", "any-case", "globex", "admin-empty"],
)
def test_org_header_selects_the_org(
    client: TestClient, headers: dict[str, str], expected: list[str]
) -> None:
    result = client.simulate_post(SECOND_FACTORS, headers=headers)
    assert result.status_code == 200
    assert result.json["result"] == expected


def test_org_header_selects_where_permission_is_checked(client: TestClient) -> None:
    # The admin is a member of ACME only: in Globex it has no membership.
    other = client.simulate_post(ALICE, headers={**ADMIN, "x-zitadel-orgid": "200"})
    assert other.status_code == 404
    assert other.json["message"] == "membership not found (AUTHZ-cdgFk)"
    own = client.simulate_post(ALICE, headers={**ADMIN, "x-zitadel-orgid": "100"})
    assert own.status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ROUTES)
def test_post_only(client: TestClient, path: str, method: str) -> None:
    result = client.simulate_request(method, path, headers=ADMIN, body=b"{}")
    assert result.status_code == 405
