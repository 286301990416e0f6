"""Load a scenario file: parse, validate completely, and build the immutable Scenario.

Nothing is half-loaded: the first mistake raises one ScenarioError naming the file, the line,
the key path and what was expected.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from pathlib import Path as FsPath
from typing import Any

from . import roles as _roles
from .clock import parse_timestamp, wall_clock_ns
from .codes import code_from
from .errors import ScenarioError
from .fields import Invalid, expect_bool, expect_int, expect_list, expect_mapping, expect_str
from .ids import IdGenerator
from .model import (
    DEFAULT_POLICY,
    RPCS,
    AuthFactor,
    ErrorRule,
    Factor,
    FactorState,
    LoginPolicy,
    Member,
    Org,
    Scenario,
    Token,
    User,
    UserType,
)
from .source import Path, format_path, line_of, parse_text

__all__ = [
    "load_scenario",
    "parse_auth_factor",
    "parse_error_rule",
    "parse_factors",
    "parse_scenario",
    "scenario_from_data",
]

_FACTOR_NAMES = "otp, u2f, otp_sms, otp_email"
MAX_USER_ID = 200


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario file (YAML, or JSON when it ends in ``.json``)."""
    source = os.fspath(path)
    try:
        text = FsPath(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("no such file", source=source) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, expected a scenario file", source=source) from None
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", source=source) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", source=source) from None
    fmt = "json" if source.lower().endswith(".json") else "yaml"
    return parse_scenario(text, source=source, format=fmt)


def parse_scenario(text: str, *, source: str | None = None, format: str | None = None) -> Scenario:
    """Validate scenario text; ``format`` is 'yaml' or 'json' (guessed from the text if None)."""
    fmt = format or ("json" if text.lstrip().startswith("{") else "yaml")
    if fmt not in ("yaml", "json"):
        raise ValueError(f"format must be 'yaml' or 'json', not {format!r}")
    data = parse_text(text, source, fmt)
    try:
        return _Builder(data, source).build()
    except Invalid as exc:
        raise ScenarioError(
            exc.message, source=source, line=line_of(text, exc.path), path=format_path(exc.path)
        ) from None


def scenario_from_data(data: Mapping[str, Any], *, source: str | None = None) -> Scenario:
    """Validate a scenario given as plain Python data (the parsed form of a file)."""
    try:
        return _Builder(dict(data), source).build()
    except Invalid as exc:
        raise ScenarioError(exc.message, source=source, path=format_path(exc.path)) from None


