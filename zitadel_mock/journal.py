"""The request journal: what the mock was asked and what it answered, bounded."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

from .faults import Injection

__all__ = ["MAX_BODY", "MAX_BYTES", "MAX_VALUE", "Call", "Journal", "truncated"]


class Call(NamedTuple):
    """One request the mock answered (immutable; a named tuple, made once per request)."""

    rpc: str | None  # None for a path that is no ZITADEL route
    method: str
    path: str
    user_id: str | None  # the user in the path (ListHumanAuthFactors)
    org_id: str | None  # the organisation in context, when one could be told
    token: str | None  # the bearer token, as sent
    status: int
    body: bytes
    forced: bool = False  # answered by a forced rule (an error, a fault) or the rate limit
    injected: Injection | None = None  # what the forced rules, latency and rate limit did

    def __repr__(self) -> str:  # the body is long and its decoded form is ``answer``
        pairs = zip(self._fields, self, strict=True)
        shown = (f"{name}={value!r}" for name, value in pairs if name != "body")
        return f"Call({', '.join(shown)})"

    @property
    def answer(self) -> Any:
        """The answer's JSON body, decoded; None if there was none or it is not JSON (a fault)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rpc": self.rpc,
            "method": self.method,
            "path": self.path,
            "user_id": self.user_id,
            "org_id": self.org_id,
            "token": self.token,
            "status": self.status,
            "forced": self.forced,
            "answer": self.answer,
            "injected": self.injected.to_dict() if self.injected is not None else None,
        }


# What one entry may keep of each value: longer ones (a client's 250 KB token, a huge path) are
# stored cut, with a marker that says how much was dropped. An answer body is rarely large (a
# user with many factors); it is kept whole up to a larger bound.
MAX_VALUE = 1024  # characters of the path, the token, the user id and the org id
MAX_BODY = 64 * 1024  # bytes of the answer body
# What a whole journal may hold, besides its bound in entries: the oldest are dropped past it.
MAX_BYTES = 32 * 1024 * 1024
_OVERHEAD = 200  # an entry's own objects (the tuple, small strings, the status), roughly


def truncated(value: str, limit: int = MAX_VALUE) -> str:
    """``value`` cut to ``limit`` characters, with a marker saying how many bytes were dropped."""
    if len(value) <= limit:
        return value
    kept = value[:limit]
    dropped = len(value.encode("utf-8", "surrogateescape")) - len(
        kept.encode("utf-8", "surrogateescape")
    )
    return f"{kept}\u2026[truncated {dropped:,} bytes]"


def _bounded(call: Call) -> Call:
    """The call with each long value cut (only called when one is over its bound)."""
    body = call.body
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + f"\u2026[truncated {len(body) - MAX_BODY:,} bytes]".encode()
    return call._replace(
        path=truncated(call.path),
        user_id=None if call.user_id is None else truncated(call.user_id),
        org_id=None if call.org_id is None else truncated(call.org_id),
        token=None if call.token is None else truncated(call.token),
        body=body,
    )


def _size(call: Call) -> int:
    """Roughly the bytes an entry holds (its values' lengths and a fixed overhead)."""
    return (
        _OVERHEAD
        + len(call.body)
        + len(call.path)
        + len(call.token or "")
        + len(call.user_id or "")
        + len(call.org_id or "")
    )


class Journal:
    """A thread-safe, bounded list of calls; the oldest are dropped and counted.

    Bounded twice: at most ``maxlen`` entries and about ``max_bytes`` bytes, each entry's long
    values stored cut (``MAX_VALUE``, ``MAX_BODY``) with a marker.
    """

    def __init__(self, maxlen: int = 10_000, *, max_bytes: int = MAX_BYTES) -> None:
        self._calls: deque[Call] = deque()
        self._maxlen = maxlen
        self.max_bytes = max_bytes
        self.bytes = 0
        self._lock = threading.Lock()
        self.dropped = 0

    @property
    def maxlen(self) -> int:
        return self._maxlen

    def append(self, call: Call) -> None:
        values = len(call.path) + len(call.token or "") + len(call.user_id or "")
        if len(call.body) > MAX_BODY or values + len(call.org_id or "") > MAX_VALUE:
            call = _bounded(call)  # some value may be too long: rare, so checked only then
        size = _size(call)
        calls = self._calls
        with self._lock:
            calls.append(call)
            self.bytes += size
            while len(calls) > self._maxlen or (self.bytes > self.max_bytes and len(calls) > 1):
                self.bytes -= _size(calls.popleft())
                self.dropped += 1

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self.bytes = 0
            self.dropped = 0

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls())
