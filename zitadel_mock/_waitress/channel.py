"""Waitress's channel, parser and WSGI task, subclassed: the mock's limits, deadlines and faults.

See the package's docstring for every waitress attribute used here.
"""

from __future__ import annotations

import contextlib
import copy
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from ..clock import http_date, wall_clock_ns
from ..limits import control_too_large, is_control_path, limit_answer
from ..protocols.rest.connection import WIRE_KEY, Wire
from ..protocols.rest.headers import PARSED_KEY
from ..protocols.rest.protojson import FIXED_HEADERS
from .execute import execute
from .head import build_response_header

__all__ = ["Guard", "fault_channel", "mock_channel_class"]


def _request_timeout(detail: str) -> Any:
    from waitress.utilities import Error

    class RequestTimeout(Error):
        code = 408
        reason = "Request Timeout"

    return RequestTimeout(detail)


def _route_parser(base: type[Any], control_adj: Any) -> type[Any]:
    """Waitress's parser, refusing ambiguous framing and taking each route's body limit."""
    from waitress.parser import ParsingError

    class RouteParser(base):  # type: ignore[misc]
        control = False  # the request is the control API's (its 413 is in its form)
        control_path = False  # the path is the control API's, served or not

        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            # Waitress pops an HTTP/1.1 Transfer-Encoding once it has read it (``chunked``)
            # and leaves an HTTP/1.0 one in the headers, unread.
            framed = self.chunked or "TRANSFER_ENCODING" in self.headers
            if framed and "CONTENT_LENGTH" in self.headers:
                # RFC 9112 6.1: a proxy may frame by one and us by the other; the body could
                # then hide a second request. Refused, and the connection closed.
                raise ParsingError("Content-Length and Transfer-Encoding together")
            if framed and self.version != "1.1":
                raise ParsingError(f"Transfer-Encoding in an HTTP/{self.version or '0.9'} request")
            self.control_path = is_control_path(self.path)
            if control_adj is not None and self.control_path:
                # Read by ``received`` for the body's limit once this returns.
                self.adj = control_adj
                self.control = True

    return RouteParser


class Guard:
    """One server's deadlines for slow and idle connections (``maintenance``).

    Runs on the serving loop's thread, as waitress's own maintenance does; the channels' own
    notes (``head``, ``head_since``) are written by that thread only.
    """

    def __init__(self, server: Any, header_timeout: float) -> None:
        self.server = server
        self.header_timeout = header_timeout
        self.waitress_maintenance = server.maintenance

    def maintenance(self, now: float) -> None:
        self.waitress_maintenance(now)  # idle past channel_timeout
        server, timeout = self.server, self.header_timeout
        channels = list(server.active_channels.values())
        crowded = 2 * len(channels) > server.adj.connection_limit
        monotonic = time.monotonic()
        for channel in channels:
            if (
                channel.requests  # being served: the wait is the mock's, not the client's
                or channel.will_close
                or channel.close_when_flushed
                or channel.total_outbufs_len  # an answer still going out
            ):
                continue
            if channel.head is not None or channel.fresh:
                if monotonic - channel.head_since >= timeout:
                    self.time_out(channel)
            elif channel.request is None and crowded and now - channel.last_activity >= timeout:
                channel.will_close = True  # idle between requests, while others need the room

    def time_out(self, channel: Any) -> None:
        """Answer 408 to a request whose head is late; close a connection that sent nothing."""
        if channel.head is None:
            channel.will_close = True
            return
        with channel.requests_lock:
            late = channel.request
            if channel.requests or late is not channel.head:
                return
            late.close()
            # The error task reads the version and headers of its request: a parsed one.
            answer = channel.parser_class(channel.adj)
            answer.parse_header(b"GET / HTTP/1.1\r\n")
            answer.error = _request_timeout(
                f"the request line and headers did not arrive within {self.header_timeout:g} s"
            )
            answer.completed = True
            channel.request = channel.head = None
            channel.requests.append(answer)  # not readable from now on: the rest is not read
        channel.server.add_task(channel)


