"""ZITADEL-style ids: decimal strings of a 63-bit Sonyflake number.

Layout (as ZITADEL builds them): 39 bits of time in 10 ms units since 2019-04-29 00:00:00 UTC,
8 bits of sequence, 16 bits of machine id: ``id = t << 24 | seq << 16 | machine``.

Generated ids are derived from a seed and a stable key (for example ``user:alice``), not from a
counter, so adding a user to a scenario does not change the ids of the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone

__all__ = ["EPOCH", "IdGenerator", "decode", "sonyflake"]

EPOCH = datetime(2019, 4, 29, tzinfo=timezone.utc)
_EPOCH_S = int(EPOCH.timestamp())
# Generated ids fall between these dates: 18 digits, and plausibly recent.
_WINDOW_START = (int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()) - _EPOCH_S) * 100
_WINDOW_LEN = 2 * 365 * 24 * 3600 * 100


def sonyflake(time_units: int, sequence: int, machine: int) -> str:
    """Compose an id from its parts (time in 10 ms units since EPOCH)."""
    return str((time_units << 24) | ((sequence & 0xFF) << 16) | (machine & 0xFFFF))


def decode(id: str) -> tuple[datetime, int, int]:
    """Split an id into (time, sequence, machine)."""
    number = int(id)
    units = number >> 24
    when = datetime.fromtimestamp(_EPOCH_S + units / 100, tz=timezone.utc)
    return when, (number >> 16) & 0xFF, number & 0xFFFF


class IdGenerator:
    """Make reproducible, unique ids from a seed and a key."""

    def __init__(self, seed: int = 0, taken: Iterable[str] = ()) -> None:
        self._seed = seed
        self._taken: set[str] = set(taken)
        # The first salt still worth trying for a key: those below it gave ids taken already,
        # and an id once taken stays taken. Without it, making the id of one key again and
        # again (a factor added and removed in a loop) would retry every earlier salt each time.
        self._salts: dict[str, int] = {}

    def __contains__(self, id: object) -> bool:
        """Whether ``id`` is used already: reserved, or made by this generator."""
        return id in self._taken

    def reserve(self, id: str) -> None:
        """Mark an id as used, so no generated id equals it."""
        self._taken.add(id)

    def make(self, key: str) -> str:
        """Return the id for ``key``: the same for the same seed and key, never one taken."""
        salt = self._salts.get(key, 0)
        while True:
            digest = hashlib.blake2b(f"{self._seed}\0{key}\0{salt}".encode(), digest_size=8)
            value = int.from_bytes(digest.digest(), "big")
            units = _WINDOW_START + value % _WINDOW_LEN
            rest = value // _WINDOW_LEN
            id = sonyflake(units, rest & 0xFF, (rest >> 8) & 0xFFFF)
            salt += 1
            if id not in self._taken:
                self._taken.add(id)
                self._salts[key] = salt
                return id
