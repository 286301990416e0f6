"""A server for the throughput benchmark, in its own process: the mock, or a bare falcon app.

usage: python benchmarks/targets.py {mock,mock-pool,bare,bare-pool} PORT

Both run on the same waitress settings: ``mock``/``bare`` answer on the serving thread (the
mock's default), ``*-pool`` use waitress's usual pool of 4 worker threads. The bare app answers
every POST with a fixed JSON body: the cost of falcon and waitress alone.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import falcon

from zitadel_mock import MockServer, load_scenario
from zitadel_mock.server import InlineDispatcher

QUICKSTART = Path(__file__).resolve().parent.parent / "fixtures" / "quickstart.yaml"
BODY = b'{"details":{"totalResult":"2","viewTimestamp":"2025-08-28T10:46:22.123456Z"},"result":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"]}'  # noqa: E501


class Fixed:
    def on_post(self, req: falcon.Request, resp: falcon.Response, **params: Any) -> None:
        resp.content_type = "application/json"
        resp.data = BODY


def bare_app() -> falcon.App:
    app = falcon.App()
    app.add_route("/management/v1/policies/login/second_factors/_search", Fixed())
    app.add_route("/management/v1/users/{user_id}/auth_factors/_search", Fixed())
    return app


def main(kind: str, port: int) -> None:
    threads = 4 if kind.endswith("-pool") else 0
    server = MockServer(load_scenario(QUICKSTART), port=port, threads=threads)
    if kind.startswith("bare"):
        # The same MockServer machinery (socket, loop, dispatcher), with the bare app.
        import zitadel_mock.server as module

        module.create_app = lambda state: bare_app()  # type: ignore[assignment]
    server.start()
    assert isinstance(server._dispatcher, InlineDispatcher) == (threads == 0)
    print(f"ready {server.url}", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