def _did_you_mean(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_factor(value: object, path: Path) -> Factor:
    """Read a factor name: otp, u2f, otp_sms, otp_email, or a full SECOND_FACTOR_TYPE_* name."""
    name = expect_str(value, path)
    factor = Factor.parse(name)
    if factor is None:
        raise Invalid(path, f"{name!r} is not one of {_FACTOR_NAMES}")
    return factor


def parse_factors(value: object, path: Path) -> tuple[Factor, ...]:
    factors: list[Factor] = []
    for i, item in enumerate(expect_list(value, path)):
        factor = parse_factor(item, (*path, i))
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
            raise Invalid((*path, extra), f"only a u2f factor has a {extra}")
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


def parse_policy(raw: object, path: Path) -> LoginPolicy:
    spec = expect_mapping(raw, path, ("second_factors", "processed_sequence"), ("second_factors",))
    factors = parse_factors(spec["second_factors"], (*path, "second_factors"))
    sequence = 0
    if "processed_sequence" in spec:
        sequence = expect_int(spec["processed_sequence"], (*path, "processed_sequence"))
    return LoginPolicy(factors, sequence)


class _Builder:
    def __init__(self, data: Any, source: str | None) -> None:
        self.data = data
        self.source = source
        self.ids_seen: dict[str, Path] = {}
        self.users_by_ref: dict[str, User] = {}
        self.orgs_by_ref: dict[str, Org] = {}

    def build(self) -> Scenario:
        if self.data is None:
            raise Invalid((), "the scenario is empty; expected a mapping with 'version' and 'orgs'")
        top = expect_mapping(
            self.data,
            (),
            ("version", "seed", "clock", "instance", "orgs", "tokens", "errors"),
            required=("version", "orgs"),
        )
        if top["version"] != 1 or isinstance(top["version"], bool):
            raise Invalid(("version",), f"unsupported version {top['version']!r}; expected 1")
        seed = expect_int(top["seed"], ("seed",), minimum=-(2**63)) if "seed" in top else 0
        clock = None
        if "clock" in top:
            clock = parse_timestamp(top["clock"])
            if clock is None:
                raise Invalid(
                    ("clock",),
                    f"{top['clock']!r} is not an RFC 3339 time like '2025-08-28T10:46:22.123456Z'",
                )
        instance = expect_mapping(
            top.get("instance", {}), ("instance",), ("login_policy", "members")
        )
        policy = DEFAULT_POLICY
        if "login_policy" in instance:
            policy = parse_policy(instance["login_policy"], ("instance", "login_policy"))

        ids = IdGenerator(seed)
        raw_orgs = expect_list(top["orgs"], ("orgs",), non_empty=True)
        self._reserve_ids(raw_orgs, ids)
        orgs: list[Org] = []
        users: list[User] = []
        pending_members: list[tuple[int, Any]] = []
        for i, raw in enumerate(raw_orgs):
            org, org_users = self._org(raw, ("orgs", i), ids)
            orgs.append(org)
            users.extend(org_users)
            pending_members.append((i, raw.get("members", [])))
        orgs = [
            Org(
                org.id,
                org.name,
                org.login_policy,
                self._members(raw, ("orgs", i, "members"), org=True),
            )
            for org, (i, raw) in zip(orgs, pending_members, strict=True)
        ]
        for org in orgs:
            self.orgs_by_ref[org.id] = self.orgs_by_ref[org.name] = org
        instance_members = self._members(
            instance.get("members", []), ("instance", "members"), org=False
        )
        tokens = self._tokens(top["tokens"]) if "tokens" in top else None
        errors = self._errors(top.get("errors", []))
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
        )

    def _claim_id(self, value: object, path: Path) -> str:
        id = expect_str(value, path, allow_int=True, max_len=MAX_USER_ID)
        if id in self.ids_seen:
            raise Invalid(path, f"id {id!r} is already used at {format_path(self.ids_seen[id])}")
        self.ids_seen[id] = path
        return id

    def _reserve_ids(self, raw_orgs: list[Any], ids: IdGenerator) -> None:
        """Reserve every explicit id first, so that no generated id can equal one."""
        for i, raw in enumerate(raw_orgs):
            if isinstance(raw, dict):
                if "id" in raw:
                    ids.reserve(self._claim_id(raw["id"], ("orgs", i, "id")))
                for j, user in enumerate(raw.get("users") or []):
                    if not isinstance(user, dict):
                        continue
                    upath: Path = ("orgs", i, "users", j)
                    if "id" in user:
                        ids.reserve(self._claim_id(user["id"], (*upath, "id")))
                    for k, factor in enumerate(user.get("auth_factors") or []):
                        if isinstance(factor, dict) and "id" in factor:
                            fpath = (*upath, "auth_factors", k, "id")
                            ids.reserve(self._claim_id(factor["id"], fpath))

    def _org(self, raw: Any, path: Path, ids: IdGenerator) -> tuple[Org, list[User]]:
        spec = expect_mapping(
            raw, path, ("name", "id", "login_policy", "members", "users"), ("name",)
        )
        name = expect_str(spec["name"], (*path, "name"))
        if name in self.orgs_by_ref:
            raise Invalid((*path, "name"), f"an org named {name!r} is already defined")
        org_id = str(spec["id"]) if "id" in spec else ids.make(f"org:{name}")
        policy = (
            parse_policy(spec["login_policy"], (*path, "login_policy"))
            if "login_policy" in spec
            else None
        )
        org = Org(org_id, name, policy)
        self.orgs_by_ref[name] = org
        users = [
            self._user(u, (*path, "users", j), org_id, ids)
            for j, u in enumerate(expect_list(spec.get("users", []), (*path, "users")))
        ]
        return org, users

    def _user(self, raw: Any, path: Path, org_id: str, ids: IdGenerator) -> User:
        spec = expect_mapping(raw, path, ("username", "id", "type", "auth_factors"), ("username",))
        username = expect_str(spec["username"], (*path, "username"))
        if username in self.users_by_ref:
            raise Invalid((*path, "username"), f"a user named {username!r} is already defined")
        kind = spec.get("type", "human")
        if kind not in ("human", "machine"):
            raise Invalid((*path, "type"), f"{kind!r} is not one of human, machine")
        user_type = UserType(kind)
        user_id = str(spec["id"]) if "id" in spec else ids.make(f"user:{username}")
        factors: list[AuthFactor] = []
        if "auth_factors" in spec:
            fpath = (*path, "auth_factors")
            raw_factors = expect_list(spec["auth_factors"], fpath)
            if raw_factors and user_type is UserType.MACHINE:
                raise Invalid(fpath, "a machine user has no auth factors; only human users do")
            for k, item in enumerate(raw_factors):
                factors.append(parse_auth_factor(item, (*fpath, k), ids, f"u2f:{username}:{k}"))
        user = User(user_id, username, org_id, user_type, tuple(factors))
        self.users_by_ref[username] = user
        self.users_by_ref.setdefault(user_id, user)
        return user

    def _user_ref(self, value: object, path: Path) -> User:
        ref = expect_str(value, path, allow_int=True)
        user = self.users_by_ref.get(ref)
        if user is None:
            names = [u for u in self.users_by_ref if not u.isdigit()]
            raise Invalid(path, f"no user {ref!r} in the scenario{_did_you_mean(ref, names)}")
        return user

    def _org_ref(self, value: object, path: Path) -> Org:
        ref = expect_str(value, path, allow_int=True)
        org = self.orgs_by_ref.get(ref)
        if org is None:
            names = [o for o in self.orgs_by_ref if not o.isdigit()]
            raise Invalid(path, f"no org {ref!r} in the scenario{_did_you_mean(ref, names)}")
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
                if role in _roles.ROLES:
                    where = (
                        "an org role: list it under an org's members"
                        if org is False
                        else ("an instance role: list it under instance.members")
                    )
                    raise Invalid(rpath, f"{role!r} is {where}")
                raise Invalid(
                    rpath, f"{role!r} is not a known role{_did_you_mean(role, sorted(allowed))}"
                )
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

    def _errors(self, raw: Any) -> tuple[ErrorRule, ...]:
        return tuple(
            parse_error_rule(item, ("errors", i), self._user_id, self._org_id)
            for i, item in enumerate(expect_list(raw, ("errors",)))
        )

    def _user_id(self, value: object, path: Path) -> str:
        return self._user_ref(value, path).id

    def _org_id(self, value: object, path: Path) -> str:
        return self._org_ref(value, path).id


