"""gRPC status codes, their HTTP statuses and ZITADEL's error envelope."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "CODE_NAMES", "ZError", "code_from", "http_status"]

# name -> (number, HTTP status of grpc-gateway's default mapping, default message)
_TABLE: dict[str, tuple[int, int, str]] = {
    "OK": (0, 200, ""),
    "CANCELLED": (1, 499, "context canceled"),
    "UNKNOWN": (2, 500, "unknown error"),
    "INVALID_ARGUMENT": (3, 400, "invalid argument"),
    "DEADLINE_EXCEEDED": (4, 504, "context deadline exceeded"),
    "NOT_FOUND": (5, 404, "Not Found"),
    "ALREADY_EXISTS": (6, 409, "Already exists"),
    "PERMISSION_DENIED": (7, 403, "No matching permissions found"),
    "RESOURCE_EXHAUSTED": (8, 429, "quota exceeded"),
    "FAILED_PRECONDITION": (9, 400, "failed precondition"),
    "ABORTED": (10, 409, "aborted"),
    "OUT_OF_RANGE": (11, 400, "out of range"),
    "UNIMPLEMENTED": (12, 501, "not implemented"),
    "INTERNAL": (13, 500, "An internal error occurred"),
    "UNAVAILABLE": (14, 503, "service unavailable"),
    "DATA_LOSS": (15, 500, "data loss"),
    "UNAUTHENTICATED": (16, 401, "unauthenticated"),
}

CODES: dict[str, int] = {name: row[0] for name, row in _TABLE.items()}
CODE_NAMES: dict[int, str] = {row[0]: name for name, row in _TABLE.items()}
_HTTP: dict[int, int] = {row[0]: row[1] for row in _TABLE.values()}
_DEFAULT_MESSAGE: dict[int, str] = {row[0]: row[2] for row in _TABLE.values()}


def http_status(code: int) -> int:
    """Return the HTTP status grpc-gateway answers for a gRPC code."""
    return _HTTP[code]


def code_from(value: object) -> int | None:
    """Return the gRPC code for a name (any case) or a number, or None if it is no code."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in CODE_NAMES and value != 0 else None
    if isinstance(value, str):
        number = CODES.get(value.strip().upper())
        return number if number else None
    return None


@dataclass(frozen=True)
class ZError:
    """An error as ZITADEL answers it: a ``google.rpc.Status`` with an optional ZITADEL id.

    With an id, the message gets `` (<id>)`` appended and one ``ErrorDetail`` carries the bare
    id and message; without one (a plain gRPC error) there are no details.
    """

    code: int
    message: str
    id: str | None = None
    status: int | None = None  # an HTTP status other than the code's (the gateway's 405)

    @classmethod
    def of(cls, code: int, message: str | None = None, id: str | None = None) -> ZError:
        """Build an error, with the code's default message when none is given."""
        return cls(code, message if message is not None else _DEFAULT_MESSAGE[code], id)

    @property
    def http_status(self) -> int:
        return self.status or _HTTP[self.code]

    @property
    def www_authenticate(self) -> str | None:
        """grpc-gateway sends the message as ``WWW-Authenticate`` with every UNAUTHENTICATED."""
        return self.full_message if self.code == 16 else None

    @property
    def full_message(self) -> str:
        return f"{self.message} ({self.id})" if self.id else self.message
