"""The control API over a real socket: every operation, and bad input to each (4xx, no change).

Every answer of the control API is also checked against the schema its OpenAPI document gives
for that route, method and status, so the document cannot drift from what is served.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jsonschema
import pytest
import requests
from testkit import (
    ACME,
    ALICE,
    GLOBEX,
    MAIN,
    SECOND_FACTORS,
    U2F_ID,
    auth_factors,
    bearer,
    scenario,
)

from zitadel_mock import MockServer, ScenarioError, State, parse_scenario
from zitadel_mock.control.openapi import openapi_document
from zitadel_mock.control.ops import OPERATIONS

DOC = openapi_document("/_mock")
_TEMPLATES = [
    (re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", route) + "$"), route) for route in DOC["paths"]
]


ERROR_SCHEMA = {"$ref": "#/components/schemas/Error", "components": DOC["components"]}


def documented_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """The schema the OpenAPI document gives for this answer; fails if it documents none.

    Only three answers are not documented per operation: a 404 for a path that is no control
    route, a 405 for a method a route does not take, and a 500 for a bug in the mock.
    """
    route = path.split("?")[0].removeprefix("/_mock")
    if route in ("", "/", "/openapi.json"):  # the document itself
        return {"type": "object", "required": ["openapi", "info", "paths", "components"]}
    template = next((t for rx, t in _TEMPLATES if rx.match(route)), None)
    if template is None:
        assert status == 404, f"{route} is not documented"
        return ERROR_SCHEMA
    operation = DOC["paths"][template].get(method.lower())
    if operation is None or status == 500:
        assert status in (405, 500), f"{method} {template} is not documented"
        return ERROR_SCHEMA
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template} -> {status} is not documented"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": DOC["components"]}


class Api:
    """requests against the control API, each answer checked against the OpenAPI document."""

    def __init__(self, mock: MockServer, session: requests.Session) -> None:
        self.mock = mock
        self.session = session

    def __call__(
        self, method: str, path: str, namespace: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if namespace is not None:
            headers["X-Mock-Namespace"] = namespace
        answer = self.session.request(
            method, f"{self.mock.url}/_mock{path}", headers=headers, **kwargs
        )
        assert answer.headers["Content-Type"] == "application/json"
        body = answer.json()
        jsonschema.validate(body, documented_schema(method, path, answer.status_code))
        if answer.status_code >= 400:
            assert isinstance(body["error"], str)
            assert "\n" not in body["error"]
        return answer

    def call(self, path: str, token: str = "acme-admin", **headers: str) -> requests.Response:
        """Call a ZITADEL route."""
        return self.session.post(self.mock.url + path, headers={**bearer(token), **headers})


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(State(scenario(MAIN))) as server:
        yield server


@pytest.fixture
def api(mock: MockServer) -> Iterator[Api]:
    with requests.Session() as session:
        yield Api(mock, session)


def snapshot(state: State) -> tuple[Any, ...]:
    return (state.view, state.scenario, state.errors(), state.journal.calls())


@contextmanager
def unchanged(state: State) -> Iterator[None]:
    before = snapshot(state)
    yield
    after = snapshot(state)
    assert after[0] is before[0], "the state changed"
    assert after[1:] == before[1:]


def second_factors(api: Api, **headers: str) -> Any:
    return api.call(SECOND_FACTORS, **headers).json().get("result")


def factor_types(api: Api, user: str) -> list[str]:
    answer = api.call(auth_factors(user)).json()
    return [next(k for k in f if k != "state") for f in answer.get("result", [])]


# -- health, documentation, routing -------------------------------------------------------------


def test_health(api: Api) -> None:
    answer = api("GET", "/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "scenario": "test.yaml",
        "zitadel_version": "4.13.1",
        "namespaces": 1,
        "reload_error": None,
    }


@pytest.mark.parametrize("path", ["", "/", "/openapi.json"])
def test_openapi_document_is_served(api: Api, mock: MockServer, path: str) -> None:
    answer = requests.get(f"{mock.url}/_mock{path}")
    assert answer.status_code == 200
    assert answer.json() == json.loads(json.dumps(DOC))


def test_openapi_document_describes_every_operation() -> None:
    served = {(op.method.lower(), op.route) for op in OPERATIONS}
    documented = {
        (method, route)
        for route, item in DOC["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == served
    assert DOC["openapi"].startswith("3.")
    text = json.dumps(DOC)
    for ref in set(re.findall(r'"#/components/schemas/(\w+)"', text)):
        assert ref in DOC["components"]["schemas"], ref
    for schema in DOC["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_unknown_control_path_and_method(api: Api) -> None:
    missing = api("GET", "/nope")
    assert missing.status_code == 404
    assert "no control route /_mock/nope" in missing.json()["error"]
    wrong = api("PATCH", "/errors")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "DELETE, GET, POST"
    assert wrong.json() == {
        "error": "PATCH is not allowed on /_mock/errors; allowed: DELETE, GET, POST"
    }


def test_control_calls_are_not_journaled(api: Api, mock: MockServer) -> None:
    api("GET", "/health")
    api("GET", "/nope")
    assert mock.state.journal.calls() == []


def test_a_crash_is_a_500_and_kept_for_the_tests(
    api: Api, mock: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: State) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(State, "reset", boom)
    answer = api("POST", "/reset")
    assert answer.status_code == 500
    assert answer.json() == {"error": "an exception was raised inside zitadel-mock"}
    assert "RuntimeError: boom" in mock.state.server_errors[0]


# -- reset and scenario -------------------------------------------------------------------------


def test_reset(api: Api, mock: MockServer) -> None:
    api("POST", "/errors", json={"code": "UNAVAILABLE"})
    api("PUT", f"/orgs/{ACME}/second_factors", json={"second_factors": ["otp"]})
    api.call(SECOND_FACTORS)
    answer = api("POST", "/reset")
    assert answer.json() == {"namespace": "default", "scenario": "test.yaml"}
    assert mock.state.journal.calls() == []
    assert mock.state.errors() == []
    assert second_factors(api) == ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"]


def test_get_scenario(api: Api) -> None:
    body = api("GET", "/scenario").json()
    assert body["source"] == "test.yaml"
    assert body["orgs"] == [{"id": ACME, "name": "ACME"}, {"id": GLOBEX, "name": "Globex"}]
    alice = next(u for u in body["users"] if u["username"] == "alice")
    assert alice["id"] == ALICE
    assert alice["auth_factors"][1] == {
        "type": "u2f",
        "state": "ready",
        "id": U2F_ID,
        "name": "YubiKey 5",
    }


NEW_SCENARIO = """\
version: 1
orgs:
  - name: Initech
    id: "7"
    login_policy: {second_factors: [otp_sms]}
    users: [{username: peter, id: "8", auth_factors: [otp]}]
