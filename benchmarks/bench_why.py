"""The request path's cost in process with the journal's ``why`` and the access-log line.

usage: python benchmarks/bench_why.py [--rounds N] [--requests N]

Calls the WSGI app (control API mounted, as ``serve`` does) directly with the headers a real
client sends, the same request over and over, so the answer memo serves every answer: what is
measured is routing, the headers, the journal entry (its why, time, duration and headers) and,
in the second column, the access-log line made of it (formatted, not written). Run it from a
checkout without ``why`` too (PYTHONPATH): the log line is then the old one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from zitadel_mock import State, create_app, parse_scenario
from zitadel_mock.limits import printable

SCENARIO = """
version: 1
orgs:
  - name: ACME
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - {username: alice, id: "101", auth_factors: [otp, u2f]}
      - {username: admin, type: machine}
tokens: [{token: admin-token-0123456789, user: admin}]
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
        "CONTENT_LENGTH": "0",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": "python-requests/2.32.3",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "HTTP_ACCEPT": "*/*",
        "HTTP_CONNECTION": "keep-alive",
        "HTTP_AUTHORIZATION": "Bearer admin-token-0123456789",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
    }


def old_line(call: Any) -> str:
    """The access-log line before ``why`` (cli/serve.py's log_call, formatted)."""
    fault = call.injected.fault if call.injected is not None else None
    forced = f" ({fault})" if fault else " (forced)" if call.forced else ""
    method, path = printable(call.method), printable(call.path)
    return "%s %s %s %d%s" % (method, path, call.rpc or "-", call.status, forced)  # noqa: UP031


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
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    try:
        from zitadel_mock.cli.serve import access_line

        line: Callable[[Any], str] = access_line
    except ImportError:  # a checkout from before why
        line = old_line
    for name, path in ROUTES.items():
        state = State(parse_scenario(SCENARIO), journal_size=100)
        app = create_app(state, control=True)
        bare = per_request(app, path, args.requests, args.rounds)
        state.observers.append(line)
        logged = per_request(app, path, args.requests, args.rounds)
        print(f"{name:15} {bare:6.1f} us/request, {logged:6.1f} with the log line")


if __name__ == "__main__":
    main()
