"""Every HTTP/2 connection of one mock server, on one asyncio loop thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from h2.errors import ErrorCodes

from .connection import Connection, StreamRouter
from .streams import Stream, Upgrade
from .wsgi import run_wsgi, too_large

__all__ = ["REQUEST_TIMEOUT", "H2cServer"]

REQUEST_TIMEOUT = 30.0  # seconds for a stream's headers and body to arrive


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
        """Every second: reset requests still arriving after ``REQUEST_TIMEOUT`` (a slow
        client's streams would hold the connection open for ever), close connections idle past
        ``idle_timeout``."""
        now = time.monotonic()
        for connection in list(self.connections):
            for stream in list(connection.streams.values()):
                if not stream.dispatched and now - stream.opened > REQUEST_TIMEOUT:
                    connection.reset(stream, ErrorCodes.CANCEL)
            if not connection.streams and now - connection.last_active > self.idle_timeout:
                connection.h2.close_connection()
                connection._flush()
                connection.close()
        if self._loop is not None and not self.stopping.is_set():
            self._loop.call_later(1.0, self._sweep)

    def serve_elsewhere(self, connection: Connection, stream: Stream) -> None:
        """Hand a stream to the WSGI app, on a worker thread."""
        self.pool().submit(run_wsgi, self.app, self._loop, connection, stream)

    def too_large(self, connection: Connection, stream: Stream) -> None:
        too_large(self.max_body, connection, stream)
