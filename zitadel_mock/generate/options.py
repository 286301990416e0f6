"""Options of a generated population, read and checked the same way for the CLI and a scenario.

``zitadel-mock generate`` writes a population as a scenario file; a scenario's ``generate:`` block
builds the same population at load time. Both read their options here, so a mistake gets the
same message in both places. Faker is imported only by
:mod:`zitadel_mock.generate.population`, when a population is actually built.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..bigints import describe
from ..model import AUTH_FACTOR_TYPES, Factor
from ..scenario.fields import Invalid, did_you_mean, expect_int, expect_mapping, expect_str, kind
from ..scenario.paths import Path

__all__ = [
    "DEFAULT_FACTORS",
    "MAX_BLOCK_USERS",
    "MAX_USERS",
    "OPTION_KEYS",
    "FactorMix",
    "Options",
    "generate_schema",
    "parse_factor_mix",
    "parse_locale",
    "parse_options",
    "parse_share",
]

FAKER_HINT = "pip install 'zitadel-mock[generate]'"
MAX_USERS = 1_000_000  # written by `zitadel-mock generate`: a typo's guard, within memory
# Built by a scenario's generate: block, at load time (a server, the control API): checked
# before anything is built. 200,000 users take about 2-3 s and 150 MiB; 1,000,000 took a
# minute and 3.5 GB, during which a server answered nothing else.
MAX_BLOCK_USERS = 200_000
DEFAULT_FACTORS = "otp=0.6,u2f=0.3,otp_sms=0.1,otp_email=0.1,none=0.2"
OPTION_KEYS = (
    "orgs",
    "users_per_org",
    "seed",
    "factors",
    "locale",
    "machine_share",
    "not_ready_share",
    "custom_policy_share",
)
_MIX_NAMES = ("otp", "u2f", "otp_sms", "otp_email", "none")
_EPSILON = 1e-9  # shares are written in decimal; their sums are compared with this slack
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,4})?$")


@dataclass(frozen=True)
class FactorMix:
    """How many human users have which factors.

    ``shares`` maps each factor to the share of human users that has it READY (a user may have
    several); ``none`` is the share that has none. Every other user has at least one, so each
    factor's share is at most ``1 - none`` and together they reach at least ``1 - none``.
    """

    shares: tuple[tuple[Factor, float], ...]
    none: float

    def text(self) -> str:
        """The mix as ``--factors`` takes it, with every factor named."""
        parts = [f"{factor.key}={_number(share)}" for factor, share in self.shares]
        return ",".join([*parts, f"none={_number(self.none)}"])


@dataclass(frozen=True)
class Options:
    """Everything that decides a generated population; the same options give the same one."""

    orgs: int
    users_per_org: int
    seed: int = 0
    factors: FactorMix | None = None  # None: the default mix
    locale: str = "en_US"
    machine_share: float = 0.1  # of each org's users (the owner is always human)
    not_ready_share: float = 0.05  # of human users: one extra registration never finished
    custom_policy_share: float = 0.3  # of orgs: a custom login policy

    @property
    def mix(self) -> FactorMix:
        return self.factors or parse_factor_mix(DEFAULT_FACTORS, ())


def _number(value: float) -> str:
    """A share as short decimal text: 0.6, 1, 0.125 (an integer too long for a float: described)."""
    if isinstance(value, int) and value.bit_length() > 1000:
        return describe(value)
    return format(value, ".12g")


def parse_share(value: object, path: Path) -> float:
    """A share: a number from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(path, f"expected a share from 0 to 1, got {kind(value)}")
    if isinstance(value, float) and math.isnan(value):
        raise Invalid(path, f"expected a share from 0 to 1, got {kind(value)}")
    if not 0 <= value <= 1:
        raise Invalid(path, f"expected a share from 0 to 1, got {_number(value)}")
    return float(value)


def _mix_name(name: str, path: Path) -> str:
    key = name.strip().lower()
    if key not in _MIX_NAMES:
        hint = did_you_mean(key, _MIX_NAMES)
        raise Invalid(path, f"{name!r} is not one of {', '.join(_MIX_NAMES)}{hint}")
    return key


def _share_text(name: str, text: str, path: Path) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Invalid(path, f"{name}={text!r}: expected a share from 0 to 1") from None
    return parse_share(value, path)


