"""Readers of forced rules, delays, latency and rate limits; each failure names the key path.

The scenario loader, the live state (``ZitadelMock.fail``) and the control API all read forced
rules here, so the same fields mean the same thing and fail with the same message everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ..bigints import describe
from ..codes import code_from
from ..faults import FAULTS
from ..model import ALL_RPCS, MAX_SECONDS, USERLESS_RPCS, Delay, ErrorRule, RateLimit
from .fields import Invalid, did_you_mean, expect_int, expect_list, expect_mapping, expect_str, kind
from .paths import Path, line_of

__all__ = [
    "ERROR_RULE_KEYS",
    "STEP_KEYS",
    "located_rules",
    "parse_delay",
    "parse_error_rule",
    "parse_rate_limit",
]

_MATCH_KEYS = ("rpc", "user", "org")
STEP_KEYS = (
    "code",
    "message",
    "id",
    "times",
    "after",
    "probability",
    "delay",
    "fault",
    "hold",
    "then",
)
ERROR_RULE_KEYS = (*_MATCH_KEYS, *STEP_KEYS)
_ANSWERS = ("code", "fault", "delay")


def expect_seconds(
    value: object, path: Path, *, positive: bool = False, what: str = "a number of seconds"
) -> float:
    """A number of seconds from 0 (above 0 if ``positive``) to an hour."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise Invalid(path, f"expected {what}, got {kind(value)}")
    if value < 0 or (positive and value == 0):
        bound = "above" if positive else "of at least"
        raise Invalid(path, f"expected {what} {bound} 0, got {describe(value)}")
    if value > MAX_SECONDS:
        raise Invalid(path, f"expected at most {MAX_SECONDS:g} seconds, got {describe(value)}")
    return float(value)


def parse_delay(value: object, path: Path) -> Delay:
    """Read a delay: seconds, ``{uniform: [low, high]}`` or ``{lognormal: {median, sigma}}``."""
    if not isinstance(value, dict):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return Delay("fixed", expect_seconds(value, path))
        raise Invalid(
            path,
            "expected seconds, {uniform: [low, high]} or {lognormal: {median, sigma}}, "
            f"got {kind(value)}",
        )
    spec = expect_mapping(value, path, ("uniform", "lognormal"))
    if len(spec) != 1:
        raise Invalid(path, "expected one distribution: uniform or lognormal")
    if "uniform" in spec:
        upath = (*path, "uniform")
        bounds = expect_list(spec["uniform"], upath)
        if len(bounds) != 2:
            raise Invalid(upath, f"expected two bounds [low, high], got {len(bounds)}")
        low = expect_seconds(bounds[0], (*upath, 0))
        high = expect_seconds(bounds[1], (*upath, 1))
        if low > high:
            raise Invalid(upath, f"the low bound {bounds[0]} is above the high bound {bounds[1]}")
        return Delay("uniform", low, high)
    lpath = (*path, "lognormal")
    params = expect_mapping(spec["lognormal"], lpath, ("median", "sigma"), ("median", "sigma"))
    median = expect_seconds(params["median"], (*lpath, "median"), positive=True)
    sigma = params["sigma"]
    if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or not 0 <= sigma <= 10:
        raise Invalid((*lpath, "sigma"), f"expected a number from 0 to 10, got {kind(sigma)}")
    return Delay("lognormal", median, float(sigma))


def parse_rate_limit(value: object, path: Path) -> RateLimit:
    """Read ``{requests, window, message, id}``: at most ``requests`` per token per window."""
    spec = expect_mapping(
        value, path, ("requests", "window", "message", "id"), ("requests", "window")
    )
    requests = expect_int(spec["requests"], (*path, "requests"), minimum=1)
    window = expect_seconds(spec["window"], (*path, "window"), positive=True)
    message = expect_str(spec["message"], (*path, "message")) if "message" in spec else None
    error_id = expect_str(spec["id"], (*path, "id")) if "id" in spec else None
    return RateLimit(requests, window, message, error_id)


def _code(raw: object, path: Path) -> int:
    code = code_from(raw)
    if code is None:
        plain = isinstance(raw, (str, int)) and not isinstance(raw, bool)
        what = (
            describe(raw) if isinstance(raw, int) and plain else repr(raw) if plain else kind(raw)
        )
        raise Invalid(
            path, f"{what} is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)"
        )
    return code


def _fault(raw: object, path: Path) -> str:
    name = expect_str(raw, path)
    if name not in FAULTS:
        raise Invalid(
            path, f"{name!r} is not one of {', '.join(FAULTS)}{did_you_mean(name, FAULTS)}"
        )
    return name