"""


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (NEW_SCENARIO, "application/yaml"),
        (NEW_SCENARIO, None),
        (
            json.dumps(
                {
                    "version": 1,
                    "orgs": [
                        {
                            "name": "Initech",
                            "id": "7",
                            "login_policy": {"second_factors": ["otp_sms"]},
                            "users": [{"username": "peter", "id": "8", "auth_factors": ["otp"]}],
                        }
                    ],
                }
            ),
            "application/json",
        ),
    ],
)
def test_replace_scenario(api: Api, body: str, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = api("PUT", "/scenario", data=body.encode(), headers=headers)
    assert answer.status_code == 200
    summary = {"namespace": "default", "source": "request body", "orgs": 1, "users": 1}
    assert answer.json() == {**summary, "tokens": None, "errors": 0, "zitadel_version": "4.13.1"}
    assert api("GET", "/scenario").json()["orgs"] == [{"id": "7", "name": "Initech"}]
    assert second_factors(api, **{"x-zitadel-orgid": "7"}) == ["SECOND_FACTOR_TYPE_OTP_SMS"]
    assert factor_types(api, "8") == ["otp"]
    api("POST", "/reset")  # a reset goes back to the scenario this namespace serves now
    assert factor_types(api, "8") == ["otp"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error", "line", "path"),
    [
        (
            b"version: 1\norgs:\n  - name: A\n    users: [{username: u, type: robot}]\n",
            "application/yaml",
            422,
            "request body:4: orgs[0].users[0].type: 'robot' is not one of human, machine",
            4,
            "orgs[0].users[0].type",
        ),
        (
            b'{"version": 1, "orgs": []}',
            "application/json",
            422,
            "request body:1: orgs: expected at least one entry, got an empty list",
            1,
            "orgs",
        ),
        (
            b"",
            None,
            422,
            "request body: the scenario is empty; expected a mapping with 'version' and 'orgs'",
            None,
            "",
        ),
    ],
)
def test_replace_scenario_rejects_an_invalid_one(
    api: Api,
    mock: MockServer,
    body: bytes,
    content_type: str | None,
    status: int,
    error: str,
    line: int | None,
    path: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with unchanged(mock.state):
        answer = api("PUT", "/scenario", data=body, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["errors"][0]["line"] == line
    assert answer.json()["errors"][0]["path"] == path


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        (b"version: 1\norgs: [\n", None),
        (b"version: 1\norgs:\n  - {name: A, name: B}\n", "yaml"),
        (b'{"version": 1,\n "orgs": [{"name": "A"}],\n}', "json"),
        (b"version: 1\norgs: [{name: A, users: [{username: u, auth_factors: [totp]}]}]\n", None),
    ],
)
def test_replace_scenario_answers_what_the_loader_says(
    api: Api, mock: MockServer, body: bytes, fmt: str | None
) -> None:
    with pytest.raises(ScenarioError) as loader:
        parse_scenario(body.decode(), source="request body", format=fmt)
    headers = {"Content-Type": f"application/{fmt}"} if fmt else {}
    with unchanged(mock.state):
        answer = api("PUT", "/scenario", data=body, headers=headers)
    assert answer.status_code == 422
    assert answer.json() == {
        "error": str(loader.value),
        "errors": [
            {"line": loader.value.line, "path": loader.value.path, "message": loader.value.message}
        ],
    }


def test_replace_scenario_rejects_text_that_is_not_utf8(api: Api, mock: MockServer) -> None:
    with unchanged(mock.state):
        answer = api("PUT", "/scenario", data=b"version: 1\norgs: [{name: \xff}]\n")
    assert (answer.status_code, answer.json()) == (400, {"error": "the body is not UTF-8 text"})


# -- journal ------------------------------------------------------------------------------------


def test_journal_list_filter_count_clear(api: Api) -> None:
    api.call(SECOND_FACTORS)
    api.call(auth_factors(ALICE))
    api.call(auth_factors(ALICE), token="loner")  # 404 membership not found
    api.call(SECOND_FACTORS, token="globex-admin")
    body = api("GET", "/journal").json()
    assert (body["count"], body["total"], body["dropped"], body["max"]) == (4, 4, 0, 10_000)
    first = body["calls"][0]
    assert first["rpc"] == "ListLoginPolicySecondFactors"
    assert (first["method"], first["path"], first["status"]) == ("POST", SECOND_FACTORS, 200)
    assert (first["org_id"], first["token"], first["forced"]) == (ACME, "acme-admin", False)
    assert first["answer"]["result"] == ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"]

    def count(query: str) -> int:
        listed = api("GET", f"/journal?{query}").json()
        counted = api("GET", f"/journal/count?{query}").json()["count"]
        assert listed["count"] == len(listed["calls"]) == counted
        return counted

    assert count("rpc=ListHumanAuthFactors") == 2
    assert count("user=alice") == count(f"user={ALICE}") == 2
    assert count("org=Globex") == count(f"org={GLOBEX}") == 1
    assert count("status=404") == 1
    assert count("rpc=ListHumanAuthFactors&status=200&org=ACME&user=alice") == 1
    assert count("user=259242039378444399") == 0  # an id the scenario has not: no call yet

    assert api("DELETE", "/journal").json() == {"cleared": 4}
    assert count("") == 0


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (
            "rpc=ListFactors",
            "rpc: 'ListFactors' is not one of ListLoginPolicySecondFactors, ListHumanAuthFactors,"
            " ListAuthenticationFactors, ListAuthenticationMethodTypes, GetLoginSettings, Token",
        ),
        ("status=abc", "status: 'abc' is not an HTTP status (100 to 599)"),
        ("status=42", "status: '42' is not an HTTP status (100 to 599)"),
        ("status=600", "status: '600' is not an HTTP status (100 to 599)"),
        ("status=0200", "status: '0200' is not an HTTP status (100 to 599)"),
        ("status=", "status: '' is not an HTTP status (100 to 599)"),
        # A digit to str.isdigit that int() refuses; other scripts' digits, which it takes.
        ("status=%C2%B2", "status: '\u00b2' is not an HTTP status (100 to 599)"),
        (
            "status=%D9%A2%D9%A0%D9%A0",
            "status: '\u0662\u0660\u0660' is not an HTTP status (100 to 599)",
        ),
        (
            "status=" + "2" * 5000,
            f"status: {'2' * 60!r}... (5000 characters) is not an HTTP status (100 to 599)",
        ),
        (
            "user=alcie",
            "unknown user 'alcie': the scenario has no such user; did you mean 'alice'?",
        ),
        (
            "org=Globx",
            "unknown org 'Globx': the scenario has no such org; did you mean 'Globex'?",
        ),
        ("org=zz", "unknown org 'zz': the scenario has no such org, nor one with a similar name"),
        (
            "user=%C2%B2",
            "unknown user '\u00b2': the scenario has no such user, nor one with a similar name",
        ),
        ("users=alice", "unknown query parameter 'users'; expected: rpc, user, org, status"),
        ("user=a&user=b", "query parameter 'user' is given 2 times"),
    ],
)
@pytest.mark.parametrize("route", ["/journal", "/journal/count"])
def test_journal_rejects_bad_filters(
    api: Api, mock: MockServer, route: str, query: str, error: str
) -> None:
    api.call(SECOND_FACTORS)
    with unchanged(mock.state):
        answer = api("GET", f"{route}?{query}")
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_journal_filters_by_an_unknown_id_a_request_carried(api: Api) -> None:
    # The journal records the path's user id and the org header as sent, known or not.
    unknown_user, unknown_org = "259242039378444399", "259242039378444398"
    api.call(auth_factors(unknown_user))
    api.call(SECOND_FACTORS, **{"x-zitadel-orgid": unknown_org})
    count = api("GET", f"/journal/count?user={unknown_user}").json()["count"]
    assert (count, api("GET", f"/journal/count?org={unknown_org}").json()["count"]) == (1, 1)


def test_journal_filters_know_the_users_added_to_the_namespace(api: Api) -> None:
    api("POST", "/users", json={"username": "dora"}, namespace="job-1")
    assert api("GET", "/journal/count?user=dora", namespace="job-1").json() == {"count": 0}
    typo = api("GET", "/journal/count?user=dorra", namespace="job-1").json()["error"]
    assert typo == "unknown user 'dorra': the scenario has no such user; did you mean 'dora'?"
    # Another namespace serves the scenario without her.
    answer = api("GET", "/journal/count?user=dora")
    assert (answer.status_code, answer.json()["error"]) == (
        400,
        "unknown user 'dora': the scenario has no such user, nor one with a similar name",
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        (
            "POST",
            "/users/alcie/factors",
            "otp",
            404,
            "no user 'alcie' in this namespace; did you mean 'alice'?",
        ),
        (
            "PUT",
            "/orgs/Globx/second_factors",
            {"second_factors": []},
            404,
            "no org 'Globx' in this namespace; did you mean 'Globex'?",
        ),
        (
            "POST",
            "/errors",
            {"code": 14, "user": "carl"},
            422,
            "user: no user 'carl'; did you mean 'carol'?",
        ),
        (
            "POST",
            "/tokens",
            {"token": "t", "user": "bobb"},
            422,
            "user: no user 'bobb'; did you mean 'bob'?",
        ),
    ],
)
def test_an_unknown_name_in_a_change_names_the_nearest(
    api: Api, mock: MockServer, method: str, path: str, body: Any, status: int, error: str
) -> None:
    with unchanged(mock.state):
        answer = api(method, path, json=body)
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_clear_journal_takes_no_query(api: Api, mock: MockServer) -> None:
    api.call(SECOND_FACTORS)
    with unchanged(mock.state):
        answer = api("DELETE", "/journal?rpc=ListHumanAuthFactors")
    assert answer.status_code == 400
    assert answer.json() == {"error": "unknown query parameter 'rpc'; expected: none"}


# -- forced errors ------------------------------------------------------------------------------


def test_forced_errors_add_list_clear(api: Api) -> None:
    added = api(
        "POST",
        "/errors",
        json={
            "rpc": "ListHumanAuthFactors",
            "user": "alice",
            "code": 14,
            "message": "down",
            "times": 2,
        },
    )
    assert added.status_code == 201
    assert added.json() == {
        "rpc": "ListHumanAuthFactors",
        "user_id": ALICE,
        "org_id": None,
        "code": "UNAVAILABLE",
        "message": "down",
        "id": None,
        "times": 2,
        "after": 0,
        "probability": None,
        "delay": None,
        "fault": None,
        "hold": None,
        "then": None,
        "remaining": 2,
        "origin": "POST /_mock/errors",
    }
    api("POST", "/errors", json={"org": "Globex", "code": "INTERNAL", "id": "QUERY-1"})
    assert api.call(auth_factors(ALICE)).json() == {"code": 14, "message": "down"}
    listed = api("GET", "/errors").json()["errors"]
    assert [(e["code"], e["remaining"]) for e in listed] == [("UNAVAILABLE", 1), ("INTERNAL", None)]
    assert api.call(SECOND_FACTORS, token="globex-admin").status_code == 500
    assert api("DELETE", "/errors").json() == {"cleared": 2}
    assert api("GET", "/errors").json() == {"errors": []}
    assert api.call(auth_factors(ALICE)).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"", 400, "expected a JSON body, got an empty one"),
        (
            b"{code: 14}",
            400,
            "invalid JSON in the body: Expecting property name enclosed in double quotes (line 1)",
        ),
        (b"[14]", 400, "expected a JSON object in the body"),
        (b"\xff", 400, "the body is not UTF-8 text"),
        (b"{}", 422, "missing required key: one of 'code', 'fault', 'delay'"),
        (
            b'{"code": "UNAVAILIBLE"}',
            422,
            "code: 'UNAVAILIBLE' is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)",
        ),
        (b'{"code": 14, "user": "nobody"}', 422, "user: no user 'nobody'"),
        (b'{"code": 14, "org": "Nowhere"}', 422, "org: no org 'Nowhere'"),
        (b'{"code": 14, "times": 0}', 422, "times: expected a whole number of at least 1, got 0"),
        (
            b'{"code": 14, "rpc": "ListFactors"}',
            422,
            "rpc: 'ListFactors' is not one of ListLoginPolicySecondFactors, ListHumanAuthFactors, "
            "ListAuthenticationFactors, ListAuthenticationMethodTypes, GetLoginSettings, Token"
            " (did you mean 'ListHumanAuthFactors'?)",
        ),
        (
            b'{"code": 14, "self": 1}',
            422,
            "self: unknown key; expected one of: after, code, delay, fault, hold, id, message, "
            "org, probability, rpc, then, times, user",
        ),
        (
            b'{"code": 14, "time": 1}',
            422,
            "time: unknown key (did you mean 'times'?); "
            "expected one of: after, code, delay, fault, hold, id, message, org, probability, rpc, "
            "then, times, user",
        ),
    ],
)
def test_add_error_rejects_bad_input(
    api: Api, mock: MockServer, body: bytes, status: int, error: str
) -> None:
    with unchanged(mock.state):
        answer = api("POST", "/errors", data=body)
    assert answer.status_code == status
    assert answer.json()["error"] == error


# -- state changes -------------------------------------------------------------------------------


def test_second_factors_set_and_cleared(api: Api) -> None:
    answer = api("PUT", "/orgs/Globex/second_factors", json={"second_factors": ["U2F", "otp_sms"]})
    assert answer.json() == {"org_id": GLOBEX, "second_factors": ["u2f", "otp_sms"]}
    assert second_factors(api, token="globex-admin") == [
        "SECOND_FACTOR_TYPE_U2F",
        "SECOND_FACTOR_TYPE_OTP_SMS",
    ]
    api("PUT", "/orgs/Globex/second_factors", json={"second_factors": []})
    assert second_factors(api, token="globex-admin") is None
    cleared = api("DELETE", f"/orgs/{GLOBEX}/second_factors")
    assert cleared.json() == {"org_id": GLOBEX, "second_factors": None}
    assert second_factors(api, token="globex-admin") == [
        "SECOND_FACTOR_TYPE_OTP",
        "SECOND_FACTOR_TYPE_U2F",
    ]
    api("PUT", "/orgs/ACME/second_factors", json={"second_factors": None})  # follow the default
    assert second_factors(api) == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]


@pytest.mark.parametrize(
    ("method", "org", "body", "status", "error"),
    [
        ("PUT", "Nowhere", {"second_factors": ["otp"]}, 404, "no org 'Nowhere' in this namespace"),
        ("DELETE", "Nowhere", None, 404, "no org 'Nowhere' in this namespace"),
        (
            "PUT",
            "ACME",
            {"second_factors": "otp"},
            422,
            "second_factors: expected a list, got a string ('otp')",
        ),
        (
            "PUT",
            "ACME",
            {"second_factors": ["totp"]},
            422,
            "second_factors[0]: 'totp' is not one of otp, u2f, otp_sms, otp_email, recovery_codes",
        ),
        (
            "PUT",
            "ACME",
            {"second_factors": ["otp", "otp"]},
            422,
            "second_factors[1]: 'otp' is listed twice",
        ),
        (
            "PUT",
            "ACME",
            {"factors": ["otp"]},
            422,
            "factors: unknown key (did you mean 'second_factors'?); "
            "expected one of: second_factors",
        ),
        ("PUT", "ACME", ["otp"], 400, "expected a JSON object in the body"),
    ],
)
def test_second_factors_reject_bad_input(
    api: Api, mock: MockServer, method: str, org: str, body: Any, status: int, error: str
) -> None:
    with unchanged(mock.state):
        answer = api(method, f"/orgs/{org}/second_factors", json=body)
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_user_factors_added_and_removed(api: Api) -> None:
    assert factor_types(api, ALICE) == ["otp", "u2f", "otpSms", "otpEmail"]
    added = api("POST", "/users/bob/factors", json={"type": "u2f", "name": "Key", "id": "99"})
    assert added.status_code == 201
    assert added.json() == {
        "user_id": "259242039378444294",
        "factor": {"type": "u2f", "state": "ready", "id": "99", "name": "Key"},
    }
    api("POST", "/users/bob/factors", json="otp")
    assert factor_types(api, "259242039378444294") == ["u2f", "otp"]
    assert api("DELETE", "/users/bob/factors/99").json()["removed"] == 1
    assert api("DELETE", "/users/alice/factors/otp_sms").json()["removed"] == 2
    assert api("DELETE", "/users/alice/factors/otp_sms").json()["removed"] == 0
    assert factor_types(api, ALICE) == ["otp", "u2f", "otpEmail"]
    assert api("DELETE", f"/users/alice/factors/{U2F_ID}").json()["removed"] == 1
    assert factor_types(api, ALICE) == ["otp", "otpEmail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/users/nobody/factors", "otp", 404, "no user 'nobody' in this namespace"),
        ("DELETE", "/users/nobody/factors/otp", None, 404, "no user 'nobody' in this namespace"),
        (
            "DELETE",
            "/users/alice/factors/totp",
            None,
            404,
            "'totp' is no factor type (otp, u2f, otp_sms, otp_email) nor a factor id",
        ),
        (
            "POST",
            "/users/alice/factors",
            "totp",
            422,
            "factor: 'totp' is not one of otp, u2f, otp_sms, otp_email",
        ),
        (
            "POST",
            "/users/alice/factors",
            {"type": "otp", "name": "x"},
            422,
            "factor.name: only a u2f factor has a name",
        ),
        ("POST", "/users/alice/factors", 5, 422, "factor: expected a mapping, got a number (5)"),
        (
            "POST",
            "/users/loner/factors",
            "otp",
            422,
            "user: 'loner' is a machine user; it has no auth factors",
        ),
    ],
)
def test_user_factors_reject_bad_input(
    api: Api, mock: MockServer, method: str, path: str, body: Any, status: int, error: str
) -> None:
    with unchanged(mock.state):
        answer = api(method, path, json=body)
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_add_user_and_token(api: Api) -> None:
    user = api(
        "POST",
        "/users",
        json={"username": "dora", "org": "Globex", "id": 77, "auth_factors": ["otp_email"]},
    )
    assert user.status_code == 201
    assert user.json() == {
        "id": "77",
        "username": "dora",
        "org_id": GLOBEX,
        "type": "human",
        "auth_factors": [{"type": "otp_email", "state": "ready", "id": None, "name": None}],
    }
    api("POST", "/users", json={"username": "dora-bot", "type": "machine"})
    token = api("POST", "/tokens", json={"token": "dora-token", "user": "globex-admin"})
    assert token.status_code == 201
    assert token.json() == {
        "token": "dora-token",
        "user_id": "259242039378444303",
        "expired": False,
    }
    answer = api.call(auth_factors("77"), token="dora-token")
    assert answer.json() == {"result": [{"state": "AUTH_FACTOR_STATE_READY", "otpEmail": {}}]}
    api("POST", "/tokens", json={"token": "dora-token", "user": "globex-admin", "expired": True})
    assert api.call(auth_factors("77"), token="dora-token").status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/users", {"username": "alice"}, 422, "username: a user named 'alice' already exists"),
        ("/users", {"username": "x", "org": "Nowhere"}, 422, "org: no org 'Nowhere'"),
        (
            "/users",
            {"username": "x", "type": "robot"},
            422,
            "type: 'robot' is not one of human, machine",
        ),
        (
            "/users",
            {"username": "x", "auth_factors": "otp"},
            422,
            "auth_factors: expected a list, got a string ('otp')",
        ),
        ("/users", {"username": "x", "id": {"a": 1}}, 422, "id: expected a string, got a mapping"),
        ("/users", {"username": "x", "id": ALICE}, 422, f"id: id '{ALICE}' is already used"),
        (
            "/users",
            {"username": "x", "type": "machine", "auth_factors": ["otp"]},
            422,
            "auth_factors: a machine user has no auth factors",
        ),
        (
            "/users",
            {"name": "x"},
            422,
            "name: unknown key (did you mean 'username'?); "
            "expected one of: auth_factors, id, org, type, username",
        ),
        ("/users", {}, 422, "missing required key 'username'"),
        ("/tokens", {"token": "t", "user": "nobody"}, 422, "user: no user 'nobody'"),
        (
            "/tokens",
            {"token": "t", "user": "alice", "expired": "yes"},
            422,
            "expired: expected true or false, got a string ('yes')",
        ),
        ("/tokens", {"token": "", "user": "alice"}, 422, "token: expected a non-empty string"),
        ("/tokens", {"user": "alice"}, 422, "missing required key 'token'"),
        ("/tokens", "t", 400, "expected a JSON object in the body"),
    ],
)
def test_users_and_tokens_reject_bad_input(
    api: Api, mock: MockServer, path: str, body: Any, status: int, error: str
) -> None:
    with unchanged(mock.state):
        answer = api("POST", path, json=body)
    assert (answer.status_code, answer.json()["error"]) == (status, error)


# -- the same operations on the WSGI and the ASGI app ------------------------------------------

SEQUENCE: list[tuple[str, str, Any, int]] = [
    ("GET", "/health", None, 200),
    ("GET", "/openapi.json", None, 200),
    ("POST", "/errors", {"code": "UNAVAILABLE", "times": 1}, 201),
    ("GET", "/errors", None, 200),
    ("PUT", "/orgs/ACME/second_factors", {"second_factors": ["otp"]}, 200),
    ("DELETE", "/orgs/ACME/second_factors", None, 200),
    ("POST", "/users", {"username": "zed"}, 201),
    ("POST", "/users/zed/factors", '"otp"', 201),  # strings are sent as they are
    ("DELETE", "/users/zed/factors/otp", None, 200),
    ("POST", "/tokens", {"token": "zed", "user": "zed"}, 201),
    ("GET", "/journal?rpc=ListHumanAuthFactors", None, 200),
    ("GET", "/journal/count", None, 200),
    ("DELETE", "/journal", None, 200),
    ("DELETE", "/errors", None, 200),
    ("GET", "/scenario", None, 200),
    ("PUT", "/scenario", "version: 1\norgs: [{name: B}]\n", 200),
    ("PUT", "/scenario", "version: 1\norgs: []\n", 422),
    ("POST", "/reset", None, 200),
    ("GET", "/namespaces", None, 200),
    ("DELETE", "/namespaces/nope", None, 404),
    ("POST", "/errors", "[", 400),
    ("PATCH", "/errors", None, 405),
    ("GET", "/nope", None, 404),
]


def test_every_operation_on_both_apps(asgi: bool) -> None:
    import falcon.testing

    from zitadel_mock import create_app

    state = State(scenario(MAIN))
    app = falcon.testing.TestClient(create_app(state, asgi=asgi, control=True))
    for method, path, body, status in SEQUENCE:
        data = body if isinstance(body, str) else None if body is None else json.dumps(body)
        result = app.simulate_request(
            method, "/_mock" + path, body=data, headers={"X-Mock-Namespace": "ns"}
        )
        assert result.status_code == status, (method, path, result.text)
        jsonschema.validate(result.json, documented_schema(method, path, status))
    assert state.journal.calls() == []  # all of it happened in namespace "ns"


PATH_VALUES = {"{org}": "ACME", "{user}": "alice", "{factor}": "otp", "{name}": "default"}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.route}")
def test_every_operation_refuses_an_unknown_query_parameter(
    api: Api, mock: MockServer, op: Any
) -> None:
    route = op.route
    for placeholder, value in PATH_VALUES.items():
        route = route.replace(placeholder, value)
    api.call(SECOND_FACTORS)
    api("POST", "/errors", json={"code": 14, "times": 1})
    with unchanged(mock.state):
        answer = api(op.method, route + "?bogus=1", json={"code": 14})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("unknown query parameter 'bogus'; expected: ")
