"""The v1 routes' plain POSTs, answered before falcon, are answered exactly as falcon answers them.

Two apps are built from one scenario; the same requests go to one through the WSGI app
(``DirectApp``, which takes them before falcon) and to the other through falcon's own entry
(``falcon.App.__call__``). Status, headers, body, the journal and the usage must agree; only
what differs by design from one answer to the next (``Expires``, the request ids, the arrival
time and duration) is left out of the comparison.
"""

from __future__ import annotations

import io
from typing import Any

import falcon
import pytest

from zitadel_mock import create_app, parse_scenario
from zitadel_mock.namespaces import Namespaces
from zitadel_mock.protocols.rest import direct

SECOND = "/management/v1/policies/login/second_factors/_search"
SCENARIO = """\
version: 1
clock: "2025-08-28T10:46:22.123456Z"
orgs:
  - name: ACME
    id: "100"
    login_policy: {second_factors: [otp, u2f]}
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - {username: alice, id: "1", auth_factors: [otp, {type: u2f, name: Key, id: "11"}]}
      - {username: admin, id: "2", type: machine}
      - {username: bob, id: "9"}
      - {username: carol, id: "7"}
      - {username: dave, id: "8"}
  - name: Globex
    id: "200"
tokens:
  - {token: admin-token, user: admin}
  - {token: old-token, user: admin, expired: true}
errors:
  - {user: "9", code: UNAVAILABLE, times: 2, then: {fault: malformed_body}}
  - {user: "7", delay: 0.001}
  - {user: "8", fault: connection_reset}
rate_limit: {requests: 20, window: 600}
"""
ADMIN = {"HTTP_AUTHORIZATION": "Bearer admin-token"}
# (path, extra environ): each sent to both apps, in this order, twice.
CALLS: list[tuple[str, dict[str, str]]] = [
    (SECOND, ADMIN),
    (SECOND, {}),
    (SECOND, {"HTTP_AUTHORIZATION": "Bearer admin-tok"}),
    (SECOND, {"HTTP_AUTHORIZATION": "Basic YWxpY2U6c2VjcmV0"}),
    (SECOND, {"HTTP_AUTHORIZATION": "Bearer old-token"}),
    (SECOND, {**ADMIN, "HTTP_X_ZITADEL_ORGID": "200"}),
    (SECOND, {**ADMIN, "HTTP_X_ZITADEL_ORGID": "999"}),
    (SECOND, {**ADMIN, "CONTENT_TYPE": "application/json", "QUERY_STRING": "a=1"}),
    ("/management/v1/users/1/auth_factors/_search", ADMIN),
    ("/management/v1/users/1/auth_factors/_search", {**ADMIN, "HTTP_X_TRACE": "t"}),
    ("/management/v1/users/404/auth_factors/_search", ADMIN),
    ("/management/v1/users/not-an-id/auth_factors/_search", ADMIN),
    ("/management/v1/users/9/auth_factors/_search", ADMIN),  # a forced rule, then a fault
    ("/management/v1/users/7/auth_factors/_search", ADMIN),  # a delay
    ("/management/v1/users/8/auth_factors/_search", ADMIN),  # no socket here: a 500
]
VARYING = {"expires", "x-request-id", "grpc-metadata-x-request-id"}


def environ(path: str, extra: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b"{}"),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1:8080",
        "CONTENT_LENGTH": "2",
        **extra,
    }


