"""``why`` on every answer: each auth check, each kind of forced rule, the rate limit, an
unknown path and a wrong method, read from the journal, the access-log line and an assertion
failure message; and the journal's other new fields."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import falcon.testing
import pytest
import requests

from zitadel_mock import MockServer, State, ZitadelMock, create_app, load_scenario, parse_scenario
from zitadel_mock.cli.serve import access_json, access_line
from zitadel_mock.journal import Call, Journal, shortened_authorization
from zitadel_mock.namespaces import Namespaces
from zitadel_mock.scenario.builtin import builtin_scenario
from zitadel_mock.scenario.read import scenario_from_data
from zitadel_mock.testing import MockAssertionError

HERE = os.path.relpath(__file__)  # how fail() names its caller's file in a rule's origin
SECOND = "/management/v1/policies/login/second_factors/_search"
AUTH_ROUTE = "/management/v1/users/{user_id}/auth_factors/_search"
SCENARIO = """\
version: 1
orgs:
  - name: ACME
    id: "100"
    login_policy: {second_factors: [otp, u2f]}
    members:
      - {user: acme-admin, roles: [ORG_OWNER]}
      - {user: settings, roles: [ORG_SETTINGS_MANAGER]}
    users:
      - {username: alice, id: "1", auth_factors: [otp]}
      - {username: acme-admin, id: "2", type: machine}
      - {username: settings, id: "3", type: machine}
      - {username: old, id: "4", type: machine}
      - {username: bob, id: "9"}
  - name: Globex
    id: "200"
tokens:
  - {token: acme-admin-token, user: acme-admin}
  - {token: settings-token, user: settings}
  - {token: old-token, user: old, expired: true}
errors:
  - user: "9"
    code: UNAVAILABLE
    times: 1
    then: {fault: malformed_body}
"""
RULE_LINE = 22  # the line of errors[0] above
LIMITED = """\
version: 1
orgs: [{name: ACME, id: "100", members: [{user: admin, roles: [ORG_OWNER]}],
        users: [{username: admin, id: "2", type: machine}]}]
tokens: [{token: admin-token, user: admin}]
latency: 0.01
rate_limit: {requests: 1, window: 600}
"""


def auth(user: str) -> str:
    return f"/management/v1/users/{user}/auth_factors/_search"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(builtin_scenario()) as running:
        yield running


@pytest.fixture
def mock(server: MockServer, tmp_path: Path) -> ZitadelMock:
    (tmp_path / "why.yaml").write_text(SCENARIO)
    handle = ZitadelMock(server)
    handle.use(tmp_path / "why.yaml")
    return handle


def send(
    mock: ZitadelMock,
    path: str = SECOND,
    token: str | None = "acme-admin-token",
    method: str = "POST",
    **headers: str,
) -> int:
    if token is not None:
        headers.setdefault("Authorization", f"Bearer {token}")
    try:
        return requests.request(method, mock.url + path, headers=headers, timeout=10).status_code
    except requests.ConnectionError:
        return 0  # a fault that drops the connection


def last(mock: ZitadelMock) -> Call:
    return mock.calls()[-1]


def assert_said_everywhere(mock: ZitadelMock, why: str) -> Call:
    """``why`` is the last call's, in the journal, its access-log lines and an assertion."""
    call = last(mock)
    assert call.why == why
    assert access_line(call).endswith(f" why: {why}")
    assert json.loads(access_json(call))["why"] == why
    with pytest.raises(MockAssertionError) as raised:
        mock.assert_not_called()
    assert f": {why}\n" in str(raised.value) + "\n"
    return call


