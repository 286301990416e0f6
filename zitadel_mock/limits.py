"""Limits under waitress: what the server itself answers before the app sees a request.

Waitress refuses a request whose body is too large (413, told from ``Content-Length`` before a
byte of the body is read, or while a chunked body comes in), whose request line and headers are
too large (431), that it cannot parse (400) or whose ``Transfer-Encoding`` it does not support
(501), and answers 500 when serving a request fails outside the app. Its own answers are plain
text; ``mock_channel_class`` gives its channel an error task that writes them as every other
answer of the mock: a ``google.rpc.Status`` envelope with the headers the app puts on every
answer. The connection is closed after such an answer, as waitress does, and the rest of an
oversized body is never read.

The gRPC code of each (ZITADEL's reference says nothing about them; its gateway's table maps no
code to 413 or 431, so the HTTP status is waitress's and the code says what went wrong):

======  ==========================  ===================================================
HTTP    code                        why
======  ==========================  ===================================================
400     3 INVALID_ARGUMENT          the table's own pair for a request that is wrong
413     8 RESOURCE_EXHAUSTED        what gRPC answers a message over its size limit
431     8 RESOURCE_EXHAUSTED        the same, for the request line and headers
500     13 INTERNAL                 the table's pair
501     12 UNIMPLEMENTED            the table's pair
======  ==========================  ===================================================

413 and 431 keep their statuses rather than the table's 429 for code 8: a 429 tells a client
to try again later, and the same request would be refused again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .clock import http_date, wall_clock_ns
from .codes import ZError
from .wire import error_body

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "FIXED_HEADERS",
    "limit_answer",
    "mock_channel_class",
    "waitress_limits",
]

DEFAULT_MAX_BODY_SIZE = 1 << 20  # bytes: the largest request body accepted (the routes ignore it)
DEFAULT_MAX_HEADER_SIZE = 1 << 18  # bytes: request line and headers (waitress's own default)

# The headers the app puts on every answer, besides Content-Type and Expires (see app._send).
FIXED_HEADERS = (
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("X-Robots-Tag", "none"),
)

# waitress's status -> the gRPC code of the envelope
CODES = {400: 3, 413: 8, 431: 8, 500: 13, 501: 12}


def waitress_limits(
    max_body_size: int = DEFAULT_MAX_BODY_SIZE, max_header_size: int = DEFAULT_MAX_HEADER_SIZE
) -> dict[str, int]:
    """Waitress's options for these limits, in bytes: the largest body and headers accepted.

    Waitress refuses a body or headers as long as its own bound, so each bound is one more.
    """
    return {
        "max_request_body_size": max_body_size + 1,
        "max_request_header_size": max_header_size + 1,
    }


def limit_answer(status: int, detail: str, adj: Any) -> tuple[int, bytes]:
    """The gRPC code and the envelope for waitress's error ``status`` (``detail``: its text)."""
    code = CODES.get(status, 2)  # 2 UNKNOWN: no other status is known to come from waitress
    if status == 413:
        message = f"request body too large: the limit is {adj.max_request_body_size - 1} bytes"
    elif status == 431:
        message = (
            f"request header fields too large: the limit is {adj.max_request_header_size - 1} bytes"
        )
    elif status == 400:
        message = f"malformed request: {detail}"
    elif status == 501:
        message = f"not implemented: {detail}"
    else:  # never the traceback that waitress may put in its text
        message = "An internal error occurred"
    return code, error_body(ZError(code, message))


def mock_channel_class(base: type[Any], now_ns: Callable[[], int] | None = None) -> type[Any]:
    """A subclass of waitress's channel class ``base`` whose error answers are JSON envelopes.

    ``now_ns`` is the clock of the ``Expires`` header (the state's: a scenario may freeze it;
    default: the wall clock). Only ``error_task_class`` is set: a subclass may set its own
    ``task_class``.
    """
    error_base: Any = base.error_task_class
    clock = now_ns or wall_clock_ns

    class JsonErrorTask(error_base):  # type: ignore[misc]
        """Waitress's error answer, as a ``google.rpc.Status`` with the mock's headers."""

        def execute(self) -> None:
            error = self.request.error
            _, body = limit_answer(error.code, str(error.body), self.channel.server.adj)
            self.status = f"{error.code} {error.reason}"
            self.response_headers.extend(
                [
                    ("Content-Type", "application/json"),
                    *FIXED_HEADERS,
                    ("Expires", http_date(clock())),
                ]
            )
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class MockChannel(base):  # type: ignore[misc]
        """Waitress's channel; its own error answers are ZITADEL's envelope (``JsonErrorTask``)."""

        error_task_class = JsonErrorTask

    return MockChannel
