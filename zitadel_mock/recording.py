"""The journal's entry for an answered call, whichever endpoint answered it (API or OAuth)."""

from __future__ import annotations

import time
from typing import Protocol

from .faults import Injection
from .journal import Call

__all__ = ["Arrived", "elapsed", "journal_entry"]

_new_call = tuple.__new__


class Arrived(Protocol):
    """What ``journal_entry`` reads of a request, whichever endpoint it came to."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def arrived_ns(self) -> int: ...
    @property
    def started(self) -> float: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def protocol(self) -> str: ...
    @property
    def namespace(self) -> str: ...


def journal_entry(
    rpc: str,
    request: Arrived,
    user_id: str | None,
    org_id: str | None,
    token: str | None,
    status: int,
    body: bytes,
    injection: Injection | None,
    why: str,
) -> Call:
    """The journal's entry for an answer a forced rule may have changed.

    ``why`` is the answer's: a rule that fired is named first (alone if it replaced the answer);
    a fault that drops the connection or holds the request sends nothing: status 0, no body;
    the duration counts the delay waited.
    """
    delay = 0.0
    if injection is not None:
        delay = injection.delay
        why = injection.why if injection.replaces_answer else f"{injection.why}; {why}"
    dropped = injection is not None and injection.fault not in (None, "malformed_body")
    # Every field, in order: the tuple made directly, as namedtuple's own _make does (a call
    # of Call with 16 arguments costs twice as much, once per request).
    return _new_call(
        Call,
        (
            rpc,
            request.method,
            request.path,
            user_id,
            org_id,
            token,
            0 if dropped else status,
            b"" if dropped else body,
            injection is not None and injection.replaces_answer,
            injection,
            why,
            request.arrived_ns or time.time_ns(),  # 0: called directly, not over HTTP
            (time.perf_counter() - request.started if request.started else 0.0) + delay,
            request.headers,
            request.protocol,
            request.namespace,
        ),
    )


def elapsed(started: float) -> float:
    """Seconds since ``started`` (a perf_counter reading; 0: unknown, as from a direct call)."""
    return time.perf_counter() - started if started else 0.0
