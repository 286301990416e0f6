"""ZITADEL-style ids: decimal strings of a 63-bit Sonyflake number.

Layout (as ZITADEL builds them): 39 bits of time in 10 ms units since 2019-04-29 00:00:00 UTC,
8 bits of sequence, 16 bits of machine id: ``id = t << 24 | seq << 16 | machine``.

Generated ids are derived from a seed and a stable key (for example ``user:alice``), not from a
counter, so adding a user to a scenario does not change the ids of the others. A generated
population draws its ids in batches from a seeded stream instead (IdStream): the same options
give the same ids.
"""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Iterable
from datetime import datetime, timezone

__all__ = ["EPOCH", "IdGenerator", "IdStream", "decode", "sonyflake"]

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

    def reserve_new(self, ids: Iterable[str]) -> list[str]:
        """Reserve the ids not used yet (the first of any given twice); return them, in order."""
        taken = self._taken
        # set.add returns None: an id not taken is added, and kept.
        return [id for id in ids if not (id in taken or taken.add(id))]  # type: ignore[func-returns-value]

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


class IdStream:
    """Sonyflake ids drawn from a seeded stream, laid out as IdGenerator.make lays them out.

    IdGenerator hashes a key per id; drawing them in batches from a seeded stream costs a
    fraction of that. ``ids`` holds the ids already used, which are skipped.
    """

    def __init__(self, seed: str, ids: IdGenerator) -> None:
        self.rng = random.Random(seed)
        self.ids = ids
        self.buffer: list[str] = []
        self.next = 0

    def _fill(self, count: int) -> None:
        if self.next > 4096:
            del self.buffer[: self.next]
            self.next = 0
        start, length = _WINDOW_START, _WINDOW_LEN
        drawn = struct.unpack(f"<{count}Q", self.rng.randbytes(8 * count))
        ids = []
        for value in drawn:
            rest, units = divmod(value, length)
            ids.append(str((start + units) << 24 | (rest & 0xFF) << 16 | (rest >> 8) & 0xFFFF))
        self.buffer += self.ids.reserve_new(ids)

    def take(self, count: int) -> list[str]:
        """The next ``count`` ids."""
        while len(self.buffer) - self.next < count:
            self._fill(max(count, 256))
        start, self.next = self.next, self.next + count
        return self.buffer[start : self.next]

    def __call__(self) -> str:
        """The next id."""
        if self.next == len(self.buffer):
            self._fill(256)
        self.next += 1
        return self.buffer[self.next - 1]
