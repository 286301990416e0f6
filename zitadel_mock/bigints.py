"""Integers too long for Python to read or print: found, located and described in one line.

Python refuses to turn more than ``sys.get_int_max_str_digits()`` decimal digits (4,300 by
default) into an int, or an int that long into text, with a ``ValueError`` (a guard against
quadratic-time conversions). ``json.loads`` and YAML's int constructor both hit it. Every reader
of the mock turns that into its usual precise error: the line and key path of the number, here.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

__all__ = ["MAX_DIGITS", "describe", "is_digit_limit", "locate", "too_long_message"]

# 0 means no limit in Python; the mock keeps the default one then, for its own messages.
MAX_DIGITS: int = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300
_LONG = 3 * MAX_DIGITS  # bits: an int this long has at least ~900 digits, still printable
_INT_TAG = "tag:yaml.org,2002:int"


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


def _decimal_digits(text: str) -> int:
    """The digits of a plain decimal integer (YAML's ``_`` separators allowed), else 0."""
    body = text.replace("_", "").lstrip("+-")
    return len(body) if body.isdigit() and not text.startswith(("0x", "0o", "0b")) else 0


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


def _locate_json(text: str) -> tuple[int | None, list[str | int], int] | None:
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


def _locate_yaml(text: str) -> tuple[int | None, list[str | int], int] | None:
    """Walk libyaml's events (no tree, no recursion) to the first too-long integer."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # Each open collection: [is a mapping, expecting a key, the current key or index].
    stack: list[list[Any]] = []

    def done() -> None:  # a node ended: the parent moves on
        if stack:
            top = stack[-1]
            if top[0]:
                top[1] = not top[1]
            else:
                top[2] += 1

    def here() -> list[str | int]:
        return [entry[2] for entry in stack]

    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if stack and stack[-1][0] and stack[-1][1]:
                    stack[-1][2] = "?"  # a collection as a key: no scenario has one
                is_map = isinstance(event, yaml.MappingStartEvent)
                stack.append([is_map, True, "" if is_map else 0])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                done()
            elif isinstance(event, yaml.ScalarEvent):
                is_key = bool(stack) and stack[-1][0] and stack[-1][1]
                plain = event.implicit[0] or event.tag == _INT_TAG
                digits = _decimal_digits(event.value) if plain and not event.style else 0
                if digits > MAX_DIGITS:
                    mark = event.start_mark
                    line = mark.line + 1 if mark is not None else None
                    return line, here() if not is_key else here()[:-1], digits
                if is_key:
                    stack[-1][2] = event.value
                done()
            elif isinstance(event, yaml.AliasEvent):
                if stack and stack[-1][0] and stack[-1][1]:
                    stack[-1][2] = "*" + str(event.anchor)
                done()
    except yaml.YAMLError:
        return None
    return None


def locate(text: str, fmt: str) -> tuple[int | None, list[str | int], int] | None:
    """The line, key path and digit count of the first too-long integer in scenario text."""
    return _locate_json(text) if fmt == "json" else _locate_yaml(text)
