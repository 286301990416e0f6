"""Check every kind of answer the mock gives against ZITADEL's own OpenAPI schema.

usage: python scripts/check_answers_schema.py [PATH/TO/schema_check.py]

Serves a scenario over a real socket, collects one answer of each kind (both routes' successes,
the empty answer, every auth check, validation, routing errors, forced errors with and without
an id, every gRPC code), and runs the given schema checker (ZITADEL's schema of the two routes,
unknown fields forbidden) on each. Exits 1 if any answer fails.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from zitadel_mock import MockServer, State, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SECOND = "/management/v1/policies/login/second_factors/_search"
ALICE = "/management/v1/users/1/auth_factors/_search"
SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22.123456789Z"
instance: {members: [{user: viewer, roles: [IAM_OWNER_VIEWER]}]}
orgs:
  - name: A
    id: "100"
    login_policy: {second_factors: [otp, u2f, otp_email, otp_sms], processed_sequence: 5}
    members: [{user: admin, roles: [ORG_OWNER]}, {user: settings, roles: [ORG_SETTINGS_MANAGER]}]
    users:
      - username: alice
        id: "1"
        auth_factors:
          - otp
          - {type: u2f, name: Key}
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


def cases() -> list[tuple[str, str, str, dict[str, str]]]:
    """(kind, method, path, headers) for each kind of answer."""
    admin = {"Authorization": "Bearer admin"}
    return [
        ("second_factors", "POST", SECOND, admin),
        (
            "second_factors",
            "POST",
            SECOND,
            {"Authorization": "Bearer viewer", "x-zitadel-orgid": "200"},
        ),
        ("auth_factors", "POST", ALICE, admin),
        ("auth_factors", "POST", "/management/v1/users/404/auth_factors/_search", admin),
        ("error", "POST", SECOND, {}),
        ("error", "POST", SECOND, {"Authorization": "Basic x"}),
        ("error", "POST", SECOND, {"Authorization": "Bearer old"}),
        ("error", "POST", SECOND, {**admin, "x-zitadel-orgid": "nope"}),
        ("error", "POST", SECOND, {"Authorization": "Bearer loner"}),
        ("error", "POST", ALICE, {"Authorization": "Bearer settings"}),
        ("error", "POST", "/management/v1/users/" + "x" * 201 + "/auth_factors/_search", admin),
        ("error", "POST", "/nope", admin),
        ("error", "GET", SECOND, admin),
    ]


def collect(url: str, state: State) -> list[tuple[str, str, bytes]]:
    answers: list[tuple[str, str, bytes]] = []
    with requests.Session() as session:
        for kind, method, path, headers in cases():
            answer = session.request(method, url + path, headers=headers)
            answers.append((kind, f"{method} {path[:60]} -> {answer.status_code}", answer.content))
        for code in range(1, 17):
            for error_id in (None, "TEST-x1"):
                state.add_error(code=code, id=error_id, times=1)
                answer = session.post(url + SECOND, headers=admin_headers())
                label = f"forced code {code} id={error_id} -> {answer.status_code}"
                answers.append(("error", label, answer.content))
    return answers


def admin_headers() -> dict[str, str]:
    return {"Authorization": "Bearer admin"}


def main(argv: list[str]) -> int:
    checker = (
        Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "tools" / "schema_check.py"
    )
    if not checker.is_file():
        print(f"error: no schema checker at {checker}", file=sys.stderr)
        return 2
    state = State(parse_scenario(SCENARIO))
    with MockServer(state) as mock:
        answers = collect(mock.url, state)
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for i, (kind, label, body) in enumerate(answers):
            path = Path(folder) / f"{i}.json"
            path.write_bytes(body)
            run = subprocess.run(
                [sys.executable, str(checker), kind, str(path)], capture_output=True, text=True
            )
            if run.returncode != 0:
                failures += 1
                print(f"FAIL {kind} {label}: {body.decode()}\n{run.stdout}{run.stderr}")
    print(f"{len(answers) - failures} of {len(answers)} answers valid against {checker.name}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
