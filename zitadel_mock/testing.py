"""``ZitadelMock``: the handle a test uses to steer and inspect a running mock.

It is what the pytest plugin's ``zitadel_mock`` fixture yields, and it works without pytest
too: ``ZitadelMock(MockServer(scenario).start())``. The plugin itself only composes fixtures
over it; everything a test can do lives here.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ZitadelMockError
from .journal import Call, check_status, resolve, select, shown
from .model import (
    ALL_RPCS,
    AuthFactor,
    ErrorRule,
    Factor,
    Scenario,
    Token,
    User,
)
from .namespaces import DEFAULT_NAMESPACE
from .oauth_testing import SignIn
from .scenario.builtin import builtin_scenario
from .scenario.read import load_scenario
from .server import MockServer
from .usage import describe_rule, unexpected_refusals, unfired_rules

__all__ = ["MockAssertionError", "ServerSideError", "ZitadelMock"]

_BUILTIN = "<built-in>"
RPCS = ALL_RPCS  # v1's, v2's and the token endpoint (Token)


def _caller_origin() -> str:
    """``fail() at tests/test_x.py:12``: the test's line that called ``fail``."""
    frame = sys._getframe(2)  # fail()'s caller
    path = frame.f_code.co_filename
    with contextlib.suppress(ValueError):  # another drive, on Windows: the whole path
        path = os.path.relpath(path)
    return f"fail() at {path}:{frame.f_lineno}"


class MockAssertionError(AssertionError):
    """An ``assert_called``/``assert_not_called`` that does not hold."""


class ServerSideError(ZitadelMockError):
    """An exception was raised inside the mock while it served a request."""


