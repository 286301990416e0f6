"""Faults and latency: which forced rule answers a request, how long it waits, rate limits.

Everything random is drawn from ``random.Random`` instances seeded from the scenario's seed and
the rule's position, so the same scenario and the same sequence of requests give the same
outcomes on every run. The objects here are plain logic over the state; the network side
(dropping a connection under waitress) is in ``protocols.rest.connection``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .codes import CODE_NAMES
from .model import MAX_SECONDS, Delay, RateLimit

if TYPE_CHECKING:
    from .model import ErrorRule, Scenario

__all__ = [
    "DEFAULT_HOLD",
    "FAULTS",
    "MAX_SECONDS",
    "SOCKET_FAULTS",
    "Delay",
    "Injection",
    "Injector",
    "RateLimit",
    "total_times",
]

# Named as WireMock names them, so that users recognise them.
FAULTS = (
    "connection_reset",
    "empty_response",
    "malformed_body",
    "random_data_then_close",
    "timeout",
)
# The faults only a server that owns the socket can do (not an ASGI app).
SOCKET_FAULTS = frozenset({"connection_reset", "empty_response", "random_data_then_close"})
DEFAULT_HOLD = 60.0  # how long a timeout fault holds a request when no hold is given


@dataclass(frozen=True)
class Injection:
    """What the mock did to one answer: the journal records it with the call."""

    rule: int | None = None  # the position of the forced rule that fired (None: none did)
    step: int = 0  # which step of the rule's ``then`` chain (0: the rule itself)
    code: int | None = None  # the error answered instead of the normal answer
    message: str | None = None  # the error's message and ZITADEL id, if the rule gives them
    id: str | None = None
    fault: str | None = None
    delay: float = 0.0  # seconds waited before answering: the rule's delay plus the latency
    hold: float | None = None  # a timeout fault: the longest the request is held
    rate_limited: bool = False
    noise: bytes = field(default=b"", repr=False)  # random_data_then_close: sent, then close
    why: str = ""  # what was done and which rule did it, for the journal (empty: nothing)

    @property
    def replaces_answer(self) -> bool:
        """True if the normal answer is not given (an error code, a fault, a rate limit)."""
        return self.code is not None or self.fault is not None or self.rate_limited

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "step": self.step,
            "code": CODE_NAMES[self.code] if self.code is not None else None,
            "fault": self.fault,
            "delay": round(self.delay, 6),
            "rate_limited": self.rate_limited,
        }


def _rng(seed: int, what: str) -> random.Random:
    # Seeding with text is stable across processes (it is hashed with SHA-512, not hash()).
    return random.Random(f"zitadel-mock:{seed}:{what}")


def _slow(rule: ErrorRule | None) -> bool:
    while rule is not None:
        if rule.delay is not None or rule.fault == "timeout":
            return True
        rule = rule.then
    return False


def total_times(rule: ErrorRule) -> int | None:
    """How many times a rule fires, its ``then`` chain included (None: without end)."""
    total = 0
    step: ErrorRule | None = rule
    while step is not None:
        if step.times is None:
            return None
        total += step.times
        step = step.then
    return total


class _Armed:
    """A rule with its counters: the step of its chain in force, its uses left, requests seen."""

    __slots__ = ("_rng", "_seed", "index", "left", "rule", "seen", "step", "steps")

    def __init__(self, index: int, rule: ErrorRule, seed: int) -> None:
        self.index = index
        self.rule = rule
        steps: list[ErrorRule] = []
        step: ErrorRule | None = rule
        while step is not None:
            steps.append(step)
            step = step.then
        self.steps = steps
        self.step = 0
        self.left: int | None = rule.times
        self.seen = 0  # matching requests seen by the step in force
        self._seed = seed
        self._rng: random.Random | None = None

    @property
    def rng(self) -> random.Random:
        """The rule's own random draws, seeded on first use (seeding costs more than a reset)."""
        if self._rng is None:
            self._rng = _rng(self._seed, f"rule:{self.index}")
        return self._rng

    @property
    def remaining(self) -> int | None:
        """How many more times the rule will fire (None: without end)."""
        if self.step >= len(self.steps):
            return 0
        later = [s.times for s in self.steps[self.step + 1 :]]
        if self.left is None or None in later:
            return None
        return self.left + sum(t for t in later if t is not None)

    def matches(self, rpc: str, user_id: str | None, org_id: str | None) -> bool:
        rule = self.rule
        return (
            (rule.rpc is None or rule.rpc == rpc)
            and (rule.user_id is None or rule.user_id == user_id)
            and (rule.org_id is None or rule.org_id == org_id)
        )

    def fire(self) -> Injection | None:
        """Count one matching request; return what the rule does to it, or None (it passes)."""
        current = self.steps[self.step]
        self.seen += 1
        if self.seen <= current.after:
            return None
        if current.probability is not None and self.rng.random() >= current.probability:
            return None
        delay = current.delay.draw(self.rng) if current.delay is not None else 0.0
        injection = Injection(
            rule=self.index,
            step=self.step,
            code=current.code,
            message=current.message,
            id=current.id,
            fault=current.fault,
            delay=delay,
            hold=(current.hold or DEFAULT_HOLD) if current.fault == "timeout" else None,
            noise=self.rng.randbytes(self.rng.randint(16, 256))
            if current.fault == "random_data_then_close"
            else b"",
            why=self._why(current, delay),
        )
        if self.left is not None:
            self.left -= 1
            if self.left == 0:  # the next step of the chain takes over, if there is one
                self.step += 1
                self.seen = 0
                self.left = self.steps[self.step].times if self.step < len(self.steps) else 0
        return injection

    def _why(self, step: ErrorRule, delay: float) -> str:
        """``forced rule 1 (fixtures/outage.yaml:31): UNAVAILABLE``; a step of ``then`` named."""
        origin = f" ({self.rule.origin})" if self.rule.origin else ""
        then = f", then step {self.step}" if self.step else ""
        if step.code is not None:
            did = CODE_NAMES[step.code]
        elif step.fault is not None:
            did = f"fault {step.fault}"
        else:
            did = "delayed"
        if delay:
            did += f" after {delay:.3f} s" if did != "delayed" else f" {delay:.3f} s"
        return f"forced rule {self.index}{origin}{then}: {did}"


