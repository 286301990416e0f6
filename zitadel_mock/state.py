"""The mock's live state: the loaded scenario plus this run's changes, safe under threads.

Requests read one immutable ``View`` (an attribute read is atomic), so an answer always reflects
one state, before or after a concurrent change. Changes are small copy-on-write overlays on top
of the scenario's indexes, so a reset is O(1) whatever the scenario's size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from .bigints import MAX_DIGITS, describe
from .clock import wall_clock_ns
from .errors import ScenarioError
from .faults import Injection, Injector
from .ids import IdGenerator
from .journal import Call, Journal, did_you_mean, known_names, shown
from .model import AuthFactor, ErrorRule, Factor, LoginPolicy, Org, Scenario, Token, User, UserType
from .scenario.fields import Invalid, check_recovery_codes, parse_auth_factor, parse_factors
from .scenario.paths import Path, format_path
from .scenario.rules import parse_error_rule
from .serving import Serving
from .versions import DEFAULT, REQUEST_ID, Profile

__all__ = ["PolicyView", "State", "View", "base_view"]

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()
DELETED: Any = object()  # an overlay value that hides the base's entry


class Overlay(Generic[K, V]):
    """A read-only mapping view: a few changes over a large, shared base."""

    __slots__ = ("_base", "_changes")

    def __init__(self, base: Mapping[K, V], changes: Mapping[K, V] | None = None) -> None:
        self._base = base
        self._changes: Mapping[K, V] = changes or {}

    def get(self, key: K, default: Any = None) -> Any:
        value = self._changes.get(key, _MISSING)
        if value is _MISSING:
            return self._base.get(key, default)
        return default if value is DELETED else value

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING  # type: ignore[arg-type]

    def with_change(self, key: K, value: V) -> Overlay[K, V]:
        return Overlay(self._base, {**self._changes, key: value})

    def values(self) -> Iterator[V]:
        """Every value, changes included (one kept under two keys comes twice); O(size)."""
        changes = self._changes
        yield from (v for k, v in self._base.items() if k not in changes)
        yield from (v for v in changes.values() if v is not DELETED)


@dataclass(frozen=True)
class PolicyView:
    policy: LoginPolicy
    updated_ns: int


@dataclass(frozen=True)
class View:
    """One consistent snapshot of everything the routes read."""

    orgs: Overlay[str, Org]  # by id and by name
    users: Overlay[str, User]  # by id and by username
    factors: Overlay[str, tuple[AuthFactor, ...]]  # by user id
    policies: Overlay[str, PolicyView]  # custom policies, by org id
    instance_policy: PolicyView
    tokens: Overlay[str, Token]
    open_tokens: bool  # the scenario lists no tokens: any other bearer token acts as IAM_OWNER
    instance_roles: Mapping[str, frozenset[str]]  # by user id
    org_roles: Mapping[tuple[str, str], frozenset[str]]  # by (org id, user id)
    first_org_id: str
    profile: Profile = DEFAULT  # the ZITADEL release answered as
    request_ids: bool = False  # whether answers carry request ids (the profile says; read often)
    clock_ns: int | None = None  # the scenario's frozen clock (None: the wall clock)
    issued: OrderedDict[str, Any] = field(default_factory=OrderedDict)  # model.IssuedToken
    # Answers worked out from this snapshot, by request (see service.handle): a new snapshot
    # starts with none, so a change is never answered from an older one.
    answers: dict[Any, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    # What error paths work out of the snapshot once (answers.py: the tokens, sorted).
    derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)


def base_view(scenario: Scenario) -> View:
    """The indexes of a scenario as loaded: built once, shared by every state serving it."""
    orgs: dict[str, Org] = {}
    for org in scenario.orgs:
        orgs[org.id] = orgs[org.name] = org
    users: dict[str, User] = {}
    for user in scenario.users:
        users.setdefault(user.id, user)
        users.setdefault(user.username, user)
    stamp = scenario.loaded_ns
    return View(
        orgs=Overlay(orgs),
        users=Overlay(users),
        factors=Overlay({u.id: u.auth_factors for u in scenario.users if u.auth_factors}),
        policies=Overlay(
            {o.id: PolicyView(o.login_policy, stamp) for o in scenario.orgs if o.login_policy}
        ),
        instance_policy=PolicyView(scenario.instance_policy, stamp),
        tokens=Overlay({t.token: t for t in scenario.tokens or ()}),
        open_tokens=scenario.tokens is None,
        instance_roles={m.user_id: m.roles for m in scenario.instance_members},
        org_roles={(o.id, m.user_id): m.roles for o in scenario.orgs for m in o.members},
        first_org_id=scenario.orgs[0].id,
        profile=scenario.profile,
        request_ids=scenario.profile.has(REQUEST_ID),
        clock_ns=scenario.clock_ns,
    )


def _text(value: object, path: Path) -> str:
    """A name or id given from Python as text; an int too long to print is refused first."""
    if isinstance(value, int) and value.bit_length() > 3 * MAX_DIGITS:
        raise Invalid(path, f"expected a name or an id, got {describe(value)}")
    return str(value)


def _invalid(exc: Invalid) -> ScenarioError:
    return ScenarioError(exc.message, path=format_path(exc.path))


class State:
    """What the mock serves right now: a scenario, this run's changes, forced errors, a journal."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        journal_size: int = 10_000,
        serving: Serving | None = None,
        base: View | None = None,
    ) -> None:
        self._lock = threading.RLock()  # load resets under the lock it holds
        # Shared by every namespace of a server: whether answers may wait, what the app can do.
        self.serving = serving if serving is not None else Serving()
        self.journal = Journal(journal_size)
        self.server_errors: list[str] = []  # tracebacks of exceptions raised while serving
        self._slow = False  # what this state last told ``serving``
        self.observers: list[Callable[[Call], None]] = []  # called with every recorded call
        self.scenario: Scenario  # the scenario served, as loaded; read-only: change it by load
        self.load(scenario, base)

    # -- whole-state operations --------------------------------------------------------------

    def load(self, scenario: Scenario, base: View | None = None) -> None:
        """Serve another scenario, from a clean state.

        ``base`` is ``base_view(scenario)`` if the caller has it already: namespaces serving one
        scenario share its indexes instead of each building a copy.
        """
        problem = self.serving.problem(scenario.errors)
        if problem is not None:
            index, key, reason = problem
            raise ScenarioError(reason, source=scenario.source, path=f"errors[{index}].{key}")
        if base is None:
            base = base_view(scenario)
        faults = Injector(scenario)
        slow = faults.slow
        with self._lock:
            self.scenario = scenario
            self._base = base
            self._faults = faults
            self._scenario_slow = slow
            self._ids = IdGenerator(scenario.seed ^ 0x5EED)
            self.reset()

    def reset(self) -> None:
        """Drop every change, forced error and journal entry: back to the loaded scenario."""
        # Run before every test of a pytest run: one frame, plain attributes.
        with self._lock:
            self.view = self._base
            if not self._faults.blank:  # a blank one (the common case) has nothing to undo
                self._faults = Injector(self.scenario)
            if self._slow is not self._scenario_slow:
                self._mark(self._scenario_slow)
            self.journal.clear()
            self.server_errors.clear()

    def _mark(self, slow: bool) -> None:
        if slow is not self._slow:
            self._slow = slow
            self.serving.mark(self, slow)

    def record_server_error(self, text: str) -> None:
        """Keep the traceback of an exception raised while serving, for the test to report."""
        self.server_errors.append(text)
        self.serving.failed = True

    def now_ns(self) -> int:
        clock = self.scenario.clock_ns
        return clock if clock is not None else wall_clock_ns()

    # -- references --------------------------------------------------------------------------

    def _user(self, ref: str, path: Path = ("user",)) -> User:
        user = self.view.users.get(_text(ref, path))
        if user is None:
            near = did_you_mean(str(ref), known_names("user", self.view.users))
            raise Invalid(path, f"no user {shown(str(ref))}{near}")
        return user  # type: ignore[no-any-return]

    def _org(self, ref: str, path: Path = ("org",)) -> Org:
        org = self.view.orgs.get(_text(ref, path))
        if org is None:
            near = did_you_mean(str(ref), known_names("org", self.view.orgs))
            raise Invalid(path, f"no org {shown(str(ref))}{near}")
        return org  # type: ignore[no-any-return]

    # -- changes -----------------------------------------------------------------------------

    def set_second_factors(self, org: str, factors: Iterable[str | Factor] | None) -> None:
        """Give an org a custom login policy with these factors; None: follow the default."""
        with self._lock:
            try:
                target = self._org(org)
                view = self.view
                if factors is None:
                    policies = view.policies.with_change(target.id, DELETED)
                else:
                    names = [f.key if isinstance(f, Factor) else f for f in factors]
                    parsed = parse_factors(names, ("second_factors",))
                    check_recovery_codes(parsed, ("second_factors",), self.scenario.profile)
                    policy = PolicyView(LoginPolicy(parsed), self.now_ns())
                    policies = view.policies.with_change(target.id, policy)
            except Invalid as exc:
                raise _invalid(exc) from None
            self.view = replace(view, policies=policies)

    def add_factor(self, user: str, factor: str | Mapping[str, Any]) -> AuthFactor:
        """Register a factor for a human user (a name, or ``{type, name, id, state}``)."""
        with self._lock:
            try:
                target = self._user(user)
                if target.type is UserType.MACHINE:
                    raise Invalid(("user",), f"{user!r} is a machine user; it has no auth factors")
                current = self.view.factors.get(target.id, ())
                key = f"u2f:{target.username}:added:{len(current)}"
                spec = dict(factor) if isinstance(factor, Mapping) else factor
                parsed = parse_auth_factor(spec, ("factor",), self._ids, key)
            except Invalid as exc:
                raise _invalid(exc) from None
            view = self.view
            self.view = replace(
                view, factors=view.factors.with_change(target.id, (*current, parsed))
            )
            return parsed

    def remove_factor(self, user: str, factor: str) -> int:
        """Remove a user's factors of a type (otp, u2f, ...) or the U2F factor with this id.

        Returns how many were removed.
        """
        with self._lock:
            try:
                target = self._user(user)
            except Invalid as exc:
                raise _invalid(exc) from None
            kind = Factor.parse(factor)
            current = self.view.factors.get(target.id, ())
            kept = tuple(f for f in current if not (f.type is kind or (f.id and f.id == factor)))
            view = self.view
            self.view = replace(view, factors=view.factors.with_change(target.id, kept))
            return len(current) - len(kept)

    def add_user(
        self,
        username: str,
        *,
        org: str | None = None,
        id: str | None = None,
        type: str = "human",
        auth_factors: Iterable[str | Mapping[str, Any]] = (),
    ) -> User:
        """Add a user to an org (the first org by default)."""
        with self._lock:
            view = self.view
            try:
                if not isinstance(username, str) or not username:
                    raise Invalid(("username",), "expected a non-empty string")
                if username in view.users:
                    raise Invalid(("username",), f"a user named {username!r} already exists")
                if type not in ("human", "machine"):
                    raise Invalid(("type",), f"{type!r} is not one of human, machine")
                target = self._org(org) if org is not None else view.orgs.get(view.first_org_id)
                user_id = (
                    _text(id, ("id",))
                    if id is not None
                    else self._ids.make(f"user:added:{username}")
                )
                if user_id in view.users:
                    raise Invalid(("id",), f"id {user_id!r} is already used")
                factors = tuple(
                    parse_auth_factor(f, ("auth_factors", i), self._ids, f"u2f:{username}:{i}")
                    for i, f in enumerate(auth_factors)
                )
                if factors and type == "machine":
                    raise Invalid(("auth_factors",), "a machine user has no auth factors")
            except Invalid as exc:
                raise _invalid(exc) from None
            user = User(user_id, username, target.id, UserType(type), factors)
            users = view.users.with_change(user_id, user).with_change(username, user)
            self.view = replace(
                view, users=users, factors=view.factors.with_change(user_id, factors)
            )
            return user

    def add_token(self, token: str, user: str, *, expired: bool = False) -> Token:
        """Make a bearer token act as a user (or, with ``expired``, be known but rejected)."""
        with self._lock:
            try:
                if not isinstance(token, str) or not token:
                    raise Invalid(("token",), "expected a non-empty string")
                target = self._user(user)
            except Invalid as exc:
                raise _invalid(exc) from None
            view = self.view
            entry = Token(token, target.id, bool(expired))
            self.view = replace(view, tokens=view.tokens.with_change(token, entry))
            return entry

    def keep_token(self, entry: Any, limit: int) -> None:
        """Keep an issued access token (a model.IssuedToken); past ``limit``, the oldest goes."""
        with self._lock:  # a store of the state's own, changed in place (a reset: a new one)
            if (issued := self.view.issued) is self._base.issued:  # the shared empty one
                self.view = replace(self.view, issued=(issued := OrderedDict()))
            if len(issued) >= limit:
                issued.popitem(last=False)
            issued[entry.token] = entry

    # -- forced errors -----------------------------------------------------------------------

    def add_error(self, *, origin: str = "State.add_error()", **fields: Any) -> ErrorRule:
        """Add a forced rule, with the same fields as a scenario's ``errors`` entry.

        ``origin`` says where it was made, for the journal's ``why``.
        """
        spec = {k: v for k, v in fields.items() if v is not None}
        with self._lock:
            try:
                rule = parse_error_rule(
                    spec,
                    (),
                    lambda v, p: self._user(str(v), p).id,
                    lambda v, p: self._org(str(v), p).id,
                )
            except Invalid as exc:
                raise _invalid(exc) from None
            rule = replace(rule, origin=origin)
            problem = self.serving.problem([rule])
            if problem is not None:
                raise ScenarioError(problem[2], path=problem[1])
            self._faults.add(rule)
            self._mark(self._faults.slow)
            return rule

    def clear_errors(self) -> None:
        with self._lock:
            self._faults.clear()
            self._mark(self._faults.slow)

    def errors(self) -> list[tuple[ErrorRule, int | None]]:
        """The forced rules with how many times each will still fire (None: always)."""
        with self._lock:
            return self._faults.listing()

    def numbered_errors(self) -> list[tuple[int, ErrorRule, int | None]]:
        """``errors``, each with its index among all the rules (the one ``why`` names)."""
        with self._lock:
            return self._faults.numbered()

    def take_error(
        self, rpc: str, user_id: str | None, org_id: str | None, token: str | None = None
    ) -> Injection | None:
        """Return what the forced rules, latency and rate limit do to this request, if anything.

        The rule that fires is counted as used.
        """
        if self._faults.idle:
            return None
        with self._lock:
            return self._faults.take(rpc, user_id, org_id, token)

    def record(self, call: Call) -> None:
        self.journal.append(call)
        for observer in self.observers:
            observer(call)
