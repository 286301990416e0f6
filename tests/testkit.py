"""The tests' one helper module: what ZITADEL's answers look like, clients, the main scenario.

(Not named ``helpers``: the plugin's tests write projects with a ``helpers`` module of their
own, in the same process.)

What every answer of the two routes looks like, written down from ZITADEL's API definition.

Three kinds of answer exist: ``second_factors`` (ListLoginPolicySecondFactorsResponse),
``auth_factors`` (ListHumanAuthFactorsResponse) and ``error`` (google.rpc.Status). Each has a
fixed set of fields in proto declaration order; the gateway writes them with protojson
defaults: zero values left out, 64-bit integers as strings, enums as names, timestamps in UTC
with ``Z``. Every answer also carries the same few headers.

``check_answer`` checks one HTTP answer against all of that; the tests call it on every answer
they receive, so an answer of a shape ZITADEL never gives fails whatever the test looks at.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import falcon.testing

from zitadel_mock import State, create_app, parse_scenario

__all__ = [
    "ACME",
    "ALICE",
    "AUTH_FACTOR_MEMBERS",
    "AUTH_FACTOR_STATES",
    "CAROL",
    "ERROR_DETAIL_TYPE",
    "FIELDS",
    "GLOBEX",
    "MAIN",
    "REQUEST_ID_HEADERS",
    "SECOND_FACTORS",
    "SECOND_FACTOR_TYPES",
    "U2F_ID",
    "XID",
    "Pairs",
    "answer_kind",
    "auth_factors",
    "bearer",
    "check_answer",
    "checked",
    "client",
    "decode_pairs",
    "scenario",
    "violations",
]

# Enum names by number: SecondFactorType (zitadel.policy.v1) and AuthFactorState (zitadel.user.v1).
SECOND_FACTOR_TYPES: dict[int, str] = {
    0: "SECOND_FACTOR_TYPE_UNSPECIFIED",
    1: "SECOND_FACTOR_TYPE_OTP",
    2: "SECOND_FACTOR_TYPE_U2F",
    3: "SECOND_FACTOR_TYPE_OTP_EMAIL",
    4: "SECOND_FACTOR_TYPE_OTP_SMS",
    5: "SECOND_FACTOR_TYPE_RECOVERY_CODES",  # from ZITADEL 4.10.0
}
AUTH_FACTOR_STATES: dict[int, str] = {
    0: "AUTH_FACTOR_STATE_UNSPECIFIED",
    1: "AUTH_FACTOR_STATE_NOT_READY",
    2: "AUTH_FACTOR_STATE_READY",
    3: "AUTH_FACTOR_STATE_REMOVED",
}
# The members of AuthFactor's oneof ``type``, in declaration order, as JSON names.
AUTH_FACTOR_MEMBERS = ("otp", "u2f", "otpSms", "otpEmail")
ERROR_DETAIL_TYPE = "type.googleapis.com/zitadel.v1.ErrorDetail"

# Fields of each message, in proto declaration order (the order protojson writes them in).
FIELDS: dict[str, tuple[str, ...]] = {
    "second_factors": ("details", "result"),
    "list_details": ("totalResult", "processedSequence", "viewTimestamp"),
    "auth_factors": ("result",),
    "auth_factor": ("state", *AUTH_FACTOR_MEMBERS),
    "u2f": ("id", "name"),
    "error": ("code", "message", "details"),
    "error_detail": ("@type", "id", "message"),
}

# Headers on every answer, success or error. Expires is the server's current time.
FIXED_HEADERS = {
    "content-type": "application/json",
    "cache-control": "no-store",
    "pragma": "no-cache",
    "x-robots-tag": "none",
}
REQUEST_ID_HEADERS = ("x-request-id", "grpc-metadata-x-request-id")
XID = re.compile(r"[0-9a-v]{20}")  # 20 characters of lowercase base32hex
_HTTP_DATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d GMT"
)
_UINT64 = re.compile(r"[1-9][0-9]*")  # zero is never written
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z")
_LOWER_CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")


class Pairs(list[tuple[str, Any]]):
    """A JSON object as written: its (key, value) pairs, in order, duplicates kept."""


def _pairs(items: list[tuple[str, Any]]) -> Pairs:
    keys = [key for key, _ in items]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key appears twice in {keys}")
    return Pairs(items)


def decode_pairs(raw: bytes) -> Any:
    """Decode JSON keeping every object as ``Pairs``, so the written key order can be checked."""
    return json.loads(raw.decode("utf-8"), object_pairs_hook=_pairs)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where or '(root)'}: {message}")

    def message(self, value: Any, kind: str, where: str) -> dict[str, Any] | None:
        """Check an object's keys (known, in order, camelCase); return it as a dict."""
        if not isinstance(value, Pairs):
            self.fail(where, f"expected an object, got {value!r}")
            return None
        keys = [key for key, _ in value]
        allowed = FIELDS[kind]
        unknown = [key for key in keys if key not in allowed]
        if unknown:
            self.fail(where, f"unknown fields {unknown}; a {kind} has {list(allowed)}")
        if [k for k in keys if k in allowed] != [k for k in allowed if k in keys]:
            self.fail(where, f"fields out of declaration order: {keys}")
        for key in keys:
            if key != "@type" and not _LOWER_CAMEL.fullmatch(key):
                self.fail(where, f"{key!r} is not lowerCamelCase")
        return dict(value)

    def string(self, value: Any, where: str, pattern: re.Pattern[str] | None = None) -> None:
        if not isinstance(value, str):
            self.fail(where, f"expected a string, got {value!r}")
        elif value == "":
            self.fail(where, "an empty string is a zero value: it is left out, never written")
        elif pattern is not None and not pattern.fullmatch(value):
            self.fail(where, f"{value!r} does not match {pattern.pattern}")

    def uint64(self, value: Any, where: str) -> None:
        self.string(value, where, _UINT64)
        if isinstance(value, str) and _UINT64.fullmatch(value) and int(value) >= 2**64:
            self.fail(where, f"{value} does not fit in 64 bits")

    def timestamp(self, value: Any, where: str) -> None:
        self.string(value, where, _TIMESTAMP)
        if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
            try:
                datetime.fromisoformat(value.split(".")[0].rstrip("Z"))
            except ValueError:
                self.fail(where, f"{value!r} is no real date and time")

    def repeated(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list) or isinstance(value, Pairs):
            self.fail(where, f"expected a list, got {value!r}")
            return []
        if not value:
            self.fail(where, "an empty list is a zero value: it is left out, never written")
        return value

    def enum(self, value: Any, names: Mapping[int, str], where: str, *, singular: bool) -> None:
        if value not in names.values():
            self.fail(where, f"{value!r} is not an enum name: one of {sorted(names.values())}")
        elif singular and value == names[0]:
            self.fail(where, f"{value} is the zero value: it is left out, never written")

    # -- the three answers ---------------------------------------------------------------

    def second_factors(self, body: Any) -> None:
        fields = self.message(body, "second_factors", "")
        if fields is None:
            return
        if "details" in fields:
            details = self.message(fields["details"], "list_details", "details")
            if details is not None:
                if not details:
                    self.fail("details", "an unset message is left out, never written as {}")
                for key in ("totalResult", "processedSequence"):
                    if key in details:
                        self.uint64(details[key], f"details.{key}")
                if "viewTimestamp" in details:
                    self.timestamp(details["viewTimestamp"], "details.viewTimestamp")
        if "result" in fields:
            result = self.repeated(fields["result"], "result")
            for i, item in enumerate(result):
                self.enum(item, SECOND_FACTOR_TYPES, f"result[{i}]", singular=False)
            if len(set(result)) != len(result):
                self.fail("result", f"a factor is listed twice: {result}")
            details = dict(fields.get("details") or [])
            if details.get("totalResult") != str(len(result)):
                self.fail("details.totalResult", f"expected {len(result)!s} for {result}")

    def auth_factors(self, body: Any) -> None:
        fields = self.message(body, "auth_factors", "")
        if fields is None or "result" not in fields:
            return
        for i, item in enumerate(self.repeated(fields["result"], "result")):
            where = f"result[{i}]"
            factor = self.message(item, "auth_factor", where)
            if factor is None:
                continue
            if "state" in factor:
                self.enum(factor["state"], AUTH_FACTOR_STATES, f"{where}.state", singular=True)
            members = [key for key in factor if key in AUTH_FACTOR_MEMBERS]
            if len(members) != 1:
                self.fail(where, f"exactly one of {list(AUTH_FACTOR_MEMBERS)}, got {members}")
            for member in members:
                content = factor[member]
                if member == "u2f":
                    u2f = self.message(content, "u2f", f"{where}.u2f")
                    for key, value in (u2f or {}).items():
                        self.string(value, f"{where}.u2f.{key}")
                elif not isinstance(content, Pairs) or content:
                    self.fail(f"{where}.{member}", f"an empty message, written {{}}; got {content}")

    def error(self, body: Any) -> None:
        fields = self.message(body, "error", "")
        if fields is None:
            return
        code = fields.get("code")
        if isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= 16:
            self.fail("code", f"expected a gRPC error code, a JSON number 1 to 16, got {code!r}")
        if "message" in fields:
            self.string(fields["message"], "message")
        if "details" in fields:
            for i, item in enumerate(self.repeated(fields["details"], "details")):
                detail = self.message(item, "error_detail", f"details[{i}]")
                if detail is None:
                    continue
                if detail.get("@type") != ERROR_DETAIL_TYPE:
                    self.fail(f"details[{i}].@type", f"expected {ERROR_DETAIL_TYPE}")
                for key in ("id", "message"):
                    if key in detail:
                        self.string(detail[key], f"details[{i}].{key}")