class _Limiter:
    """Fixed windows per token: a window opens with a token's first call and lasts ``window``."""

    MAX_TOKENS = 10_000  # past this many tokens, windows that have ended are forgotten

    def __init__(self, limit: RateLimit, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.clock = clock
        self.windows: dict[str, list[float]] = {}  # token -> [window start, calls in it]

    def allow(self, token: str) -> bool:
        now = self.clock()
        window = self.windows.get(token)
        if window is None or now - window[0] >= self.limit.window:
            if len(self.windows) >= self.MAX_TOKENS:
                self.windows = {
                    t: w for t, w in self.windows.items() if now - w[0] < self.limit.window
                }
            self.windows[token] = [now, 1]
            return True
        window[1] += 1
        return window[1] <= self.limit.requests


class Injector:
    """A state's forced rules, latency and rate limit, with their counters and random draws.

    Not thread-safe on its own: the state calls it under its lock.
    """

    def __init__(self, scenario: Scenario, clock: Callable[[], float] = time.monotonic) -> None:
        self.seed = scenario.seed
        self.latency = scenario.latency
        # Seeding costs more than the rest of a reset: only a scenario with a latency draws.
        self._latency_rng = _rng(scenario.seed, "latency") if scenario.latency else None
        self.limiter = _Limiter(scenario.rate_limit, clock) if scenario.rate_limit else None
        self.armed: list[_Armed] = []
        self._count = 0
        # Nothing was ever armed, and there is no latency or rate limit to count: as a new one
        # for a scenario without forced rules would be (a plain attribute: read before each test).
        self.blank = self.latency is None and self.limiter is None
        # True if nothing is ever injected: the state answers without asking (read per request).
        self.idle = self.blank
        for rule in scenario.errors:
            self.add(rule)

    @property
    def slow(self) -> bool:
        """True if some answer may wait (a delay, a timeout, a latency)."""
        return self.latency is not None or any(_slow(a.rule) for a in self.armed)

    def add(self, rule: ErrorRule) -> None:
        # Rules used up are forgotten here, so that a long-running server does not pile them up.
        self.armed = [a for a in self.armed if a.step < len(a.steps)]
        self.armed.append(_Armed(self._count, rule, self.seed))
        self.blank = self.idle = False
        self._count += 1  # positions are never reused, so a rule keeps its random draws

    def clear(self) -> None:
        self.armed = []
        self.idle = self.latency is None and self.limiter is None

    def listing(self) -> list[tuple[ErrorRule, int | None]]:
        """The rules that can still fire, with how many times (None: without end)."""
        return [(rule, left) for _, rule, left in self.numbered()]

    def numbered(self) -> list[tuple[int, ErrorRule, int | None]]:
        """``listing`` with each rule's index among all the rules (as ``why`` names it)."""
        out = [(a.index, a.rule, a.remaining) for a in self.armed]
        return [(index, rule, left) for index, rule, left in out if left != 0]

    def take(
        self, rpc: str, user_id: str | None, org_id: str | None, token: str | None
    ) -> Injection | None:
        """Return what to do to this request (None: answer it normally, at once)."""
        if self.limiter is not None and not self.limiter.allow(token or ""):
            limit = self.limiter.limit
            why = (
                f"rate limit: more than {limit.requests} calls in {limit.window:g} s "
                "with this token: RESOURCE_EXHAUSTED"
            )
            limited = Injection(
                code=8, message=limit.message, id=limit.id, rate_limited=True, why=why
            )
            return self._with_latency(limited)
        fired: Injection | None = None
        for armed in self.armed:
            if armed.step >= len(armed.steps) or not armed.matches(rpc, user_id, org_id):
                continue
            if fired is None:
                fired = armed.fire()
            else:  # counted all the same: each rule's ``after`` counts every matching request
                armed.seen += 1
        return self._with_latency(fired)

    def _with_latency(self, injection: Injection | None) -> Injection | None:
        if self.latency is None or self._latency_rng is None:
            return injection
        extra = self.latency.draw(self._latency_rng)
        latency = f"latency {extra:.3f} s"
        if injection is None:
            return Injection(delay=extra, why=latency)
        return replace(injection, delay=injection.delay + extra, why=f"{injection.why}; {latency}")
