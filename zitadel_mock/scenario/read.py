"""Load a scenario file: parse, validate completely, and build the immutable Scenario.

Nothing is half-loaded: the first mistake raises one ScenarioError naming the file, the line,
the key path and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from .. import roles as _roles
from ..clock import wall_clock_ns
from ..errors import ScenarioError
from ..ids import IdGenerator
from ..model import DEFAULT_POLICY, Delay, ErrorRule, Member, Org, RateLimit, Scenario, Token, User
from ..versions import DEFAULT, RECOVERY_CODES
from .fields import (
    Invalid,
    check_recovery_codes,
    did_you_mean,
    expect_bool,
    expect_int,
    expect_list,
    expect_mapping,
    expect_str,
    parse_auth_factor,
    parse_clock,
    parse_factors,
    parse_policy,
    parse_version,
    read_zitadel_version,
)
from .orgs import MAX_USER_ID, read_orgs
from .paths import Path, find_cycle, format_path, locate
from .rules import (
    ERROR_RULE_KEYS,
    located_rules,
    parse_delay,
    parse_error_rule,
    parse_rate_limit,
)
from .source import gc_paused, parse_text

# parse_* and ERROR_RULE_KEYS are re-exported for the live state and the control API, which
# read single values with the same rules and messages.
__all__ = [
    "ERROR_RULE_KEYS",
    "MAX_USER_ID",
    "load_scenario",
    "parse_auth_factor",
    "parse_error_rule",
    "parse_factors",
    "parse_scenario",
    "scenario_from_data",
]

MAX_FILE_SIZE = 64 * 1024 * 1024  # far beyond any scenario; stops /dev/zero and the like


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario file (YAML, or JSON when it ends in ``.json``)."""
    source = os.fspath(path)
    if not source:
        raise ScenarioError("expected the path of a scenario file, got an empty one", source="''")
    try:
        with open(source, "rb") as file:
            data = file.read(MAX_FILE_SIZE + 1)
    except FileNotFoundError:
        raise ScenarioError("no such file", source=source) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, expected a scenario file", source=source) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if len(data) > MAX_FILE_SIZE:
        raise ScenarioError(f"larger than {MAX_FILE_SIZE >> 20} MiB", source=source)
    fmt = "json" if source.lower().endswith(".json") else "yaml"
    folder = os.path.dirname(os.path.abspath(source))  # where its key files are
    return parse_scenario(_decode(data, source), source=source, format=fmt, folder=folder)


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            problem = "it is UTF-16 text; save it as UTF-8"
        else:
            problem = f"byte 0x{data[exc.start]:02x} cannot start or continue a character"
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"not UTF-8 text: {problem}", source=source, line=line) from None


def parse_scenario(
    text: str,
    *,
    source: str | None = None,
    format: str | None = None,
    folder: str | None = None,
) -> Scenario:
    """Validate scenario text; ``format`` is 'yaml' or 'json' (guessed from the text if None).

    ``folder`` is where a ``public_key_file`` is looked for, and the only place it may be: None
    (text that is no file, such as a control API request's body) refuses key files.
    """
    fmt = format or ("json" if text.lstrip("\ufeff \t\r\n").startswith("{") else "yaml")
    if fmt not in ("yaml", "json"):
        raise ValueError(f"format must be 'yaml' or 'json', not {format!r}")
    with gc_paused():  # building makes as many objects as parsing: the same reason
        data = parse_text(text, source, fmt)
        try:
            scenario = _Builder(data, source, folder).build()
        except Invalid as exc:
            raise _located(exc, text, source) from None
    if not scenario.errors:
        return scenario
    return replace(scenario, errors=located_rules(scenario.errors, source, text))


def _located(exc: Invalid, text: str, source: str | None) -> ScenarioError:
    """The error, with the line of its key path in ``text``."""
    line = locate(text, exc.path).line
    return ScenarioError(exc.message, source=source, line=line, path=format_path(exc.path))


def scenario_from_data(data: Mapping[str, Any], *, source: str | None = None) -> Scenario:
    """Validate a scenario given as plain Python data (the parsed form of a file)."""
    try:
        with gc_paused():
            scenario = _Builder(dict(data) if isinstance(data, Mapping) else data, source).build()
    except Invalid as exc:
        cycle = find_cycle(data)
        if cycle is not None:
            raise ScenarioError(
                "a collection that contains itself", source=source, path=format_path(cycle)
            ) from None
        raise ScenarioError(exc.message, source=source, path=format_path(exc.path)) from None
    if not scenario.errors:
        return scenario
    return replace(scenario, errors=located_rules(scenario.errors, source, None))


