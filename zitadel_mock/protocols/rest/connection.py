"""Faults and delays on the wire: what the apps do with an answer's injection, under waitress.

The app decides (``answers``); this module carries it out. Under waitress (``MockServer``,
``zitadel-mock serve``) each request's WSGI environ holds a ``Wire`` to its connection, through
which the app waits (woken at once when the server stops), holds a request until the client
gives up, or has the connection reset, closed or fed random bytes instead of an answer. The
ASGI app can wait, hold and send a malformed body, but it does not own the socket.

Waitress answers inline on its serving thread; while some answer may wait (``Serving.slow``,
in :mod:`zitadel_mock.serving`), requests are handed to ``HandOff`` workers instead, so that a
waiting one holds up no other.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ...errors import ZitadelMockError
from ...faults import SOCKET_FAULTS, Injection

__all__ = [
    "WIRE_KEY",
    "HandOff",
    "Wire",
    "deliver_asgi",
    "deliver_wsgi",
    "fault_channel",
]

WIRE_KEY = "zitadel_mock.wire"
_POLL = 0.05  # how often a held request looks at its client and at the server's stop


class Wire:
    """One request's connection, as the app sees it under waitress."""

    def __init__(self, sock: socket.socket | None, stopping: threading.Event) -> None:
        self.sock = sock
        self.stopping = stopping
        self.fault: str | None = None  # set: the task does this instead of answering
        self.noise = b""

    def wait(self, seconds: float) -> bool:
        """Wait; False if the server is stopping meanwhile."""
        return not self.stopping.wait(seconds)

    def hold(self, seconds: float) -> bool:
        """Hold the request; False if the client gave up or the server stops first."""
        deadline = time.monotonic() + seconds
        watching = self.sock is not None
        while (left := deadline - time.monotonic()) > 0:
            step = min(left, _POLL)
            if not watching or self.sock is None:
                if self.stopping.wait(step):
                    return False
                continue
            try:
                readable, _, _ = select.select([self.sock], [], [], step)
                if readable and not self.sock.recv(1, socket.MSG_PEEK):
                    return False  # the client closed its end
            except (OSError, ValueError):
                return False  # reset by the client, or closed by the server
            if readable:  # the client sent more (a pipelined request): only time will tell
                watching = False
            if self.stopping.is_set():
                return False
        return True

    def drop(self, fault: str, noise: bytes = b"") -> None:
        """Have the connection dropped (``fault``) instead of answered."""
        self.fault, self.noise = fault, noise


def _no_socket(fault: str) -> ZitadelMockError:
    return ZitadelMockError(
        f"the {fault} fault needs the socket: serve with MockServer or zitadel-mock serve"
    )


def deliver_wsgi(environ: dict[str, Any], injection: Injection) -> bool:
    """Wait and hold as the injection says; False if the connection is dropped, not answered."""
    wire: Wire | None = environ.get(WIRE_KEY)
    if injection.delay > 0:
        if wire is None:
            time.sleep(injection.delay)
        elif not wire.wait(injection.delay):
            wire.drop("empty_response")  # the server stops: no answer
            return False
    fault = injection.fault
    if fault in SOCKET_FAULTS:
        if wire is None:
            raise _no_socket(str(fault))
        wire.drop(str(fault), injection.noise)
        return False
    if fault == "timeout":
        hold = injection.hold or 0.0
        if wire is None:
            time.sleep(hold)
        elif not wire.hold(hold):
            wire.drop("empty_response")
            return False
    return True


async def deliver_asgi(injection: Injection) -> None:
    """Wait and hold as the injection says (the socket faults cannot happen here)."""
    import asyncio  # here, not on top: the state imports this module, asyncio takes long to

    if injection.fault in SOCKET_FAULTS:
        raise _no_socket(str(injection.fault))
    await asyncio.sleep(injection.delay + (injection.hold or 0.0))


def fault_channel(base: type[Any], stopping: threading.Event) -> type[Any]:
    """A subclass of waitress's channel class ``base`` whose requests carry a ``Wire``."""
    task_base: Any = base.task_class

    class FaultTask(task_base):  # type: ignore[misc]
        """Waitress's WSGI task; a dropped connection is closed, reset or fed noise instead."""

        wire: Wire | None = None

        def get_environment(self) -> dict[str, Any]:
            environ: dict[str, Any] = super().get_environment()
            if self.wire is None:
                self.wire = Wire(self.channel.socket, stopping)
                environ[WIRE_KEY] = self.wire
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


class HandOff:
    """Worker threads, started on demand up to ``limit``, that serve requests which may wait.

    ``wake`` is called after each request, so that the serving loop sends what was written.
    """

    def __init__(self, wake: Callable[[], None], limit: int = 64) -> None:
        self.wake = wake
        self.limit = limit
        self.started: list[threading.Thread] = []
        self._queue: deque[Any] = deque()
        self._idle = 0
        self._stopping = False
        self._ready = threading.Condition()

    def submit(self, task: Any) -> None:
        with self._ready:
            self._queue.append(task)
            if self._stopping:
                return  # left for drain()
            if self._idle:  # claimed here: a second request must not count on the same worker
                self._idle -= 1
                self._ready.notify()
            elif len(self.started) < self.limit:
                thread = threading.Thread(
                    target=self._run, name=f"zitadel-mock-wait-{len(self.started)}", daemon=True
                )
                self.started.append(thread)
                thread.start()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._idle += 1  # submit() takes it back when it wakes this worker
                    self._ready.wait()
                if self._stopping:
                    return
                task = self._queue.popleft()
            try:
                task.service()
            except Exception:  # as waitress's own pool: log and go on
                logging.getLogger("waitress").exception("Exception when servicing %r", task)
            self.wake()

    def stop(self) -> None:
        """End the workers once the request each is serving is done."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        for thread in self.started:
            thread.join()

    def drain(self) -> list[Any]:
        """Return the requests no worker started (after ``stop``)."""
        with self._ready:
            left = list(self._queue)
            self._queue.clear()
        return left