Case = tuple[str, Callable[[ZitadelMock], int], int, str]
AUTH_CHECKS: list[Case] = [
    ("header", lambda m: send(m, token=None), 401, "no Authorization header"),
    (
        "scheme",
        lambda m: send(m, Authorization="Basic YWxpY2U6c2VjcmV0"),
        401,
        "Authorization scheme 'Basic' is not 'Bearer'",
    ),
    (
        "token",
        lambda m: send(m, token="acme-admin-tok"),
        401,
        "token 'acme-admin-tok' is not in the scenario; did you mean 'acme-admin-token'?",
    ),
    ("expired", lambda m: send(m, token="old-token"), 401, "token 'old-token' of old has expired"),
    (
        "org-unknown",
        lambda m: send(m, **{"x-zitadel-orgid": "999"}),
        403,
        "x-zitadel-orgid '999' names no organisation",
    ),
    (
        "org-by-name",
        lambda m: send(m, **{"x-zitadel-orgid": "ACME"}),
        403,
        "x-zitadel-orgid 'ACME' names no organisation (that is its name; send its id)",
    ),
    (
        "membership",
        lambda m: send(m, **{"x-zitadel-orgid": "200"}),
        404,
        "acme-admin has no membership in Globex",
    ),
    (
        "permission",
        lambda m: send(m, auth("1"), token="settings-token"),
        403,
        "settings holds ORG_SETTINGS_MANAGER in ACME; ListHumanAuthFactors needs user.read",
    ),
    (
        "user-id-length",
        lambda m: send(m, auth("1" * 201)),
        400,
        "the user id has 201 characters; ZITADEL takes 1 to 200",
    ),
    ("answered-policy", send, 200, "answered: 2 second factors of ACME's login policy"),
    (
        "answered-factors",
        lambda m: send(m, auth("1")),
        200,
        "answered: 1 ready auth factor of alice",
    ),
    (
        "unknown-user",
        lambda m: send(m, auth("12345")),
        200,
        "answered: no auth factors: user '12345' is not in the scenario",
    ),
    (
        "unknown-path",
        lambda m: send(m, "/management/v1/users/1/auth_factor/_search"),
        404,
        f"no route takes POST to this path; did you mean POST {AUTH_ROUTE}?",
    ),
    (
        "wrong-method",
        lambda m: send(m, method="GET"),
        405,
        f"ListLoginPolicySecondFactors takes POST, not GET: POST {SECOND}",
    ),
]


@pytest.mark.parametrize(("send_it", "status", "why"), [c[1:] for c in AUTH_CHECKS],
                         ids=[c[0] for c in AUTH_CHECKS])  # fmt: skip
def test_each_check_says_why(
    mock: ZitadelMock, send_it: Callable[[ZitadelMock], int], status: int, why: str
) -> None:
    assert send_it(mock) == status
    call = assert_said_everywhere(mock, why)
    assert call.status == status
    assert why not in call.body.decode()  # the body stays exactly ZITADEL's


def test_a_scenario_rule_names_its_file_and_line_and_its_then_step(
    mock: ZitadelMock, tmp_path: Path
) -> None:
    origin = f"{tmp_path / 'why.yaml'}:{RULE_LINE}"
    assert send(mock, auth("9")) == 503
    assert_said_everywhere(mock, f"forced rule 0 ({origin}): UNAVAILABLE")
    assert send(mock, auth("9")) == 200
    assert_said_everywhere(mock, f"forced rule 0 ({origin}), then step 1: fault malformed_body")


def test_a_fail_rule_names_the_line_that_made_it(mock: ZitadelMock) -> None:
    line = sys._getframe().f_lineno + 1
    mock.fail(code="INTERNAL", rpc="ListLoginPolicySecondFactors")
    assert send(mock) == 500
    assert_said_everywhere(mock, f"forced rule 1 (fail() at {HERE}:{line}): INTERNAL")


def test_a_control_api_rule_says_so(mock: ZitadelMock) -> None:
    made = requests.post(mock.url + "/_mock/errors", json={"fault": "connection_reset"}, timeout=5)
    assert made.status_code == 201
    assert send(mock) == 0
    call = assert_said_everywhere(
        mock, "forced rule 1 (POST /_mock/errors): fault connection_reset"
    )
    assert call.status == 0


def test_a_delay_and_a_timeout_say_how_long(mock: ZitadelMock) -> None:
    line = sys._getframe().f_lineno + 1
    mock.fail(delay=0.02, times=1)
    assert send(mock) == 200
    call = assert_said_everywhere(
        mock,
        f"forced rule 1 (fail() at {HERE}:{line}): delayed 0.020 s; "
        "answered: 2 second factors of ACME's login policy",
    )
    assert call.duration >= 0.02  # the delay is part of the time to answer
    line = sys._getframe().f_lineno + 1
    mock.fail(fault="timeout", hold=0.05, times=1)
    send(mock)
    assert_said_everywhere(mock, f"forced rule 2 (fail() at {HERE}:{line}): fault timeout")