def _probability(raw: object, path: Path) -> float:
    if not isinstance(raw, (int, float)) or isinstance(raw, bool) or not 0 <= raw <= 1:
        raise Invalid(path, f"expected a number from 0 to 1, got {kind(raw)}")
    return float(raw)


def _step(spec: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Read what a rule (or a step of its ``then`` chain) does; the fields of ErrorRule."""
    if not any(key in spec for key in _ANSWERS):
        raise Invalid(path, "missing required key: one of 'code', 'fault', 'delay'")
    if "code" in spec and "fault" in spec:
        raise Invalid((*path, "fault"), "a rule answers with a code or a fault, not both")
    out: dict[str, Any] = {"code": _code(spec["code"], (*path, "code")) if "code" in spec else None}
    for key in ("message", "id"):
        if key in spec:
            if "code" not in spec:
                what = "a message" if key == "message" else "an id"
                raise Invalid((*path, key), f"only an error answer has {what}; add a code")
            out[key] = expect_str(spec[key], (*path, key))
    if "times" in spec:
        out["times"] = expect_int(spec["times"], (*path, "times"), minimum=1)
    if "after" in spec:
        out["after"] = expect_int(spec["after"], (*path, "after"))
    if "probability" in spec:
        out["probability"] = _probability(spec["probability"], (*path, "probability"))
    if "delay" in spec:
        out["delay"] = parse_delay(spec["delay"], (*path, "delay"))
    if "fault" in spec:
        out["fault"] = _fault(spec["fault"], (*path, "fault"))
    if "hold" in spec:
        if out.get("fault") != "timeout":
            raise Invalid((*path, "hold"), "only a timeout fault holds a request")
        out["hold"] = expect_seconds(spec["hold"], (*path, "hold"), positive=True)
    if "then" in spec:
        tpath = (*path, "then")
        if "times" not in spec:
            raise Invalid(tpath, "then takes over once times are used up: add times")
        raw = spec["then"]
        if isinstance(raw, dict):
            for key in _MATCH_KEYS:
                if key in raw:
                    raise Invalid(
                        (*tpath, key),
                        f"then takes over the requests of its rule; {key} goes on the rule",
                    )
        then = expect_mapping(raw, tpath, STEP_KEYS)
        out["then"] = ErrorRule(**_step(then, tpath))
    return out


def parse_error_rule(
    item: object,
    path: Path,
    user_id: Callable[[object, Path], str],
    org_id: Callable[[object, Path], str],
) -> ErrorRule:
    """Read one forced rule; ``user_id`` and ``org_id`` resolve references or raise Invalid."""
    spec = expect_mapping(item, path, ERROR_RULE_KEYS)
    rpc = None
    if "rpc" in spec:
        rpc = expect_str(spec["rpc"], (*path, "rpc")).rsplit("/", 1)[-1]
        if rpc not in ALL_RPCS:
            raise Invalid(
                (*path, "rpc"),
                f"{spec['rpc']!r} is not one of {', '.join(ALL_RPCS)}"
                + did_you_mean(rpc, ALL_RPCS),
            )
    step = _step(spec, path)
    user = org = None
    if "user" in spec:
        if rpc in USERLESS_RPCS:
            raise Invalid(
                (*path, "user"),
                f"{rpc} has no user in its path, so this rule could never match",
            )
        user = user_id(spec["user"], (*path, "user"))
    if "org" in spec:
        org = org_id(spec["org"], (*path, "org"))
    return ErrorRule(rpc=rpc, user_id=user, org_id=org, **step)


# Finding a rule's line reads the text again up to it: done for the first rules of a file of a
# sane size only, so that loading a huge generated scenario costs what it did; past these
# bounds a rule's origin names its key path instead of its line.
MAX_LOCATED_RULES = 50
MAX_LOCATED_TEXT = 1 << 20


def located_rules(
    rules: tuple[ErrorRule, ...], source: str | None, text: str | None
) -> tuple[ErrorRule, ...]:
    """The scenario's rules, each with its origin: ``fixtures/outage.yaml:31``."""
    where = source or "<scenario>"
    out = []
    for i, rule in enumerate(rules):
        line = None
        if text is not None and i < MAX_LOCATED_RULES and len(text) <= MAX_LOCATED_TEXT:
            line = line_of(text, ("errors", i))
        out.append(replace(rule, origin=f"{where}:{line}" if line else f"{where} errors[{i}]"))
    return tuple(out)