class ZitadelMock(SignIn):
    """Steer and inspect a running ``MockServer``: the journal, forced errors, state changes.

    Users and orgs are named by username/name or by id everywhere. Every change is undone by
    ``reset()`` (the plugin resets before each test).
    """

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self._scenarios: dict[str, Scenario] = {}
        self._by_argument: dict[str | os.PathLike[str] | None, Scenario] = {}
        # (rpc, user id, org id, status) of refusals the test expects; see expect_refused
        self._expected: list[tuple[str | None, str | None, str | None, int | None]] = []

    def __repr__(self) -> str:
        return f"<ZitadelMock {self.url} scenario={self.scenario.source or _BUILTIN}>"

    # -- what a test reads -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:50123``."""
        return self.server.url

    @property
    def scenario(self) -> Scenario:
        """The scenario served, as loaded (without this test's changes)."""
        return self.server.state.scenario

    @property
    def zitadel_version(self) -> str:
        """The ZITADEL release the mock answers as (the scenario's ``zitadel_version``)."""
        return self.server.state.scenario.zitadel_version

    @property
    def requests(self) -> list[Call]:
        """The calls answered since the last reset, oldest first."""
        return self.server.state.journal.calls()

    def calls(
        self,
        rpc: str | None = None,
        *,
        user: str | None = None,
        org: str | None = None,
        status: int | None = None,
    ) -> list[Call]:
        """Return the calls of ``rpc`` (any if None), for a user and org, with a status.

        ``user`` and ``org`` are a name or an id of the scenario (with this test's changes),
        or an id it does not know (a request's path or header can carry any id); an unknown
        name is a ValueError naming the nearest known ones, as is a status outside 100..599:
        a filter with a typo would select nothing, and ``assert_not_called`` would pass.
        """
        if rpc is not None and rpc not in RPCS:
            raise ValueError(f"unknown rpc {shown(rpc)}; expected one of {', '.join(RPCS)}")
        view = self.server.state.view
        return select(
            self.requests,
            rpc,
            resolve("user", user, view.users) if user is not None else None,
            resolve("org", org, view.orgs) if org is not None else None,
            check_status(status) if status is not None else None,
        )

    def assert_called(
        self,
        rpc: str | None = None,
        *,
        times: int | None = None,
        user: str | None = None,
        org: str | None = None,
        status: int | None = None,
    ) -> None:
        """Fail unless ``rpc`` was called (exactly ``times`` times, if given) as described."""
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        found = len(self.calls(rpc, user=user, org=org, status=status))
        if (times is None and found) or found == times:
            return
        wanted = "at least once" if times is None else _times(times)
        raise MockAssertionError(
            f"expected {_describe(rpc, user, org, status)} {wanted}, "
            f"it was called {_times(found)}.{self._journal_text()}"
        )

    def assert_not_called(
        self,
        rpc: str | None = None,
        *,
        user: str | None = None,
        org: str | None = None,
        status: int | None = None,
    ) -> None:
        """Fail if ``rpc`` (any route if None) was called as described."""
        __tracebackhide__ = True
        found = len(self.calls(rpc, user=user, org=org, status=status))
        if found:
            raise MockAssertionError(
                f"expected {_describe(rpc, user, org, status)} not to be called, "
                f"it was called {_times(found)}.{self._journal_text()}"
            )

    def _journal_text(self) -> str:
        calls = self.requests
        if not calls:
            return " No call was made."
        return "\nCalls made:\n" + "\n".join(f"  {self._call_text(c)}" for c in calls)

    def _call_text(self, call: Call) -> str:
        view = self.server.state.view
        text = f"{call.method} {call.path} -> {call.status}"
        if call.user_id:
            user = view.users.get(call.user_id)
            text += f" user={call.user_id}" + (f" ({user.username})" if user else "")
        if call.org_id:
            org = view.orgs.get(call.org_id)
            text += f" org={call.org_id}" + (f" ({org.name})" if org else "")
        fault = call.injected.fault if call.injected is not None else None
        text += f" ({fault})" if fault else " (forced)" if call.forced else ""
        return text + (f": {call.why}" if call.why else "")

    # -- what a test changes (all undone by the next reset) ----------------------------------

    def fail(
        self,
        rpc: str | None = None,
        *,
        code: str | int | None = None,
        user: str | None = None,
        org: str | None = None,
        message: str | None = None,
        id: str | None = None,
        times: int | None = None,
        after: int | None = None,
        probability: float | None = None,
        delay: float | Mapping[str, Any] | None = None,
        fault: str | None = None,
        hold: float | None = None,
        then: Mapping[str, Any] | None = None,
    ) -> ErrorRule:
        """Force an answer, as a scenario's ``errors`` entry does (``times``: None for always).

        An error ``code``, a network ``fault``, a ``delay`` (alone: of the normal answer), or a
        delay with either; ``then`` (a mapping of the same fields) takes over once ``times``
        are used up, e.g. ``fail(code="UNAVAILABLE", times=2, then={"delay": 0.5})``.
        """
        return self.server.state.add_error(
            origin=_caller_origin(),
            rpc=rpc,
            user=user,
            org=org,
            code=code,
            message=message,
            id=id,
            times=times,
            after=after,
            probability=probability,
            delay=delay,
            fault=fault,
            hold=hold,
            then=dict(then) if then is not None else None,
        )

    def set_second_factors(self, org: str, factors: Iterable[str | Factor] | None) -> None:
        """Give an org a custom login policy with these factors; None: the instance default."""
        self.server.state.set_second_factors(org, factors)

    def add_factor(self, user: str, factor: str | Mapping[str, Any]) -> AuthFactor:
        """Register a factor for a human user: a type, or ``{type, name, id, state}``."""
        return self.server.state.add_factor(user, factor)

    def remove_factor(self, user: str, factor: str) -> int:
        """Remove a user's factors of a type, or the U2F factor with this id; return how many."""
        return self.server.state.remove_factor(user, factor)

    def add_user(
        self,
        username: str,
        *,
        org: str | None = None,
        id: str | None = None,
        type: str = "human",
        auth_factors: Iterable[str | Mapping[str, Any]] = (),
    ) -> User:
        """Add a user to an org (the scenario's first org by default)."""
        return self.server.state.add_user(
            username, org=org, id=id, type=type, auth_factors=auth_factors
        )

    def add_token(self, token: str, user: str, *, expired: bool = False) -> Token:
        """Make a bearer token act as a user (or, with ``expired``, be known but rejected)."""
        return self.server.state.add_token(token, user, expired=expired)

    # -- strict tests: rules that never fired, refusals nobody expected ----------------------

    def expect_refused(
        self,
        rpc: str | None = None,
        *,
        user: str | None = None,
        org: str | None = None,
        status: int | None = None,
    ) -> None:
        """Say that calls matching these filters may be refused (any 4xx/5xx, or ``status``).

        Strict tests (``assert_no_unexpected_refusals``, ``zitadel_mock_strict``) then let
        them pass, any number of times; the filters are those of ``calls``, checked the same
        way. Forgotten at the next reset.
        """
        self.calls(rpc, user=user, org=org, status=status)  # the same checks, the same errors
        view = self.server.state.view
        self._expected.append(
            (
                rpc,
                resolve("user", user, view.users) if user is not None else None,
                resolve("org", org, view.orgs) if org is not None else None,
                status,
            )
        )

    def unexpected_refusals(self) -> list[Call]:
        """The calls refused (4xx/5xx) by an auth check, the rate limit or a missing route.

        Not by a forced rule (``fail()``, the scenario's ``errors``, ``POST /_mock/errors``):
        that is what the test asked for. ``expect_refused`` lets matching calls pass.
        """
        return unexpected_refusals(self.requests, self._expected)

    def assert_no_unexpected_refusals(self) -> None:
        """Fail if a call was refused that no forced rule and no ``expect_refused`` explains."""
        __tracebackhide__ = True
        refused = self.unexpected_refusals()
        if refused:
            raise MockAssertionError(
                f"the mock refused {len(refused)} call(s) the test did not expect to be refused "
                "(say so with zitadel_mock.expect_refused(...)):\n"
                + "\n".join(f"  {self._call_text(c)}" for c in refused)
            )

    def unfired_rules(self, *, scenario: bool = False) -> list[tuple[int, ErrorRule]]:
        """The forced rules added since the last reset (``fail()``, ``POST /_mock/errors``)
        that never fired, with their positions; with ``scenario``, the scenario's too.

        A rule fired if a journal entry says so: the journal must still hold that call.
        """
        state = self.server.state
        first = 0 if scenario else len(state.scenario.errors)
        armed = [(index, rule) for index, rule, _ in state.numbered_errors()]
        return unfired_rules(state.journal.calls(), armed, first)

    def assert_all_rules_fired(self, *, scenario: bool = False) -> None:
        """Fail if a forced rule added since the last reset never fired (see unfired_rules)."""
        __tracebackhide__ = True
        unfired = self.unfired_rules(scenario=scenario)
        if not unfired:
            return
        dropped, count = self.server.state.journal.dropped, len(self.server.state.scenario.errors)
        lost = f"\n(the journal dropped {dropped} older calls: a rule may have fired there)"
        raise MockAssertionError(
            f"{len(unfired)} forced rule(s) never fired:\n"
            + "\n".join(f"  {describe_rule(i, r, scenario=i < count)}" for i, r in unfired)
            + (lost if dropped else "")
            + self._journal_text()
        )

    def assert_strict(self) -> None:
        """Both strict checks: every added rule fired, and no refusal went unexpected."""
        __tracebackhide__ = True
        self.assert_all_rules_fired()
        self.assert_no_unexpected_refusals()

    # -- between tests -----------------------------------------------------------------------

    def use(self, path: str | os.PathLike[str] | None) -> None:
        """Serve the scenario at ``path`` (None: the built-in one), from a clean state.

        Scenarios are loaded once and cached by path; serving the one already loaded again is
        only a reset, which costs the same whatever the scenario's size.
        """
        if self._expected:
            self._expected = []
        # Keyed by the argument first: the plugin passes the same objects before every test.
        scenario = self._by_argument.get(path)
        if scenario is None:
            # abspath, not resolve(): resolve() stats every folder of the path.
            key = os.path.abspath(path) if path is not None else _BUILTIN
            scenario = self._scenarios.get(key)
            if scenario is None:
                scenario = builtin_scenario() if path is None else load_scenario(path)
                self._scenarios[key] = scenario
            if path is None or os.path.isabs(path):  # a relative path depends on the cwd
                self._by_argument[path] = scenario
        spaces = self.server.namespaces
        if spaces.reset_default(scenario):
            return
        for name, _ in spaces.items():
            if name != DEFAULT_NAMESPACE:
                spaces.drop(name)
        spaces.load(scenario)

    def reset(self) -> None:
        """Go back to the loaded scenario: no changes, forced errors or journal entries."""
        self._expected = []
        self.server.state.reset()

    def server_errors(self) -> list[str]:
        """Return the tracebacks of exceptions raised inside the mock while serving."""
        serving = self.server.state.serving
        if not serving.failed:
            return []
        serving.failed = False  # before reading: an exception recorded meanwhile sets it again
        errors = [t for _, state in self.server.namespaces.items() for t in state.server_errors]
        if errors:
            serving.failed = True
        return errors

    def clear_server_errors(self) -> None:
        """Forget the recorded tracebacks (once they are reported)."""
        self.server.state.serving.failed = False
        for _, state in self.server.namespaces.items():
            state.server_errors.clear()

    def raise_server_errors(self) -> None:
        """Raise ServerSideError with the tracebacks if serving raised an exception."""
        errors = self.server_errors()
        if errors:
            raise ServerSideError(
                "an exception was raised inside zitadel-mock while serving:\n" + "\n".join(errors)
            )


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _describe(rpc: str | None, user: str | None, org: str | None, status: int | None) -> str:
    parts = [f"user={user!r}"] if user is not None else []
    if org is not None:
        parts.append(f"org={org!r}")
    if status is not None:
        parts.append(f"status={status}")
    what = rpc or "the mock"
    return f"{what} ({', '.join(parts)})" if parts else what