def test_the_rate_limit_and_the_latency_say_why(mock: ZitadelMock, tmp_path: Path) -> None:
    (tmp_path / "limited.yaml").write_text(LIMITED)
    mock.use(tmp_path / "limited.yaml")
    assert send(mock, token="admin-token") == 200
    assert_said_everywhere(
        mock, "latency 0.010 s; answered: 2 second factors of the instance's default login policy"
    )
    assert send(mock, token="admin-token") == 429
    assert_said_everywhere(
        mock,
        "rate limit: more than 1 calls in 600 s with this token: RESOURCE_EXHAUSTED; "
        "latency 0.010 s",
    )


def test_the_journal_keeps_time_duration_headers_protocol_and_namespace(
    mock: ZitadelMock,
) -> None:
    send(mock, **{"X-Trace": "t-1", "X-Mock-Namespace": "ns-why"})
    send(mock, **{"X-Trace": "t-2"})
    call = last(mock)
    headers = dict(call.headers)
    assert headers["Authorization"] == "Bearer acme-a\u2026"  # never the whole token
    assert headers["X-Trace"] == "t-2"
    assert (call.protocol, call.namespace) == ("rest", "default")
    assert call.time_ns > 0
    assert 0 < call.duration < 5
    entry = requests.get(mock.url + "/_mock/journal", timeout=5).json()["calls"][-1]
    assert entry["why"] == call.why
    assert entry["headers"]["Authorization"] == "Bearer acme-a\u2026"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", entry["time"])
    assert (entry["protocol"], entry["namespace"]) == ("rest", "default")
    other = requests.get(
        mock.url + "/_mock/journal", headers={"X-Mock-Namespace": "ns-why"}, timeout=5
    ).json()["calls"]
    assert [c["namespace"] for c in other] == ["ns-why"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Bearer acme-admin-token", "Bearer acme-a\u2026"),
        ("Bearer short", "Bearer short"),
        ("Basic YWxpY2U6c2VjcmV0", "Basic YWxpY2\u2026"),
        ("naked-secret-value", "naked-\u2026"),
    ],
)
def test_authorization_is_shortened(value: str, shown: str) -> None:
    assert shortened_authorization(value) == shown


def test_serve_logs_json_lines_with_why_and_control_calls(tmp_path: Path) -> None:
    scenario = tmp_path / "why.yaml"
    scenario.write_text(SCENARIO)
    command = [sys.executable, "-m", "zitadel_mock", "serve", "-s", str(scenario), "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert proc.stdout is not None
        match = re.fullmatch(r"Serving on (http://\S+)\n", proc.stdout.readline())
        assert match, proc.poll()
        url = match.group(1)
        refused = {"Authorization": "Bearer acme-admin-tok"}
        assert requests.post(url + SECOND, headers=refused, timeout=10).status_code == 401
        assert requests.get(url + "/_mock/journal", timeout=10).ok
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(e["method"], e["path"], e["status"], e["protocol"]) for e in lines] == [
        ("POST", SECOND, 401, "rest"),
        ("GET", "/_mock/journal", 200, "control"),
    ]
    assert lines[0]["why"] == (
        "token 'acme-admin-tok' is not in the scenario; did you mean 'acme-admin-token'?"
    )
    assert lines[0]["rpc"] == "ListLoginPolicySecondFactors"
    assert lines[1]["why"] == "control API"
    assert all(isinstance(e["duration"], float) for e in lines)


def test_a_refused_control_call_is_logged_with_its_reason(mock: ZitadelMock) -> None:
    seen: list[Call] = []
    mock.server.state.observers.append(seen.append)
    try:
        answer = requests.post(mock.url + "/_mock/errors", json={"code": "NOPE"}, timeout=5)
    finally:
        mock.server.state.observers.remove(seen.append)
    assert answer.status_code == 422
    (call,) = seen
    assert (call.protocol, call.status, call.path) == ("control", 422, "/_mock/errors")
    assert call.why == (
        "control API: code: 'NOPE' is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)"
    )
    assert all(c.protocol == "rest" for c in mock.calls())  # the journal holds ZITADEL calls


