"""The request journal: what the mock was asked and what it answered, bounded."""

from __future__ import annotations

import bisect
import difflib
import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any, NamedTuple, Protocol

from .clock import rfc3339
from .faults import Injection

__all__ = [
    "MAX_BODY",
    "MAX_BYTES",
    "MAX_VALUE",
    "Call",
    "Journal",
    "check_status",
    "did_you_mean",
    "is_id",
    "known_names",
    "nearest",
    "parse_status",
    "resolve",
    "select",
    "shortened_authorization",
    "shown",
    "truncated",
    "unknown_message",
]

MAX_ID = 200  # ZITADEL's limit on a user id; no id the mock journals as known is longer
MAX_SHOWN = 60  # characters of a refused value quoted in an error message
MAX_SUGGESTED = 3  # nearest names offered for an unknown one
# Suggestions are looked for only for a name of up to this many characters: nothing longer is
# a typo of a name, and difflib's cost grows with the name's length times the scenario's size.
MAX_SUGGESTIBLE = 200
MAX_COMPARED = 1000  # names compared with an unknown one, at most (see nearest)


class Call(NamedTuple):
    """One request the mock answered (immutable; a named tuple, made once per request)."""

    rpc: str | None  # None for a path that is no ZITADEL route
    method: str
    path: str
    user_id: str | None  # the user in the path (ListHumanAuthFactors)
    org_id: str | None  # the organisation in context, when one could be told
    token: str | None  # the bearer token, as sent
    status: int
    body: bytes
    forced: bool = False  # answered by a forced rule (an error, a fault) or the rate limit
    injected: Injection | None = None  # what the forced rules, latency and rate limit did
    why: str = ""  # what decided the answer, in one line (the auth check, the rule, ...)
    time_ns: int = 0  # when the request arrived, in nanoseconds since the epoch
    duration: float = 0.0  # seconds from arrival to answer (a forced delay included)
    # The request's headers as sent, the Authorization value shortened (see below).
    headers: tuple[tuple[str, str], ...] = ()
    protocol: str = "rest"
    namespace: str = "default"

    def __repr__(self) -> str:  # the body is long and its decoded form is ``answer``
        pairs = zip(self._fields, self, strict=True)
        shown = (f"{name}={value!r}" for name, value in pairs if name != "body")
        return f"Call({', '.join(shown)})"

    @property
    def answer(self) -> Any:
        """The answer's JSON body, decoded; None if there was none or it is not JSON (a fault)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rpc": self.rpc,
            "method": self.method,
            "path": self.path,
            "user_id": self.user_id,
            "org_id": self.org_id,
            "token": self.token,
            "status": self.status,
            "forced": self.forced,
            "answer": self.answer,
            "injected": self.injected.to_dict() if self.injected is not None else None,
            "why": self.why,
            "time": rfc3339(self.time_ns),
            "duration": round(self.duration, 6),
            "headers": dict(self.headers),
            "protocol": self.protocol,
            "namespace": self.namespace,
        }


AUTH_SHOWN = 6  # characters of a credential the journal keeps: enough to tell tokens apart


def shortened_authorization(value: str) -> str:
    """An Authorization value as journalled: the scheme and the credential's first characters.

    A journal is shown on pages and in logs; a whole token there would be a leak.
    """
    scheme, _, credential = value.partition(" ")
    if not credential:  # no scheme: the value itself is the credential
        scheme, credential = "", scheme
    cut = credential[:AUTH_SHOWN] + ("\u2026" if len(credential) > AUTH_SHOWN else "")
    return f"{scheme} {cut}" if scheme else cut


# What one entry may keep of each value: longer ones (a client's 250 KB token, a huge path) are
# stored cut, with a marker that says how much was dropped. An answer body is rarely large (a
# user with many factors); it is kept whole up to a larger bound.
MAX_VALUE = 1024  # characters of the path, the token, the user id and the org id
MAX_BODY = 64 * 1024  # bytes of the answer body
# What a whole journal may hold, besides its bound in entries: the oldest are dropped past it.
MAX_BYTES = 32 * 1024 * 1024
_OVERHEAD = 200  # an entry's own objects (the tuple, small strings, the status), roughly


def truncated(value: str, limit: int = MAX_VALUE) -> str:
    """``value`` cut to ``limit`` characters, with a marker saying how many bytes were dropped."""
    if len(value) <= limit:
        return value
    kept = value[:limit]
    dropped = len(value.encode("utf-8", "surrogateescape")) - len(
        kept.encode("utf-8", "surrogateescape")
    )
    return f"{kept}\u2026[truncated {dropped:,} bytes]"


def _bounded(call: Call) -> Call:
    """The call with each long value cut (only called when one is over its bound)."""
    body = call.body
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + f"\u2026[truncated {len(body) - MAX_BODY:,} bytes]".encode()
    return call._replace(
        path=truncated(call.path),
        why=truncated(call.why),
        headers=tuple((truncated(n), truncated(v)) for n, v in call.headers),
        user_id=None if call.user_id is None else truncated(call.user_id),
        org_id=None if call.org_id is None else truncated(call.org_id),
        token=None if call.token is None else truncated(call.token),
        body=body,
    )


def _size(call: Call, headers: int) -> int:
    """Roughly the bytes an entry holds (its values' lengths, ``headers``, an overhead)."""
    return (
        _OVERHEAD
        + len(call.body)
        + len(call.path)
        + len(call.token or "")
        + len(call.user_id or "")
        + len(call.org_id or "")
        + len(call.why)
        + headers
    )


def _headers_size(headers: tuple[tuple[str, str], ...]) -> int:
    return sum(map(len, chain.from_iterable(headers)))


# Header sets -> their size. Most calls repeat a few sets (a client sends the same headers every
# time), and summing a set costs more than the rest of an entry. Bounded in sets and in the
# size of each; a full memo starts over.
_HEADER_SIZES: dict[tuple[tuple[str, str], ...], int] = {}
MAX_SIZED = 256


def _remembered_size(headers: tuple[tuple[str, str], ...]) -> int:
    size = _headers_size(headers)
    if size <= MAX_VALUE:  # a longer set is cut (_bounded), and then sized each time
        if len(_HEADER_SIZES) >= MAX_SIZED:
            _HEADER_SIZES.clear()
        _HEADER_SIZES[headers] = size
    return size


class Journal:
    """A thread-safe, bounded list of calls; the oldest are dropped and counted.

    Bounded twice: at most ``maxlen`` entries and about ``max_bytes`` bytes, each entry's long
    values stored cut (``MAX_VALUE``, ``MAX_BODY``) with a marker.
    """

    def __init__(self, maxlen: int = 10_000, *, max_bytes: int = MAX_BYTES) -> None:
        if maxlen < 1:
            raise ValueError(f"a journal keeps at least 1 call, not {maxlen}")
        self._calls: deque[Call] = deque()
        self._sizes: deque[int] = deque()  # each entry's size, worked out once
        self._maxlen = maxlen
        self.max_bytes = max_bytes
        self.bytes = 0
        self._lock = threading.Lock()
        self.dropped = 0

    @property
    def maxlen(self) -> int:
        return self._maxlen

    def append(self, call: Call) -> None:
        values = len(call.path) + len(call.token or "") + len(call.user_id or "")
        values += len(call.org_id or "") + len(call.why)
        try:
            headers = _HEADER_SIZES.get(call.headers) or _remembered_size(call.headers)
        except TypeError:  # not a tuple of pairs of strings, as typed (a list): summed each time
            headers = _headers_size(call.headers)
        if len(call.body) > MAX_BODY or values > MAX_VALUE or headers > MAX_VALUE:
            call = _bounded(call)  # some value may be too long: rare, so checked only then
            size = _size(call, _headers_size(call.headers))
        else:
            size = _OVERHEAD + len(call.body) + values + headers
        calls, sizes, lock = self._calls, self._sizes, self._lock
        lock.acquire()  # not ``with``: that costs half as much again, on every call
        try:
            # Room first, then the entry: ``len()``, read without the lock, never sees more
            # than ``maxlen`` entries, not even for a moment. The new entry is kept whatever
            # its size (the values in it are cut already).
            while calls and (len(calls) >= self._maxlen or self.bytes + size > self.max_bytes):
                calls.popleft()
                self.bytes -= sizes.popleft()
                self.dropped += 1
            calls.append(call)
            sizes.append(size)
            self.bytes += size
        finally:
            lock.release()

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._sizes.clear()
            self.bytes = 0
            self.dropped = 0

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls())


