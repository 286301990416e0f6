"""Namespaces: isolated copies of the mock's state, selected per request by a header.

Parallel test jobs that share one server each send their own ``X-Mock-Namespace``; each
namespace has its own state, journal and forced errors, created on first use from the loaded
scenario. Requests without the header use the default namespace, whose state is the one a
``MockServer`` exposes as ``server.state``.

Namespaces that serve the same scenario share its indexes (built once). What all of them hold
together is bounded: the users of every distinct scenario served (the loaded one, and each
one a namespace was given by ``replace``) may not pass ``max_users``; past it, ``replace``
raises ``NamespacesFull`` and nothing changes.

The registry is bounded: beyond ``max_namespaces`` (besides the default one), the namespace used
least recently is forgotten (and counted in ``evicted``); its next request starts it again from
the loaded scenario. A long-running server that sees a new namespace per CI job never grows
without end.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from .errors import ZitadelMockError
from .model import Scenario
from .state import State, base_view

__all__ = [
    "DEFAULT_NAMESPACE",
    "MAX_NAMESPACES",
    "MAX_USERS",
    "NAMESPACE_HEADER",
    "NamespaceError",
    "Namespaces",
    "NamespacesFull",
]

NAMESPACE_HEADER = "X-Mock-Namespace"
DEFAULT_NAMESPACE = "default"
MAX_NAMESPACES = 1000
MAX_NAME = 128
# Users in all the scenarios the namespaces serve, together (about 0.6 KiB each once loaded).
MAX_USERS = 1_000_000
# Characters that need no quoting in a header, a log line or a URL path (DELETE names one).
_NAME = re.compile(rf"[A-Za-z0-9._~:@+=-]{{1,{MAX_NAME}}}")


class NamespaceError(ZitadelMockError):
    """An ``X-Mock-Namespace`` value that is no valid namespace name."""


class NamespacesFull(ZitadelMockError):
    """A scenario that would take the namespaces together past their bound."""


class Namespaces:
    """A thread-safe registry of States keyed by namespace name, bounded by ``max_namespaces``.

    ``scenario`` is the loaded scenario that every new namespace starts from; a ``State`` given
    instead becomes the default namespace (and its scenario the loaded one).
    """

    def __init__(
        self,
        scenario: Scenario | State,
        *,
        max_namespaces: int = MAX_NAMESPACES,
        journal_size: int = 10_000,
        max_users: int = MAX_USERS,
    ) -> None:
        if max_namespaces < 1:
            raise ValueError("max_namespaces must be at least 1")
        self.default = (
            scenario if isinstance(scenario, State) else State(scenario, journal_size=journal_size)
        )
        self.max_namespaces = max_namespaces
        self.max_users = max_users
        self.evicted = 0
        self.reload_error: str | None = None  # the last rejected edit of the scenario file
        self._scenario = self.default.scenario
        self._base = self.default._base  # the loaded scenario's indexes, shared
        self._spaces: OrderedDict[str, State] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    @property
    def scenario(self) -> Scenario:
        """The loaded scenario: what a new namespace (or a dropped one) starts from."""
        return self._scenario

    @staticmethod
    def name(value: str | None) -> str:
        """Return the namespace name for a header value (absent or empty: the default one)."""
        if value is None or not value.strip():
            return DEFAULT_NAMESPACE
        name = value.strip()
        if not _NAME.fullmatch(name):
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise NamespaceError(
                f"{NAMESPACE_HEADER}: expected 1 to {MAX_NAME} letters, digits or . _ ~ : @ + = -, "
                f"got {shown!r}"
            )
        return name

    def get(self, name: str | None) -> State:
        """Return the State of a namespace (a header value), creating it on first use."""
        if name is None:  # no header: most requests
            return self.default
        name = self.name(name)
        if name == DEFAULT_NAMESPACE:
            return self.default
        with self._lock:
            state = self._spaces.get(name)
            if state is not None:
                self._spaces.move_to_end(name)
                return state
            state = State(
                self._scenario,
                journal_size=self.default.journal.maxlen,
                serving=self.default.serving,  # what the server can do, what states ask of it
                base=self._base,
            )
            # One list shared by every namespace, so that an access log sees all requests.
            state.observers = self.default.observers
            self._spaces[name] = state
            if len(self._spaces) > self.max_namespaces:
                self._spaces.popitem(last=False)
                self.evicted += 1
            return state

    def lenient(self, value: str | None) -> State:
        """Like ``get``, but an invalid name gives the default namespace (for error answers)."""
        try:
            return self.get(value)
        except NamespaceError:
            return self.default

    def find(self, name: str) -> State | None:
        """Return the State of an existing namespace, without creating or touching it."""
        if name == DEFAULT_NAMESPACE:
            return self.default
        with self._lock:
            return self._spaces.get(name)

    def items(self) -> list[tuple[str, State]]:
        """Every namespace with its State, the default one first."""
        with self._lock:
            return [(DEFAULT_NAMESPACE, self.default), *self._spaces.items()]

    def drop(self, name: str) -> bool:
        """Forget a namespace: its next request starts from the loaded scenario again.

        The default namespace cannot be forgotten; it is loaded again from the loaded
        scenario. Returns False if there is no such namespace.
        """
        if name == DEFAULT_NAMESPACE:
            self.default.load(self._scenario, self._base)
            return True
        with self._lock:
            return self._spaces.pop(name, None) is not None

    def load(self, scenario: Scenario) -> None:
        """Serve another scenario in every namespace, each from a clean state (a reload)."""
        base = base_view(scenario)  # once, for every namespace
        with self._lock:
            self._scenario = scenario
            self._base = base
            states = [self.default, *self._spaces.values()]
            # Under the lock, so that no namespace created meanwhile starts from the old one.
            for state in states:
                state.load(scenario, base)

    def replace(self, name: str, scenario: Scenario) -> None:
        """Serve ``scenario`` in one namespace (PUT /_mock/scenario), within ``max_users``.

        Raises NamespacesFull, changing nothing, if the users of every distinct scenario the
        namespaces would then serve add up to more than ``max_users``.
        """
        state = self.get(name)
        base = base_view(scenario)  # the long part, outside the lock
        with self._lock:
            held = {id(self._scenario): self._scenario}
            for other, each in [(DEFAULT_NAMESPACE, self.default), *self._spaces.items()]:
                if other != name:
                    held[id(each.scenario)] = each.scenario
            held[id(scenario)] = scenario
            total = sum(len(s.users) for s in held.values())
            if total > self.max_users:
                raise NamespacesFull(
                    f"the namespaces would serve {total:,} users together; at most "
                    f"{self.max_users:,} (forget a namespace with DELETE /_mock/namespaces/NAME, "
                    "or serve a smaller scenario)"
                )
            state.load(scenario, base)

    def users_served(self) -> int:
        """The users of every distinct scenario the namespaces serve, together."""
        with self._lock:
            held = {id(self._scenario): self._scenario}
            for each in [self.default, *self._spaces.values()]:
                held[id(each.scenario)] = each.scenario
            return sum(len(s.users) for s in held.values())

    def reset_default(self, scenario: Scenario) -> bool:
        """Reset the default namespace if it alone serves ``scenario``, as loaded; True if so.

        Compared by identity: a scenario replaced (a reload, the control API) or a namespace
        created since is never kept. One frame, no lock of its own: run before every test.
        """
        default = self.default
        if self._scenario is scenario and default.scenario is scenario and not self._spaces:
            default.reset()
            return True
        return False

    def __len__(self) -> int:
        with self._lock:
            return 1 + len(self._spaces)
