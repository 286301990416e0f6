"""Cleartext HTTP/2 (h2c) on the HTTP/1.1 server's port, as ZITADEL's one listener has it.

The HTTP/1.1 server (waitress) hands over each connection that opens with HTTP/2's preface
(prior knowledge) or asks ``Upgrade: h2c``; from then on it is served here, by the ``h2``
library's protocol state machine on one asyncio loop thread for every such connection.

A stream that is native gRPC (HTTP/2, POST, ``application/grpc[+proto|+json]``: ZITADEL's
``RouteGRPC``) is answered on the loop itself (``grpc.native``: the answer is decided in
microseconds; waits are timers). Every other stream (REST, gRPC-web, the control API, an
unknown path) goes to the same WSGI app as HTTP/1.1, on a worker thread.

Bounds: at most ``max_connections`` connections; 100 concurrent streams a connection; header
lists of at most 64 KiB (hpack's limit); a request body within its route's limit (4 MiB for a
gRPC message, the server's body limit otherwise); at most 32 MiB of request bodies buffered a
connection (more: GOAWAY ``ENHANCE_YOUR_CALM``); a connection with no open stream is closed
after ``idle_timeout`` seconds; reading stops while a client does not read what is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RemoteSettingsChanged,
    RequestReceived,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from h2.exceptions import ProtocolError, StreamClosedError
from h2.settings import SettingCodes, Settings

from ..clock import http_date
from ..limits import limit_answer
from .rest.connection import WIRE_KEY, Wire

__all__ = ["PREFACE", "H2cServer", "Stream", "Upgrade"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_STREAMS = 100
MAX_HEADER_LIST = 64 * 1024
MAX_BUFFERED = 32 * 1024 * 1024
WRITE_HIGH_WATER = 1024 * 1024
# Headers HTTP/2 forbids in a message (RFC 9113 8.2.2); a WSGI app may still set them.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
)


@dataclass(frozen=True)
class Upgrade:
    """An HTTP/1.1 request that asked ``Upgrade: h2c``: it becomes stream 1."""

    settings: str  # the HTTP2-Settings header
    method: str
    path: str  # with the query string
    headers: list[tuple[str, str]]  # lower-case names, without the hop-by-hop ones
    body: bytes


@dataclass
class Stream:
    """One request stream: what arrived, and whether it is still there to be answered."""

    id: int
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)
    arrived_ns: int = field(default_factory=time.time_ns)
    started: float = field(default_factory=time.perf_counter)
    gone: threading.Event = field(default_factory=threading.Event)  # reset, or connection lost
    refused: bool = False  # answered before its body ended (too large): the rest is dropped
    answered: bool = False
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def method(self) -> str:
        return self.header(":method") or ""

    @property
    def path(self) -> str:
        return self.header(":path") or ""

    def metadata(self) -> dict[str, str]:
        """Lower-case names to first values, pseudo-headers left out."""
        out: dict[str, str] = {}
        for key, value in self.headers:
            if not key.startswith(":"):
                out.setdefault(key, value)
        return out


class _Outgoing:
    __slots__ = ("data", "trailers")

    def __init__(self, data: bytes, trailers: list[tuple[str, str]] | None) -> None:
        self.data = data
        self.trailers = trailers


StreamHandler = Callable[["Connection", Stream], None]
StreamRouter = Callable[[Stream], "StreamHandler | None"]


class Connection(asyncio.Protocol):
    """One HTTP/2 connection: the h2 state machine fed from the socket, answers sent back."""

    def __init__(self, server: H2cServer, received: bytes, upgrade: Upgrade | None) -> None:
        self.server = server
        self.received = received
        self.upgrade = upgrade
        self.h2 = H2Connection(
            H2Configuration(client_side=False, header_encoding=None, validate_inbound_headers=True)
        )
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, Stream] = {}
        self.outgoing: dict[int, _Outgoing] = {}
        self.buffered = 0
        self.last_active = time.monotonic()
        self.peer = ("", 0)

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = (str(peer[0]), int(peer[1]))
        self.server.connections.add(self)
        self.h2.local_settings = Settings(
            client=False,
            initial_values={
                SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
                SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST,
            },
        )
        if self.upgrade is not None:
            try:
                self.h2.initiate_upgrade_connection(self.upgrade.settings.encode("latin-1"))
            except (ProtocolError, ValueError, TypeError):
                transport.write(_http1_error(400, "invalid HTTP2-Settings header"))
                transport.close()
                return
            transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
            )
            self._flush()
            self._upgraded(self.upgrade)
        else:
            self.h2.initiate_connection()
            self._flush()
        if self.received:
            self.data_received(self.received)
            self.received = b""

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        try:
            events = self.h2.receive_data(data)
        except ProtocolError:
            self._flush()  # h2 queued a GOAWAY naming the error
            self.close()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self._request(event.stream_id, event.headers)
            elif isinstance(event, DataReceived):
                self._data(event.stream_id, event.data, event.flow_controlled_length)
            elif isinstance(event, (StreamEnded, TrailersReceived)):
                if isinstance(event, TrailersReceived) and not event.stream_ended:
                    continue
                self._ended(event.stream_id)
            elif isinstance(event, StreamReset):
                self._gone(event.stream_id)
            elif isinstance(event, (WindowUpdated, RemoteSettingsChanged)):
                self._pump()
            elif isinstance(event, ConnectionTerminated):
                self.close()
                return
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        for stream_id in list(self.streams):
            self._gone(stream_id)
        self.transport = None

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()  # a client that does not read gets no more answers

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    # -- requests

    def _request(self, stream_id: int, raw: list[tuple[bytes, bytes]]) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
        self.streams[stream_id] = Stream(stream_id, headers)

    def _upgraded(self, upgrade: Upgrade) -> None:
        host = next((v for k, v in upgrade.headers if k == "host"), "")
        headers = [
            (":method", upgrade.method),
            (":path", upgrade.path),
            (":scheme", "http"),
            (":authority", host),
            *((k, v) for k, v in upgrade.headers if k != "host"),
        ]
        stream = Stream(1, headers, bytearray(upgrade.body))
        self.streams[1] = stream
        self._dispatch(stream)

    def _data(self, stream_id: int, data: bytes, flow: int) -> None:
        with contextlib.suppress(StreamClosedError, ProtocolError):
            self.h2.acknowledge_received_data(flow, stream_id)
        stream = self.streams.get(stream_id)
        if stream is None or stream.refused:
            return
        stream.body += data
        self.buffered += len(data)
        if self.buffered > MAX_BUFFERED:
            self.h2.close_connection(ErrorCodes.ENHANCE_YOUR_CALM)
            self._flush()
            self.close()
            return
        handler = self.server.route(stream)
        if handler is not None:
            if self.server.early(stream):  # e.g. a gRPC frame announcing too much: answer now
                stream.refused = True
                handler(self, stream)
                self._release(stream)
        elif len(stream.body) > self.server.max_body:
            stream.refused = True
            self.server.too_large(self, stream)

    def _ended(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.refused:
            return
        self._dispatch(stream)

    def _dispatch(self, stream: Stream) -> None:
        handler = self.server.route(stream)
        if handler is not None:
            handler(self, stream)
        else:
            self.server.pool().submit(self.server.run_wsgi, self, stream)

    def _gone(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        self.outgoing.pop(stream_id, None)
        if stream is not None:
            stream.gone.set()
            for timer in stream.timers:
                timer.cancel()
            self._release(stream)

    def _release(self, stream: Stream) -> None:
        self.buffered -= len(stream.body)
        stream.body = bytearray()

    # -- answers (on the loop thread)

    def later(self, stream: Stream, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``seconds`` unless the stream is gone by then."""
        loop = asyncio.get_running_loop()

        def fire() -> None:
            if not stream.gone.is_set() and not stream.answered:
                action()
                self._flush()

        stream.timers.append(loop.call_later(seconds, fire))

    def respond(
        self,
        stream: Stream,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        trailers: list[tuple[str, str]] | None = None,
    ) -> None:
        """Send headers (``:status`` first), the body, then trailers or the end of the stream."""
        if stream.answered or stream.gone.is_set() or self.transport is None:
            return
        stream.answered = True
        for timer in stream.timers:
            timer.cancel()
        self._release(stream)
        try:
            self.h2.send_headers(stream.id, headers, end_stream=not body and trailers is None)
        except (StreamClosedError, ProtocolError):
            return
        if body or trailers is not None:
            self.outgoing[stream.id] = _Outgoing(body, trailers)
            self._pump()
        self._done(stream.id)
        self._flush()

    def reset(self, stream: Stream, code: ErrorCodes = ErrorCodes.INTERNAL_ERROR) -> None:
        """End the stream with RST_STREAM, no answer."""
        stream.answered = True
        with contextlib.suppress(StreamClosedError, ProtocolError):
            self.h2.reset_stream(stream.id, code)
        self._gone(stream.id)
        self._flush()

    def abort(self, *, reset: bool = False, noise: bytes = b"") -> None:
        """Drop the whole connection: with a TCP reset, or after writing ``noise``."""
        transport = self.transport
        if transport is None:
            return
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            return
        if noise:
            transport.write(noise)
        transport.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _done(self, stream_id: int) -> None:
        if stream_id not in self.outgoing:
            self.streams.pop(stream_id, None)

    def _pump(self) -> None:
        """Send what flow control allows now; the rest waits for WINDOW_UPDATE."""
        h2 = self.h2
        for stream_id, out in list(self.outgoing.items()):
            try:
                while out.data:
                    window = h2.local_flow_control_window(stream_id)
                    if window <= 0:
                        break
                    size = min(window, h2.max_outbound_frame_size, len(out.data))
                    chunk, out.data = out.data[:size], out.data[size:]
                    h2.send_data(stream_id, chunk, end_stream=not out.data and out.trailers is None)
                if out.data:
                    continue
                if out.trailers is not None:
                    h2.send_headers(stream_id, out.trailers, end_stream=True)
            except (StreamClosedError, ProtocolError):
                pass
            del self.outgoing[stream_id]
            self._done(stream_id)

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)


