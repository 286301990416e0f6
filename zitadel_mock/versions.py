"""Version profiles: which ZITADEL release the mock answers as.

A scenario's top-level ``zitadel_version`` names a release (``"4.12.3"``, or ``"4.12"`` for
4.12.0); without it the mock answers as the newest release it knows. What differs between
releases is written down once, in ``CHANGES``: each row is a behaviour that starts at a release.
A ``Profile`` says which rows apply to a version. Adding the next release's change is one row
here (and the code that asks ``profile.has(key)``, and its tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from .bigints import describe

__all__ = [
    "CHANGES",
    "DEFAULT",
    "NEWEST",
    "OLDEST",
    "ORG_FILTER",
    "RECOVERY_CODES",
    "REQUEST_ID",
    "Change",
    "Profile",
    "Version",
    "VersionError",
    "parse_zitadel_version",
    "profile_of",
]


@total_ordering
@dataclass(frozen=True)
class Version:
    """A release number, MAJOR.MINOR.PATCH; ordered as numbers, not as text (4.9 < 4.10)."""

    major: int
    minor: int
    patch: int = 0

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.parts < other.parts

    @property
    def parts(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class Change:
    """One behaviour that differs by release: the older one before ``since``, this from it."""

    since: Version
    key: str  # what the code asks ``Profile.has`` about
    change: str  # what changes, for people (the README's table says the same)
    source: str  # where the fact comes from


ORG_FILTER = "org_filter"
RECOVERY_CODES = "recovery_codes"
REQUEST_ID = "request_id"

OLDEST = Version(4, 0, 0)
NEWEST = Version(4, 13, 1)  # the newest tag the facts cover

CHANGES: tuple[Change, ...] = (
    Change(
        Version(4, 10, 0),
        RECOVERY_CODES,
        "SECOND_FACTOR_TYPE_RECOVERY_CODES (5) exists: a login policy (instance or org) may "
        "enable recovery_codes; the instance default stays otp, u2f, and ListHumanAuthFactors "
        "never lists it",
        'PROTOCOLS.md section 0, upstream commit eeae2c601 ("feat: Add recovery code MFA '
        'support (#9954)")',
    ),
    Change(
        Version(4, 12, 2),
        ORG_FILTER,
        "ListHumanAuthFactors lists only users of the organisation in context "
        "(x-zitadel-orgid, else the caller's own): a user of another organisation answers 200 {}",
        'PROTOCOLS.md section 0, upstream commit da227a458 ("fix(api): permission checks for '
        'some management API endpoints")',
    ),
    Change(
        Version(4, 13, 0),
        REQUEST_ID,
        "every answer of the two routes carries X-Request-Id (an xid: 20 characters of "
        "lowercase base32hex, new per request), and Grpc-Metadata-X-Request-Id with another id",
        'PROTOCOLS.md section 0 and section 2.7, upstream commit dbce9d09a ("feat(telemetry): '
        'unify request details")',
    ),
)
KEYS = frozenset(change.key for change in CHANGES)
# The releases where behaviour changes, oldest first: named in every error about a version.
BOUNDARIES: tuple[Version, ...] = tuple(sorted({OLDEST, *(c.since for c in CHANGES)}))


class VersionError(ValueError):
    """Text that is no version the mock knows; the message says which it knows."""


@dataclass(frozen=True)
class Profile:
    """What the mock does when it answers as ``version``."""

    version: Version
    keys: frozenset[str]

    def has(self, key: str) -> bool:
        """Whether the behaviour of the ``CHANGES`` row ``key`` applies to this version."""
        if key not in KEYS:  # a misspelt key would silently answer as the older release
            raise ValueError(f"{key!r} is no row of CHANGES; known: {', '.join(sorted(KEYS))}")
        return key in self.keys

    def needs(self, key: str, what: str) -> str | None:
        """None if ``key`` applies; otherwise a message saying ``what`` needs a later version."""
        if self.has(key):
            return None
        since = next(change.since for change in CHANGES if change.key == key)
        return (
            f"{what} needs zitadel_version {since} or later; "
            f"this scenario answers as {self.version}"
        )


def profile_of(version: Version) -> Profile:
    """The profile of a known version."""
    return Profile(version, frozenset(c.key for c in CHANGES if c.since <= version))


DEFAULT = profile_of(NEWEST)

_VERSION = re.compile(r"v?([0-9]{1,6})\.([0-9]{1,6})(?:\.([0-9]{1,6}))?")
_KNOWN = (
    f"it knows {OLDEST} to {NEWEST} "
    f"(behaviour changes at {', '.join(str(v) for v in BOUNDARIES if v != OLDEST)})"
)


def parse_zitadel_version(value: object) -> Version:
    """Read ``"4.13"`` (4.13.0) or ``"4.12.3"``; raise VersionError naming the known range.

    A YAML number is refused, not guessed: ``4.10`` written unquoted is the number 4.1.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise VersionError(
            "expected a version in quotes, like '4.13' or '4.12.3', "
            f"got the number {describe(value)}; "
            f"put it in quotes (unquoted, 4.10 is the number 4.1); {_KNOWN}"
        )
    if not isinstance(value, str):
        kind = "nothing (null)" if value is None else f"a {type(value).__name__}"
        raise VersionError(f"expected a version like '4.13' or '4.12.3', got {kind}; {_KNOWN}")
    shown = value if len(value) <= 40 else value[:40] + "..."
    match = _VERSION.fullmatch(value.strip())
    if match is None:
        raise VersionError(f"{shown!r} is not a version like '4.13' or '4.12.3'; {_KNOWN}")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    version = Version(major, minor, patch)
    if not OLDEST <= version <= NEWEST:
        raise VersionError(f"{shown!r} is not a version the mock knows; {_KNOWN}")
    return version
