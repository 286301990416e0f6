"""Integers too long for Python to read or print: found, located and described in one line.

Python refuses to turn more than ``sys.get_int_max_str_digits()`` decimal digits (4,300 by
default) into an int, or an int that long into text, with a ``ValueError`` (a guard against
quadratic-time conversions). ``json.loads`` and YAML's int constructor both hit it. Every reader
of the mock turns that into its usual precise error, worded here; JSON text is searched here for
the number's line and key path (the YAML reader knows both as it reads).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

__all__ = ["MAX_DIGITS", "describe", "is_digit_limit", "locate_json", "too_long_message"]

# 0 means no limit in Python; the mock keeps the default one then, for its own messages.
MAX_DIGITS: int = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300
_LONG = 3 * MAX_DIGITS  # bits: an int this long has at least ~900 digits, still printable


def is_digit_limit(exc: BaseException) -> bool:
    """Tell whether ``exc`` is Python's refusal of an integer with too many digits."""
    return isinstance(exc, ValueError) and "integer string conversion" in str(exc)


def _digits(value: int) -> int:
    return int(abs(value).bit_length() * 0.30103) + 1


def describe(value: int | float) -> str:
    """A number as text for a message; an integer too long to print is described instead."""
    if isinstance(value, int) and value.bit_length() > _LONG:
        return f"an integer of about {_digits(value):,} digits"
    return repr(value)


def too_long_message(digits: int) -> str:
    return (
        f"an integer of {digits:,} digits; at most {MAX_DIGITS:,} can be read "
        "(write it as a string if it is an id)"
    )


class _Long:
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _json_path(data: Any) -> tuple[list[str | int], int] | None:
    """The key path of the first ``_Long`` in ``data`` (iterative: any depth), and its digits."""
    stack: list[tuple[list[str | int], Any]] = [([], data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Long):
            return path, value.digits
        if isinstance(value, dict):
            stack.extend(([*path, k], v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend(([*path, i], v) for i, v in reversed(list(enumerate(value))))
    return None


def locate_json(text: str) -> tuple[int | None, list[str | int], int] | None:
    """The line, key path and digit count of the first too-long integer in JSON text."""

    def read(digits: str) -> Any:
        count = len(digits.lstrip("-"))
        return _Long(count) if count > MAX_DIGITS else int(digits)

    try:
        data = json.loads(text, parse_int=read)
    except (ValueError, RecursionError):
        return None
    found = _json_path(data)
    if found is None:
        return None
    path, digits = found
    match = re.search(rf"-?\d{{{MAX_DIGITS + 1},}}", text)
    line = text.count("\n", 0, match.start()) + 1 if match else None
    return line, path, digits
