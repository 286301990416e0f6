"""What a server can do and what its states ask of it, shared by every namespace of one server.

The domain state asks (an answer may wait; a rule needs the socket); the server reads the
answers on every request. Nothing here knows HTTP or waitress: the server passes a ``Serving``
down to the states it serves, and an ASGI app, which does not own the socket, says so here.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .faults import SOCKET_FAULTS

if TYPE_CHECKING:
    from .model import ErrorRule

__all__ = ["Serving", "socket_fault_problem"]


def socket_fault_problem(rule: ErrorRule) -> tuple[str, str] | None:
    """Why an ASGI app cannot serve this rule: (the key path in the rule, the reason), or None."""
    step: ErrorRule | None = rule
    path = "fault"
    while step is not None:
        if step.fault in SOCKET_FAULTS:
            return path, (
                f"the {step.fault} fault needs the socket, which an ASGI app does not own; "
                "serve with MockServer or zitadel-mock serve (waitress) for it"
            )
        step = step.then
        path = "then." + path
    return None


class Serving:
    """What a server's states ask of it, shared by every namespace of one server.

    ``slow``: some state may make an answer wait, so the server runs requests on worker
    threads (read on every request: a plain attribute). ``sockets``: the app can drop
    connections (false for an ASGI app). ``failed``: some state may have recorded an exception
    raised while serving (set on each; cleared by whoever reads them all), so that checking
    after every test costs an attribute read.
    """

    def __init__(self) -> None:
        self.slow = False
        self.sockets = True
        self.failed = False
        self._slow_states: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()

    def mark(self, state: object, slow: bool) -> None:
        """Record whether ``state`` may make answers wait."""
        with self._lock:
            if slow:
                self._slow_states.add(state)
            else:
                self._slow_states.discard(state)
            self.slow = bool(self._slow_states)

    def problem(self, rules: Iterable[ErrorRule]) -> tuple[int, str, str] | None:
        """Why these rules cannot be served here: (the rule's index, key path, reason), or None."""
        if self.sockets:
            return None
        for index, rule in enumerate(rules):
            problem = socket_fault_problem(rule)
            if problem is not None:
                return index, *problem
        return None