def parse_factor_mix(value: object, path: Path) -> FactorMix:
    """Read a factor mix: ``"otp=0.6,u2f=0.3,none=0.2"`` or the same as a mapping.

    Without ``none``, the users the factor shares leave out have none (``1 - sum``, or 0).
    """
    raw: dict[str, float] = {}
    if isinstance(value, str):
        for part in (p.strip() for p in value.split(",")):
            name, sep, text = part.partition("=")
            if not sep or not name.strip():
                example = "'otp=0.6,u2f=0.3'"
                raise Invalid(path, f"expected name=share pairs like {example}, got {part!r}")
            key = _mix_name(name, path)
            if key in raw:
                raise Invalid(path, f"{key!r} is given twice")
            raw[key] = _share_text(key, text.strip(), path)
    elif isinstance(value, dict):
        for name, share in value.items():
            if not isinstance(name, str):
                raise Invalid(path, f"expected factor names as keys, got {kind(name)}")
            key = _mix_name(name, (*path, name))
            if key in raw:
                raise Invalid((*path, name), f"{key!r} is given twice")
            raw[key] = parse_share(share, (*path, name))
    else:
        raise Invalid(path, f"expected 'otp=0.6,u2f=0.3,...' or a mapping, got {kind(value)}")
    shares = tuple((f, raw[f.key]) for f in AUTH_FACTOR_TYPES if f.key in raw)
    if not shares and "none" not in raw:
        raise Invalid(path, "expected at least one share")
    total = sum(share for _, share in shares)
    none = raw["none"] if "none" in raw else max(0.0, 1.0 - total)
    enrolled = 1.0 - none
    for factor, share in shares:
        if share > enrolled + _EPSILON:
            raise Invalid(
                path,
                f"{factor.key}={_number(share)} is more than the {_number(enrolled)} of human "
                f"users that have a factor (none={_number(none)})",
            )
    if total < enrolled - _EPSILON:
        raise Invalid(
            path,
            f"the factor shares add up to {_number(total)}, less than the {_number(enrolled)} "
            f"of human users that have a factor (none={_number(none)}), each of whom has at "
            "least one",
        )
    return FactorMix(shares, none)


def parse_locale(value: object, path: Path) -> str:
    """A Faker locale such as ``de_DE``; ``de-DE`` is read as ``de_DE``."""
    text = expect_str(value, path).strip()
    if not _LOCALE.match(text):
        raise Invalid(path, f"{text!r} is not a locale like en_US or de_DE")
    lang, _, region = text.replace("-", "_").partition("_")
    return f"{lang.lower()}_{region.upper()}" if region else lang.lower()


def check_size(orgs: int, users_per_org: int, path: Path, maximum: int = MAX_USERS) -> None:
    """Refuse populations beyond ``maximum`` users."""
    if orgs * users_per_org > maximum:
        where = "" if maximum == MAX_USERS else " by a scenario's generate: block"
        raise Invalid(
            path,
            f"{orgs} orgs of {users_per_org} users make {orgs * users_per_org:,} users; "
            f"at most {maximum:,} can be generated{where}",
        )


def parse_options(
    raw: object, path: Path, *, default_seed: int = 0, max_users: int = MAX_BLOCK_USERS
) -> Options:
    """Read the options of a ``generate:`` block (the CLI's options, with underscores)."""
    spec = expect_mapping(raw, path, OPTION_KEYS, ("orgs", "users_per_org"))
    orgs = expect_int(spec["orgs"], (*path, "orgs"), minimum=1, maximum=MAX_USERS)
    users = expect_int(
        spec["users_per_org"], (*path, "users_per_org"), minimum=1, maximum=MAX_USERS
    )
    check_size(orgs, users, path, max_users)
    seed = default_seed
    if "seed" in spec:
        seed = expect_int(spec["seed"], (*path, "seed"), minimum=-(2**63), maximum=2**63 - 1)
    shares = {
        key: parse_share(spec[key], (*path, key))
        for key in ("machine_share", "not_ready_share", "custom_policy_share")
        if key in spec
    }
    return Options(
        orgs=orgs,
        users_per_org=users,
        seed=seed,
        factors=parse_factor_mix(spec["factors"], (*path, "factors"))
        if "factors" in spec
        else None,
        locale=parse_locale(spec["locale"], (*path, "locale")) if "locale" in spec else "en_US",
        **shares,
    )


def generate_schema() -> dict[str, Any]:
    """The JSON Schema of a ``generate:`` block, for the scenario schema."""
    share = {"type": "number", "minimum": 0, "maximum": 1}
    names = "|".join(_MIX_NAMES)
    pair = rf"\s*({names})\s*=\s*[0-9.eE+-]+\s*"
    return {
        "type": "object",
        "description": "a population built at load time, next to the hand-written orgs",
        "properties": {
            "orgs": {"type": "integer", "minimum": 1},
            "users_per_org": {"type": "integer", "minimum": 1},
            "seed": {"type": "integer", "minimum": -(2**63)},
            "factors": {
                "anyOf": [
                    {"type": "string", "pattern": rf"^{pair}(,{pair})*$"},
                    {
                        "type": "object",
                        "properties": dict.fromkeys(_MIX_NAMES, share),
                        "additionalProperties": False,
                    },
                ]
            },
            "locale": {"type": "string", "pattern": _LOCALE.pattern},
            "machine_share": share,
            "not_ready_share": share,
            "custom_policy_share": share,
        },
        "required": ["orgs", "users_per_org"],
        "additionalProperties": False,
    }
