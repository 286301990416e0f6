"""The request path's cost in process, per ZITADEL version profile (the request ids of 4.13.0).

usage: python benchmarks/bench_versions.py [--rounds N] [--requests N]

Calls the WSGI app directly (no socket, no test client), the same request over and over, so
the answer memo serves every answer and what is left is the request path itself: routing,
headers, the journal, and, from 4.13.0, two request ids. Prints microseconds per request,
the best of N rounds, for each profile. Profiles the code does not know (a checkout from
before zitadel_version) are served as its only profile.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from zitadel_mock import State, create_app, parse_scenario

SCENARIO = """
version: 1
{version}
orgs:
  - name: ACME
    members: [{{user: admin, roles: [ORG_OWNER]}}]
    users:
      - {{username: alice, id: "101", auth_factors: [otp, u2f]}}
      - {{username: admin, type: machine}}
tokens: [{{token: t, user: admin}}]
"""
ROUTES = {
    "second factors": "/management/v1/policies/login/second_factors/_search",
    "auth factors": "/management/v1/users/101/auth_factors/_search",
}


def environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "mock",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": "Bearer t",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
    }


def per_request(app: Any, path: str, requests: int, rounds: int) -> float:
    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        pass

    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(requests):
            b"".join(app(environ(path), start_response))
        best = min(best, (time.perf_counter() - began) / requests)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    for version in ("4.12.1", "4.13.1"):
        try:
            scenario = parse_scenario(SCENARIO.format(version=f"zitadel_version: '{version}'"))
        except Exception:  # a checkout without version profiles
            scenario = parse_scenario(SCENARIO.format(version=""))
            version = "(no profiles)"
        state = State(scenario, journal_size=100)
        app = create_app(state)
        for name, path in ROUTES.items():
            micro = per_request(app, path, args.requests, args.rounds)
            print(f"{version:14} {name:15} {micro:7.1f} us/request")


if __name__ == "__main__":
    main()
