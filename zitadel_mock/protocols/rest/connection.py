"""Faults and delays on the wire: what the apps do with an answer's injection, under waitress.

The app decides (``answers``); this module carries it out. Under waitress (``MockServer``,
``zitadel-mock serve``) each request's WSGI environ holds a ``Wire`` to its connection, through
which the app waits (woken at once when the server stops), holds a request until the client
gives up, or has the connection reset, closed or fed random bytes instead of an answer. The
ASGI app can wait, hold and send a malformed body, but it does not own the socket.

Waitress answers inline on its serving thread; while some answer may wait (``Serving.slow``,
in :mod:`zitadel_mock.serving`), requests are handed to ``_waitress.loop.HandOff`` workers
instead, so that a waiting one holds up no other.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from typing import Any

from ...errors import ZitadelMockError
from ...faults import SOCKET_FAULTS, Injection

__all__ = [
    "WIRE_KEY",
    "Wire",
    "deliver_asgi",
    "deliver_wsgi",
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