_KINDS: dict[str, Callable[[_Checker, Any], None]] = {
    "second_factors": _Checker.second_factors,
    "auth_factors": _Checker.auth_factors,
    "error": _Checker.error,
}


def violations(kind: str, raw: bytes) -> list[str]:
    """Return what is wrong with ``raw`` as an answer of ``kind`` (empty: nothing)."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}, not {kind!r}")
    if raw[:1].isspace() or b"\n" in raw or b"\r" in raw:
        return ["(root): indented or spread over lines; the gateway writes one line"]
    try:
        body = decode_pairs(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"(root): not a JSON object in UTF-8: {exc}"]
    checker = _Checker()
    _KINDS[kind](checker, body)
    return checker.problems


SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"


def auth_factors(user_id: str) -> str:
    """The path of ListHumanAuthFactors for a user id."""
    return f"/management/v1/users/{user_id}/auth_factors/_search"


_ROUTES = {
    re.compile(re.escape(SECOND_FACTORS)): "second_factors",
    re.compile(re.escape(auth_factors("@")).replace("@", "[^/]*")): "auth_factors",
}


def answer_kind(path: str, status: int) -> str:
    """The kind of answer a request of ``path`` got: a route's success, or an error."""
    if status == 200:
        for pattern, kind in _ROUTES.items():
            if pattern.fullmatch(path.split("?")[0]):
                return kind
        raise AssertionError(f"200 on {path}, which is none of the two routes")
    return "error"


