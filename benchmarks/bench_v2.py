"""The request path's cost in process: v1 REST against the v2 RPCs over REST and Connect.

usage: python benchmarks/bench_v2.py [--rounds N] [--requests N]

Calls the WSGI app directly (no socket, no test client), the same request over and over, so the
answer memo serves every answer and what is left is each protocol's path: routing, reading and
decoding the body (Connect), encoding the answer (Connect binary: kept per answer body), headers
and the journal. Prints microseconds per request, the best of N rounds, and each one's ratio to
v1's REST route.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from typing import Any

from zitadel_mock import State, create_app, parse_scenario

SCENARIO = """
version: 1
orgs:
  - name: ACME
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - {username: alice, id: "101", auth_factors: [otp, u2f]}
      - {username: admin, type: machine}
tokens: [{token: t, user: admin}]
"""
PROTO_BODY = b"\x0a\x03101"  # ListAuthenticationFactorsRequest{user_id: "101"}
CASES = {
    "v1 REST auth factors": ("POST", "/management/v1/users/101/auth_factors/_search", "", b""),
    "v2 REST auth factors": (
        "POST",
        "/v2/users/101/authentication_factors/_search",
        "states=AUTH_FACTOR_STATE_READY",
        b"",
    ),
    "v2 Connect JSON": (
        "POST",
        "/zitadel.user.v2.UserService/ListAuthenticationFactors",
        "application/json",
        b'{"userId":"101"}',
    ),
    "v2 Connect binary": (
        "POST",
        "/zitadel.user.v2.UserService/ListAuthenticationFactors",
        "application/proto",
        PROTO_BODY,
    ),
}


def environ(method: str, path: str, extra: str, body: bytes) -> dict[str, Any]:
    connect = extra.startswith("application/")
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "" if connect else extra,
        "SERVER_NAME": "mock",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": "Bearer t",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }
    if connect:
        env["CONTENT_TYPE"] = extra
    return env


def per_request(app: Any, case: tuple[str, str, str, bytes], requests: int, rounds: int) -> float:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        statuses.append(status)

    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(requests):
            b"".join(app(environ(*case), start_response))
        best = min(best, (time.perf_counter() - began) / requests)
    if any(not s.startswith("200") for s in statuses):
        raise SystemExit(f"{case[1]}: not answered 200: {statuses[0]}")
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    app = create_app(State(parse_scenario(SCENARIO), journal_size=100))
    base = 0.0
    for name, case in CASES.items():
        micro = per_request(app, case, args.requests, args.rounds)
        base = base or micro
        print(f"{name:22} {micro:7.1f} us/request  {micro / base:4.2f}x")


if __name__ == "__main__":
    main()
