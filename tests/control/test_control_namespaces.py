"""Namespaces over a real socket: isolation under concurrent jobs, bounds, and the journal bound."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from testkit import ACME, ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, scenario

from zitadel_mock import MockServer, State
from zitadel_mock.namespaces import NamespaceError, Namespaces

FACTORS = ["otp", "u2f", "otp_sms", "otp_email"]
WIRE = {
    "otp": "SECOND_FACTOR_TYPE_OTP",
    "u2f": "SECOND_FACTOR_TYPE_U2F",
    "otp_sms": "SECOND_FACTOR_TYPE_OTP_SMS",
    "otp_email": "SECOND_FACTOR_TYPE_OTP_EMAIL",
}


def control(
    session: requests.Session, url: str, method: str, path: str, ns: str | None, **kw: Any
) -> requests.Response:
    headers = {"X-Mock-Namespace": ns} if ns is not None else {}
    return session.request(method, f"{url}/_mock{path}", headers=headers, **kw)


def route(session: requests.Session, url: str, path: str, ns: str | None) -> requests.Response:
    headers = {**bearer("acme-admin"), **({"X-Mock-Namespace": ns} if ns else {})}
    return session.post(url + path, headers=headers)


@pytest.mark.parametrize("threads", [0, 4])
def test_namespaces_are_isolated_under_concurrent_jobs(threads: int) -> None:
    jobs = 8
    combos = list(itertools.permutations(FACTORS, 2))[:jobs]
    start = threading.Barrier(jobs)
    failures: list[str] = []

    def job(i: int, url: str) -> None:
        ns, factors = f"job-{i}", list(combos[i])
        try:
            with requests.Session() as s:
                start.wait(timeout=30)
                put = control(
                    s, url, "PUT", "/orgs/ACME/second_factors", ns, json={"second_factors": factors}
                )
                assert put.status_code == 200, put.text
                added = control(
                    s, url, "POST", "/users", ns, json={"username": f"user-{i}", "id": f"9{i}"}
                )
                assert added.status_code == 201, added.text
                control(
                    s,
                    url,
                    "POST",
                    "/errors",
                    ns,
                    json={"code": "UNAVAILABLE", "user": f"user-{i}", "times": 1},
                )
                for _ in range(5):
                    answer = route(s, url, SECOND_FACTORS, ns)
                    assert answer.json()["result"] == [WIRE[f] for f in factors], (ns, answer.text)
                assert route(s, url, auth_factors(f"9{i}"), ns).status_code == 503
                assert route(s, url, auth_factors(f"9{i}"), ns).status_code == 200
                other = f"user-{(i + 1) % jobs}"
                assert (
                    control(s, url, "POST", f"/users/{other}/factors", ns, json="otp").status_code
                    == 404
                )
                journal = control(s, url, "GET", "/journal", ns).json()
                assert journal["count"] == 7
                assert {c["path"] for c in journal["calls"]} == {
                    SECOND_FACTORS,
                    auth_factors(f"9{i}"),
                }
        except Exception as exc:  # reported by the main thread: an assert in a thread is lost
            failures.append(f"{ns}: {exc!r}")

    with MockServer(State(scenario(MAIN)), threads=threads) as mock:
        workers = [threading.Thread(target=job, args=(i, mock.url)) for i in range(jobs)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert failures == []
        # The default namespace saw none of it.
        assert mock.state.journal.calls() == []
        assert mock.state.errors() == []
        with requests.Session() as s:
            names = [
                n["name"]
                for n in control(s, mock.url, "GET", "/namespaces", None).json()["namespaces"]
            ]
            assert names[0] == "default"
            assert sorted(names[1:]) == sorted(f"job-{i}" for i in range(jobs))
            assert route(s, mock.url, SECOND_FACTORS, None).json()["result"] == [
                "SECOND_FACTOR_TYPE_OTP_EMAIL",
                "SECOND_FACTOR_TYPE_U2F",
            ]


@pytest.fixture
def small() -> Iterator[tuple[MockServer, requests.Session]]:
    namespaces = Namespaces(scenario(MAIN), journal_size=3, max_namespaces=2)
    with MockServer(namespaces) as mock, requests.Session() as session:
        yield mock, session


def test_journal_is_bounded_in_every_namespace(small: tuple[MockServer, requests.Session]) -> None:
    mock, s = small
    for ns in (None, "job"):
        for user in ("1", "2", "3", "4", "5"):
            route(s, mock.url, auth_factors(user), ns)
        journal = control(s, mock.url, "GET", "/journal", ns).json()
        assert (journal["count"], journal["total"], journal["dropped"], journal["max"]) == (
            3,
            3,
            2,
            3,
        )
        assert [c["path"] for c in journal["calls"]] == [auth_factors(u) for u in ("3", "4", "5")]
        assert control(s, mock.url, "DELETE", "/journal", ns).json() == {"cleared": 3}
        assert control(s, mock.url, "GET", "/journal", ns).json()["dropped"] == 0


def test_least_recently_used_namespace_is_forgotten(
    small: tuple[MockServer, requests.Session],
) -> None:
    mock, s = small
    for ns in ("a", "b"):
        control(s, mock.url, "POST", "/errors", ns, json={"code": "INTERNAL"})
    control(s, mock.url, "GET", "/errors", "a")  # a is now used more recently than b
    control(s, mock.url, "GET", "/health", "c")  # health creates nothing
    assert len(mock.namespaces) == 3
    control(s, mock.url, "GET", "/errors", "c")
    listing = control(s, mock.url, "GET", "/namespaces", None).json()
    assert [n["name"] for n in listing["namespaces"]] == ["default", "a", "c"]
    assert (listing["max"], listing["evicted"]) == (2, 1)
    assert control(s, mock.url, "GET", "/errors", "b").json() == {"errors": []}  # a fresh b
    assert len(control(s, mock.url, "GET", "/errors", "c").json()["errors"]) == 0


def test_drop_a_namespace(small: tuple[MockServer, requests.Session]) -> None:
    mock, s = small
    control(s, mock.url, "POST", "/errors", "a", json={"code": "INTERNAL"})
    assert control(s, mock.url, "DELETE", "/namespaces/a", None).json() == {"dropped": "a"}
    assert mock.namespaces.find("a") is None
    missing = control(s, mock.url, "DELETE", "/namespaces/a", None)
    assert (missing.status_code, missing.json()) == (404, {"error": "no namespace 'a'"})
    assert control(s, mock.url, "GET", "/errors", "a").json() == {"errors": []}


def test_drop_the_default_namespace_serves_the_loaded_scenario_again(
    small: tuple[MockServer, requests.Session],
) -> None:
    mock, s = small
    replaced = control(
        s, mock.url, "PUT", "/scenario", None, data="version: 1\norgs: [{name: X}]\n"
    )
    assert replaced.status_code == 200
    assert mock.state.scenario.orgs[0].name == "X"
    assert route(s, mock.url, SECOND_FACTORS, "job").status_code == 200  # other namespaces: MAIN
    control(s, mock.url, "POST", "/reset", None)
    assert mock.state.scenario.orgs[0].name == "X"  # a reset keeps the replaced scenario
    assert control(s, mock.url, "DELETE", "/namespaces/default", None).status_code == 200
    assert mock.state.scenario.orgs[0].id == ACME


@pytest.mark.parametrize("value", ["a b", "x" * 129, "é", "team/job", "a%2Fb", "a?b"])
def test_invalid_namespace_names_are_refused(
    small: tuple[MockServer, requests.Session], value: str
) -> None:
    mock, s = small
    headers = {"X-Mock-Namespace": value.encode("utf-8")}
    answer = s.get(f"{mock.url}/_mock/health", headers=headers)  # type: ignore[dict-item]
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("X-Mock-Namespace: expected 1 to 128 letters, digits")
    zitadel = s.post(mock.url + auth_factors(ALICE), headers={**bearer("acme-admin"), **headers})  # type: ignore[dict-item]
    assert zitadel.status_code == 400
    assert zitadel.json()["code"] == 3
    assert len(mock.namespaces) == 1
    assert mock.state.journal.calls() == []


def test_a_blank_header_is_the_default_namespace() -> None:
    namespaces = Namespaces(scenario(MAIN))
    assert namespaces.get(None) is namespaces.get("") is namespaces.get("  ") is namespaces.default
    assert namespaces.get("default") is namespaces.default
    with pytest.raises(NamespaceError):
        namespaces.get("two words")


def test_concurrent_first_use_creates_one_state() -> None:
    namespaces = Namespaces(scenario(MAIN))
    start = threading.Barrier(8)
    seen: list[State] = []

    def use() -> None:
        start.wait(timeout=30)
        seen.append(namespaces.get("shared"))

    workers = [threading.Thread(target=use) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(seen) == 8
    assert all(state is seen[0] for state in seen)
    assert len(namespaces) == 2


def test_namespaces_share_the_default_observers_and_journal_size() -> None:
    state = State(scenario(MAIN), journal_size=7)
    namespaces = Namespaces(state)
    other = namespaces.get("x")
    assert other.journal.maxlen == 7
    assert other.observers is state.observers
    assert other.scenario is state.scenario
