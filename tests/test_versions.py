"""Version profiles: ``zitadel_version`` and each row of ``versions.CHANGES``, on both sides of
the release that changes it, through both apps and over a real socket.

The facts (ZITADEL's v4 changes): since 4.12.2 ListHumanAuthFactors lists only users of the
organisation in context (another organisation's user answers 200 ``{}``); since 4.10.0
SECOND_FACTOR_TYPE_RECOVERY_CODES = 5 exists for login policies (never an auth factor, never in
the instance default); since 4.13.0 every answer carries ``X-Request-Id``, an xid (20 lowercase
base32hex characters, new per request), and on REST the gateway's
``Grpc-Metadata-X-Request-Id`` with another id.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from falcon.testing import TestClient
from testkit import XID

from zitadel_mock import MockServer, ScenarioError, State, ZitadelMock, parse_scenario
from zitadel_mock.cli.main import main
from zitadel_mock.model import Factor
from zitadel_mock.protocols.rest.request_ids import RUN, RequestIds, xid
from zitadel_mock.scenario.schema import scenario_schema
from zitadel_mock.versions import (
    CHANGES,
    DEFAULT,
    NEWEST,
    ORG_FILTER,
    RECOVERY_CODES,
    REQUEST_ID,
    Version,
    VersionError,
    parse_zitadel_version,
    profile_of,
)

Make = Callable[..., TestClient]
SECOND = "/management/v1/policies/login/second_factors/_search"
KNOWN = "it knows 4.0.0 to 4.13.1 (behaviour changes at 4.10.0, 4.12.2, 4.13.0)"

SCENARIO = """
version: 1
{version}
orgs:
  - name: ACME
    id: "100"
    members: [{{user: acme-admin, roles: [ORG_OWNER]}}]
    users:
      - {{username: alice, id: "101", auth_factors: [otp]}}
      - {{username: acme-admin, id: "102", type: machine}}
  - name: Globex
    id: "200"
    members: [{{user: root, roles: [ORG_OWNER]}}]
    users:
      - {{username: carol, id: "201", auth_factors: [otp_sms]}}
      - {{username: root, id: "202", type: machine}}
instance:
  members: [{{user: root, roles: [IAM_OWNER]}}]
tokens:
  - {{token: acme, user: acme-admin}}
  - {{token: root, user: root}}