def mock_channel_class(
    base: type[Any],
    now_ns: Callable[[], int] | None = None,
    adj: Any = None,
    control_max_body: int | None = None,
) -> type[Any]:
    """A subclass of waitress's channel class ``base``: the mock's error answers and limits.

    Its error answers are JSON envelopes; ``now_ns`` is the clock of their ``Expires`` header
    (the state's: a scenario may freeze it; default: the wall clock). ``control_max_body``: the
    control API's body limit, with the server's options ``adj`` (None: no control API, its
    paths take the server's limit). It notes
    when each request's head began, for ``Guard``. ``task_class`` is left for a subclass.
    """
    error_base: Any = base.error_task_class
    clock = now_ns or wall_clock_ns

    class JsonErrorTask(error_base):  # type: ignore[misc]
        """Waitress's error answer, as a ``google.rpc.Status`` with the mock's headers."""

        def execute(self) -> None:
            request, error = self.request, self.request.error
            self.status = f"{error.code} {error.reason}"
            if error.code == 413 and request.control:
                body = control_too_large(request.adj.max_request_body_size - 1)
                self.response_headers.extend(
                    [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
                )
            else:
                _, body = limit_answer(error.code, str(error.body), request.adj)
                self.response_headers.extend(
                    [
                        ("Content-Type", "application/json"),
                        *FIXED_HEADERS,
                        ("Expires", http_date(clock())),
                    ]
                )
            self.set_close_on_finish()
            # Closed whatever the request asked: without this, an HTTP/1.0 keep-alive request
            # would get both "Connection: close" and waitress's "Connection: Keep-Alive".
            request.headers.pop("CONNECTION", None)
            self.content_length = len(body)
            self.write(body)

    class MockChannel(base):  # type: ignore[misc]
        """Waitress's channel with the mock's error answers, limits and deadline notes."""

        error_task_class = JsonErrorTask
        head: Any = None  # the request whose line and headers are coming in, if any
        head_since = 0.0  # when its first byte came (monotonic); for the first, the connection
        fresh = True  # nothing received yet

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.head_since = time.monotonic()
            super().__init__(*args, **kwargs)

        def received(self, data: bytes) -> bool:
            done: bool = super().received(data)
            request = self.request
            if request is None or request.headers_finished:
                self.head = None
            elif request is not self.head:
                self.head = request
                if not self.fresh:  # a connection's first request counts from the connection
                    self.head_since = time.monotonic()
            if data:
                self.fresh = False
            return done

    control_adj = None
    if control_max_body is not None and adj is not None:
        # The server's options, but the control API's body limit (waitress's bound is one more).
        control_adj = copy.copy(adj)
        control_adj.max_request_body_size = control_max_body + 1
    MockChannel.parser_class = _route_parser(base.parser_class, control_adj)
    return MockChannel


def fault_channel(base: type[Any], stopping: threading.Event) -> type[Any]:
    """A subclass of waitress's channel class ``base`` whose requests carry a ``Wire``."""
    task_base: Any = base.task_class

    class FaultTask(task_base):  # type: ignore[misc]
        """Waitress's WSGI task; a dropped connection is closed, reset or fed noise instead.

        It runs and checks the application as waitress does, and its response head is
        waitress's, each with less work (``execute``, ``head``).
        """

        wire: Wire | None = None
        execute = execute
        build_response_header = build_response_header

        def get_environment(self) -> dict[str, Any]:
            environ: dict[str, Any] = super().get_environment()
            if self.wire is None:
                self.wire = Wire(self.channel.socket, stopping)
                environ[WIRE_KEY] = self.wire
                # The journal's headers, read from these few rather than the whole environ.
                environ[PARSED_KEY] = self.request.headers
            return environ

        def write(self, data: bytes) -> None:
            if self.wire is None or self.wire.fault is None:
                super().write(data)

        def finish(self) -> None:
            if self.wire is None or self.wire.fault is None:
                super().finish()
                return
            if self.wire.fault == "connection_reset":
                # Linger on, with a timeout of zero: close() sends a reset, not a clean end.
                with contextlib.suppress(OSError):
                    self.channel.socket.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
            elif self.wire.fault == "random_data_then_close":
                self.channel.write_soon(self.wire.noise)
            self.close_on_finish = True  # the channel closes once what was written is sent

    class FaultChannel(base):  # type: ignore[misc]
        task_class = FaultTask

    return FaultChannel
