"""BEHAVIOR 2: protojson output (names, zero values, enums, int64, timestamps, order, one line)
and the headers on every answer."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from falcon.testing import TestClient
from testkit import SECOND_FACTORS, Pairs, auth_factors, decode_pairs

Make = Callable[..., TestClient]

SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22.123456Z"
orgs:
  - name: ACME
    id: "100"
    login_policy: {second_factors: [otp, u2f, otp_email, otp_sms], processed_sequence: 267831}
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - username: alice
        id: "101"
        auth_factors: [otp, {type: u2f, id: "102", name: key}, otp_sms, otp_email]
      - {username: admin, id: "103", type: machine}
      - {username: loner, id: "104", type: machine}
tokens:
  - {token: admin, user: admin}
  - {token: loner, user: loner}
"""
ADMIN = {"Authorization": "Bearer admin"}
ALICE = auth_factors("101")

# One request per kind of answer: both successes, the empty one, errors with and without ids,
# and routing errors.
ANSWERS = {
    "second-factors": ("POST", SECOND_FACTORS, ADMIN),
    "auth-factors": ("POST", ALICE, ADMIN),
    "empty": ("POST", auth_factors("999"), ADMIN),
    "no-header": ("POST", SECOND_FACTORS, {}),
    "bad-token": ("POST", SECOND_FACTORS, {"Authorization": "Bearer nope"}),
    "no-membership": ("POST", SECOND_FACTORS, {"Authorization": "Bearer loner"}),
    "validation": ("POST", auth_factors("x" * 201), ADMIN),
    "not-found": ("POST", "/management/v1/nope", ADMIN),
    "not-allowed": ("GET", SECOND_FACTORS, ADMIN),
}


@pytest.fixture
def client(make_client: Make) -> TestClient:
    return make_client(SCENARIO)


def keys_in_order(node: Any) -> list[list[str]]:
    """The key lists of every object in a decoded answer, depth first, as written."""
    found: list[list[str]] = []
    if isinstance(node, Pairs):
        found.append([key for key, _ in node])
        for _, value in node:
            found += keys_in_order(value)
    elif isinstance(node, list):
        for item in node:
            found += keys_in_order(item)
    return found


def test_field_names_are_lower_camel_case(client: TestClient) -> None:
    names: set[str] = set()
    for method, path, headers in ANSWERS.values():
        raw = client.simulate_request(method, path, headers=headers).content
        names.update(key for keys in keys_in_order(decode_pairs(raw)) for key in keys)
    assert {"totalResult", "processedSequence", "viewTimestamp", "otpSms", "otpEmail"} <= names
    assert not [n for n in names if n != "@type" and not re.fullmatch(r"[a-z][A-Za-z0-9]*", n)]


def test_fields_in_declaration_order(client: TestClient) -> None:
    second = decode_pairs(client.simulate_post(SECOND_FACTORS, headers=ADMIN).content)
    assert keys_in_order(second) == [
        ["details", "result"],
        ["totalResult", "processedSequence", "viewTimestamp"],
    ]
    factors = decode_pairs(client.simulate_post(ALICE, headers=ADMIN).content)
    assert keys_in_order(factors) == [
        ["result"],
        ["state", "otp"],
        [],
        ["state", "u2f"],
        ["id", "name"],
        ["state", "otpSms"],
        [],
        ["state", "otpEmail"],
        [],
    ]
    error = decode_pairs(
        client.simulate_post(SECOND_FACTORS, headers={"Authorization": "x"}).content
    )
    assert keys_in_order(error) == [["code", "message", "details"], ["@type", "id", "message"]]


@pytest.mark.parametrize("name", list(ANSWERS))
def test_one_line_without_indentation(client: TestClient, name: str) -> None:
    method, path, headers = ANSWERS[name]
    raw = client.simulate_request(method, path, headers=headers).content
    assert raw.startswith(b"{")
    assert raw.endswith(b"}")
    assert b"\n" not in raw
    assert b"\t" not in raw


def test_zero_values_are_omitted(make_client: Make) -> None:
    text = """
    version: 1
    clock: "2025-08-28T10:46:22Z"
    orgs:
      - name: A
        login_policy: {second_factors: []}
        users: [{username: u, id: "1", auth_factors: [{type: u2f, id: "7"}]}]
    """
    client = make_client(text)
    headers = {"Authorization": "Bearer any"}
    # No result, no totalResult (0), no processedSequence (0): only the view timestamp.
    policy = client.simulate_post(SECOND_FACTORS, headers=headers)
    assert policy.json == {"details": {"viewTimestamp": "2025-08-28T10:46:22Z"}}
    # An empty name is left out of the u2f member.
    u2f = client.simulate_post(auth_factors("1"), headers=headers)
    assert u2f.json == {"result": [{"state": "AUTH_FACTOR_STATE_READY", "u2f": {"id": "7"}}]}
    # A plain gRPC error has no details.
    missing = client.simulate_post(SECOND_FACTORS)
    assert missing.json == {"code": 16, "message": "auth header missing"}


def test_an_empty_answer_is_an_empty_object(client: TestClient) -> None:
    result = client.simulate_post(auth_factors("999"), headers=ADMIN)
    assert (result.status_code, result.content) == (200, b"{}")


def test_enums_are_names_and_int64_are_strings(client: TestClient) -> None:
    policy = client.simulate_post(SECOND_FACTORS, headers=ADMIN).json
    assert policy["result"] == [
        "SECOND_FACTOR_TYPE_OTP",
        "SECOND_FACTOR_TYPE_U2F",
        "SECOND_FACTOR_TYPE_OTP_EMAIL",
        "SECOND_FACTOR_TYPE_OTP_SMS",
    ]
    assert policy["details"]["totalResult"] == "4"
    assert policy["details"]["processedSequence"] == "267831"
    factors = client.simulate_post(ALICE, headers=ADMIN).json
    assert {f["state"] for f in factors["result"]} == {"AUTH_FACTOR_STATE_READY"}