# -- selecting calls: the filters of ZitadelMock.calls and GET /_mock/journal -----------------
#
# A filter that names nothing the journal can hold would select nothing, and an assertion that
# nothing was called would pass: a typo must be an error instead. What the journal records:
# ``user_id`` is the id in the request's path, as sent (an unknown id is journalled too), and
# ``org_id`` is the x-zitadel-orgid header, as sent, else the caller's own org. So a user or
# org filter is a name or id the scenario has (with this test's changes), or a well-formed id
# (ASCII digits, at most MAX_ID) that it has not, since a request can carry any id.


class Index(Protocol):
    """The view's users or orgs, by id and by name (``state.Overlay``)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def values(self) -> Iterable[Any]: ...


def shown(value: str) -> str:
    """``value`` quoted for an error message, cut if long."""
    if len(value) <= MAX_SHOWN:
        return repr(value)
    return f"{value[:MAX_SHOWN]!r}... ({len(value)} characters)"


def is_id(value: str) -> bool:
    """Whether ``value`` is a well-formed ZITADEL id: ASCII digits, at most MAX_ID of them."""
    return 0 < len(value) <= MAX_ID and value.isascii() and value.isdigit()


def nearest(value: str, names: Iterable[str]) -> list[str]:
    """The names closest to ``value`` (ignoring case), closest first; none for a long value.

    difflib compares one name in some 20 microseconds: in a scenario of more than
    MAX_COMPARED names, only the MAX_COMPARED nearest in sorted order are compared (those that
    share the longest beginning with ``value``), so that a typo costs milliseconds, not
    seconds, whatever the scenario's size.
    """
    if len(value) > MAX_SUGGESTIBLE:
        return []
    by_folded: dict[str, str] = {}
    for name in names:
        by_folded.setdefault(name.casefold(), name)
    folded = value.casefold()
    candidates = list(by_folded)
    if len(candidates) > MAX_COMPARED:
        candidates.sort()
        at = bisect.bisect_left(candidates, folded)
        half = MAX_COMPARED // 2
        candidates = candidates[max(0, at - half) : at + half]
    close = difflib.get_close_matches(folded, candidates, n=MAX_SUGGESTED)
    return [by_folded[c] for c in close]


def did_you_mean(value: str, names: Iterable[str]) -> str:
    """``; did you mean 'alice'?`` with the nearest names, or an empty string if none is near."""
    quoted = [repr(c) for c in nearest(value, names)]
    if not quoted:
        return ""
    choice = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"; did you mean {choice}?"


def unknown_message(kind: str, value: str, names: Iterable[str]) -> str:
    """``unknown user 'alcie': the scenario has no such user; did you mean 'alice'?``."""
    text = f"unknown {kind} {shown(value)}: the scenario has no such {kind}"
    return text + (did_you_mean(value, names) or ", nor one with a similar name")


def known_names(kind: str, index: Index) -> set[str]:
    """The usernames (``kind`` "user") or org names of the view: for an error path only."""
    attribute = "username" if kind == "user" else "name"
    return {getattr(item, attribute) for item in index.values()}


def resolve(kind: str, ref: object, index: Index) -> str:
    """The id a ``user`` or ``org`` filter selects calls by (see above); ValueError if none.

    ``kind`` is "user" (named by username) or "org" (named by name); an id may be an int.
    Names are looked for only on this error path, never when the filter is valid.
    """
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise TypeError(f"{kind} must be a name or an id (a str), not {type(ref).__name__}")
    text = str(ref)
    found = index.get(text)
    if found is not None:
        return str(found.id)
    if is_id(text):
        return text
    raise ValueError(unknown_message(kind, text, known_names(kind, index)))


def check_status(status: object) -> int:
    """A ``status`` filter given in Python: an int from 100 to 599, else TypeError/ValueError."""
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(
            f"status must be an HTTP status, an int from 100 to 599, not {type(status).__name__}"
        )
    if not 100 <= status <= 599:
        raise ValueError(f"status {status} is not an HTTP status (100 to 599)")
    return status


def parse_status(text: str) -> int:
    """A ``status`` filter given as text (a query parameter): three ASCII digits, 100 to 599."""
    # isascii first: str.isdigit is true of digits int() refuses ('²') and of other scripts'.
    if not (len(text) == 3 and text.isascii() and text.isdigit() and 100 <= int(text) <= 599):
        raise ValueError(f"status: {shown(text)} is not an HTTP status (100 to 599)")
    return int(text)


def select(
    calls: Iterable[Call],
    rpc: str | None = None,
    user_id: str | None = None,
    org_id: str | None = None,
    status: int | None = None,
) -> list[Call]:
    """The calls that match every filter given (None: any), oldest first."""
    return [
        call
        for call in calls
        if (rpc is None or call.rpc == rpc)
        and (user_id is None or call.user_id == user_id)
        and (org_id is None or call.org_id == org_id)
        and (status is None or call.status == status)
    ]
