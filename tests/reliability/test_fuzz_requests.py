"""Random requests against both apps: the mock always answers in ZITADEL's envelope, never 500."""

from __future__ import annotations

import json
import os

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zitadel_mock import State, create_app, parse_scenario
from zitadel_mock.codes import http_status

EXAMPLES = int(os.environ.get("ZITADEL_MOCK_FUZZ_EXAMPLES", "1500"))
SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22Z"
orgs:
  - name: ACME
    id: "100"
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - {username: alice, id: "1", auth_factors: [otp, u2f]}
      - {username: admin, id: "2", type: machine}
tokens: [{token: admin, user: admin}]
"""
ROUTES = [
    "/management/v1/policies/login/second_factors/_search",
    "/management/v1/users/{}/auth_factors/_search",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=5000)


@st.composite
def paths(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["route", "route", "near", "junk"]))
    if kind == "route":
        user = draw(st.one_of(st.just("1"), st.text("abc%/.123é", max_size=250)))
        return draw(st.sampled_from(ROUTES)).format(user)
    if kind == "near":
        route = draw(st.sampled_from(ROUTES)).format("1")
        cut = draw(st.integers(1, len(route)))
        return route[:cut] + draw(st.sampled_from(["", "/", "x", "_search", "%2F", "//"]))
    # No "?" or "#": the test client takes the query string apart from the path.
    junk = st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="?#")
    return "/" + draw(st.text(junk, max_size=60))


authorization = st.one_of(
    st.none(),
    st.sampled_from(["", "Bearer", "Bearer admin", "bearer admin", "Bearer unknown", "Basic x"]),
    header_text.map(lambda t: "Bearer " + t),
    header_text,
)
org_header = st.one_of(st.none(), st.just("100"), header_text)
bodies = st.one_of(st.none(), st.binary(max_size=2000), text.map(str.encode))
content_types = st.sampled_from([None, "application/json", "text/plain", "application/grpc", "x/y"])


def is_success_body(body: object) -> bool:
    return isinstance(body, dict) and set(body) <= {"details", "result"}


@pytest.fixture(params=[False, True], ids=["wsgi", "asgi"], scope="module")
def app_client(request: pytest.FixtureRequest) -> tuple[State, falcon.testing.TestClient]:
    state = State(parse_scenario(SCENARIO))
    return state, falcon.testing.TestClient(create_app(state, asgi=request.param))


@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(METHODS),
    path=paths(),
    auth=authorization,
    org=org_header,
    body=bodies,
    content_type=content_types,
)
def test_every_answer_is_zitadel_shaped(
    app_client: tuple[State, falcon.testing.TestClient],
    method: str,
    path: str,
    auth: str | None,
    org: str | None,
    body: bytes | None,
    content_type: str | None,
) -> None:
    state, client = app_client
    headers = {}
    if auth is not None:
        headers["Authorization"] = auth
    if org is not None:
        headers["x-zitadel-orgid"] = org
    if content_type is not None:
        headers["Content-Type"] = content_type
    result = client.simulate_request(method, path, headers=headers, body=body)
    assert result.status_code != 500, result.text
    assert result.headers["content-type"] == "application/json"
    assert state.server_errors == []
    if method == "HEAD":
        return
    answer = json.loads(result.content)
    if result.status_code == 200:
        assert is_success_body(answer), answer
        return
    assert set(answer) <= {"code", "message", "details"}
    assert isinstance(answer["code"], int)
    assert 1 <= answer["code"] <= 16
    assert isinstance(answer["message"], str)
    expected = 405 if answer["code"] == 12 else http_status(answer["code"])
    assert result.status_code == expected
