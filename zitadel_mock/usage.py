"""Usage: which parts of a scenario the calls exercised, and which they never did.

Plain logic over a scenario and journal entries (no HTTP, no pytest): the plugin's
``--zitadel-mock-report`` and the control API's ``GET /_mock/usage`` both read it. What counts
as exercised, per kind:

- an org: some call had it in context (its ``org_id``), or was about one of its users;
- a user: some call was about it (the user in the path) or sent one of its tokens;
- a token: some call sent it;
- a forced rule of the scenario (its ``errors`` entries): it fired at least once;
- an RPC: some call was routed to it, whatever the answer.

Only what the scenario holds is kept, so the memory used is bounded by the scenario's size
whatever the calls carry (a request can send any id or token).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .codes import CODE_NAMES
from .journal import Call, select
from .model import RPCS, ErrorRule, Scenario

if TYPE_CHECKING:
    from .namespaces import Namespaces

__all__ = [
    "KINDS",
    "MAX_LISTED",
    "Usage",
    "UsageTracker",
    "describe_rule",
    "format_report",
    "merge_reports",
    "unexpected_refusals",
    "unfired_rules",
]

KINDS = ("orgs", "users", "tokens", "rules", "rpcs")
MAX_LISTED = 20  # names printed per kind in the text report; the JSON has them all
BUILTIN = "<built-in>"
DEFAULT_NAMESPACE = "default"  # namespaces.DEFAULT_NAMESPACE (not imported: that imports state)
# What tells a call's use apart: (rpc, user id, token, org id), read in one call.
_counted = itemgetter(*(Call._fields.index(name) for name in ("rpc", "user_id", "token", "org_id")))


def describe_rule(index: int, rule: ErrorRule, *, scenario: bool = True) -> str:
    """``errors[1] (fixtures/outage.yaml:31): rpc=ListHumanAuthFactors code=UNAVAILABLE``."""
    origin = rule.origin  # where the rule was written
    name = f"errors[{index}]" if scenario else f"rule {index}"
    parts = [f"rpc={rule.rpc}" if rule.rpc else "rpc=any"]
    if rule.user_id:
        parts.append(f"user={rule.user_id}")
    if rule.org_id:
        parts.append(f"org={rule.org_id}")
    if rule.code is not None:
        parts.append(f"code={CODE_NAMES.get(rule.code, rule.code)}")
    if rule.fault:
        parts.append(f"fault={rule.fault}")
    if rule.delay is not None:
        parts.append("delay")
    return f"{name}{f' ({origin})' if origin else ''}: {' '.join(parts)}"


# -- strict tests: what ZitadelMock.assert_strict checks -----------------------------------------


def by_rule(call: Call) -> bool:
    """Whether a forced rule gave this answer (an error or a fault; not the rate limit)."""
    injected = call.injected
    return injected is not None and injected.rule is not None and injected.replaces_answer


def unexpected_refusals(
    calls: Iterable[Call],
    expected: Iterable[tuple[str | None, str | None, str | None, int | None]],
) -> list[Call]:
    """The calls answered 400 or more, not by a forced rule, that no expectation matches.

    An expectation is ``(rpc, user id, org id, status)``, None for any.
    """
    wanted = list(expected)
    return [
        call
        for call in calls
        if call.status >= 400
        and not by_rule(call)
        and not any(select([call], *expectation) for expectation in wanted)
    ]


def unfired_rules(
    calls: Iterable[Call], armed: Iterable[tuple[int, ErrorRule]], first: int = 0
) -> list[tuple[int, ErrorRule]]:
    """The rules of ``armed`` from position ``first`` on that no call's injection names."""
    fired = {c.injected.rule for c in calls if c.injected is not None}
    return [(i, rule) for i, rule in armed if i >= first and i not in fired]


class _Index:
    """The lookups a Usage needs of its scenario: built once per scenario, O(its size)."""

    __slots__ = ("org_of", "orgs", "token_user")

    def __init__(self, scenario: Scenario) -> None:
        self.org_of = {u.id: u.org_id for u in scenario.users}
        self.token_user = {t.token: t.user_id for t in scenario.tokens or ()}
        self.orgs = {o.id for o in scenario.orgs}


