"""Check every kind of answer the mock gives against ZITADEL's own OpenAPI schema.

usage: python scripts/check_answers_schema.py [SCHEMA_CHECK]

SCHEMA_CHECK is a checker run as ``SCHEMA_CHECK KIND BODY.json`` (KIND: second_factors,
auth_factors or error) that exits 0 for a valid body; by default ``../shared/tools/
schema_check.py`` relative to the repository root. It needs ``jsonschema`` (the dev extra).

The mock is served over a real socket on a few scenarios. One answer of each kind is collected:
both routes' successes (the empty ``{}`` and a policy without factors included), every auth
check, validation, routing 404 and 405, and forced errors of every code with and without an id.
Each must come with the expected HTTP status and pass the checker. Exits 1 if any fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from zitadel_mock import MockServer, State, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECKER = ROOT.parent / "shared" / "tools" / "schema_check.py"
SECOND = "/management/v1/policies/login/second_factors/_search"


def factors(user_id: str) -> str:
    return f"/management/v1/users/{user_id}/auth_factors/_search"


# Custom policies, every factor type and state, callers for each auth check, a 9-digit clock.
FULL = """
version: 1
clock: "2025-08-28T10:46:22.123456789Z"
instance: {members: [{user: viewer, roles: [IAM_OWNER_VIEWER]}]}
orgs:
  - name: A
    id: "100"
    login_policy: {second_factors: [otp, u2f, otp_email, otp_sms], processed_sequence: 267831}
    members: [{user: admin, roles: [ORG_OWNER]}, {user: settings, roles: [ORG_SETTINGS_MANAGER]}]
    users:
      - username: alice
        id: "1"
        auth_factors:
          - otp
          - {type: u2f, name: "fido key"}
          - {type: u2f}
          - otp_sms
          - otp_email
          - {type: otp, state: not_ready}
      - {username: admin, type: machine}
      - {username: settings, type: machine}
      - {username: viewer, type: machine}
      - {username: loner, type: machine}
  - {name: B, id: "200", login_policy: {second_factors: []}}
tokens:
  - {token: admin, user: admin}
  - {token: settings, user: settings}
  - {token: viewer, user: viewer}
  - {token: loner, user: loner}
  - {token: old, user: admin, expired: true}
"""
# No tokens (any bearer is an owner), the new-instance default policy, a whole-second clock.
DEFAULTS = """
version: 1
clock: "2025-08-28T10:46:22Z"
orgs:
  - name: A
    users: [{username: u, id: "1", auth_factors: [{type: u2f, name: k}, otp]}]