"""


def at(version: str | None) -> str:
    """The scenario answered as ``version`` (None: the key left out)."""
    return SCENARIO.format(version="" if version is None else f"zitadel_version: '{version}'")


def auth_factors(user_id: str) -> str:
    return f"/management/v1/users/{user_id}/auth_factors/_search"


def bearer(token: str, org: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if org is not None:
        headers["x-zitadel-orgid"] = org
    return headers


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="s.yaml")
    return caught.value


# -- the key and the table -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4.13", Version(4, 13, 0)),
        ("4.12.3", Version(4, 12, 3)),
        ("4.0", Version(4, 0, 0)),
        ("4.13.1", NEWEST),
        (" v4.10 ", Version(4, 10, 0)),
    ],
)
def test_versions_are_read_as_numbers(text: str, expected: Version) -> None:
    assert parse_zitadel_version(text) == expected


def test_versions_are_ordered_as_numbers_not_as_text() -> None:
    assert Version(4, 9, 5) < Version(4, 10, 0) < Version(4, 12, 1) < Version(4, 12, 2)
    assert str(Version(4, 12, 0)) == "4.12.0"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5.1", f"'5.1' is not a version the mock knows; {KNOWN}"),
        ("3.4.1", f"'3.4.1' is not a version the mock knows; {KNOWN}"),
        ("4.13.2", f"'4.13.2' is not a version the mock knows; {KNOWN}"),
        ("4.14", f"'4.14' is not a version the mock knows; {KNOWN}"),
        ("latest", f"'latest' is not a version like '4.13' or '4.12.3'; {KNOWN}"),
        ("4", f"'4' is not a version like '4.13' or '4.12.3'; {KNOWN}"),
        ("٤.١٣", f"'٤.١٣' is not a version like '4.13' or '4.12.3'; {KNOWN}"),
        (
            4.13,
            "expected a version in quotes, like '4.13' or '4.12.3', got the number 4.13; put it "
            f"in quotes (unquoted, 4.10 is the number 4.1); {KNOWN}",
        ),
        (None, f"expected a version like '4.13' or '4.12.3', got nothing (null); {KNOWN}"),
    ],
)
def test_an_unknown_version_names_the_known_ones(value: object, message: str) -> None:
    with pytest.raises(VersionError) as caught:
        parse_zitadel_version(value)
    assert str(caught.value) == message


def test_a_bad_version_is_a_scenario_error_at_its_line() -> None:
    error = error_of("version: 1\norgs: [{name: A}]\nzitadel_version: 4.10\n")
    assert (error.line, error.path) == (3, "zitadel_version")
    assert "got the number 4.1; put it in quotes" in error.message
    assert str(error_of("version: 1\nzitadel_version: '5.1'\norgs: [{name: A}]\n")) == (
        f"s.yaml:2: zitadel_version: '5.1' is not a version the mock knows; {KNOWN}"
    )


def test_the_default_is_the_newest_version_known() -> None:
    assert parse_scenario(at(None)).zitadel_version == "4.13.1"
    assert parse_scenario(at(None)).profile == DEFAULT == profile_of(NEWEST)
    assert parse_scenario(at("4.12")).zitadel_version == "4.12.0"


def test_each_row_applies_from_its_version_on() -> None:
    assert {c.key: str(c.since) for c in CHANGES} == {
        RECOVERY_CODES: "4.10.0",
        ORG_FILTER: "4.12.2",
        REQUEST_ID: "4.13.0",
    }
    for change in CHANGES:
        assert change.source.startswith("PROTOCOLS.md section 0")
        before = Version(change.since.major, change.since.minor, change.since.patch - 1)
        if change.since.patch == 0:
            before = Version(change.since.major, change.since.minor - 1, 9)
        assert profile_of(change.since).has(change.key)
        assert profile_of(NEWEST).has(change.key)
        assert not profile_of(before).has(change.key)
        assert not profile_of(Version(4, 0, 0)).has(change.key)


def test_a_misspelt_row_key_is_refused() -> None:
    with pytest.raises(ValueError, match="no row of CHANGES"):
        DEFAULT.has("org-filter")


# -- 4.12.2: ListHumanAuthFactors filters by the organisation in context ------------------


@pytest.mark.parametrize("version", ["4.0", "4.12.1"])
def test_before_4_12_2_a_user_of_another_org_is_listed(make_client: Make, version: str) -> None:
    client = make_client(at(version))
    result = client.simulate_post(auth_factors("201"), headers=bearer("root", "100"))
    assert result.json == {"result": [{"state": "AUTH_FACTOR_STATE_READY", "otpSms": {}}]}


@pytest.mark.parametrize("version", ["4.12.2", "4.13", None])
def test_from_4_12_2_a_user_of_another_org_answers_empty(make_client: Make, version: str) -> None:
    client = make_client(at(version))
    # root (IAM_OWNER) reads carol of Globex with ACME in context: 200, nothing listed.
    result = client.simulate_post(auth_factors("201"), headers=bearer("root", "100"))
    assert (result.status_code, result.content) == (200, b"{}")
    # ACME's own admin, ACME in context by default.
    result = client.simulate_post(auth_factors("201"), headers=bearer("acme"))
    assert (result.status_code, result.content) == (200, b"{}")
    # With the user's organisation in context, the factors are listed.
    result = client.simulate_post(auth_factors("201"), headers=bearer("root", "200"))
    assert result.json == {"result": [{"state": "AUTH_FACTOR_STATE_READY", "otpSms": {}}]}
    result = client.simulate_post(auth_factors("101"), headers=bearer("acme"))
    assert result.json == {"result": [{"state": "AUTH_FACTOR_STATE_READY", "otp": {}}]}


def test_the_memo_keeps_the_org_in_context_apart(make_client: Make) -> None:
    client = make_client(at(None))
    for _ in range(2):  # the second round comes from the memo
        assert client.simulate_post(auth_factors("201"), headers=bearer("root", "100")).json == {}
        assert client.simulate_post(auth_factors("201"), headers=bearer("root", "200")).json
        assert client.simulate_post(auth_factors("201"), headers=bearer("root")).json  # Globex


def test_a_user_added_later_is_filtered_by_its_org(make_client: Make) -> None:
    state = State(parse_scenario(at(None)))
    client = make_client(state)
    state.add_user("dave", org="Globex", id="203", auth_factors=["otp"])
    assert client.simulate_post(auth_factors("203"), headers=bearer("acme")).json == {}
    assert client.simulate_post(auth_factors("203"), headers=bearer("root")).json


# -- 4.10.0: recovery codes in login policies ----------------------------------------------

RECOVERY = """
version: 1
{version}
instance:
  login_policy: {{second_factors: [otp, recovery_codes]}}
