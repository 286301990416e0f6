"""Typed readers for raw scenario values; each failure names the key path.

The generic ``expect_*`` readers, and the readers of single scenario values (a factor, a login
policy) that the loader, the live state and the control API share; forced rules are read in
``rules``.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..bigints import MAX_DIGITS, describe
from ..clock import parse_timestamp
from ..ids import IdGenerator
from ..model import AuthFactor, Factor, FactorState, LoginPolicy, LoginSettings
from ..versions import RECOVERY_CODES, Profile, VersionError, parse_zitadel_version, profile_of
from .paths import Path

__all__ = [
    "Invalid",
    "check_recovery_codes",
    "did_you_mean",
    "expect_bool",
    "expect_int",
    "expect_list",
    "expect_mapping",
    "expect_str",
    "kind",
    "parse_auth_factor",
    "parse_clock",
    "parse_factor",
    "parse_factors",
    "parse_login_settings",
    "parse_policy",
    "parse_version",
    "read_zitadel_version",
]

_FACTOR_NAMES = "otp, u2f, otp_sms, otp_email"
_SECOND_FACTOR_NAMES = f"{_FACTOR_NAMES}, recovery_codes"
_RECOVERY_CODES_ONLY_IN_POLICIES = (
    "'recovery_codes' is a second factor of login policies only: ListHumanAuthFactors never "
    f"lists it, so a user's factors are one of {_FACTOR_NAMES}"
)
_UINT64 = 2**64 - 1


class Invalid(Exception):
    """A validation failure at a key path; the loader adds the file and line."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def kind(value: object) -> str:
    """Describe a value for a message: ``a string ('x')``, ``a list``, ``nothing (null)``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({describe(value)})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.datetime):
        return f"a timestamp ({value.isoformat()})"
    if isinstance(value, datetime.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, bytes):
        return "binary data (!!binary)"
    if isinstance(value, (set, frozenset)):
        return "a set (!!set)"
    return f"a {type(value).__name__}"


def did_you_mean(value: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, ignoring case, or an empty string."""
    by_folded = {option.casefold(): option for option in options}
    close = difflib.get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[close[0]]!r}?)" if close else ""


def _key_step(key: object) -> str:
    """A non-string key as the parser wrote it, so that its line can be found."""
    if isinstance(key, bool):
        return str(key).lower()
    return "null" if key is None else str(key)


