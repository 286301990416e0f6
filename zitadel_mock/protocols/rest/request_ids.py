"""Request ids as ZITADEL writes them from 4.13.0: xids, 20 characters of lowercase base32hex.

An xid is 12 bytes: 4 of seconds since the epoch, 5 fixed for the process, 3 of a counter that
starts at a random value; written as ``base64.b32hexencode(raw)[:20].lower()``. Every answer
needs one or two, so the 14 characters that hold the seconds and the process part are kept
for the current second, and only the 6 that hold the counter are written each time.
"""

from __future__ import annotations

import base64
import itertools
import os

__all__ = ["REQUEST_IDS", "RequestIds", "xid"]

_COUNTER = 0xFFFFFF  # 3 bytes
_ALPHABET = "0123456789abcdefghijklmnopqrstuv"  # base32hex, lower case
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)  # the characters of 10 bits


def xid(seconds: int, process: bytes, counter: int) -> str:
    """The xid of these parts, computed whole (``RequestIds.new`` must agree with it)."""
    raw = (
        (seconds & 0xFFFFFFFF).to_bytes(4, "big")
        + process
        + (counter & _COUNTER).to_bytes(3, "big")
    )
    return base64.b32hexencode(raw)[:20].decode("ascii").lower()


class RequestIds:
    """Makes a new xid per call; safe under threads (``next`` on a count is atomic)."""

    def __init__(self, process: bytes | None = None, start: int | None = None) -> None:
        self.process = os.urandom(5) if process is None else process
        if len(self.process) != 5:
            raise ValueError("the process part of an xid is 5 bytes")
        first = int.from_bytes(os.urandom(3), "big") if start is None else start
        self._counter = itertools.count(first)
        # The counter's characters also hold the last 2 bits of the process part.
        self._low = (self.process[4] & 3) << 24
        self._prefix: tuple[int, str] = (-1, "")  # (seconds, first 14 characters), replaced whole

    def new(self, now_ns: int) -> str:
        """A new request id made at ``now_ns`` (nanoseconds since the epoch)."""
        counter = next(self._counter) & _COUNTER
        seconds = (now_ns // 1_000_000_000) & 0xFFFFFFFF
        cached_seconds, prefix = self._prefix
        if cached_seconds != seconds:
            prefix = xid(seconds, self.process, 0)[:14]
            self._prefix = (seconds, prefix)
        # 26 bits (2 of the process part, 24 of the counter) and 4 of padding: 6 characters,
        # written two at a time from a table.
        tail = (self._low | counter) << 4
        return prefix + _PAIRS[tail >> 20] + _PAIRS[tail >> 10 & 1023] + _PAIRS[tail & 1023]


REQUEST_IDS = RequestIds()  # one per process, as xid's process part is