def call(entry: Any, app: Any, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        got["status"], got["headers"] = status, headers

    body = b"".join(entry(app, env, start_response))
    headers = sorted((k.lower(), v) for k, v in got["headers"] if k.lower() not in VARYING)
    names = {k.lower() for k, _ in got["headers"]}
    return got["status"], [*headers, *(("varying", n) for n in sorted(VARYING & names))], body


def through_falcon(app: Any, env: dict[str, Any], start_response: Any) -> Any:
    return falcon.App.__call__(app, env, start_response)


def through_the_app(app: Any, env: dict[str, Any], start_response: Any) -> Any:
    return app(env, start_response)


@pytest.fixture
def apps() -> tuple[Any, Any]:
    def build() -> Any:
        return create_app(Namespaces(parse_scenario(SCENARIO, source="direct.yaml")))

    return build(), build()


def journal(app: Any) -> list[tuple[Any, ...]]:
    return [call._replace(time_ns=0, duration=0.0) for call in app.spaces.default.journal.calls()]


def test_every_call_is_answered_and_journalled_as_falcon_answers_it(
    apps: tuple[Any, Any],
) -> None:
    taken, routed = apps
    statuses: list[str] = []
    for path, extra in CALLS * 2:
        ours = call(through_the_app, taken, environ(path, extra))
        theirs = call(through_falcon, routed, environ(path, extra))
        assert ours == theirs, (path, extra)
        statuses.append(ours[0])
    assert journal(taken) == journal(routed)
    assert len(journal(taken)) == 2 * len(CALLS)
    # The cases reached what they meant to: answers, refusals, forced rules, the 500.
    assert {s.split()[0] for s in statuses} == {"200", "401", "403", "404", "429", "500", "503"}
    for app in apps:  # the fault that needs a socket, once before the rate limit
        errors = app.spaces.default.server_errors
        assert len(errors) == statuses.count("500 Internal Server Error") == 1
        assert "connection_reset" in errors[0]


def test_a_crash_inside_is_recorded_and_answered_500_as_falcon_does(
    apps: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any) -> Any:
        raise RuntimeError("broken inside")

    monkeypatch.setattr("zitadel_mock.protocols.rest.app.handle", boom)
    monkeypatch.setattr(direct, "handle", boom)
    taken, routed = apps
    ours = call(through_the_app, taken, environ(SECOND, ADMIN))
    assert ours == call(through_falcon, routed, environ(SECOND, ADMIN))
    assert ours[0] == "500 Internal Server Error"
    for app in apps:
        assert "RuntimeError: broken inside" in app.spaces.default.server_errors[0]


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("GET", SECOND, ADMIN),
        ("OPTIONS", SECOND, ADMIN),
        ("POST", SECOND + "/", ADMIN),
        ("POST", SECOND, {**ADMIN, "HTTP_X_MOCK_NAMESPACE": "other"}),
        ("POST", SECOND, {**ADMIN, "CONTENT_TYPE": "application/grpc-web+proto"}),
        ("POST", "/management/v1/users//auth_factors/_search", ADMIN),
        ("POST", "/management/v1/users/\xe4/auth_factors/_search", ADMIN),
        ("POST", "/management/v1/users/1/2/auth_factors/_search", ADMIN),
        ("POST", "/v2/users/1/authentication_factors/_search", ADMIN),
    ],
)
def test_anything_else_goes_to_falcon(
    apps: tuple[Any, Any], method: str, path: str, extra: dict[str, str]
) -> None:
    taken, _ = apps
    seen: list[str] = []
    routed = falcon.App.__call__

    def spy(app: Any, env: dict[str, Any], start_response: Any) -> Any:
        seen.append(env["PATH_INFO"])
        return routed(app, env, start_response)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(falcon.App, "__call__", spy)
        call(through_the_app, taken, environ(path, extra, method))
        assert seen == [path]
        call(through_the_app, taken, environ(SECOND, ADMIN))
        assert seen == [path]  # the plain call did not reach falcon


def test_the_request_read_from_an_environ_has_every_field_in_its_place() -> None:
    from zitadel_mock.answers import Request
    from zitadel_mock.protocols.rest.calls import wsgi_request

    env = {"HTTP_AUTHORIZATION": "Bearer t", "HTTP_X_ZITADEL_ORGID": "200", "HTTP_HOST": "h"}
    made = wsgi_request(env, "POST", SECOND, "ListLoginPolicySecondFactors", "7")
    assert len(made) == len(Request._fields)
    assert made == Request(
        rpc="ListLoginPolicySecondFactors",
        method="POST",
        path=SECOND,
        authorization="Bearer t",
        org_header="200",
        user_id="7",
        headers=made.headers,
        arrived_ns=made.arrived_ns,
        started=made.started,
        protocol="rest",
        namespace="default",
        v2=None,
    )
    assert ("Authorization", "Bearer t") in made.headers
    assert made.arrived_ns > 0
