"""BEHAVIOR 6: the error envelope, the gRPC-to-HTTP table (through forced errors), forced-error
rules, and the routing errors that come before any check."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from falcon.testing import TestClient
from testkit import ERROR_DETAIL_TYPE, SECOND_FACTORS, auth_factors

from zitadel_mock import State, parse_scenario

Make = Callable[..., TestClient]

BASE = """
version: 1
clock: "2025-08-28T10:46:22Z"
orgs:
  - name: ACME
    id: "100"
    members:
      - {user: admin, roles: [ORG_OWNER]}
      - {user: settings, roles: [ORG_SETTINGS_MANAGER]}
    users:
      - {username: alice, id: "101", auth_factors: [otp]}
      - {username: admin, id: "102", type: machine}
      - {username: settings, id: "103", type: machine}
      - {username: loner, id: "104", type: machine}
  - name: Globex
    id: "200"
    members: [{user: globex-admin, roles: [ORG_OWNER]}]
    users:
      - {username: carol, id: "201", auth_factors: [otp]}
      - {username: globex-admin, id: "202", type: machine}
tokens:
  - {token: admin, user: admin}
  - {token: settings, user: settings}
  - {token: loner, user: loner}
  - {token: globex-admin, user: globex-admin}
"""
ADMIN = {"Authorization": "Bearer admin"}
ALICE = auth_factors("101")
CAROL = auth_factors("201")

# gRPC code -> (name, HTTP status of the gateway's standard mapping)
GRPC_TO_HTTP = {
    1: ("CANCELLED", 499),
    2: ("UNKNOWN", 500),
    3: ("INVALID_ARGUMENT", 400),
    4: ("DEADLINE_EXCEEDED", 504),
    5: ("NOT_FOUND", 404),
    6: ("ALREADY_EXISTS", 409),
    7: ("PERMISSION_DENIED", 403),
    8: ("RESOURCE_EXHAUSTED", 429),
    9: ("FAILED_PRECONDITION", 400),
    10: ("ABORTED", 409),
    11: ("OUT_OF_RANGE", 400),
    12: ("UNIMPLEMENTED", 501),
    13: ("INTERNAL", 500),
    14: ("UNAVAILABLE", 503),
    15: ("DATA_LOSS", 500),
    16: ("UNAUTHENTICATED", 401),
}


def with_errors(*rules: str) -> str:
    return BASE + "errors:\n" + "".join(f"  - {rule}\n" for rule in rules)


# -- the envelope and the code table ----------------------------------------------------------


@pytest.mark.parametrize("code", list(GRPC_TO_HTTP))
@pytest.mark.parametrize("spelling", ["name", "number"])
def test_grpc_code_to_http_status(make_client: Make, code: int, spelling: str) -> None:
    name, http = GRPC_TO_HTTP[code]
    value = name if spelling == "name" else str(code)
    client = make_client(with_errors(f"{{code: {value}, message: boom}}"))
    for path in (SECOND_FACTORS, ALICE):
        result = client.simulate_post(path, headers=ADMIN)
        assert result.status_code == http
        assert result.json == {"code": code, "message": "boom"}  # no id: no details
        if http == 401:
            assert result.headers["www-authenticate"] == "boom"


@pytest.mark.parametrize("code", list(GRPC_TO_HTTP))
def test_an_id_is_appended_to_the_message_with_one_error_detail(
    make_client: Make, code: int
) -> None:
    client = make_client(
        with_errors(f"{{code: {code}, message: Errors.Internal, id: QUERY-Dgr3s}}")
    )
    result = client.simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert result.json == {
        "code": code,
        "message": "Errors.Internal (QUERY-Dgr3s)",
        "details": [
            {"@type": ERROR_DETAIL_TYPE, "id": "QUERY-Dgr3s", "message": "Errors.Internal"}
        ],
    }
    if code == 16:
        assert result.headers["www-authenticate"] == "Errors.Internal (QUERY-Dgr3s)"


def test_a_database_outage_as_zitadel_answers_it(make_client: Make) -> None:
    rule = '{code: INTERNAL, message: "An internal error occurred", id: QUERY-J2lvS}'
    result = make_client(with_errors(rule)).simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert result.status_code == 500
    assert result.content == (
        b'{"code":13,"message":"An internal error occurred (QUERY-J2lvS)","details":'
        b'[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"QUERY-J2lvS",'
        b'"message":"An internal error occurred"}]}'
    )


@pytest.mark.parametrize("code", list(GRPC_TO_HTTP))
def test_without_a_message_each_code_has_one(make_client: Make, code: int) -> None:
    result = make_client(with_errors(f"{{code: {code}}}")).simulate_post(SECOND_FACTORS)
    assert result.json["code"] == code
    assert result.json["message"]
    assert "details" not in result.json


# -- forced-error rules -----------------------------------------------------------------------


def test_times_then_normal_answers(make_client: Make) -> None:
    client = make_client(with_errors("{code: UNAVAILABLE, times: 2}"))
    statuses = [client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]


def test_without_times_a_rule_always_fires(make_client: Make) -> None:
    client = make_client(with_errors("{code: UNAVAILABLE}"))
    statuses = [client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code for _ in range(5)]
    assert statuses == [503] * 5


def test_the_first_matching_rule_answers(make_client: Make) -> None:
    client = make_client(
        with_errors("{code: NOT_FOUND, times: 1}", "{code: INTERNAL, times: 1}", "{code: ABORTED}")
    )
    statuses = [client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code for _ in range(4)]
    assert statuses == [404, 500, 409, 409]


@pytest.mark.parametrize(
    "rpc",
    [
        "ListHumanAuthFactors",
        "zitadel.management.v1.ManagementService/ListHumanAuthFactors",
    ],
)
def test_rpc_filter(make_client: Make, rpc: str) -> None:
    client = make_client(with_errors(f"{{rpc: {rpc}, code: UNAVAILABLE}}"))
    assert client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 200
    assert client.simulate_post(ALICE, headers=ADMIN).status_code == 503


def test_rpc_filter_on_second_factors(make_client: Make) -> None:
    client = make_client(with_errors("{rpc: ListLoginPolicySecondFactors, code: UNAVAILABLE}"))
    assert client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 503
    assert client.simulate_post(ALICE, headers=ADMIN).status_code == 200


@pytest.mark.parametrize("user", ["alice", "101"])
def test_user_filter_by_username_or_id(make_client: Make, user: str) -> None:
    client = make_client(with_errors(f'{{user: "{user}", code: UNAVAILABLE}}'))
    assert client.simulate_post(ALICE, headers=ADMIN).status_code == 503
    assert client.simulate_post(CAROL, headers=ADMIN).status_code == 200
    assert client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 200


@pytest.mark.parametrize("org", ["Globex", "200"])
def test_org_filter_matches_the_org_in_context(make_client: Make, org: str) -> None:
    client = make_client(with_errors(f'{{org: "{org}", code: UNAVAILABLE}}'))
    assert client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 200
    # The header, else the caller's own org.
    to_globex = {**ADMIN, "x-zitadel-orgid": "200"}
    assert client.simulate_post(SECOND_FACTORS, headers=to_globex).status_code == 503
    globex = {"Authorization": "Bearer globex-admin"}
    assert client.simulate_post(SECOND_FACTORS, headers=globex).status_code == 503
    to_acme = {**globex, "x-zitadel-orgid": "100"}
    assert client.simulate_post(SECOND_FACTORS, headers=to_acme).status_code == 404
    # Carol belongs to Globex, but the org in context is ACME.
    assert client.simulate_post(CAROL, headers=ADMIN).status_code == 200


def test_filters_combine(make_client: Make) -> None:
    client = make_client(
        with_errors("{rpc: ListHumanAuthFactors, user: carol, org: ACME, code: DATA_LOSS}")
    )
    assert client.simulate_post(CAROL, headers=ADMIN).status_code == 500
    assert client.simulate_post(ALICE, headers=ADMIN).status_code == 200
    globex = {"Authorization": "Bearer globex-admin"}
    assert client.simulate_post(CAROL, headers=globex).status_code == 200


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (SECOND_FACTORS, {}),  # no Authorization
        (SECOND_FACTORS, {"Authorization": "bearer admin"}),  # bad scheme
        (SECOND_FACTORS, {"Authorization": "Bearer nope"}),  # unknown token
        (SECOND_FACTORS, {**ADMIN, "x-zitadel-orgid": "999"}),  # unknown org
        (SECOND_FACTORS, {"Authorization": "Bearer loner"}),  # no membership
        (ALICE, {"Authorization": "Bearer settings"}),  # no permission
        (auth_factors("x" * 201), ADMIN),  # invalid user id
        (auth_factors(""), {}),  # everything wrong at once
    ],
    ids=["header", "scheme", "token", "org", "membership", "permission", "validation", "all"],
)
def test_forced_errors_win_over_every_check(
    make_client: Make, path: str, headers: dict[str, str]
) -> None:
    client = make_client(with_errors("{code: RESOURCE_EXHAUSTED, message: quota exceeded}"))
    result = client.simulate_post(path, headers=headers)
    assert (result.status_code, result.json) == (429, {"code": 8, "message": "quota exceeded"})


def test_a_forced_error_added_while_serving(make_client: Make) -> None:
    state = State(parse_scenario(BASE))
    client = make_client(state)
    state.add_error(code="UNAUTHENTICATED", message="token expired", id="AUTH-x1", times=1)
    result = client.simulate_post(ALICE, headers=ADMIN)
    assert result.status_code == 401
    assert result.headers["www-authenticate"] == "token expired (AUTH-x1)"
    assert client.simulate_post(ALICE, headers=ADMIN).status_code == 200


# -- routing errors ---------------------------------------------------------------------------

ROUTES = [SECOND_FACTORS, ALICE]
NOT_FOUND = b'{"code":5,"message":"Not Found"}'
NOT_ALLOWED = b'{"code":12,"message":"Method Not Allowed"}'


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/management/v1",
        "/management/v1/policies/login/second_factors",
        "/management/v1/policies/login/second_factors/_search/",
        "/management/v1/policies/login/second_factors/_search/x",
        "/management/v1/policies/login/_search",
        "/management/v1/users/101/auth_factors",
        "/management/v1/users/101/auth_factors/_search/x",
        "/management/v1/users/101/102/auth_factors/_search",
        "/management/v2/policies/login/second_factors/_search",
        "/Management/v1/policies/login/second_factors/_search",
        "/v2/users/101/authentication_method",
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_unknown_path_is_404(make_client: Make, path: str, method: str) -> None:
    # A forced error for every call, and no Authorization: routing answers first.
    result = make_client(with_errors("{code: INTERNAL}")).simulate_request(method, path)
    assert (result.status_code, result.content) == (404, NOT_FOUND)


# falcon's test client warns of methods outside HTTP/1.1's list.
@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"])
@pytest.mark.parametrize("path", ROUTES)
def test_other_methods_on_a_route_are_405(make_client: Make, path: str, method: str) -> None:
    # A forced error for every call, and no Authorization: routing answers first.
    result = make_client(with_errors("{code: INTERNAL}")).simulate_request(method, path)
    assert result.status_code == 405
    assert result.content == (b"" if method == "HEAD" else NOT_ALLOWED)
    assert result.headers["content-type"] == "application/json"
    assert result.headers["cache-control"] == "no-store"
    assert result.headers["pragma"] == "no-cache"
    assert result.headers["expires"] == "Thu, 28 Aug 2025 10:46:22 GMT"
    assert result.headers["x-robots-tag"] == "none"
    assert "www-authenticate" not in result.headers


def test_routing_errors_do_not_use_up_forced_errors(make_client: Make) -> None:
    client = make_client(with_errors("{code: INTERNAL, times: 1}"))
    assert client.simulate_get(SECOND_FACTORS).status_code == 405
    assert client.simulate_post("/nope").status_code == 404
    assert client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 500
    assert client.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 200
