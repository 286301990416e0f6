"""Every example scenario in fixtures/ loads, serves, and does what its comments say.

New files in fixtures/ are picked up by the glob, so an example can never rot unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from testkit import SECOND_FACTORS, auth_factors, bearer

from zitadel_mock import MockServer, Scenario, State, load_scenario
from zitadel_mock.model import UserType

FIXTURES_DIR = Path(__file__).parents[2] / "fixtures"
SUFFIXES = (".yaml", ".yml", ".json")
FIXTURES = sorted(p for p in FIXTURES_DIR.iterdir() if p.suffix in SUFFIXES)
MakeClient = Callable[..., Any]


def test_there_are_examples_and_nothing_else() -> None:
    assert {p.name for p in FIXTURES} >= {"quickstart.yaml", "multi-org.yaml", "outage.yaml"}
    assert sorted(FIXTURES_DIR.iterdir()) == FIXTURES


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_example_explains_itself(path: Path) -> None:
    text = path.read_text()
    if path.suffix != ".json":  # JSON has no comments
        assert text.startswith("# ")
        assert f"zitadel-mock serve --scenario fixtures/{path.name}" in text


def caller_token(scenario: Scenario) -> str:
    """A token that may call both routes: the first unexpired one, or any in open mode."""
    if scenario.tokens is None:
        return "anything"
    return next(t.token for t in scenario.tokens if not t.expired)


def a_human(scenario: Scenario) -> str:
    return next(u.id for u in scenario.users if u.type is UserType.HUMAN)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_example_loads_and_serves_both_routes(path: Path, make_client: MakeClient) -> None:
    scenario = load_scenario(path)
    client = make_client(scenario)  # checks every answer's shape against ZITADEL's
    headers = bearer(caller_token(scenario))
    for route in (SECOND_FACTORS, auth_factors(a_human(scenario))):
        status = client.simulate_post(route, headers=headers).status_code
        assert status == 200 or scenario.errors, (route, status)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_example_serves_over_a_socket(path: Path) -> None:
    scenario = load_scenario(path)
    with MockServer(scenario) as mock:
        answer = requests.post(mock.url + SECOND_FACTORS, headers=bearer(caller_token(scenario)))
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.ok or scenario.errors


# -- quickstart ---------------------------------------------------------------------------------


def test_quickstart_answers_as_its_comments_and_the_readme_show(make_client: MakeClient) -> None:
    headers = bearer("acme-admin-token")
    client = make_client(load_scenario(FIXTURES_DIR / "quickstart.yaml"))
    assert client.simulate_post(SECOND_FACTORS, headers=headers).content == (
        b'{"details":{"totalResult":"2","viewTimestamp":"2025-08-28T10:46:22.123456Z"},'
        b'"result":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"]}'
    )
    assert client.simulate_post(auth_factors("259242039378444291"), headers=headers).content == (
        b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY",'
        b'"u2f":{"id":"259242039378444292","name":"YubiKey 5"}}]}'
    )
    assert client.simulate_post(auth_factors("259242039378444293"), headers=headers).content == (
        b"{}"
    )


# -- multi-org ----------------------------------------------------------------------------------

MULTI_ORG = load_scenario(FIXTURES_DIR / "multi-org.yaml")
ALICE = "259242039378444291"
BOTH = {"second factors": 200, "auth factors": 200}


def org_id(name: str) -> str:
    org = MULTI_ORG.org(name)
    assert org is not None
    return org.id


# One row per line of the file's token table: (token, org in context or None, expected).
TOKEN_TABLE = [
    ("platform-token", None, BOTH),
    ("platform-token", "ACME", BOTH),
    ("platform-token", "Initech", BOTH),
    ("auditor-token", "ACME", BOTH),
    ("auditor-token", "Globex", BOTH),
    ("acme-token", None, BOTH),
    ("acme-token", "Globex", {"second factors": 404, "auth factors": 404}),
    ("settings-token", None, {"second factors": 200, "auth factors": 403}),
    ("globex-token", None, BOTH),
    ("support-token", None, {"second factors": 403, "auth factors": 403}),
    ("revoked-token", None, {"second factors": 401, "auth factors": 401}),
]


@pytest.mark.parametrize(("token", "org", "expected"), TOKEN_TABLE)
def test_multi_org_tokens_do_what_the_comments_say(
    token: str, org: str | None, expected: dict[str, int], make_client: MakeClient
) -> None:
    client = make_client(MULTI_ORG)
    headers = bearer(token)
    if org is not None:
        headers["x-zitadel-orgid"] = org_id(org)
    statuses = {
        "second factors": client.simulate_post(SECOND_FACTORS, headers=headers).status_code,
        "auth factors": client.simulate_post(auth_factors(ALICE), headers=headers).status_code,
    }
    assert statuses == expected


@pytest.mark.parametrize(
    ("org", "factors", "sequence"),
    [
        ("ACME", ["SECOND_FACTOR_TYPE_U2F", "SECOND_FACTOR_TYPE_OTP_EMAIL"], None),
        ("Globex", ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"], None),
        ("Initech", ["SECOND_FACTOR_TYPE_OTP_SMS"], "42"),
    ],
)
def test_multi_org_policies(
    org: str, factors: list[str], sequence: str | None, make_client: MakeClient
) -> None:
    client = make_client(MULTI_ORG)
    headers = {**bearer("platform-token"), "x-zitadel-orgid": org_id(org)}
    body = client.simulate_post(SECOND_FACTORS, headers=headers).json
    assert body["result"] == factors
    assert body["details"].get("processedSequence") == sequence


def test_multi_org_users(make_client: MakeClient) -> None:
    client = make_client(MULTI_ORG)

    def listed(username: str) -> list[str]:
        user = MULTI_ORG.user(username)
        assert user is not None
        # From ZITADEL 4.12.2 (the default profile) a user is listed in its own org only.
        headers = {**bearer("platform-token"), "x-zitadel-orgid": user.org_id}
        body = client.simulate_post(auth_factors(user.id), headers=headers).json
        return [next(k for k in f if k != "state") for f in body.get("result", [])]

    assert listed("alice") == ["u2f", "otpEmail"]
    assert listed("bob") == []  # not ready yet
    assert listed("carol") == ["otp", "otpSms"]
    assert listed("dana") == ["otpSms"]
    kinds = {u.username: u.type for u in MULTI_ORG.users}
    assert kinds["alice"] is UserType.HUMAN
    assert kinds["acme-bot"] is UserType.MACHINE


# -- outage -------------------------------------------------------------------------------------


def test_outage_does_what_its_comments_say(make_client: MakeClient) -> None:
    state = State(load_scenario(FIXTURES_DIR / "outage.yaml"))
    client = make_client(state)
    headers = bearer("anything")
    alice, dave = auth_factors("259242039378444291"), auth_factors("259242039378444295")

    def status(route: str, org: str | None = None) -> int:
        extra = {"x-zitadel-orgid": org} if org else {}
        return int(client.simulate_post(route, headers={**headers, **extra}).status_code)

    # dave's rule comes first, so his calls do not use up the UNAVAILABLE ones.
    internal = client.simulate_post(dave, headers=headers)
    assert internal.status_code == 500
    assert internal.json["message"] == "An internal error occurred (QUERY-Dgs2f)"
    assert [status(alice) for _ in range(3)] == [503, 503, 200]
    assert status(dave) == 500
    assert status(SECOND_FACTORS) == 200
    initech = "259242039378444299"
    assert [status(SECOND_FACTORS, initech), status(alice, initech)] == [429, 429]
    state.reset()  # the counts start again
    assert [status(alice) for _ in range(3)] == [503, 503, 200]
