"""Small typed readers for raw scenario data; each failure names the key path."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any

from .source import Path

__all__ = ["Invalid", "expect_bool", "expect_int", "expect_list", "expect_mapping", "expect_str"]


class Invalid(Exception):
    """A validation failure at a key path; the loader adds the file and line."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def expect_mapping(
    value: object,
    path: Path,
    allowed: Collection[str],
    required: Collection[str] = (),
) -> Mapping[str, Any]:
    """Check ``value`` is a mapping with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(value, dict):
        raise Invalid(path, f"expected a mapping, got {_kind(value)}")
    for key in value:
        if not isinstance(key, str):
            raise Invalid(path, f"keys must be strings, got {_kind(key)}")
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            expected = ", ".join(sorted(allowed))
            raise Invalid((*path, key), f"unknown key{hint}; expected one of: {expected}")
    for key in required:
        if key not in value:
            raise Invalid(path, f"missing required key {key!r}")
    return value


def expect_list(value: object, path: Path, *, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid(path, f"expected a list, got {_kind(value)}")
    if non_empty and not value:
        raise Invalid(path, "expected at least one entry, got an empty list")
    return value


def expect_str(value: object, path: Path, *, allow_int: bool = False, max_len: int = 0) -> str:
    """A non-empty string; with ``allow_int``, a non-negative integer is taken as its digits."""
    if allow_int and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str):
        raise Invalid(path, f"expected a string, got {_kind(value)}")
    if not value.strip():
        raise Invalid(path, "expected a non-empty string")
    if max_len and len(value) > max_len:
        raise Invalid(path, f"expected at most {max_len} characters, got {len(value)}")
    return value


def expect_int(value: object, path: Path, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(path, f"expected a whole number, got {_kind(value)}")
    if value < minimum:
        raise Invalid(path, f"expected a whole number of at least {minimum}, got {value}")
    return value


def expect_bool(value: object, path: Path) -> bool:
    if not isinstance(value, bool):
        raise Invalid(path, f"expected true or false, got {_kind(value)}")
    return value