ERROR_RULE_KEYS = ("rpc", "user", "org", "code", "message", "id", "times")


def parse_error_rule(
    item: object,
    path: Path,
    user_id: Callable[[object, Path], str],
    org_id: Callable[[object, Path], str],
    keys: tuple[str, ...] = ERROR_RULE_KEYS,
) -> ErrorRule:
    """Read one forced error; ``user_id`` and ``org_id`` resolve references or raise Invalid."""
    spec = expect_mapping(item, path, keys, ("code",))
    rpc = None
    if "rpc" in spec:
        rpc = expect_str(spec["rpc"], (*path, "rpc")).rsplit("/", 1)[-1]
        if rpc not in RPCS:
            raise Invalid(
                (*path, "rpc"),
                f"{spec['rpc']!r} is not one of {', '.join(RPCS)}" + _did_you_mean(rpc, list(RPCS)),
            )
    code = code_from(spec["code"])
    if code is None:
        raise Invalid(
            (*path, "code"),
            f"{spec['code']!r} is not a gRPC error code (a name like UNAVAILABLE, or 1 to 16)",
        )
    user = org = None
    if "user" in spec:
        if rpc == RPCS[0]:
            raise Invalid(
                (*path, "user"),
                f"{RPCS[0]} has no user in its path, so this rule could never match",
            )
        user = user_id(spec["user"], (*path, "user"))
    if "org" in spec:
        org = org_id(spec["org"], (*path, "org"))
    message = expect_str(spec["message"], (*path, "message")) if "message" in spec else None
    error_id = expect_str(spec["id"], (*path, "id")) if "id" in spec else None
    times = expect_int(spec["times"], (*path, "times"), minimum=1) if "times" in spec else None
    return ErrorRule(code, rpc, user, org, message, error_id, times)
