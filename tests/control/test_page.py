"""The live page at GET /_mock/ and the JSON it polls (GET /_mock/page.json)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import falcon.testing
import pytest
import requests
from testkit import ACME, ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, scenario

from zitadel_mock import MockServer, State, create_app
from zitadel_mock.control.http import ControlOptions
from zitadel_mock.control.page import MAX_LISTED, MAX_ROWS, PAGE_HTML

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(State(scenario(MAIN))) as server:
        yield server


@pytest.fixture
def guarded() -> Iterator[MockServer]:
    with MockServer(State(scenario(MAIN)), control_token="s3cret") as server:
        yield server


def basic(password: str, user: str = "me") -> dict[str, str]:
    credential = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credential}"}


@pytest.mark.parametrize("path", ["/_mock/", "/_mock"])
def test_a_browser_gets_the_page(mock: MockServer, path: str) -> None:
    answer = requests.get(mock.url + path, headers=HTML)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.text == PAGE_HTML
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert answer.headers["Cache-Control"] == "no-store"


def test_other_clients_still_get_the_openapi_document(mock: MockServer) -> None:
    answer = requests.get(mock.url + "/_mock/")
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["openapi"].startswith("3.1")


def test_the_page_is_self_contained_and_writes_no_html_from_data() -> None:
    # No CDN, no file fetched from anywhere: every script and style is inline.
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)=(?!\"data:)", PAGE_HTML)
    assert "http://" not in PAGE_HTML
    assert "https://" not in PAGE_HTML
    # Values reach the page through textContent only: nothing parses them as HTML.
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in PAGE_HTML


def test_closed_where_the_control_api_is_closed() -> None:
    with MockServer(State(scenario(MAIN)), control=False) as server:
        answer = requests.get(server.url + "/_mock/", headers=HTML)
        assert (answer.status_code, answer.json()) == (404, {"code": 5, "message": "Not Found"})
        assert requests.get(server.url + "/_mock/page.json").status_code == 404


def test_with_a_token_the_browser_is_asked_for_it(guarded: MockServer) -> None:
    refused = requests.get(guarded.url + "/_mock/", headers=HTML)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="zitadel-mock')
    assert "<html" not in refused.text  # no page, no data
    wrong = requests.get(guarded.url + "/_mock/", headers={**HTML, **basic("nope")})
    assert wrong.status_code == 401
    page = requests.get(guarded.url + "/_mock/", headers={**HTML, **basic("s3cret")})
    assert (page.status_code, page.text) == (200, PAGE_HTML)
    assert requests.get(guarded.url + "/_mock/page.json").status_code == 401
    data = requests.get(guarded.url + "/_mock/page.json", headers=basic("s3cret"))
    assert data.status_code == 200
    # Basic is accepted on every control route, as Bearer is.
    assert requests.get(guarded.url + "/_mock/health", headers=basic("s3cret")).ok
    assert requests.get(guarded.url + "/_mock/health", headers=basic("s3cret:")).status_code == 401


@pytest.mark.parametrize("value", ["!!!", "bm8tY29sb24=", ""])  # not base64; "no-colon"; empty
def test_a_malformed_basic_credential_is_refused(guarded: MockServer, value: str) -> None:
    answer = requests.get(
        guarded.url + "/_mock/health", headers={"Authorization": f"Basic {value}"}
    )
    assert answer.status_code == 401


def test_page_json_shows_the_served_scenario(mock: MockServer) -> None:
    body = requests.get(mock.url + "/_mock/page.json").json()
    assert body["namespace"] == "default"
    data = body["scenario"]
    assert data["source"] == "test.yaml"
    assert [o["name"] for o in data["orgs"]["items"]] == ["ACME", "Globex"]
    alice = next(u for u in data["users"]["items"] if u["username"] == "alice")
    assert alice["id"] == ALICE
    assert alice["org_id"] == ACME
    assert {"type": "u2f", "state": "ready", "id": "259242039378444292", "name": "YubiKey 5"} in (
        alice["auth_factors"]
    )
    assert data["users"]["total"] == 8
    tokens = {t["token"]: t for t in data["tokens"]["items"]}
    assert tokens["expired"]["expired"] is True
    assert len(tokens) == 6
    assert body["namespaces"] == [{"name": "default", "calls": 0}]


def test_page_json_shows_live_changes_and_rules_with_how_often_each_fired(
    mock: MockServer,
) -> None:
    api = mock.url + "/_mock"
    requests.post(api + "/users", json={"username": "dave", "org": "ACME"}).raise_for_status()
    rule = {"rpc": "ListLoginPolicySecondFactors", "code": "UNAVAILABLE", "times": 3}
    requests.post(api + "/errors", json=rule).raise_for_status()
    for _ in range(2):
        assert requests.post(mock.url + SECOND_FACTORS, headers=bearer("acme-admin")).status_code
    body = requests.get(api + "/page.json").json()
    assert "dave" in [u["username"] for u in body["scenario"]["users"]["items"]]
    [shown] = body["rules"]
    assert (shown["index"], shown["code"], shown["fired"], shown["remaining"]) == (
        0,
        "UNAVAILABLE",
        2,
        1,
    )
    assert shown["origin"] == "POST /_mock/errors"
    assert [c["status"] for c in body["journal"]["calls"]] == [503, 503]


def test_rules_keep_the_index_why_names_once_earlier_ones_are_spent(mock: MockServer) -> None:
    api = mock.url + "/_mock"
    once = {"rpc": "ListLoginPolicySecondFactors", "code": "UNAVAILABLE", "times": 1}
    always = {"rpc": "ListLoginPolicySecondFactors", "code": "INTERNAL"}
    for rule in (once, always):
        requests.post(api + "/errors", json=rule).raise_for_status()
    for _ in range(4):  # 503 once (rule 0, then spent), then 500 three times (rule 1)
        requests.post(mock.url + SECOND_FACTORS, headers=bearer("acme-admin"))
    body = requests.get(api + "/page.json").json()
    [shown] = body["rules"]
    assert (shown["index"], shown["code"], shown["fired"], shown["remaining"]) == (
        1,
        "INTERNAL",
        3,
        None,
    )
    whys = [c["why"] for c in body["journal"]["calls"]]
    assert sum(why.startswith("forced rule 1 ") for why in whys) == 3


def test_page_json_filters_the_journal(mock: MockServer) -> None:
    requests.post(mock.url + SECOND_FACTORS, headers=bearer("acme-admin"))
    requests.post(mock.url + SECOND_FACTORS, headers=bearer("nobody"))
    requests.post(mock.url + auth_factors(ALICE), headers=bearer("acme-admin"))
    url = mock.url + "/_mock/page.json"
    calls = requests.get(url, params={"status": "401"}).json()["journal"]
    assert (calls["count"], calls["total"]) == (1, 3)
    only = requests.get(url, params={"rpc": "ListHumanAuthFactors", "user": "alice"}).json()
    assert [c["user_id"] for c in only["journal"]["calls"]] == [ALICE]
    # Empty fields of the page's form mean "any".
    assert requests.get(url, params={"rpc": "", "user": ""}).json()["journal"]["count"] == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "4xx"}, "status: '4xx' is not an HTTP status (100 to 599)"),
        ({"user": "alcie"}, "did you mean 'alice'?"),
        ({"rpc": "Nope"}, "rpc: 'Nope' is not one of"),
        ({"limit": "3"}, "unknown query parameter 'limit'"),
    ],
)
def test_page_json_says_what_is_wrong_with_a_filter(
    mock: MockServer, params: dict[str, str], message: str
) -> None:
    answer = requests.get(mock.url + "/_mock/page.json", params=params)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_page_json_is_bounded(mock: MockServer) -> None:
    users = [{"username": f"u{i}", "id": str(10**17 + i)} for i in range(MAX_LISTED + 5)]
    big = {"version": 1, "orgs": [{"name": "Big", "users": users}]}
    requests.put(mock.url + "/_mock/scenario", json=big).raise_for_status()
    for _ in range(MAX_ROWS + 5):
        requests.get(mock.url + "/nowhere")
    body = requests.get(mock.url + "/_mock/page.json").json()
    assert len(body["scenario"]["users"]["items"]) == MAX_LISTED
    assert body["scenario"]["users"]["total"] == MAX_LISTED + 5
    assert len(body["journal"]["calls"]) == MAX_ROWS
    assert body["journal"]["count"] == MAX_ROWS + 5
    assert body["scenario"]["tokens"] is None  # none listed: any bearer token is let in


def test_page_json_reads_the_namespace_header(mock: MockServer) -> None:
    requests.get(mock.url + "/nowhere", headers={"X-Mock-Namespace": "other"})
    body = requests.get(mock.url + "/_mock/page.json", headers={"X-Mock-Namespace": "other"})
    assert body.json()["namespace"] == "other"
    assert body.json()["journal"]["count"] == 1
    names = {n["name"]: n["calls"] for n in body.json()["namespaces"]}
    assert names == {"default": 0, "other": 1}


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_both_apps_serve_the_page_behind_the_token(asgi: bool) -> None:
    app = create_app(scenario(MAIN), asgi=asgi, control=ControlOptions(token="s3cret"))
    client = falcon.testing.TestClient(app)
    assert client.simulate_get("/_mock/", headers=HTML).status_code == 401
    page = client.simulate_get("/_mock/", headers={**HTML, **basic("s3cret")})
    assert (page.status_code, page.text) == (200, PAGE_HTML)
    data = client.simulate_get("/_mock/page.json", headers=basic("s3cret"))
    assert data.json["scenario"]["source"] == "test.yaml"


def test_page_json_counts_again_after_a_change(mock: MockServer) -> None:
    url = mock.url + "/_mock/page.json"
    assert requests.get(url).json()["scenario"]["users"]["total"] == 8
    assert requests.get(url).json()["scenario"]["users"]["total"] == 8  # counted once, kept
    requests.post(mock.url + "/_mock/users", json={"username": "eve"}).raise_for_status()
    requests.post(mock.url + "/_mock/tokens", json={"token": "t", "user": "eve"}).raise_for_status()
    body = requests.get(url).json()["scenario"]
    assert (body["users"]["total"], body["tokens"]["total"]) == (9, 7)
    requests.put(mock.url + "/_mock/scenario", json={"version": 1, "orgs": [{"name": "O"}]})
    body = requests.get(url).json()["scenario"]
    assert (body["orgs"]["total"], body["users"]["total"]) == (1, 0)