def expect_mapping(
    value: object,
    path: Path,
    allowed: Collection[str],
    required: Collection[str] = (),
) -> Mapping[str, Any]:
    """Check ``value`` is a mapping with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(value, dict):
        raise Invalid(path, f"expected a mapping, got {kind(value)}")
    expected = ", ".join(sorted(allowed))
    for key in value:
        if not isinstance(key, str):
            raise Invalid(
                (*path, _key_step(key)),
                f"unknown key: {kind(key)}, not a name; expected one of: {expected}",
            )
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise Invalid((*path, key), f"unknown key{hint}; expected one of: {expected}")
    for key in required:
        if key not in value:
            raise Invalid(path, f"missing required key {key!r}")
    return value


def expect_list(value: object, path: Path, *, non_empty: bool = False) -> list[Any]:
    """Check ``value`` is a list (with at least one entry if ``non_empty``)."""
    if not isinstance(value, list):
        raise Invalid(path, f"expected a list, got {kind(value)}")
    if non_empty and not value:
        raise Invalid(path, "expected at least one entry, got an empty list")
    return value


def _quote_hint(value: object) -> str:
    # YAML 1.1 reads NO, off, y or 2024-01-01 as a boolean or a date, not as text.
    if isinstance(value, (bool, datetime.date)):
        return "; put it in quotes to make it a string"
    return ""


def expect_str(value: object, path: Path, *, allow_int: bool = False, max_len: int = 0) -> str:
    """A non-empty string; with ``allow_int``, a non-negative integer is taken as its digits."""
    if allow_int and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        if value.bit_length() > 3 * MAX_DIGITS:  # str() would refuse it, or take long
            raise Invalid(path, f"expected a string or a short whole number, got {describe(value)}")
        return str(value)
    if not isinstance(value, str):
        raise Invalid(path, f"expected a string, got {kind(value)}{_quote_hint(value)}")
    if not value.strip():
        raise Invalid(path, "expected a non-empty string")
    if max_len and len(value) > max_len:
        raise Invalid(path, f"expected at most {max_len} characters, got {len(value)}")
    return value


def expect_int(value: object, path: Path, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number from ``minimum`` to ``maximum`` (no bound if None); ``1.0`` is no int."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(path, f"expected a whole number, got {kind(value)}")
    if value < minimum:
        raise Invalid(path, f"expected a whole number of at least {minimum}, got {describe(value)}")
    if maximum is not None and value > maximum:
        raise Invalid(path, f"expected a whole number of at most {maximum}, got {describe(value)}")
    return value


def expect_bool(value: object, path: Path) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise Invalid(path, f"expected true or false, got {kind(value)}")
    return value


# -- scenario values -----------------------------------------------------------------------------


def parse_factor(value: object, path: Path, *, policy: bool = False) -> Factor:
    """Read a factor name: otp, u2f, otp_sms, otp_email, or a full SECOND_FACTOR_TYPE_* name.

    With ``policy`` (a login policy's second factors), recovery_codes too; whether the
    scenario's ZITADEL version has it is checked apart (``check_recovery_codes``).
    """
    name = expect_str(value, path)
    factor = Factor.parse(name)
    if factor is None:
        raise Invalid(
            path, f"{name!r} is not one of {_SECOND_FACTOR_NAMES if policy else _FACTOR_NAMES}"
        )
    if not policy and not factor.is_auth_factor:
        raise Invalid(path, _RECOVERY_CODES_ONLY_IN_POLICIES)
    return factor


def parse_factors(value: object, path: Path) -> tuple[Factor, ...]:
    """Read a login policy's list of second factor names, each at most once."""
    factors: list[Factor] = []
    for i, item in enumerate(expect_list(value, path)):
        factor = parse_factor(item, (*path, i), policy=True)
        if factor in factors:
            raise Invalid((*path, i), f"{factor.key!r} is listed twice")
        factors.append(factor)
    return tuple(factors)


def parse_auth_factor(raw: object, path: Path, ids: IdGenerator, key: str) -> AuthFactor:
    """Read one auth factor: a bare name or ``{type, name, id, state}``."""
    if isinstance(raw, str):  # a bare name means {type: name}
        spec: Mapping[str, Any] = {"type": raw}
        factor = parse_factor(raw, path)
    else:
        spec = expect_mapping(raw, path, ("type", "name", "id", "state"), required=("type",))
        factor = parse_factor(spec["type"], (*path, "type"))
    for extra in ("name", "id"):
        if extra in spec and factor is not Factor.U2F:
            article = "an" if extra == "id" else "a"
            raise Invalid((*path, extra), f"only a u2f factor has {article} {extra}")
    state = FactorState.READY
    if "state" in spec:
        text = expect_str(spec["state"], (*path, "state")).upper()
        parsed = FactorState.__members__.get(text.removeprefix("AUTH_FACTOR_STATE_"))
        if parsed is None:
            raise Invalid((*path, "state"), f"{spec['state']!r} is not one of ready, not_ready")
        state = parsed
    if factor is not Factor.U2F:
        return AuthFactor(factor, state)
    name = expect_str(spec["name"], (*path, "name")) if "name" in spec else ""
    if "id" in spec:
        factor_id = expect_str(spec["id"], (*path, "id"), allow_int=True)
        ids.reserve(factor_id)
    else:
        factor_id = ids.make(key)
    return AuthFactor(factor, state, factor_id, name)


# The login settings a policy may give (GetLoginSettings answers them; v1 reads none), by kind.
SETTINGS_FLAGS = (
    "allow_username_password",
    "allow_register",
    "allow_external_idp",
    "force_mfa",
    "hide_password_reset",
    "ignore_unknown_usernames",
    "allow_domain_discovery",
    "disable_login_with_email",
    "disable_login_with_phone",
    "force_mfa_local_only",
)
SETTINGS_LIFETIMES = (
    "password_check_lifetime",
    "external_login_check_lifetime",
    "mfa_init_skip_lifetime",
    "second_factor_check_lifetime",
    "multi_factor_check_lifetime",
)
SETTINGS_KEYS = (
    *SETTINGS_FLAGS,
    "passkeys_type",
    "default_redirect_uri",
    *SETTINGS_LIFETIMES,
    "multi_factors",
)
PASSKEYS_TYPES = ("allowed", "not_allowed")
MULTI_FACTOR_TYPES = ("u2f_with_verification",)
MAX_LIFETIME = 315_576_000_000  # google.protobuf.Duration's largest number of seconds
MAX_URI = 2048


def _enum_word(value: object, path: Path, prefix: str, words: tuple[str, ...]) -> str:
    """One of ``words``, in any case, with or without the enum's ``prefix``."""
    text = expect_str(value, path)
    word = text.strip().lower().removeprefix(prefix)
    if word not in words:
        raise Invalid(path, f"{text!r} is not one of {', '.join(words)}{did_you_mean(text, words)}")
    return word


def parse_login_settings(spec: Mapping[str, Any], path: Path) -> LoginSettings:
    """Read the optional login settings of a login policy; a new instance's for those omitted."""
    values: dict[str, Any] = {}
    for key in SETTINGS_FLAGS:
        if key in spec:
            values[key] = expect_bool(spec[key], (*path, key))
    for key in SETTINGS_LIFETIMES:
        if key in spec:
            values[key] = expect_int(spec[key], (*path, key), maximum=MAX_LIFETIME)
    if "passkeys_type" in spec:
        word = _enum_word(
            spec["passkeys_type"], (*path, "passkeys_type"), "passkeys_type_", PASSKEYS_TYPES
        )
        values["passkeys_allowed"] = word == "allowed"
    if "default_redirect_uri" in spec:
        uri = spec["default_redirect_uri"]
        if not isinstance(uri, str):
            raise Invalid((*path, "default_redirect_uri"), f"expected a string, got {kind(uri)}")
        if len(uri) > MAX_URI:
            raise Invalid(
                (*path, "default_redirect_uri"),
                f"expected at most {MAX_URI} characters, got {len(uri)}",
            )
        values["default_redirect_uri"] = uri
    if "multi_factors" in spec:
        mpath = (*path, "multi_factors")
        items = expect_list(spec["multi_factors"], mpath)
        for i, item in enumerate(items):
            _enum_word(item, (*mpath, i), "multi_factor_type_", MULTI_FACTOR_TYPES)
            if i:
                raise Invalid((*mpath, i), "'u2f_with_verification' is listed twice")
        values["u2f_with_verification"] = bool(items)
    return LoginSettings(**values)


def parse_policy(raw: object, path: Path) -> LoginPolicy:
    """Read a login policy: ``{second_factors, processed_sequence}`` and login settings."""
    spec = expect_mapping(
        raw, path, ("second_factors", "processed_sequence", *SETTINGS_KEYS), ("second_factors",)
    )
    factors = parse_factors(spec["second_factors"], (*path, "second_factors"))
    sequence = 0
    if "processed_sequence" in spec:
        sequence = expect_int(
            spec["processed_sequence"], (*path, "processed_sequence"), maximum=_UINT64
        )
    if len(spec) == 1 + ("processed_sequence" in spec):  # second factors only: v1's policies
        return LoginPolicy(factors, sequence)
    return LoginPolicy(factors, sequence, parse_login_settings(spec, path))


def check_recovery_codes(factors: tuple[Factor, ...], path: Path, profile: Profile) -> None:
    """Refuse recovery_codes in a policy of a version that does not have them (before 4.10.0)."""
    if Factor.RECOVERY_CODES in factors:
        problem = profile.needs(
            RECOVERY_CODES, "'recovery_codes' (SECOND_FACTOR_TYPE_RECOVERY_CODES)"
        )
        if problem is not None:
            raise Invalid((*path, factors.index(Factor.RECOVERY_CODES)), problem)


def read_zitadel_version(value: object) -> Profile:
    """Read the top-level ``zitadel_version``: the profile the mock answers as."""
    try:
        return profile_of(parse_zitadel_version(value))
    except VersionError as exc:
        raise Invalid(("zitadel_version",), str(exc)) from None


def parse_version(value: object) -> None:
    """Check the top-level ``version``: the number 1 (``1.0`` is the same number)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != 1:
            raise Invalid(("version",), f"unsupported version {describe(value)}; expected 1")
        return
    raise Invalid(("version",), f"expected 1, got {kind(value)}")


def parse_clock(value: object) -> int:
    """Read the frozen ``clock``: an RFC 3339 time, in nanoseconds since the epoch."""
    ns = parse_timestamp(value)
    if ns is not None:
        return ns
    example = "'2025-08-28T10:46:22.123456Z'"
    if isinstance(value, str):
        raise Invalid(("clock",), f"{value!r} is not an RFC 3339 time like {example}")
    raise Invalid(("clock",), f"expected an RFC 3339 time like {example}, got {kind(value)}")