def test_long_headers_and_why_are_stored_cut() -> None:
    journal = Journal(10)
    huge = "x" * 100_000
    journal.append(
        Call(None, "POST", "/", None, None, None, 404, b"", why=huge, headers=(("X-Big", huge),))
    )
    (call,) = journal.calls()
    assert len(call.why) < 1100
    assert call.why.endswith("\u2026[truncated 98,976 bytes]")
    assert len(call.headers[0][1]) < 1100
    assert journal.bytes < 5000


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_both_apps_say_why_and_keep_headers(asgi: bool) -> None:
    state = State(parse_scenario(SCENARIO, source="why.yaml"))
    spaces = Namespaces(state)
    client = falcon.testing.TestClient(create_app(spaces, asgi=asgi))
    headers = {"Authorization": "Bearer acme-admin-tok", "X-Mock-Namespace": "x" * 300}
    assert client.simulate_post(SECOND, headers=headers).status_code == 400  # a bad namespace
    headers["X-Mock-Namespace"] = "ns-1"
    assert client.simulate_post(SECOND, headers=headers).status_code == 401
    other = spaces.find("ns-1")
    assert other is not None
    (call,) = other.journal.calls()
    assert call.namespace == "ns-1"
    assert call.why.startswith("token 'acme-admin-tok' is not in the scenario")
    bad = {"X-Mock-Namespace": "x" * 300}
    assert client.simulate_get("/nowhere", headers=bad).status_code == 404
    (call,) = state.journal.calls()  # the 404, in the default namespace
    assert call.namespace == "default"
    assert call.why == f"no route takes GET to this path; did you mean POST {AUTH_ROUTE}?"
    admin = {"Authorization": "Bearer acme-admin-token"}
    assert client.simulate_post(auth("9"), headers=admin).status_code == 503
    call = state.journal.calls()[-1]
    assert call.why == "forced rule 0 (why.yaml:22): UNAVAILABLE"
    names = {name.lower(): value for name, value in call.headers}
    assert names["authorization"] == "Bearer acme-a\u2026"


def test_a_refused_token_is_compared_with_its_neighbours_only() -> None:
    """In a scenario of thousands of tokens the nearest are still named (see MAX_TOKEN_HINTS)."""
    users = "\n".join(f"      - {{username: u{i}, type: machine}}" for i in range(3000))
    tokens = "\n".join(f"  - {{token: user-{i}-token, user: u{i}}}" for i in range(3000))
    state = State(parse_scenario(f"version: 1\norgs:\n  - name: A\n    users:\n{users}\n"
                                 f"tokens:\n{tokens}\n"))  # fmt: skip
    client = falcon.testing.TestClient(create_app(state))
    refused = {"Authorization": "Bearer user-2999-tokn"}
    assert client.simulate_post(SECOND, headers=refused).status_code == 401
    assert state.journal.calls()[-1].why.startswith(
        "token 'user-2999-tokn' is not in the scenario; did you mean 'user-2999-token'"
    )


def test_rule_origins_name_the_line_then_the_key_path(tmp_path: Path) -> None:
    """Lines are looked up for the first MAX_LOCATED_RULES rules; later ones name their path."""
    rules = "".join(f"  - {{user: '9', code: INTERNAL, message: r{i}}}\n" for i in range(52))
    path = tmp_path / "many.yaml"
    path.write_text(SCENARIO.split("errors:")[0] + "errors:\n" + rules)
    origins = [rule.origin for rule in load_scenario(path).errors]
    first = SCENARIO.split("errors:")[0].count("\n") + 2  # the line of errors[0]
    assert origins[:2] == [f"{path}:{first}", f"{path}:{first + 1}"]
    assert origins[49] == f"{path}:{first + 49}"
    assert origins[50:] == [f"{path} errors[50]", f"{path} errors[51]"]
    data = scenario_from_data({"version": 1, "orgs": [{"name": "A"}], "errors": [{"code": 13}]})
    assert [rule.origin for rule in data.errors] == ["<scenario> errors[0]"]
