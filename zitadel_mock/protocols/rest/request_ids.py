"""Request ids as ZITADEL writes them from 4.13.0: xids, 20 characters of lowercase base32hex.

An xid is 12 bytes: 4 of seconds since the epoch, 5 fixed for the process, 3 of a counter that
starts at a random value; written as ``base64.b32hexencode(raw)[:20].lower()``. Every answer
needs one or two. The last two characters hold the counter's 6 lowest bits, so the ids of a
run of 64 counter values in one second share their first 18: those are worked out once, the
run's ids made together, and each answer takes the next one. A run not used up when the
second changes is dropped: the counter skips ahead, as ZITADEL's does between processes.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator

__all__ = ["REQUEST_IDS", "RUN", "RequestIds", "xid"]

_COUNTER = 0xFFFFFF  # 3 bytes
_ALPHABET = "0123456789abcdefghijklmnopqrstuv"  # base32hex, lower case
RUN = 64  # counter values whose ids share all but the last two characters
# The last two characters of each of those: the counter's bits 5 to 1, then bit 0 and 4 bits
# of padding.
_ENDS = tuple(_ALPHABET[low >> 1] + _ALPHABET[(low & 1) << 4] for low in range(RUN))


def xid(seconds: int, process: bytes, counter: int) -> str:
    """The xid of these parts, computed whole (``RequestIds.new`` must agree with it)."""
    raw = (
        (seconds & 0xFFFFFFFF).to_bytes(4, "big")
        + process
        + (counter & _COUNTER).to_bytes(3, "big")
    )
    return base64.b32hexencode(raw)[:20].decode("ascii").lower()


class RequestIds:
    """Makes a new xid per call; safe under threads (a run is taken under a lock, and an
    iterator's ``next`` is atomic)."""

    def __init__(self, process: bytes | None = None, start: int | None = None) -> None:
        self.process = os.urandom(5) if process is None else process
        if len(self.process) != 5:
            raise ValueError("the process part of an xid is 5 bytes")
        first = int.from_bytes(os.urandom(3), "big") if start is None else start
        self._next = first & _COUNTER  # the counter value the next run starts at
        self._lock = threading.Lock()
        # (seconds, the ids left of the current run), replaced whole
        self._run: tuple[int, Iterator[str]] = (-1, iter(()))

    def new(self, now_ns: int) -> str:
        """A new request id made at ``now_ns`` (nanoseconds since the epoch)."""
        return self.new_at(now_ns // 1_000_000_000)

    def new_at(self, seconds: int) -> str:
        """A new request id made in the second ``seconds`` (since the epoch)."""
        run = self._run
        if run[0] == seconds:
            made = next(run[1], None)
            if made is not None:
                return made
        return self._start_run(seconds)

    def _start_run(self, seconds: int) -> str:
        """The first id of a new run at ``seconds``; the rest are left for ``new_at``."""
        with self._lock:
            first = self._next
            end = (first | (RUN - 1)) + 1  # the run ends where the 6 lowest bits wrap
            self._next = end & _COUNTER
        shared = xid(seconds, self.process, first)[:18]
        ids = iter([shared + _ENDS[low] for low in range(first & (RUN - 1), RUN)])
        made = next(ids)
        self._run = (seconds, ids)
        return made


REQUEST_IDS = RequestIds()  # one per process, as xid's process part is
