"""The request journal: what the mock was asked and what it answered, bounded."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

from .faults import Injection

__all__ = ["Call", "Journal"]


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


class Journal:
    """A thread-safe, bounded list of calls; the oldest are dropped and counted."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._calls: deque[Call] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.dropped = 0

    @property
    def maxlen(self) -> int:
        return self._calls.maxlen or 0

    def append(self, call: Call) -> None:
        with self._lock:
            if len(self._calls) == self._calls.maxlen:
                self.dropped += 1
            self._calls.append(call)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self.dropped = 0

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls())
