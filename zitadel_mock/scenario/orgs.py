"""Read a scenario's hand-written orgs and their users, with every id they are given or get.

One check at a time in the order of the file, so that the first mistake is the one reported,
with its precise message. Members are read later, once every user is known.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ..ids import IdGenerator
from ..model import NO_METHODS, AuthFactor, Credentials, FactorState, Methods, Org, User, UserType
from .credentials import CREDENTIAL_KEYS, read_credentials
from .fields import (
    Invalid,
    did_you_mean,
    expect_bool,
    expect_list,
    expect_mapping,
    expect_str,
    kind,
    parse_auth_factor,
    parse_policy,
)
from .paths import Path, format_path

__all__ = ["MAX_USER_ID", "ORG_KEYS", "USER_KEYS", "HandWritten", "read_orgs"]

MAX_USER_ID = 200  # ZITADEL's limit on a user id (and here, any id)
ORG_KEYS = ("name", "id", "login_policy", "members", "users")
METHOD_KEYS = ("password", "passkeys", "idp_links", "recovery_codes")
USER_KEYS = ("username", "id", "type", "auth_factors", *METHOD_KEYS, *CREDENTIAL_KEYS)


@dataclass
class HandWritten:
    """The hand-written orgs (their members not read yet) and users, and how to find them."""

    orgs: list[Org]
    users: list[User]
    users_by_ref: dict[str, User]  # by username, and by id where no username is the same
    orgs_by_ref: dict[str, Org]  # by name
    ids_seen: Collection[str]  # the ids written in the file
    ids: IdGenerator  # every id written or made so far is taken
    # Where users are given recovery codes, which the scenario's version must have (4.10.0).
    recovery_codes_at: list[Path]
    credentials: list[Credentials]  # the machine users' secrets and keys, in the file's order


def read_orgs(raw_orgs: list[Any], seed: int, folder: str | None = None) -> HandWritten:
    """Read the ``orgs`` list; raise Invalid at the first mistake.

    ``folder`` is the scenario file's folder, where key files are found (None: not a file).
    """
    return _Reader(seed, folder).read(raw_orgs)


class _Reader:
    def __init__(self, seed: int, folder: str | None = None) -> None:
        self.folder = folder
        self.credentials: list[Credentials] = []
        self.key_ids: dict[str, Path] = {}
        self.ids = IdGenerator(seed)
        self.ids_seen: dict[str, Path] = {}
        self.users_by_ref: dict[str, User] = {}
        self.orgs_by_ref: dict[str, Org] = {}
        self.recovery_codes_at: list[Path] = []

    def read(self, raw_orgs: list[Any]) -> HandWritten:
        self._reserve_ids(raw_orgs)
        orgs: list[Org] = []
        users: list[User] = []
        for i, raw in enumerate(raw_orgs):
            org, org_users = self._org(raw, ("orgs", i))
            orgs.append(org)
            users.extend(org_users)
        by_user, by_org = self.users_by_ref, self.orgs_by_ref
        return HandWritten(
            orgs,
            users,
            by_user,
            by_org,
            self.ids_seen,
            self.ids,
            self.recovery_codes_at,
            self.credentials,
        )

    def _check_name(self, name: str, path: Path, kind_of_id: str) -> None:
        """A name that is another object's id would make references to either ambiguous."""
        other = self.ids_seen.get(name)
        if other is not None and other[:-1] != path[:-1] and self._id_kind(other) == kind_of_id:
            raise Invalid(
                path,
                f"{name!r} is already used as the id of {format_path(other[:-1])}, "
                "so a reference to it would be ambiguous",
            )

    @staticmethod
    def _id_kind(path: Path) -> str:
        return {3: "org", 5: "user"}.get(len(path), "factor")

    def _claim_id(self, value: object, path: Path) -> str:
        id = expect_str(value, path, allow_int=True, max_len=MAX_USER_ID)
        if id in self.ids_seen:
            raise Invalid(path, f"id {id!r} is already used at {format_path(self.ids_seen[id])}")
        self.ids_seen[id] = path
        return id

    def _reserve_ids(self, raw_orgs: list[Any]) -> None:
        """Reserve every explicit id first, so that no generated id can equal one."""
        # Shapes are checked later, in order; here only what is well-formed is looked at.
        ids = self.ids
        for i, raw in enumerate(raw_orgs):
            if not isinstance(raw, dict):
                continue
            if "id" in raw:
                ids.reserve(self._claim_id(raw["id"], ("orgs", i, "id")))
            users = raw.get("users")
            for j, user in enumerate(users if isinstance(users, list) else []):
                if not isinstance(user, dict):
                    continue
                upath: Path = ("orgs", i, "users", j)
                if "id" in user:
                    ids.reserve(self._claim_id(user["id"], (*upath, "id")))
                factors = user.get("auth_factors")
                for k, factor in enumerate(factors if isinstance(factors, list) else []):
                    if isinstance(factor, dict) and "id" in factor:
                        fpath = (*upath, "auth_factors", k, "id")
                        ids.reserve(self._claim_id(factor["id"], fpath))

    def _org(self, raw: Any, path: Path) -> tuple[Org, list[User]]:
        spec = expect_mapping(raw, path, ORG_KEYS, ("name",))
        name = expect_str(spec["name"], (*path, "name"))
        if name in self.orgs_by_ref:
            raise Invalid((*path, "name"), f"an org named {name!r} is already defined")
        self._check_name(name, (*path, "name"), "org")
        org_id = str(spec["id"]) if "id" in spec else self.ids.make(f"org:{name}")
        policy = (
            parse_policy(spec["login_policy"], (*path, "login_policy"))
            if "login_policy" in spec
            else None
        )
        org = Org(org_id, name, policy)
        self.orgs_by_ref[name] = org
        users = [
            self._user(u, (*path, "users", j), org_id)
            for j, u in enumerate(expect_list(spec.get("users", []), (*path, "users")))
        ]
        return org, users

    def _user(self, raw: Any, path: Path, org_id: str) -> User:
        spec = expect_mapping(raw, path, USER_KEYS, ("username",))
        username = expect_str(spec["username"], (*path, "username"))
        if username in self.users_by_ref:
            raise Invalid((*path, "username"), f"a user named {username!r} is already defined")
        self._check_name(username, (*path, "username"), "user")
        user_type = UserType.HUMAN
        if "type" in spec:
            text = expect_str(spec["type"], (*path, "type"))
            if text not in ("human", "machine"):
                hint = did_you_mean(text, ("human", "machine"))
                raise Invalid((*path, "type"), f"{text!r} is not one of human, machine{hint}")
            user_type = UserType(text)
        user_id = str(spec["id"]) if "id" in spec else self.ids.make(f"user:{username}")
        factors: list[AuthFactor] = []
        if "auth_factors" in spec:
            fpath = (*path, "auth_factors")
            raw_factors = expect_list(spec["auth_factors"], fpath)
            if raw_factors and user_type is UserType.MACHINE:
                raise Invalid(fpath, "a machine user has no auth factors; only human users do")
            for k, item in enumerate(raw_factors):
                if not isinstance(item, (str, dict)):
                    raise Invalid(
                        (*fpath, k), f"expected a factor name or a mapping, got {kind(item)}"
                    )
                key = f"u2f:{username}:{k}"
                factors.append(parse_auth_factor(item, (*fpath, k), self.ids, key))
        methods = self._methods(spec, path, user_type)
        credentials = read_credentials(spec, path, user_id, user_type, self.folder, self.key_ids)
        if credentials is not None:
            self.credentials.append(credentials)
        user = User(user_id, username, org_id, user_type, tuple(factors), methods)
        self.users_by_ref[username] = user
        self.users_by_ref.setdefault(user_id, user)
        return user

    def _methods(self, spec: Any, path: Path, user_type: UserType) -> Methods:
        """A human's password, passkeys, IdP links and recovery codes (the v2 RPCs list them)."""
        given = [key for key in METHOD_KEYS if key in spec]
        if not given:
            return NO_METHODS
        if user_type is UserType.MACHINE:
            raise Invalid(
                (*path, given[0]), f"a machine user has no {given[0]}; only human users do"
            )
        password = (
            expect_bool(spec["password"], (*path, "password")) if "password" in spec else False
        )
        passkeys: list[FactorState] = []
        for i, item in enumerate(expect_list(spec.get("passkeys", []), (*path, "passkeys"))):
            passkeys.append(_passkey(item, (*path, "passkeys", i)))
        links: list[str] = []
        for i, item in enumerate(expect_list(spec.get("idp_links", []), (*path, "idp_links"))):
            links.append(expect_str(item, (*path, "idp_links", i)))
        recovery = False
        if "recovery_codes" in spec:
            recovery = expect_bool(spec["recovery_codes"], (*path, "recovery_codes"))
            if recovery:
                self.recovery_codes_at.append((*path, "recovery_codes"))
        return Methods(password, tuple(passkeys), tuple(links), recovery)


def _passkey(item: object, path: Path) -> FactorState:
    """A passkey: its name, or ``{name, state}``; only its state is answered."""
    if isinstance(item, str):
        expect_str(item, path)
        return FactorState.READY
    spec = expect_mapping(item, path, ("name", "state"))
    if "name" in spec:
        expect_str(spec["name"], (*path, "name"))
    if "state" not in spec:
        return FactorState.READY
    text = expect_str(spec["state"], (*path, "state"))
    state = FactorState.__members__.get(text.upper().removeprefix("AUTH_FACTOR_STATE_"))
    if state is None:
        raise Invalid((*path, "state"), f"{text!r} is not one of ready, not_ready")
    return state