"""
# An empty instance policy, a millisecond clock.
EMPTY = """
version: 1
clock: "2025-08-28T10:46:22.120Z"
instance: {login_policy: {second_factors: [], processed_sequence: 5}}
orgs: [{name: A}]
"""


@dataclass(frozen=True)
class Case:
    """One request and what it must get: the answer kind and HTTP status."""

    label: str
    kind: str
    status: int
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


def bearer(token: str, org: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if org:
        headers["x-zitadel-orgid"] = org
    return headers


FULL_CASES = [
    Case("custom policy", "second_factors", 200, "POST", SECOND, bearer("admin")),
    Case("empty policy", "second_factors", 200, "POST", SECOND, bearer("viewer", "200")),
    Case("auth factors", "auth_factors", 200, "POST", factors("1"), bearer("admin")),
    Case("no factors {}", "auth_factors", 200, "POST", factors("404"), bearer("admin")),
    Case("header missing", "error", 401, "POST", SECOND),
    Case("invalid scheme", "error", 401, "POST", SECOND, {"Authorization": "Basic x"}),
    Case("invalid token", "error", 401, "POST", SECOND, bearer("nope")),
    Case("expired token", "error", 401, "POST", SECOND, bearer("old")),
    Case("unknown org", "error", 403, "POST", SECOND, bearer("admin", "nope")),
    Case("no membership", "error", 404, "POST", SECOND, bearer("loner")),
    Case("no permission", "error", 403, "POST", factors("1"), bearer("settings")),
    Case("user id too long", "error", 400, "POST", factors("x" * 201), bearer("admin")),
    Case("empty user id", "error", 400, "POST", factors(""), bearer("admin")),
    Case("unknown path", "error", 404, "POST", "/management/v1/nope", bearer("admin")),
    *(
        Case(f"{method} on a route", "error", 405, method, path)
        for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS")
        for path in (SECOND, factors("1"))
    ),
]
OTHER_CASES = [
    Case("default policy", "second_factors", 200, "POST", SECOND, bearer("any")),
    Case("auth factors", "auth_factors", 200, "POST", factors("1"), bearer("any")),
]
HTTP_STATUS = {1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400}
HTTP_STATUS.update({10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401})


@dataclass(frozen=True)
class Answer:
    scenario: str
    case: Case
    status: int
    body: bytes


def ask(session: requests.Session, url: str, scenario: str, case: Case) -> Answer:
    response = session.request(case.method, url + case.path, headers=case.headers)
    return Answer(scenario, case, response.status_code, response.content)


def collect() -> list[Answer]:
    """Serve each scenario and ask it every case, forced errors included."""
    answers: list[Answer] = []
    with requests.Session() as session:
        for name, text, cases in [
            ("full", FULL, FULL_CASES),
            ("defaults", DEFAULTS, OTHER_CASES),
            ("empty", EMPTY, OTHER_CASES[:1]),
        ]:
            state = State(parse_scenario(text, source=name))
            with MockServer(state) as mock:
                answers += [ask(session, mock.url, name, case) for case in cases]
                if name != "full":
                    continue
                # Every code without an id (its default message) and with one.
                for code, status in HTTP_STATUS.items():
                    for error_id, message in ((None, None), ("QUERY-x1y2", "Errors.Internal")):
                        state.add_error(code=code, id=error_id, message=message, times=1)
                        label = f"forced code {code}, id {error_id}"
                        case = Case(label, "error", status, "POST", SECOND)
                        answers.append(ask(session, mock.url, name, case))
    return answers


def run_checker(checker: Path, kind: str, body: bytes) -> str:
    """Run the checker on one body; return its complaints (empty: valid)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as file:
        file.write(body)
        file.flush()
        run = subprocess.run(
            [sys.executable, str(checker), kind, file.name],
            capture_output=True,
            text=True,
            check=False,
        )
    return "" if run.returncode == 0 else (run.stdout + run.stderr).strip() or "invalid"


def check(checker: Path, answers: list[Answer]) -> int:
    """Run the checker on each answer; print each failure; return how many failed."""
    distinct = sorted({(a.case.kind, a.body) for a in answers})
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = dict(
            zip(distinct, pool.map(lambda key: run_checker(checker, *key), distinct), strict=True)
        )
    failures = 0
    for answer in answers:
        case = answer.case
        where = f"{answer.scenario}: {case.label} ({case.method} {case.path[:60]})"
        if answer.status != case.status:
            failures += 1
            print(f"FAIL {where}: HTTP {answer.status}, expected {case.status}")
        elif verdicts[(case.kind, answer.body)]:
            failures += 1
            print(f"FAIL {where}: {answer.body.decode()}\n  {verdicts[(case.kind, answer.body)]}")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checker", nargs="?", type=Path, default=DEFAULT_CHECKER)
    args = parser.parse_args(argv)
    checker: Path = args.checker
    if not checker.is_file():
        print(f"error: no schema checker at {checker}", file=sys.stderr)
        return 2
    answers = collect()
    failures = check(checker, answers)
    kinds = sorted({a.case.kind for a in answers})
    print(
        f"{len(answers) - failures} of {len(answers)} answers valid "
        f"({', '.join(kinds)}; {len({a.body for a in answers})} distinct) against {checker}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
