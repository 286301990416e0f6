"""A request's headers as the journal keeps them: named as sent (case aside), credential cut.

Under waitress the task puts the parser's own header dict in the environ (``PARSED_KEY``):
five or so entries, against some twenty-five keys of the environ to sort through. Clients
send the same headers request after request, so each set is converted once and remembered
(``MAX_REMEMBERED`` sets of at most ``MAX_REMEMBERED_SIZE`` characters). Any other WSGI server
is read from the environ; ASGI from falcon's header dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any

from ...journal import shortened_authorization

__all__ = ["PARSED_KEY", "asgi_headers", "wsgi_headers"]

Headers = tuple[tuple[str, str], ...]

PARSED_KEY = "zitadel_mock.parsed_headers"  # waitress's {"USER_AGENT": value, ...}

# Header sets converted, by their parsed items. Bounded in entries and in each entry's size: a
# client's 250 KB token is converted every time rather than kept.
_REMEMBERED: dict[tuple[tuple[str, str], ...], Headers] = {}
MAX_REMEMBERED = 256
MAX_REMEMBERED_SIZE = 4096

# Parsed names (``USER_AGENT``) and environ keys (``HTTP_USER_AGENT``) -> the names journalled
# (``User-Agent``; "" for an environ key that is no header). Bounded, as clients choose header
# names; two threads may write the same value.
_PARSED_NAMES: dict[str, str] = {}
_ENVIRON_NAMES: dict[str, str] = {}
MAX_NAMES = 1000


def _named(names: dict[str, str], key: str, name: str) -> str:
    if len(names) < MAX_NAMES:
        names[key] = name
    return name


def _parsed_name(key: str) -> str:
    found = _PARSED_NAMES.get(key)
    if found is None:
        found = _named(_PARSED_NAMES, key, key.replace("_", "-").title())
    return found


def _environ_name(key: str) -> str:
    found = _ENVIRON_NAMES.get(key)
    if found is not None:
        return found
    if key.startswith("HTTP_"):
        return _named(_ENVIRON_NAMES, key, key[5:].replace("_", "-").title())
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return _named(_ENVIRON_NAMES, key, key.replace("_", "-").title())
    return _named(_ENVIRON_NAMES, key, "")


def _journalled(name: str, value: str) -> tuple[str, str]:
    cut = name == "Authorization" or name == "authorization"
    return (name, shortened_authorization(value) if cut else value)


def _from_parsed(parsed: Mapping[str, str]) -> Headers:
    items = tuple(parsed.items())
    found = _REMEMBERED.get(items)
    if found is not None:
        return found
    headers = tuple(_journalled(_parsed_name(key), value) for key, value in items if value)
    if sum(map(len, chain.from_iterable(items))) <= MAX_REMEMBERED_SIZE:
        if len(_REMEMBERED) >= MAX_REMEMBERED:
            _REMEMBERED.clear()
        _REMEMBERED[items] = headers
    return headers


def wsgi_headers(env: Mapping[str, Any]) -> Headers:
    """The request's headers, from waitress's parsed dict if there, else from the environ."""
    parsed = env.get(PARSED_KEY)
    if parsed is not None:
        return _from_parsed(parsed)
    names = _ENVIRON_NAMES
    out = []
    for key, value in env.items():
        name = names.get(key)
        if name is None:
            name = _environ_name(key)
        if name and value:
            out.append(_journalled(name, value))
    return tuple(out)


def asgi_headers(headers: Mapping[str, str]) -> Headers:
    """The request's headers from falcon's ASGI header dict (names in lower case)."""
    return tuple(_journalled(name, value) for name, value in headers.items())
