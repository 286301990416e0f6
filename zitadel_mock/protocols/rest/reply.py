"""A REST answer's headers as ZITADEL's gateway sends them, their setting on falcon, the 500."""

from __future__ import annotations

import traceback
from typing import Any

from ...answers import Answer
from ...clock import http_date
from ...codes import ZError
from ...state import State
from .protojson import FIXED_HEADERS, error_body
from .request_ids import REQUEST_IDS

__all__ = ["answer_headers", "crashed", "send"]

INTERNAL = ZError(13, "An internal error occurred")

_HEADERS = (("Content-Type", "application/json"), *FIXED_HEADERS)

new_request_id = REQUEST_IDS.new_at


def answer_headers(state: State, answer: Answer) -> list[tuple[str, str]]:
    """The answer's headers (its Content-Length aside), each answer with ids of its own."""
    now = state.now_ns()
    second = now // 1_000_000_000
    headers = [*_HEADERS, ("Expires", http_date(now))]  # http_date formats a second once
    if state.view.request_ids:
        # From 4.13.0. The gateway's header is derived from ZITADEL's code, not seen on a live
        # server: REST asks the gRPC server again inside, which makes a second id (PROTOCOLS.md
        # section 0).
        headers += (
            ("X-Request-Id", new_request_id(second)),
            ("Grpc-Metadata-X-Request-Id", new_request_id(second)),
        )
    if answer.www_authenticate:
        headers.append(("WWW-Authenticate", answer.www_authenticate))
    return headers


def send(resp: Any, state: State, answer: Answer) -> None:
    """Answer on falcon's response."""
    resp.status = answer.status
    resp.data = answer.body
    resp.set_headers(answer_headers(state, answer))


def crashed(state: State) -> Answer:
    """The 500 for the exception being handled, which is kept for the test to report."""
    state.record_server_error(traceback.format_exc())
    return Answer(500, error_body(INTERNAL))