class _Builder:
    def __init__(self, data: Any, source: str | None, folder: str | None = None) -> None:
        self.data = data
        self.source = source
        self.folder = folder
        self.users_by_ref: dict[str, User] = {}
        self.orgs_by_ref: dict[str, Org] = {}

    def build(self) -> Scenario:
        if self.data is None:
            raise Invalid((), "the scenario is empty; expected a mapping with 'version' and 'orgs'")
        # With a generate: block, the hand-written orgs are optional.
        generating = isinstance(self.data, dict) and "generate" in self.data
        top = expect_mapping(
            self.data,
            (),
            (
                "version",
                "seed",
                "clock",
                "instance",
                "orgs",
                "tokens",
                "errors",
                "latency",
                "rate_limit",
                "generate",
                "zitadel_version",
            ),
            required=("version",) if generating else ("version", "orgs"),
        )
        parse_version(top["version"])
        profile = DEFAULT
        if "zitadel_version" in top:
            profile = read_zitadel_version(top["zitadel_version"])
        seed = 0
        if "seed" in top:
            seed = expect_int(top["seed"], ("seed",), minimum=-(2**63), maximum=2**63 - 1)
        clock = parse_clock(top["clock"]) if "clock" in top else None
        instance = expect_mapping(
            top.get("instance", {}), ("instance",), ("id", "login_policy", "members")
        )
        policy = DEFAULT_POLICY
        if "login_policy" in instance:
            policy = parse_policy(instance["login_policy"], ("instance", "login_policy"))

        raw_orgs = expect_list(top.get("orgs", []), ("orgs",), non_empty=not generating)
        read = read_orgs(raw_orgs, seed, self.folder)
        orgs, users, ids_seen = read.orgs, read.users, read.ids_seen
        self.users_by_ref, self.orgs_by_ref = read.users_by_ref, read.orgs_by_ref
        pending_members = [(i, raw.get("members", [])) for i, raw in enumerate(raw_orgs)]
        generated = None
        if generating:  # after the hand-written orgs and users, which keep their ids
            from ..generate.block import generate_block  # Faker is imported only to generate

            generated = generate_block(
                top["generate"],
                default_seed=seed,
                ids=read.ids,
                taken=lambda n: n in self.users_by_ref or n in self.orgs_by_ref or n in ids_seen,
                tokens=top.get("tokens"),
            )
            for user in generated.users:
                self.users_by_ref[user.username] = user
                self.users_by_ref.setdefault(user.id, user)
            users.extend(generated.users)
        orgs = [
            Org(
                org.id,
                org.name,
                org.login_policy,
                self._members(raw, ("orgs", i, "members"), org=True),
            )
            for org, (i, raw) in zip(orgs, pending_members, strict=True)
        ]
        if generated is not None:
            orgs.extend(generated.orgs)
        for org in orgs:
            self.orgs_by_ref[org.id] = self.orgs_by_ref[org.name] = org
        instance_members = self._members(
            instance.get("members", []), ("instance", "members"), org=False
        )
        tokens = self._tokens(top["tokens"]) if "tokens" in top else None
        if generated is not None:
            tokens = (*(tokens or ()), *generated.tokens)
        errors, latency, rate_limit = self._errors(top)
        # Hand-written orgs come first, in the file's order; generated ones have no recovery
        # codes.
        check_recovery_codes(
            policy.second_factors, ("instance", "login_policy", "second_factors"), profile
        )
        for i, org in enumerate(orgs[: len(raw_orgs)]):
            if org.login_policy is not None:
                path = ("orgs", i, "login_policy", "second_factors")
                check_recovery_codes(org.login_policy.second_factors, path, profile)
        if read.recovery_codes_at:
            problem = profile.needs(RECOVERY_CODES, "a user's recovery_codes")
            if problem is not None:
                raise Invalid(read.recovery_codes_at[0], problem)
        instance_id = self._instance_id(instance, seed, ids_seen)
        return Scenario(
            orgs=tuple(orgs),
            users=tuple(users),
            instance_policy=policy,
            instance_members=instance_members,
            tokens=tokens,
            errors=errors,
            seed=seed,
            clock_ns=clock,
            loaded_ns=clock if clock is not None else wall_clock_ns(),
            source=self.source,
            latency=latency,
            rate_limit=rate_limit,
            profile=profile,
            instance_id=instance_id,
            credentials=tuple(read.credentials),
        )

    @staticmethod
    def _instance_id(instance: Mapping[str, Any], seed: int, ids_seen: Collection[str]) -> str:
        """The given ``instance.id``, else one made from the seed (no other id shifts)."""
        path: Path = ("instance", "id")
        if "id" not in instance:
            return IdGenerator(seed, ids_seen).make("instance")
        id = expect_str(instance["id"], path, allow_int=True, max_len=MAX_USER_ID)
        if id in ids_seen:
            raise Invalid(path, f"id {id!r} is already used by an org, a user or a factor")
        return id

    def _user_ref(self, value: object, path: Path) -> User:
        ref = expect_str(value, path, allow_int=True)
        user = self.users_by_ref.get(ref)
        if user is None:
            names = [u for u in self.users_by_ref if not u.isdigit()]
            raise Invalid(path, f"no user {ref!r} in the scenario{did_you_mean(ref, names)}")
        return user

    def _org_ref(self, value: object, path: Path) -> Org:
        ref = expect_str(value, path, allow_int=True)
        org = self.orgs_by_ref.get(ref)
        if org is None:
            names = [o for o in self.orgs_by_ref if not o.isdigit()]
            raise Invalid(path, f"no org {ref!r} in the scenario{did_you_mean(ref, names)}")
        return org

    def _members(self, raw: Any, path: Path, *, org: bool) -> tuple[Member, ...]:
        allowed = _roles.ORG_ROLES if org else _roles.INSTANCE_ROLES
        members: dict[str, Member] = {}
        for i, item in enumerate(expect_list(raw, path)):
            mpath = (*path, i)
            spec = expect_mapping(item, mpath, ("user", "roles"), ("user", "roles"))
            user = self._user_ref(spec["user"], (*mpath, "user"))
            if user.id in members:
                raise Invalid(
                    (*mpath, "user"),
                    f"{spec['user']!r} is already a member here; list all roles in one entry",
                )
            roles = expect_list(spec["roles"], (*mpath, "roles"), non_empty=True)
            for j, role in enumerate(roles):
                rpath = (*mpath, "roles", j)
                expect_str(role, rpath)
                if role in allowed:
                    continue
                if role in _roles.ROLES:  # known, but at the other level
                    if org:
                        raise Invalid(
                            rpath, f"{role!r} is an instance role: list it under instance.members"
                        )
                    raise Invalid(rpath, f"{role!r} is an org role: list it under an org's members")
                hint = did_you_mean(role, sorted(allowed))
                raise Invalid(rpath, f"{role!r} is not a known role{hint}")
            members[user.id] = Member(user.id, frozenset(roles))
        return tuple(members.values())

    def _tokens(self, raw: Any) -> tuple[Token, ...]:
        tokens: dict[str, Token] = {}
        for i, item in enumerate(expect_list(raw, ("tokens",))):
            path: Path = ("tokens", i)
            spec = expect_mapping(item, path, ("token", "user", "expired"), ("token", "user"))
            value = expect_str(spec["token"], (*path, "token"))
            if value in tokens:
                raise Invalid((*path, "token"), "this token is already defined")
            user = self._user_ref(spec["user"], (*path, "user"))
            expired = (
                expect_bool(spec["expired"], (*path, "expired")) if "expired" in spec else False
            )
            tokens[value] = Token(value, user.id, expired)
        return tuple(tokens.values())

    def _errors(
        self, top: Mapping[str, Any]
    ) -> tuple[tuple[ErrorRule, ...], Delay | None, RateLimit | None]:
        """The forced rules, the latency of every answer and the rate limit."""
        errors = tuple(
            parse_error_rule(item, ("errors", i), self._user_id, self._org_id)
            for i, item in enumerate(expect_list(top.get("errors", []), ("errors",)))
        )
        latency = parse_delay(top["latency"], ("latency",)) if "latency" in top else None
        limit = None
        if "rate_limit" in top:
            limit = parse_rate_limit(top["rate_limit"], ("rate_limit",))
        return errors, latency, limit

    def _user_id(self, value: object, path: Path) -> str:
        return self._user_ref(value, path).id

    def _org_id(self, value: object, path: Path) -> str:
        return self._org_ref(value, path).id