class Usage:
    """What the calls observed so far exercised of one scenario; thread-safe."""

    def __init__(
        self, scenario: Scenario, key: str | None = None, *, index: _Index | None = None
    ) -> None:
        self.scenario = scenario
        self.key = key or scenario.source or BUILTIN
        index = index if index is not None else _Index(scenario)
        self._org_of, self._token_user, self._org_ids = index.org_of, index.token_user, index.orgs
        self._rules = len(scenario.errors)
        self._lock = threading.Lock()
        self.calls = 0
        self.used: dict[str, set[Any]] = {kind: set() for kind in KINDS}
        # (rpc, user id, token, org id) of calls counted already: most calls repeat one, and
        # then cost a tuple and a lookup (serve counts every call). Bounded: past MAX_SEEN
        # keys (a client sending random tokens), calls are counted in full.
        self._seen: set[tuple[str | None, ...]] = set()

    MAX_SEEN = 4096

    def observe(self, call: Call) -> None:
        """Count one call (cheap: a few lookups; only ids the scenario knows are kept)."""
        key = _counted(call)
        injected = call.injected
        lock = self._lock
        lock.acquire()  # not ``with``: that costs half as much again, on every call
        try:
            self.calls += 1
            if key not in self._seen:
                self._count(call, key)
            if injected is not None and injected.rule is not None and injected.rule < self._rules:
                self.used["rules"].add(injected.rule)
        finally:
            lock.release()

    def _count(self, call: Call, key: tuple[str | None, ...]) -> None:
        used = self.used
        if call.rpc is not None:
            used["rpcs"].add(call.rpc)
        for user_id in (call.user_id, self._token_user.get(call.token or "")):
            org_id = self._org_of.get(user_id or "")
            if org_id is not None:
                used["users"].add(user_id)
                used["orgs"].add(org_id)
        if call.token is not None and call.token in self._token_user:
            used["tokens"].add(call.token)
        if call.org_id is not None and call.org_id in self._org_ids:
            used["orgs"].add(call.org_id)
        if len(self._seen) < self.MAX_SEEN:
            self._seen.add(key)

    def observe_all(self, calls: Iterable[Call]) -> None:
        for call in calls:
            self.observe(call)

    def report(self) -> dict[str, Any]:
        """The JSON report: what no call exercised, per kind, in the scenario's order."""
        scenario = self.scenario
        with self._lock:
            used = {kind: set(names) for kind, names in self.used.items()}
            calls = self.calls
        unused = {
            "orgs": [o.name for o in scenario.orgs if o.id not in used["orgs"]],
            "users": [u.username for u in scenario.users if u.id not in used["users"]],
            "tokens": [t.token for t in scenario.tokens or () if t.token not in used["tokens"]],
            "rules": [
                describe_rule(i, rule)
                for i, rule in enumerate(scenario.errors)
                if i not in used["rules"]
            ],
            "rpcs": [rpc for rpc in RPCS if rpc not in used["rpcs"]],
        }
        totals = {
            "orgs": len(scenario.orgs),
            "users": len(scenario.users),
            "tokens": len(scenario.tokens or ()),
            "rules": len(scenario.errors),
            "rpcs": len(RPCS),
        }
        return {"scenario": self.key, "calls": calls, "unused": unused, "totals": totals}

    @staticmethod
    def merge(reports: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One report per scenario from several (see ``merge_reports``)."""
        return merge_reports(reports)

    @staticmethod
    def text(reports: Iterable[Mapping[str, Any]]) -> list[str]:
        """The reports as text lines (see ``format_report``)."""
        return format_report(reports)


def merge_reports(reports: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One report per scenario from several (e.g. one per xdist worker).

    A part is unused if no worker that served the scenario exercised it: the intersection of
    the workers' unused lists, in the first report's order.
    """
    merged: dict[str, dict[str, Any]] = {}
    for report in reports:
        key = report["scenario"]
        known = merged.get(key)
        if known is None:
            merged[key] = {
                "scenario": key,
                "calls": report["calls"],
                "unused": {k: list(v) for k, v in report["unused"].items()},
                "totals": dict(report["totals"]),
            }
            continue
        known["calls"] += report["calls"]
        for kind, names in known["unused"].items():
            still = set(report["unused"].get(kind, ()))
            known["unused"][kind] = [n for n in names if n in still]
    return [merged[key] for key in sorted(merged)]


def format_report(reports: Iterable[Mapping[str, Any]]) -> list[str]:
    """The text report: per scenario, what no call exercised (at most MAX_LISTED per kind)."""
    lines: list[str] = []
    for report in reports:
        unused, totals = report["unused"], report["totals"]
        lines.append(f"scenario {report['scenario']} ({report['calls']} calls):")
        if not any(unused.values()):
            lines.append("  every org, user, token, forced rule and RPC was exercised")
            continue
        for kind in KINDS:
            names = unused[kind]
            if not names:
                continue
            more = f"... and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
            head = f"  {kind} never exercised ({len(names)} of {totals[kind]}):"
            if kind == "rules":  # a rule's description has spaces: one per line
                head = f"  forced rules that never fired ({len(names)} of {totals[kind]}):"
                lines.append(head)
                lines.extend(f"    {n}" for n in names[:MAX_LISTED])
                lines.extend([f"    {more}"] if more else [])
                continue
            shown = ", ".join(str(n) for n in names[:MAX_LISTED])
            lines.append(f"{head} {shown}{', ' + more if more else ''}")
    return lines


# -- serve: the usage of every namespace since the server started (GET /_mock/usage) ----------

_TRACKERS: weakref.WeakKeyDictionary[Namespaces, UsageTracker] = weakref.WeakKeyDictionary()


class UsageTracker:
    """Counts every call a server answers into its namespace's Usage (an observer of states).

    A namespace's usage starts again when it serves another scenario, not on a reset: what a
    whole CI run exercised is the point. Bounded: one Usage per live namespace, and the
    lookups of a few scenarios shared by the namespaces that serve them.
    """

    MAX_INDEXES = 8  # scenarios whose lookups are kept (usually one, served by every namespace)

    def __init__(self, namespaces: Namespaces) -> None:
        self.namespaces = namespaces
        self._usage: dict[str, Usage] = {}
        self._indexes: dict[int, tuple[Scenario, _Index]] = {}
        self._default: Usage | None = None  # the default namespace's, read without a lookup
        self._lock = threading.Lock()

    @classmethod
    def install(cls, namespaces: Namespaces) -> UsageTracker:
        """The tracker of ``namespaces``, made and registered as an observer on first use."""
        tracker = _TRACKERS.get(namespaces)
        if tracker is None:
            tracker = _TRACKERS[namespaces] = cls(namespaces)
            namespaces.default.observers.append(tracker.observe)  # shared by every namespace
        return tracker

    @staticmethod
    def of(namespaces: Namespaces) -> UsageTracker | None:
        return _TRACKERS.get(namespaces)

    def usage(self, name: str) -> Usage | None:
        """The namespace's usage, started again if it serves another scenario since."""
        state = self.namespaces.find(name)
        if state is None:
            return None
        scenario = state.scenario
        usage = self._usage.get(name)
        if usage is not None and usage.scenario is scenario:
            return usage
        with self._lock:
            usage = self._usage.get(name)
            if usage is None or usage.scenario is not scenario:
                known = self._indexes.get(id(scenario))
                if known is None or known[0] is not scenario:
                    if len(self._indexes) >= self.MAX_INDEXES:
                        self._indexes.pop(next(iter(self._indexes)))
                    known = self._indexes[id(scenario)] = (scenario, _Index(scenario))
                usage = Usage(scenario, index=known[1])
                live = {n for n, _ in self.namespaces.items()}
                for gone in [n for n in self._usage if n not in live]:
                    del self._usage[gone]
                self._usage[name] = usage
            return usage

    def observe(self, call: Call) -> None:
        if call.protocol == "control":  # the control API steers the mock: no ZITADEL call
            return
        name = call.namespace or DEFAULT_NAMESPACE
        if name == DEFAULT_NAMESPACE:  # most calls: no lookup of the namespace
            usage = self._default
            if usage is not None and usage.scenario is self.namespaces.default.scenario:
                usage.observe(call)
                return
        found = self.usage(name)
        if found is not None:
            if name == DEFAULT_NAMESPACE:
                self._default = found
            found.observe(call)