def check_answer(
    method: str, path: str, status: int, headers: Mapping[str, str], raw: bytes
) -> None:
    """Fail (AssertionError) unless an answer has the headers and a body ZITADEL would send."""
    lowered = {key.lower(): value for key, value in headers.items()}
    problems = [
        f"header {name}: expected {value!r}, got {lowered.get(name)!r}"
        for name, value in FIXED_HEADERS.items()
        if lowered.get(name) != value
    ]
    if not _HTTP_DATE.fullmatch(lowered.get("expires", "")):
        problems.append(f"header expires: not an HTTP date: {lowered.get('expires')!r}")
    # From ZITADEL 4.13.0: an xid per answer; REST also has the gateway's own, another one.
    ids = [lowered[name] for name in REQUEST_ID_HEADERS if name in lowered]
    if ids and len(ids) != len(REQUEST_ID_HEADERS):
        problems.append(f"request ids: expected both of {REQUEST_ID_HEADERS} or neither")
    problems += [f"request id {value!r} is no xid" for value in ids if not XID.fullmatch(value)]
    if len(ids) == 2 and ids[0] == ids[1]:
        problems.append(f"the two request ids are the same: {ids[0]!r}")
    unauthenticated = status == 401
    if unauthenticated != ("www-authenticate" in lowered):
        problems.append("www-authenticate: sent with every 401, and only then")
    if method.upper() != "HEAD":  # a HEAD answer has no body to check
        kind = answer_kind(path, status)
        problems += violations(kind, raw)
        if unauthenticated and not problems:
            message = dict(decode_pairs(raw)).get("message")
            if lowered.get("www-authenticate") != message:
                problems.append("www-authenticate: must equal the error's message")
    if problems:
        summary = f"{method} {path} -> {status} {raw[:300]!r}"
        raise AssertionError(summary + "\n  " + "\n  ".join(problems))


def checked(response: Any) -> Any:
    """Check a ``requests`` answer with ``check_answer``; return its decoded body."""
    path = "/" + response.url.split("/", 3)[3] if response.url.count("/") >= 3 else "/"
    check_answer(
        response.request.method, path, response.status_code, response.headers, response.content
    )
    return json.loads(response.content)


# -- clients and the main scenario ---------------------------------------------------------------


def scenario(text: str) -> Any:
    return parse_scenario(textwrap.dedent(text), source="test.yaml")


def client(text_or_state: str | State, asgi: bool) -> falcon.testing.TestClient:
    state = text_or_state if isinstance(text_or_state, State) else State(scenario(text_or_state))
    return falcon.testing.TestClient(create_app(state, asgi=asgi))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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


# A scenario with something of each kind left unused (an org, a user, a token, a rule): what the
# strict checks and the usage report are tested on.
USAGE_SHOP = """
version: 1
orgs:
  - name: Shop
    id: "100"
    users:
      - {username: alice, id: "1", auth_factors: [otp]}
      - {username: shop-bot, id: "2", type: machine}
    members: [{user: shop-bot, roles: [ORG_OWNER]}]
  - name: Idle
    id: "200"
    users: [{username: bob, id: "3"}]
tokens: [{token: shop-token, user: shop-bot}, {token: stale-token, user: bob}]
errors:
  - {rpc: ListHumanAuthFactors, user: alice, code: UNAVAILABLE, times: 1}
  - {rpc: ListHumanAuthFactors, user: bob, code: INTERNAL}
"""
