"""One HTTP/2 connection: the ``h2`` state machine fed from the socket, answers sent back."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import struct
import time
from collections.abc import Callable
from typing import Protocol

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

from .streams import Stream, Upgrade


class Host(Protocol):
    """What a connection asks of its server (``H2cServer``)."""

    connections: set[Connection]
    max_body: int

    def route(self, stream: Stream) -> StreamHandler | None: ...
    def early(self, stream: Stream) -> bool: ...
    def too_large(self, connection: Connection, stream: Stream) -> None: ...
    def serve_elsewhere(self, connection: Connection, stream: Stream) -> None: ...


__all__ = ["MAX_BUFFERED", "MAX_HEADER_LIST", "MAX_STREAMS", "Connection", "StreamHandler"]

MAX_STREAMS = 100
MAX_HEADER_LIST = 64 * 1024
MAX_BUFFERED = 32 * 1024 * 1024
WRITE_HIGH_WATER = 1024 * 1024


class _Outgoing:
    __slots__ = ("data", "trailers")

    def __init__(self, data: bytes, trailers: list[tuple[str, str]] | None) -> None:
        self.data = data
        self.trailers = trailers


StreamHandler = Callable[["Connection", Stream], None]
StreamRouter = Callable[[Stream], "StreamHandler | None"]


class Connection(asyncio.Protocol):
    """One HTTP/2 connection: the h2 state machine fed from the socket, answers sent back."""

    def __init__(self, server: Host, received: bytes, upgrade: Upgrade | None) -> None:
        self.server = server
        self.received = received
        self.upgrade = upgrade
        self.h2 = H2Connection(
            H2Configuration(
                client_side=False,
                header_encoding=None,
                validate_inbound_headers=True,
                # Ours are lower-case names and values without line breaks: checking them again
                # cost a third of a call.
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
            )
        )
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, Stream] = {}
        self.outgoing: dict[int, _Outgoing] = {}
        self.buffered = 0
        self.elsewhere = 0  # streams handed to worker threads and not yet answered
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
                self.h2.initiate_upgrade_connection(_settings(self.upgrade.settings))
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
        stream.dispatched = True
        handler = self.server.route(stream)
        if handler is not None:
            handler(self, stream)
        elif self.elsewhere >= MAX_STREAMS:
            # Streams reset as soon as sent would otherwise queue work without bound.
            self.reset(stream, ErrorCodes.REFUSED_STREAM)
        else:
            self.elsewhere += 1
            self.server.serve_elsewhere(self, stream)

    def served_elsewhere(self) -> None:
        """A stream given to ``serve_elsewhere`` is done (called on the loop)."""
        self.elsewhere -= 1

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


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _settings(header: str) -> bytes:
    """The HTTP2-Settings header, checked: unpadded base64url of 6-byte settings, as x/net's."""
    value = header.strip()
    if not _BASE64URL.fullmatch(value) or len(value) % 4 == 1:
        raise ValueError("HTTP2-Settings is not base64url")
    if len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) % 6:
        raise ValueError("HTTP2-Settings is no list of settings")
    return value.encode("ascii")


def _http1_error(status: int, message: str) -> bytes:
    body = message.encode()
    return (
        f"HTTP/1.1 {status} Bad Request\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