orgs:
  - name: ACME
    id: "100"
    login_policy: {{second_factors: [SECOND_FACTOR_TYPE_RECOVERY_CODES, u2f]}}
  - {{name: Globex, id: "200"}}
"""


def recovery(version: str | None) -> str:
    return RECOVERY.format(version="" if version is None else f"zitadel_version: '{version}'")


@pytest.mark.parametrize("version", ["4.10.0", "4.12", None])
def test_from_4_10_0_a_policy_may_enable_recovery_codes(make_client: Make, version: str) -> None:
    client = make_client(recovery(version))
    acme = client.simulate_post(SECOND, headers=bearer("any", "100")).json
    assert acme["result"] == ["SECOND_FACTOR_TYPE_RECOVERY_CODES", "SECOND_FACTOR_TYPE_U2F"]
    assert acme["details"]["totalResult"] == "2"
    globex = client.simulate_post(SECOND, headers=bearer("any", "200")).json
    assert globex["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_RECOVERY_CODES"]
    # The instance default, when the scenario sets none, stays otp, u2f.
    default = make_client(at(version)).simulate_post(SECOND, headers=bearer("acme")).json
    assert default["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]


@pytest.mark.parametrize("version", ["4.9.4", "4.0"])
def test_before_4_10_0_recovery_codes_are_an_error(version: str) -> None:
    error = error_of(recovery(version))
    assert (error.line, error.path) == (5, "instance.login_policy.second_factors[1]")
    since = f"needs zitadel_version 4.10.0 or later; this scenario answers as {version}"
    assert error.message.startswith("'recovery_codes' (SECOND_FACTOR_TYPE_RECOVERY_CODES) ")
    assert since.split(" as ")[0] in error.message
    org_only = recovery(version).replace("[otp, recovery_codes]", "[otp]")
    error = error_of(org_only)
    assert (error.line, error.path) == (9, "orgs[0].login_policy.second_factors[0]")


@pytest.mark.parametrize("version", ["4.9", "4.13.1"])
@pytest.mark.parametrize("factor", ["recovery_codes", "{type: recovery_codes}"])
def test_recovery_codes_are_never_an_auth_factor(version: str, factor: str) -> None:
    text = at(version).replace("auth_factors: [otp]", f"auth_factors: [{factor}]")
    error = error_of(text)
    assert error.path.startswith("orgs[0].users[0].auth_factors[0]")
    assert error.message == (
        "'recovery_codes' is a second factor of login policies only: ListHumanAuthFactors never "
        "lists it, so a user's factors are one of otp, u2f, otp_sms, otp_email"
    )


def test_live_changes_check_the_version() -> None:
    old = State(parse_scenario(at("4.9.9")))
    with pytest.raises(ScenarioError, match=r"needs zitadel_version 4\.10\.0 or later"):
        old.set_second_factors("ACME", ["otp", "recovery_codes"])
    assert old.view.policies.get("100") is None  # nothing changed
    new = State(parse_scenario(at("4.10")))
    new.set_second_factors("ACME", [Factor.RECOVERY_CODES])
    assert new.view.policies.get("100").policy.second_factors == (Factor.RECOVERY_CODES,)
    for state in (old, new):
        with pytest.raises(ScenarioError, match="second factor of login policies only"):
            state.add_factor("alice", "recovery_codes")
        with pytest.raises(ScenarioError, match="second factor of login policies only"):
            state.add_user("eve", auth_factors=["recovery_codes"])


def test_the_generator_never_makes_recovery_codes() -> None:
    text = "version: 1\ngenerate: {orgs: 3, users_per_org: 200, seed: 7, custom_policy_share: 1}\n"
    scenario = parse_scenario(text)
    policies = [o.login_policy for o in scenario.orgs if o.login_policy is not None]
    assert policies
    assert all(Factor.RECOVERY_CODES not in p.second_factors for p in policies)
    assert all(f.type.is_auth_factor for u in scenario.users for f in u.auth_factors)
    with pytest.raises(ScenarioError, match="'recovery_codes' is not one of"):
        parse_scenario(text.replace("seed: 7", "seed: 7, factors: 'recovery_codes=0.5'"))


def test_the_schema_knows_the_key_and_where_recovery_codes_go() -> None:
    schema = scenario_schema()
    key = schema["properties"]["zitadel_version"]
    assert key["type"] == "string"
    pattern = re.compile(key["pattern"])
    assert pattern.search("4.13")
    assert pattern.search("4.12.3")
    assert not pattern.search("4.13x")
    policy = schema["properties"]["instance"]["properties"]["login_policy"]
    assert re.search(policy["properties"]["second_factors"]["items"]["pattern"], "recovery_codes")
    auth = schema["properties"]["orgs"]["items"]["properties"]["users"]["items"]
    factor = auth["properties"]["auth_factors"]["items"]["anyOf"][0]["pattern"]
    assert re.search(factor, "otp")
    assert not re.search(factor, "recovery_codes")


def test_validate_reads_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(recovery("4.10"))
    bad.write_text(recovery("4.9"))
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(bad)]) == 1
    assert "needs zitadel_version 4.10.0 or later" in capsys.readouterr().out


# -- 4.13.0: request ids --------------------------------------------------------------------

REQUEST_IDS = ("x-request-id", "grpc-metadata-x-request-id")
# Every kind of answer of the app: success, auth error, validation error, 404, 405.
ANSWERS: list[tuple[str, str, dict[str, str]]] = [
    ("POST", SECOND, bearer("acme")),
    ("POST", auth_factors("101"), bearer("acme")),
    ("POST", SECOND, {}),
    ("POST", SECOND, bearer("nobody")),
    ("POST", auth_factors("x" * 201), bearer("acme")),
    ("POST", "/nowhere", {}),
    ("GET", SECOND, {}),
]


def ids_of(headers: Any) -> list[str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    return [lowered[name] for name in REQUEST_IDS if name in lowered]


@pytest.mark.parametrize("version", ["4.0", "4.12.2", "4.12.9"])
def test_before_4_13_0_no_request_ids(make_client: Make, version: str) -> None:
    client = make_client(at(version))
    for method, path, headers in ANSWERS:
        assert ids_of(client.simulate_request(method, path, headers=headers).headers) == []


@pytest.mark.parametrize("version", ["4.13", None])
def test_from_4_13_0_every_answer_has_new_request_ids(make_client: Make, version: str) -> None:
    state = State(parse_scenario(at(version)))
    state.add_error(code="UNAVAILABLE", rpc="ListLoginPolicySecondFactors", org="Globex")
    client = make_client(state)
    seen: set[str] = set()
    answers = [*ANSWERS, ("POST", SECOND, bearer("root")), *ANSWERS]
    for method, path, headers in answers:
        result = client.simulate_request(method, path, headers=headers)
        ids = ids_of(result.headers)
        assert len(ids) == 2, (method, path, result.status)
        assert all(XID.fullmatch(i) for i in ids)
        assert not seen & set(ids)  # new per answer, the two differ, also for the same request
        seen.update(ids)
    assert len(seen) == 2 * len(answers)


def test_request_ids_are_xids() -> None:
    ids = RequestIds(b"\x01\x02\x03\x04\xff", start=0xFFFFFE)
    now = 1_774_310_400_123_456_789  # 2026-03-24
    made = [ids.new(now) for _ in range(3)]
    assert made == [xid(now // 10**9, b"\x01\x02\x03\x04\xff", c) for c in (0xFFFFFE, 0xFFFFFF, 0)]
    for value in made:
        raw = base64.b32hexdecode(value.upper() + "====")
        assert int.from_bytes(raw[:4], "big") == now // 10**9
        assert raw[4:9] == b"\x01\x02\x03\x04\xff"
    assert [int.from_bytes(base64.b32hexdecode(v.upper() + "====")[9:], "big") for v in made] == [
        0xFFFFFE,
        0xFFFFFF,
        0,
    ]


def test_request_ids_are_made_in_runs_that_agree_with_xid() -> None:
    process = b"\x9a\x00\x5c\x11\x02"
    for start in (0, 1, RUN - 1, RUN, 12_345, 0xFFFFC0, 0xFFFFFF):
        ids = RequestIds(process, start=start)
        now = 1_774_310_400_123_456_789
        made = [ids.new(now) for _ in range(3 * RUN)]
        expected = [xid(now // 10**9, process, start + n) for n in range(3 * RUN)]
        assert made == expected, start
    # A new second starts a new run: the rest of the last one is skipped, never reused.
    ids = RequestIds(process, start=10)
    first, later = ids.new(10**18), ids.new(10**18 + 10**9)
    assert first == xid(10**9, process, 10)
    assert later == xid(10**9 + 1, process, RUN)
    assert ids.new_at(10**9 + 1) == xid(10**9 + 1, process, RUN + 1)


def test_request_ids_stay_unique_across_threads() -> None:
    ids = RequestIds(start=0)
    now = 1_774_310_400_000_000_000
    made: list[str] = []

    def take() -> None:
        # Seconds change every 50 ids: runs are started by several threads at once.
        made.extend(ids.new(now + (n // 50) * 10**9) for n in range(2_000))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert len(made) == 8_000
    assert len(set(made)) == 8_000


def test_the_memo_does_not_keep_request_ids(make_client: Make) -> None:
    client = make_client(at(None))
    first = client.simulate_post(SECOND, headers=bearer("acme"))
    second = client.simulate_post(SECOND, headers=bearer("acme"))
    assert first.content == second.content
    assert len(set(ids_of(first.headers)) | set(ids_of(second.headers))) == 4


# -- where the profile is shown --------------------------------------------------------------


def test_the_control_api_and_the_handle_name_the_version() -> None:
    with MockServer(State(parse_scenario(at("4.12.1")))) as server:
        health = requests.get(f"{server.url}/_mock/health", timeout=10).json()
        assert health["zitadel_version"] == "4.12.1"
        scenario = requests.get(f"{server.url}/_mock/scenario", timeout=10).json()
        assert scenario["zitadel_version"] == "4.12.1"
        handle = ZitadelMock(server)
        assert handle.zitadel_version == "4.12.1"
        put = requests.put(
            f"{server.url}/_mock/scenario",
            data=recovery(None),
            headers={"Content-Type": "application/yaml"},
            timeout=10,
        )
        assert put.json()["zitadel_version"] == "4.13.1"
        assert handle.zitadel_version == "4.13.1"


@pytest.mark.parametrize(("version", "status"), [("4.9", 422), ("4.10", 200)])
def test_the_control_api_checks_recovery_codes(version: str, status: int) -> None:
    with MockServer(State(parse_scenario(at(version)))) as server:
        answer = requests.put(
            f"{server.url}/_mock/orgs/ACME/second_factors",
            json={"second_factors": ["otp", "recovery_codes"]},
            timeout=10,
        )
        assert answer.status_code == status, answer.text
        if status == 422:
            assert "needs zitadel_version 4.10.0 or later" in answer.text
        else:
            assert answer.json()["second_factors"] == ["otp", "recovery_codes"]
        # The same through the fixture's handle, and a whole scenario of that version.
        handle = ZitadelMock(server)
        if status == 422:
            with pytest.raises(ScenarioError, match=r"needs zitadel_version 4\.10\.0 or later"):
                handle.set_second_factors("Globex", ["recovery_codes"])
        else:
            handle.set_second_factors("Globex", ["recovery_codes"])
        put = requests.put(
            f"{server.url}/_mock/scenario",
            data=recovery(version),
            headers={"Content-Type": "application/yaml"},
            timeout=10,
        )
        assert put.status_code == status, put.text
        if status == 422:
            assert put.json()["errors"][0]["path"] == "instance.login_policy.second_factors[1]"


# -- over a real socket -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "org_filter", "recovery_codes", "request_ids"),
    [("4.9.0", False, False, False), ("4.12.1", False, True, False), ("4.13.0", True, True, True)],
)
def test_each_row_over_a_real_socket(
    version: str, org_filter: bool, recovery_codes: bool, request_ids: bool
) -> None:
    with MockServer(State(parse_scenario(at(version)))) as server:
        cross = requests.post(
            server.url + auth_factors("201"), headers=bearer("root", "100"), timeout=10
        )
        assert cross.status_code == 200
        assert (cross.content == b"{}") is org_filter
        assert (len(ids_of(cross.headers)) == 2) is request_ids
        missing = requests.post(server.url + "/nowhere", timeout=10)
        assert missing.status_code == 404
        assert (len(ids_of(missing.headers)) == 2) is request_ids
        try:
            server.state.set_second_factors("ACME", ["recovery_codes"])
        except ScenarioError:
            assert not recovery_codes
        else:
            assert recovery_codes
            policy = requests.post(server.url + SECOND, headers=bearer("acme"), timeout=10)
            assert json.loads(policy.content)["result"] == ["SECOND_FACTOR_TYPE_RECOVERY_CODES"]
