"""Helpers shared by the tests: clients over both apps, and the answer-shape facts."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import falcon.testing

from zitadel_mock import State, create_app, parse_scenario

SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"


def auth_factors(user_id: str) -> str:
    return f"/management/v1/users/{user_id}/auth_factors/_search"


def scenario(text: str) -> Any:
    return parse_scenario(textwrap.dedent(text), source="test.yaml")


def client(text_or_state: str | State, asgi: bool) -> falcon.testing.TestClient:
    state = text_or_state if isinstance(text_or_state, State) else State(scenario(text_or_state))
    return falcon.testing.TestClient(create_app(state, asgi=asgi))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# The shapes of the three kinds of answer, from ZITADEL's API definition: field names, order,
# types and enum values. Unknown fields are errors, as in real answers.
SECOND_FACTOR_TYPES = {
    "SECOND_FACTOR_TYPE_UNSPECIFIED",
    "SECOND_FACTOR_TYPE_OTP",
    "SECOND_FACTOR_TYPE_U2F",
    "SECOND_FACTOR_TYPE_OTP_EMAIL",
    "SECOND_FACTOR_TYPE_OTP_SMS",
    "SECOND_FACTOR_TYPE_RECOVERY_CODES",
}
AUTH_FACTOR_STATES = {
    "AUTH_FACTOR_STATE_UNSPECIFIED",
    "AUTH_FACTOR_STATE_NOT_READY",
    "AUTH_FACTOR_STATE_READY",
    "AUTH_FACTOR_STATE_REMOVED",
}
_UINT64 = re.compile(r"[1-9][0-9]*")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z")


def _fields(obj: Any, allowed: list[str], where: str) -> None:
    assert isinstance(obj, dict), f"{where}: not an object"
    keys = list(obj)
    assert set(keys) <= set(allowed), f"{where}: unknown fields {set(keys) - set(allowed)}"
    assert keys == [k for k in allowed if k in obj], f"{where}: fields out of order: {keys}"


def check_second_factors(body: Any) -> None:
    _fields(body, ["details", "result"], "(root)")
    if "details" in body:
        details = body["details"]
        _fields(details, ["totalResult", "processedSequence", "viewTimestamp"], "details")
        for key in ("totalResult", "processedSequence"):
            if key in details:
                assert isinstance(details[key], str)
                assert _UINT64.fullmatch(details[key])
        if "viewTimestamp" in details:
            assert _TIMESTAMP.fullmatch(details["viewTimestamp"]), details["viewTimestamp"]
    if "result" in body:
        assert body["result"], "an empty list is omitted, never written"
        assert all(item in SECOND_FACTOR_TYPES for item in body["result"])


def check_auth_factors(body: Any) -> None:
    _fields(body, ["result"], "(root)")
    for i, factor in enumerate(body.get("result", [])):
        where = f"result[{i}]"
        _fields(factor, ["state", "otp", "u2f", "otpSms", "otpEmail"], where)
        assert factor.get("state", "AUTH_FACTOR_STATE_UNSPECIFIED") in AUTH_FACTOR_STATES
        members = [k for k in factor if k != "state"]
        assert len(members) == 1, f"{where}: exactly one oneof member, got {members}"
        content = factor[members[0]]
        if members[0] == "u2f":
            _fields(content, ["id", "name"], f"{where}.u2f")
            assert all(isinstance(v, str) and v for v in content.values())
        else:
            assert content == {}


def check_error(body: Any) -> None:
    _fields(body, ["code", "message", "details"], "(root)")
    assert isinstance(body["code"], int)
    assert 1 <= body["code"] <= 16
    assert isinstance(body.get("message", ""), str)
    for detail in body.get("details", []):
        assert detail["@type"] == "type.googleapis.com/zitadel.v1.ErrorDetail"
        _fields(detail, ["@type", "id", "message"], "details[]")


def checked(result: Any) -> Any:
    """Decode an answer, checking its headers and that it has one of the three known shapes."""
    assert result.headers["content-type"] == "application/json"
    raw = result.content
    body = json.loads(raw)
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    assert raw == compact, "compact JSON, no indentation"
    if result.status_code != 200:
        check_error(body)
    elif "details" in body or (body.get("result") and isinstance(body["result"][0], str)):
        check_second_factors(body)
    else:
        check_auth_factors(body)
    return body


ACME = "259242039378444290"
GLOBEX = "259242039378444300"
ALICE = "259242039378444291"
CAROL = "259242039378444301"
U2F_ID = "259242039378444292"

# One scenario for most behaviour tests: two orgs (one with a custom policy, one following the
# instance default), users of both kinds, and tokens for callers with various roles.
MAIN = f"""
version: 1
clock: "2025-08-28T10:46:22.123456Z"
instance:
  members:
    - {{user: iam-viewer, roles: [IAM_OWNER_VIEWER]}}
orgs:
  - name: ACME
    id: "{ACME}"
    login_policy: {{second_factors: [otp_email, u2f]}}
    members:
      - {{user: acme-admin, roles: [ORG_OWNER]}}
      - {{user: acme-settings, roles: [ORG_SETTINGS_MANAGER]}}
    users:
      - username: alice
        id: "{ALICE}"
        auth_factors:
          - otp
          - {{type: u2f, name: "YubiKey 5", id: "{U2F_ID}"}}
          - {{type: u2f, id: "259242039378444293", state: not_ready}}
          - {{type: otp_sms, state: not_ready}}
          - otp_sms
          - otp_email
      - {{username: bob, id: "259242039378444294"}}
      - {{username: acme-admin, id: "259242039378444295", type: machine}}
      - {{username: acme-settings, id: "259242039378444296", type: machine}}
      - {{username: iam-viewer, id: "259242039378444297", type: machine}}
      - {{username: loner, id: "259242039378444298", type: machine}}
  - name: Globex
    id: "{GLOBEX}"
    members:
      - {{user: globex-admin, roles: [ORG_OWNER]}}
    users:
      - username: carol
        id: "{CAROL}"
        auth_factors: [{{type: u2f, id: "259242039378444302", name: "key"}}]
      - {{username: globex-admin, id: "259242039378444303", type: machine}}
tokens:
  - {{token: acme-admin, user: acme-admin}}
  - {{token: acme-settings, user: acme-settings}}
  - {{token: iam-viewer, user: iam-viewer}}
  - {{token: globex-admin, user: globex-admin}}
  - {{token: loner, user: loner}}
  - {{token: expired, user: acme-admin, expired: true}}
"""
