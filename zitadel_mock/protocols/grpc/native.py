"""Native gRPC over HTTP/2, as grpc-go's ``ServeHTTP`` transport frames it inside ZITADEL.

HTTP 200 always; ``content-type`` echoes the request's; the trailers are announced; ZITADEL's
headers go out first, then the message, then the status in a trailer HEADERS frame (never
trailers-only, errors included). ``grpc-timeout`` is honoured: an answer still waiting when it
passes is DEADLINE_EXCEEDED. Faults, as a network would deliver them:

- ``connection_reset``: the TCP connection is reset (every stream on it fails);
- ``random_data_then_close``: random bytes on the connection, then it is closed;
- ``empty_response``: headers, then the stream ends with no message and no status;
- ``malformed_body``: headers, then a frame announcing the whole message that carries half of
  it, and the stream ends with no status;
- ``timeout``: the call is held (the client's deadline, or cancelling, ends it first).
"""

from __future__ import annotations

import re
import traceback

from ...codes import ZError
from ...namespaces import Namespaces
from ..http2 import Connection, Stream
from .calls import MAX_RECEIVE, Incoming, unary
from .status import status_fields

__all__ = ["NativeGrpc", "is_native_grpc"]

_CONTENT_TYPE = re.compile(r"application/grpc(\+proto|\+json)?")
_TIMEOUT = re.compile(r"(\d{1,8})([HMSmun])")
_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
TRAILER = ("trailer", "Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin")
DEADLINE_EXCEEDED = ZError(4, "context deadline exceeded")
INTERNAL = ZError(13, "An internal error occurred")


def is_native_grpc(stream: Stream) -> bool:
    """ZITADEL's ``RouteGRPC``: POST with an anchored gRPC content type (HTTP/2 by now)."""
    content_type = stream.header("content-type") or ""
    return stream.method == "POST" and _CONTENT_TYPE.fullmatch(content_type) is not None


def parse_timeout(value: str) -> float | None:
    """Seconds of a ``grpc-timeout`` value; None if it is malformed."""
    match = _TIMEOUT.fullmatch(value)
    if match is None:
        return None
    return int(match.group(1)) * _UNITS[match.group(2)]


def frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


class NativeGrpc:
    """The stream handler of native gRPC calls, on the HTTP/2 loop."""

    def __init__(self, spaces: Namespaces) -> None:
        self.spaces = spaces

    def route(self, stream: Stream) -> NativeGrpc | None:
        return self if is_native_grpc(stream) else None

    def early(self, stream: Stream) -> bool:
        """Whether to answer now: the frame announces more than the receive limit."""
        body = stream.body
        return len(body) >= 5 and int.from_bytes(body[1:5], "big") > MAX_RECEIVE

    def __call__(self, connection: Connection, stream: Stream) -> None:
        try:
            self.answer(connection, stream)
        except Exception:  # a bug in the mock: INTERNAL, as REST's 500, and the test told
            self.spaces.default.record_server_error(traceback.format_exc())
            headers = [(":status", "200"), ("content-type", "application/grpc"), TRAILER]
            connection.respond(stream, headers, trailers=status_fields(INTERNAL))

    def answer(self, connection: Connection, stream: Stream) -> None:
        content_type = stream.header("content-type") or "application/grpc"
        headers = [(":status", "200"), ("content-type", content_type), TRAILER]
        deadline = None
        timeout = stream.header("grpc-timeout")
        if timeout is not None:
            deadline = parse_timeout(timeout)
            if deadline is None:
                # grpc-go's transport refuses it as plain HTTP, before any gRPC framing.
                text = "malformed grpc-timeout: transport: timeout unit is not recognized: "
                body = (text + '"' + timeout + '"\n').encode()
                connection.respond(
                    stream,
                    [
                        (":status", "400"),
                        ("content-type", "text/plain; charset=utf-8"),
                        ("x-content-type-options", "nosniff"),
                        ("content-length", str(len(body))),
                    ],
                    body,
                )
                return
        body = bytes(stream.body[: MAX_RECEIVE + 5])
        reply = unary(
            self.spaces,
            Incoming(
                stream.path, stream.metadata(), body, "grpc", stream.arrived_ns, stream.started
            ),
        )
        headers += reply.headers
        injection = reply.injection
        fault = injection.fault if injection is not None else None

        def finish() -> None:
            if fault == "connection_reset":
                connection.abort(reset=True)
            elif fault == "random_data_then_close":
                connection.abort(noise=injection.noise if injection is not None else b"")
            elif fault == "empty_response":
                connection.respond(stream, headers)
            elif reply.cut and reply.message is not None:
                whole = frame(reply.message)
                connection.respond(stream, headers, whole[: 5 + len(reply.message) // 2])
            elif reply.error is not None:
                connection.respond(stream, headers, trailers=status_fields(reply.error))
            else:
                connection.respond(
                    stream, headers, frame(reply.message or b""), status_fields(None)
                )

        wait = 0.0
        if injection is not None:
            wait = injection.delay + ((injection.hold or 0.0) if fault == "timeout" else 0.0)
        if deadline is not None and deadline < wait:
            expired = status_fields(DEADLINE_EXCEEDED)
            connection.later(
                stream, deadline, lambda: connection.respond(stream, headers, trailers=expired)
            )
        elif wait > 0:
            connection.later(stream, wait, finish)
        else:
            finish()
