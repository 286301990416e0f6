"""Time as ZITADEL writes it: RFC 3339 timestamps (protojson) and HTTP dates."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from email.utils import formatdate
from functools import lru_cache

__all__ = ["http_date", "parse_timestamp", "rfc3339", "wall_clock_ns"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|z|[+-]\d\d:\d\d)"
)


def wall_clock_ns() -> int:
    return time.time_ns()


def parse_timestamp(value: object) -> int | None:
    """Parse an RFC 3339 string (up to 9 fractional digits) or a datetime into ns since epoch."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        base = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    offset = 0
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    seconds = int(base.replace(tzinfo=timezone.utc).timestamp()) - offset
    nanos = int((frac or "").ljust(9, "0"))
    return seconds * 10**9 + nanos


def rfc3339(ns: int) -> str:
    """Format like protojson: UTC with ``Z`` and 0, 3, 6 or 9 fractional digits."""
    seconds, nanos = divmod(ns, 10**9)
    base = _utc_second(seconds)
    if nanos == 0:
        return base + "Z"
    if nanos % 10**6 == 0:
        return f"{base}.{nanos // 10**6:03d}Z"
    if nanos % 10**3 == 0:
        return f"{base}.{nanos // 10**3:06d}Z"
    return f"{base}.{nanos:09d}Z"


def http_date(ns: int) -> str:
    """Format as an HTTP date (RFC 9110 IMF-fixdate), the second truncated, never rounded up."""
    # Whole seconds: a float of ns / 1e9 rounds 22.999999999 up to 23.
    return _http_second(ns // 10**9)


# Formatting a second costs ~10 us, a tenth of an answer; answers keep formatting the same few.
@lru_cache(maxsize=64)
def _utc_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


@lru_cache(maxsize=64)
def _http_second(seconds: int) -> str:
    return formatdate(seconds, usegmt=True)
