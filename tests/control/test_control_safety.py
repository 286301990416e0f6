"""Who may use the control API: loopback only by default, a token elsewhere, or nobody."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from testkit import MAIN, SECOND_FACTORS, bearer, scenario

from zitadel_mock import MockServer, State
from zitadel_mock.control.http import ControlOptions, decide_control, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("10.0.0.5", False),
        ("fe80::1%eth0", False),
        ("::ffff:192.168.1.20", False),
        ("mock.example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_on_by_default_on_loopback(host: str) -> None:
    decision = decide_control(host)
    assert decision.enabled
    assert decision.options == ControlOptions(token=None)
    assert decision.reason == f"control API on ({host} is a loopback address)"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_off_beyond_loopback_without_a_token(host: str) -> None:
    decision = decide_control(host)
    assert not decision.enabled
    assert decision.options is None
    assert decision.reason == (
        f"control API off: {host} is not a loopback address; "
        "give --control-token TOKEN to serve it with a token"
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "127.0.0.1"])
def test_a_token_turns_it_on_anywhere_and_is_required(host: str) -> None:
    decision = decide_control(host, token="s3cret")
    assert decision.options == ControlOptions(token="s3cret")
    assert decision.reason == "control API on; the token is required"


@pytest.mark.parametrize("token", [None, "s3cret"])
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_no_control_turns_it_off_everywhere(host: str, token: str | None) -> None:
    decision = decide_control(host, enabled=False, token=token)
    assert (decision.options, decision.reason) == (None, "control API off (--no-control)")


NOT_FOUND = {"code": 5, "message": "Not Found"}


@pytest.mark.parametrize("path", ["/_mock/health", "/_mock/", "/_mock/openapi.json", "/_mock/x"])
def test_off_answers_like_any_unknown_path(path: str) -> None:
    with MockServer(State(scenario(MAIN)), control=False) as mock:
        answer = requests.get(mock.url + path)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
        assert answer.json() == requests.get(mock.url + "/nope").json()
        assert mock.control is not None
        assert not mock.control.enabled


def test_bound_beyond_loopback_without_a_token_it_is_off() -> None:
    # 0.0.0.0 is every address of the machine, loopback included: reachable here, yet off.
    with MockServer(State(scenario(MAIN)), host="0.0.0.0") as mock:
        assert mock.control is not None
        assert not mock.control.enabled
        answer = requests.get(f"http://127.0.0.1:{mock.port}/_mock/health")
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
        route = requests.post(
            f"http://127.0.0.1:{mock.port}{SECOND_FACTORS}", headers=bearer("acme-admin")
        )
        assert route.status_code == 200


@pytest.fixture
def guarded() -> Iterator[MockServer]:
    with MockServer(State(scenario(MAIN)), control_token="s3cret") as mock:
        yield mock


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"X-Mock-Token": "S3CRET"},
        {"Authorization": "s3cret"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/health"), ("POST", "/errors"), ("GET", "/nope")]
)
def test_a_token_is_required(
    guarded: MockServer, headers: dict[str, str], method: str, path: str
) -> None:
    answer = requests.request(
        method, f"{guarded.url}/_mock{path}", headers=headers, json={"code": 14}
    )
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="zitadel-mock control API"'
    assert answer.json() == {
        "error": "the control API needs its token: "
        "send 'Authorization: Bearer TOKEN' or 'X-Mock-Token: TOKEN'"
    }
    assert guarded.state.errors() == []


@pytest.mark.parametrize(
    "headers", [{"Authorization": "Bearer s3cret"}, {"X-Mock-Token": "s3cret"}]
)
def test_the_token_opens_it(guarded: MockServer, headers: dict[str, str]) -> None:
    assert requests.get(f"{guarded.url}/_mock/health", headers=headers).status_code == 200
    added = requests.post(f"{guarded.url}/_mock/errors", headers=headers, json={"code": 14})
    assert added.status_code == 201
    assert len(guarded.state.errors()) == 1


def test_an_oversized_body_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("zitadel_mock.control.http.MAX_BODY", 100)
    with MockServer(State(scenario(MAIN))) as mock:
        body = {"code": 14, "message": "x" * 200}
        answer = requests.post(f"{mock.url}/_mock/errors", json=body)
        assert (answer.status_code, answer.json()) == (
            413,
            {"error": "the body is larger than 100 bytes"},
        )
        chunked = requests.post(
            f"{mock.url}/_mock/errors", data=iter([b'{"code": 14, "message": "', b"x" * 200, b'"}'])
        )
        assert chunked.status_code == 413
        assert mock.state.errors() == []
