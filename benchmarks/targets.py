"""A server for the throughput benchmark, in its own process: the mock, or a bare falcon app.

usage: python benchmarks/targets.py {mock,bare} THREADS

Both run on exactly the same waitress code path (zitadel_mock.server's bind,
zitadel_mock._waitress.loop's build_waitress and run_waitress); THREADS=0 answers on the serving
thread (the mock's default), THREADS=4 uses waitress's usual pool. The bare app answers every
POST with a fixed JSON body: the cost of falcon and waitress alone. Prints the URL, serves
until stdin closes.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import falcon

from zitadel_mock import create_app, load_scenario
from zitadel_mock._waitress.loop import build_waitress, run_waitress
from zitadel_mock.server import bind

QUICKSTART = Path(__file__).resolve().parent.parent / "fixtures" / "quickstart.yaml"
BODY = (
    b'{"details":{"totalResult":"2","viewTimestamp":"2025-08-28T10:46:22.123456Z"},'
    b'"result":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"]}'
)


class Fixed:
    def on_post(self, req: falcon.Request, resp: falcon.Response, **params: Any) -> None:
        resp.content_type = "application/json"
        resp.data = BODY


def bare_app() -> falcon.App:
    app = falcon.App()
    app.add_route("/management/v1/policies/login/second_factors/_search", Fixed())
    app.add_route("/management/v1/users/{user_id}/auth_factors/_search", Fixed())
    return app


def main(kind: str, threads: int) -> None:
    app = create_app(load_scenario(QUICKSTART)) if kind == "mock" else bare_app()
    server = build_waitress(app, bind("127.0.0.1", 0), threads)
    print(f"http://127.0.0.1:{server.socket.getsockname()[1]}", flush=True)
    threading.Thread(target=run_waitress, args=(server,), daemon=True).start()
    sys.stdin.read()  # serve until the benchmark closes our stdin


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