def _http1_error(status: int, message: str) -> bytes:
    body = message.encode()
    return (
        f"HTTP/1.1 {status} Bad Request\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


class H2cServer:
    """Every HTTP/2 connection of one mock server, on one event loop thread (started on use).

    ``route(stream)`` picks the loop-side handler of a stream (native gRPC), or None for the WSGI
    app; ``early(stream)`` tells whether that handler should answer a stream before its body
    has ended (a message over its limit). Other streams are refused past ``max_body`` bytes.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        route: StreamRouter,
        early: Callable[[Stream], bool],
        max_body: int,
        max_connections: int = 1000,
        idle_timeout: float = 120.0,
        workers: int = 32,
    ) -> None:
        self.app = app
        self.route = route
        self.early = early
        self.max_body = max_body
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.workers = workers
        self.connections: set[Connection] = set()
        self.stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    # -- life cycle

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.call_later(1.0, self._sweep)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="zitadel-mock-h2c", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="zitadel-mock-h2")
            return self._pool

    def adopt(self, sock: socket.socket, received: bytes, upgrade: Upgrade | None = None) -> None:
        """Serve ``sock`` from now on (any thread): ``received`` is what was read of it so far."""
        if self.stopping.is_set():
            sock.close()
            return
        loop = self._start()

        def take() -> None:
            if len(self.connections) >= self.max_connections or self.stopping.is_set():
                sock.close()
                return
            sock.setblocking(False)

            async def connect() -> None:
                try:
                    await loop.connect_accepted_socket(
                        lambda: Connection(self, received, upgrade), sock
                    )
                except OSError:
                    sock.close()

            loop.create_task(connect())

        loop.call_soon_threadsafe(take)

    def stop(self) -> None:
        """Close every connection, wake the requests waiting, and end the loop thread."""
        self.stopping.set()
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:

            def close_all() -> None:
                for connection in list(self.connections):
                    for stream in connection.streams.values():
                        stream.gone.set()
                    if connection.transport is not None:
                        connection.transport.abort()
                loop.call_soon(loop.stop)

            loop.call_soon_threadsafe(close_all)
            thread.join(5)
            if not thread.is_alive():
                loop.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _sweep(self) -> None:
        """Close connections idle past ``idle_timeout`` (every second)."""
        now = time.monotonic()
        for connection in list(self.connections):
            if not connection.streams and now - connection.last_active > self.idle_timeout:
                connection.h2.close_connection()
                connection._flush()
                connection.close()
        if self._loop is not None and not self.stopping.is_set():
            self._loop.call_later(1.0, self._sweep)

    # -- the WSGI app, on a worker thread

    def run_wsgi(self, connection: Connection, stream: Stream) -> None:
        environ = self._environ(connection, stream)
        wire = Wire(None, stream.gone)
        environ[WIRE_KEY] = wire
        reply: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            reply["status"], reply["headers"] = status, headers
            return lambda data: None

        try:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # the app answers its own errors; this is a bug in the mock
            reply = {"status": "500 Internal Server Error", "headers": []}
            body = b""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        status = int(str(reply.get("status", "500")).split(" ", 1)[0])
        headers = [(":status", str(status))]
        headers += [
            (k.lower(), v) for k, v in reply.get("headers", ()) if k.lower() not in _HOP_BY_HOP
        ]
        headers.append(("date", http_date(time.time_ns())))

        def send() -> None:
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

    def _environ(self, connection: Connection, stream: Stream) -> dict[str, Any]:
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

    def too_large(self, connection: Connection, stream: Stream) -> None:
        """A body over the server's limit: the JSON error waitress would answer, then no more."""
        code, body = limit_answer(413, "", _Limits(self.max_body))
        headers = [
            (":status", "413"),
            ("content-type", "application/json"),
            ("content-length", str(len(body))),
        ]
        del code
        connection.respond(stream, headers, body)


@dataclass(frozen=True)
class _Limits:
    """What ``limit_answer`` reads of waitress's options."""

    limit: int

    @property
    def max_request_body_size(self) -> int:
        return self.limit + 1