def test_int64_beyond_a_double_stays_exact(make_client: Make) -> None:
    text = """
    version: 1
    orgs: [{name: A, login_policy: {second_factors: [otp], processed_sequence: 9007199254740993}}]
    """
    raw = make_client(text).simulate_post(SECOND_FACTORS, headers={"Authorization": "Bearer x"})
    assert b'"processedSequence":"9007199254740993"' in raw.content


@pytest.mark.parametrize(
    ("clock", "written"),
    [
        ("2025-08-28T10:46:22Z", "2025-08-28T10:46:22Z"),
        ("2025-08-28T10:46:22.000Z", "2025-08-28T10:46:22Z"),
        ("2025-08-28T10:46:22.5Z", "2025-08-28T10:46:22.500Z"),
        ("2025-08-28T10:46:22.123Z", "2025-08-28T10:46:22.123Z"),
        ("2025-08-28T10:46:22.1234Z", "2025-08-28T10:46:22.123400Z"),
        ("2025-08-28T10:46:22.123456Z", "2025-08-28T10:46:22.123456Z"),
        ("2025-08-28T10:46:22.1234567Z", "2025-08-28T10:46:22.123456700Z"),
        ("2025-08-28T10:46:22.123456789Z", "2025-08-28T10:46:22.123456789Z"),
        ("2025-08-28T10:46:22.000000001Z", "2025-08-28T10:46:22.000000001Z"),
        ("2025-08-28T10:46:22.120000000Z", "2025-08-28T10:46:22.120Z"),
        ("2025-08-28T12:46:22.123+02:00", "2025-08-28T10:46:22.123Z"),
        ("2025-08-27T23:00:00-11:00", "2025-08-28T10:00:00Z"),
    ],
)
def test_timestamps_utc_z_with_0_3_6_or_9_digits(
    make_client: Make, clock: str, written: str
) -> None:
    text = f"""
    version: 1
    clock: "{clock}"
    orgs: [{{name: A}}]
    """
    result = make_client(text).simulate_post(SECOND_FACTORS, headers={"Authorization": "Bearer x"})
    assert result.json["details"]["viewTimestamp"] == written


def test_a_set_oneof_member_that_is_empty_is_written_as_an_empty_object(client: TestClient) -> None:
    raw = client.simulate_post(ALICE, headers=ADMIN).content
    assert b'"otp":{}' in raw
    assert b'"otpSms":{}' in raw
    assert b'"otpEmail":{}' in raw


def test_non_ascii_text_round_trips(make_client: Make) -> None:
    text = """
    version: 1
    orgs:
      - name: A
        users: [{username: u, id: "1", auth_factors: [{type: u2f, name: "Schlüssel 🔑 \\"<&>\\""}]}]
    """
    result = make_client(text).simulate_post(
        auth_factors("1"), headers={"Authorization": "Bearer x"}
    )
    assert result.json["result"][0]["u2f"]["name"] == 'Schlüssel 🔑 "<&>"'


# -- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ANSWERS))
@pytest.mark.parametrize(
    "accept",
    [None, "application/json", "text/html", "application/xml", "application/grpc", "*/*",
     "application/json;q=0, text/plain"],
)  # fmt: skip
def test_headers_on_every_answer(client: TestClient, name: str, accept: str | None) -> None:
    method, path, headers = ANSWERS[name]
    if accept is not None:
        headers = {**headers, "Accept": accept}
    result = client.simulate_request(method, path, headers=headers)
    assert result.headers["content-type"] == "application/json"
    assert result.headers["cache-control"] == "no-store"
    assert result.headers["pragma"] == "no-cache"
    assert result.headers["x-robots-tag"] == "none"
    # The scenario's clock is frozen at 2025-08-28T10:46:22.123456Z.
    assert result.headers["expires"] == "Thu, 28 Aug 2025 10:46:22 GMT"


@pytest.mark.parametrize("path", [SECOND_FACTORS, ALICE, auth_factors("999")])
def test_success_is_always_200(client: TestClient, path: str) -> None:
    assert client.simulate_post(path, headers=ADMIN).status_code == 200


@pytest.mark.parametrize(
    ("clock", "expires"),
    [
        ("2025-08-28T10:46:22.999999999Z", "Thu, 28 Aug 2025 10:46:22 GMT"),  # never rounded up
        ("2024-02-29T23:59:59.9999Z", "Thu, 29 Feb 2024 23:59:59 GMT"),
        ("2026-01-01T00:00:00Z", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ("2025-08-28T12:46:22+02:00", "Thu, 28 Aug 2025 10:46:22 GMT"),
    ],
)
def test_expires_is_the_frozen_clock(make_client: Make, clock: str, expires: str) -> None:
    text = f"""
    version: 1
    clock: "{clock}"
    orgs: [{{name: A}}]
    """
    client = make_client(text)
    for result in (client.simulate_post(SECOND_FACTORS), client.simulate_get(SECOND_FACTORS)):
        assert result.headers["expires"] == expires


def test_expires_without_a_clock_is_the_current_time(make_client: Make) -> None:
    client = make_client("version: 1\norgs: [{name: A}]\n")
    before = int(time.time())
    result = client.simulate_post(SECOND_FACTORS, headers={"Authorization": "Bearer x"})
    after = time.time()
    assert before <= parsedate_to_datetime(result.headers["expires"]).timestamp() <= after
