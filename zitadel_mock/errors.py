"""The package's exceptions: one base, everything else under it."""

from __future__ import annotations

__all__ = ["ScenarioError", "ServerError", "ZitadelMockError"]


class ZitadelMockError(Exception):
    """Base of every error zitadel-mock raises on purpose."""


class ScenarioError(ZitadelMockError):
    """A scenario that cannot be loaded: names the file, the line, the key path and the problem.

    ``str(error)`` is one line, e.g.
    ``fixtures/acme.yaml:14: orgs[0].users[2].auth_factors[0].type: 'totp' is not one of ...``.
    """

    def __init__(
        self, message: str, *, source: str | None = None, line: int | None = None, path: str = ""
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.path = path
        super().__init__(self.format())

    def format(self) -> str:
        """Return the one-line form ``file:line: key.path: message``."""
        where = self.source or "<scenario>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: {what}"


class ServerError(ZitadelMockError):
    """The mock server could not start (for example, the port is taken)."""
