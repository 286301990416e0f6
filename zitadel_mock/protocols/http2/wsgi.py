"""The WSGI app behind HTTP/2 streams that are not native gRPC (REST, gRPC-web, control API)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import time
from typing import Any
from urllib.parse import unquote_to_bytes

from ...clock import http_date
from ...limits import body_too_large
from ..rest.connection import WIRE_KEY, Wire
from .connection import Connection
from .streams import Stream

__all__ = ["make_environ", "run_wsgi", "too_large"]

# Headers HTTP/2 forbids in a message (RFC 9113 8.2.2); a WSGI app may still set them.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
)


def run_wsgi(
    app: Any, loop: asyncio.AbstractEventLoop | None, connection: Connection, stream: Stream
) -> None:
    """Call the WSGI app for one stream (on a worker thread); the loop sends the answer."""
    if stream.gone.is_set() and loop is not None:  # reset while it waited for a worker
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(connection.served_elsewhere)
        return
    environ = make_environ(connection, stream)
    wire = Wire(None, stream.gone)
    environ[WIRE_KEY] = wire
    reply: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
        reply["status"], reply["headers"] = status, headers
        return lambda data: None

    try:
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:  # the app answers its own errors; this is a bug in the mock
        reply = {"status": "500 Internal Server Error", "headers": []}
        body = b""
    if loop is None or loop.is_closed():
        return
    status = int(str(reply.get("status", "500")).split(" ", 1)[0])
    headers = [(":status", str(status))]
    headers += [(k.lower(), v) for k, v in reply.get("headers", ()) if k.lower() not in _HOP_BY_HOP]
    headers.append(("date", http_date(time.time_ns())))

    def send() -> None:
        connection.served_elsewhere()
        if wire.fault == "connection_reset":
            connection.abort(reset=True)
        elif wire.fault == "random_data_then_close":
            connection.abort(noise=wire.noise)
        elif wire.fault is not None:  # empty_response: the stream ends with no answer
            connection.reset(stream)
        else:
            connection.respond(stream, headers, body)

    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the server stopped
        loop.call_soon_threadsafe(send)


def make_environ(connection: Connection, stream: Stream) -> dict[str, Any]:
    path, _, query = stream.path.partition("?")
    authority = stream.header(":authority") or ""
    host, port = authority, ""
    if authority.count(":") == 1:
        host, _, port = authority.partition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": stream.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": host or "localhost",
        "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/2.0",
        "REMOTE_ADDR": connection.peer[0],
        "REMOTE_PORT": str(connection.peer[1]),
        "CONTENT_LENGTH": str(len(stream.body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(bytes(stream.body)),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if authority:
        environ["HTTP_HOST"] = authority
    for name, value in stream.headers:
        if name.startswith(":"):
            continue
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        if name == "content-length":
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            joiner = "; " if name == "cookie" else ", "
            environ[key] = f"{environ[key]}{joiner}{value}"
        else:
            environ[key] = value
    return environ


def too_large(max_body: int, connection: Connection, stream: Stream) -> None:
    """A body over the server's limit: the JSON error waitress would answer, then no more."""
    body = body_too_large(max_body)
    headers = [
        (":status", "413"),
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
    ]
    connection.respond(stream, headers, body)
