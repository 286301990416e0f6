"""The v1 routes' plain POSTs answered before falcon dispatches them: the same answer, less work.

A client calls ListLoginPolicySecondFactors and ListHumanAuthFactors over and over; falcon's
request and response objects, its router, its middleware and its header handling cost more
than the mock's own answer to such a call (about a quarter of the mock's whole cost of a
request over a socket, measured in BENCHMARKS.md "Access log"). So the WSGI app takes, before
falcon, exactly the calls that need none of it: a POST to one of the two v1 paths, ASCII, no
namespace header, not gRPC-web. They are answered by the very functions the falcon routes use
(``answers.handle``, ``calls.wsgi_request``, ``reply.answer_headers``; an exception is
recorded and answered 500 as the routes' handler does), and everything else, including each
of those paths with any other method, goes to falcon. ``tests/protocols/test_direct.py`` sends
the same calls both ways and compares the bytes on the wire and the journal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import falcon

from ...answers import handle
from ...model import LIST_AUTH_FACTORS, LIST_SECOND_FACTORS
from ...namespaces import Namespaces
from ..grpc.web import GRPC_WEB
from .calls import NAMESPACE_KEY, wsgi_request
from .connection import deliver_wsgi
from .reply import answer_headers, crashed

__all__ = ["DirectApp"]

SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"
_AUTH_FACTORS = re.compile(r"/management/v1/users/([^/]+)/auth_factors/_search")
# Falcon's status lines of the statuses the routes answer most, looked up, not worked out.
_STATUS_LINES = {code: falcon.code_to_http_status(code) for code in (200, 400, 401, 403, 404, 429)}
# The status lines falcon sends without a body (its own set, from its public constants).
_BODILESS = frozenset((falcon.HTTP_100, falcon.HTTP_101, falcon.HTTP_204, falcon.HTTP_304))


class DirectApp(falcon.App):  # type: ignore[type-arg]  # not generic in falcon 4.0
    """Falcon's WSGI app, answering the v1 routes' plain POSTs itself (see the module)."""

    def __init__(self, spaces: Namespaces, **options: Any) -> None:
        super().__init__(**options)
        self.spaces = spaces

    def __call__(self, env: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if env.get("REQUEST_METHOD") == "POST" and NAMESPACE_KEY not in env:
            path = env.get("PATH_INFO", "")
            if path == SECOND_FACTORS:
                rpc, user_id = LIST_SECOND_FACTORS, None
            elif (found := _AUTH_FACTORS.fullmatch(path)) is not None and path.isascii():
                rpc, user_id = LIST_AUTH_FACTORS, found.group(1)
            else:
                rpc = ""
            if rpc and not env.get("CONTENT_TYPE", "").startswith(GRPC_WEB):
                return self._answer(env, start_response, path, rpc, user_id)
        return super().__call__(env, start_response)

    def _answer(
        self,
        env: dict[str, Any],
        start_response: Callable[..., Any],
        path: str,
        rpc: str,
        user_id: str | None,
    ) -> list[bytes]:
        state = self.spaces.default
        try:
            answer = handle(state, wsgi_request(env, "POST", path, rpc, user_id))
            if answer.injection is not None and not deliver_wsgi(env, answer.injection):
                # The connection is dropped: what is written goes nowhere.
                start_response("200 OK", [("Content-Length", "0")])
                return []
            headers = answer_headers(state, answer)
        except Exception:  # as the falcon app's handler: kept for the test, answered 500
            answer = crashed(state)
            headers = answer_headers(state, answer)
        status = _STATUS_LINES.get(answer.status) or falcon.code_to_http_status(answer.status)
        if status in _BODILESS:
            start_response(status, headers)
            return []
        headers.append(("Content-Length", str(len(answer.body))))
        start_response(status, headers)
        return [answer.body]
