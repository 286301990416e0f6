"""``ZitadelMock``: the handle a test uses to steer and inspect a running mock.

It is what the pytest plugin's ``zitadel_mock`` fixture yields, and it works without pytest
too: ``ZitadelMock(MockServer(...).start())``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from .builtin import builtin_scenario
from .errors import ZitadelMockError
from .journal import Call
from .model import AuthFactor, ErrorRule, Factor, Scenario, Token, User
from .scenario import load_scenario
from .server import MockServer

__all__ = ["MockAssertionError", "ServerSideError", "ZitadelMock"]


_BUILTIN = "<built-in>"


class MockAssertionError(AssertionError):
    """An ``assert_called``/``assert_not_called`` that does not hold."""


class ServerSideError(ZitadelMockError):
    """An exception was raised inside the mock while it served a request."""


class ZitadelMock:
    """Steer and inspect a running ``MockServer``: the journal, forced errors, state changes."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self._scenarios: dict[str, Scenario] = {}
        self._current: str | None = None

    # -- what a test reads -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:50123``."""
        return self.server.url

    @property
    def scenario(self) -> Scenario:
        return self.server.state.scenario

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
        """The calls of ``rpc`` (any if None), for a user and org (name or id), with a status."""
        user_id = self._user_id(user) if user is not None else None
        org_id = self._org_id(org) if org is not None else None
        return [
            call
            for call in self.requests
            if (rpc is None or call.rpc == rpc)
            and (user_id is None or call.user_id == user_id)
            and (org_id is None or call.org_id == org_id)
            and (status is None or call.status == status)
        ]

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
        """Fail if ``rpc`` was called as described."""
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
        lines = [
            f"  {c.method} {c.path} -> {c.status}"
            + (f" user={c.user_id}" if c.user_id else "")
            + (f" org={c.org_id}" if c.org_id else "")
            + (" (forced)" if c.forced else "")
            for c in calls
        ]
        return "\nCalls made:\n" + "\n".join(lines)

    # -- what a test changes (all undone by the next reset) ----------------------------------

    def fail(
        self,
        rpc: str | None = None,
        *,
        code: str | int,
        user: str | None = None,
        org: str | None = None,
        message: str | None = None,
        id: str | None = None,
        times: int | None = None,
    ) -> ErrorRule:
        """Force an error, as a scenario's ``errors`` entry does."""
        return self.server.state.add_error(
            rpc=rpc, user=user, org=org, code=code, message=message, id=id, times=times
        )

    def set_second_factors(self, org: str, factors: Iterable[str | Factor] | None) -> None:
        """Give an org (name or id) a custom policy with these factors; None: the default."""
        self.server.state.set_second_factors(org, factors)

    def add_factor(self, user: str, factor: str | Mapping[str, Any]) -> AuthFactor:
        return self.server.state.add_factor(user, factor)

    def remove_factor(self, user: str, factor: str) -> int:
        return self.server.state.remove_factor(user, factor)

    def add_user(self, username: str, **options: Any) -> User:
        return self.server.state.add_user(username, **options)

    def add_token(self, token: str, user: str, *, expired: bool = False) -> Token:
        return self.server.state.add_token(token, user, expired=expired)

    # -- between tests -----------------------------------------------------------------------

    def use(self, path: str | os.PathLike[str] | None) -> None:
        """Serve the scenario at ``path`` (None: the built-in one), from a clean state.

        Scenarios are loaded once and cached; serving the same one again is only a reset.
        """
        # abspath, not resolve(): this runs before every test, and resolve() stats every folder.
        key = os.path.abspath(path) if path is not None else _BUILTIN
        if key == self._current:
            self.server.state.reset()
            return
        scenario = self._scenarios.get(key)
        if scenario is None:
            scenario = builtin_scenario() if path is None else load_scenario(path)
            self._scenarios[key] = scenario
        self.server.state.load(scenario)
        self._current = key

    def reset(self) -> None:
        """Back to the loaded scenario: no changes, forced errors or journal entries."""
        self.server.state.reset()

    def raise_server_errors(self) -> None:
        """Raise ServerSideError with the traceback if serving raised an exception."""
        errors = self.server.state.server_errors
        if errors:
            raise ServerSideError(
                "an exception was raised inside zitadel-mock while serving:\n" + "\n".join(errors)
            )

    def _user_id(self, ref: str) -> str:
        user = self.server.state.view.users.get(str(ref))
        return user.id if user is not None else str(ref)

    def _org_id(self, ref: str) -> str:
        org = self.server.state.view.orgs.get(str(ref))
        return org.id if org is not None else str(ref)


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
