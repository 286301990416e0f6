"""Read a scenario's hand-written orgs and their users, with every id they are given or get.

One check at a time in the order of the file, so that the first mistake is the one reported,
with its precise message. Members are read later, once every user is known.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ..ids import IdGenerator
from ..model import AuthFactor, Credentials, Org, User, UserType
from .credentials import CREDENTIAL_KEYS, read_credentials
from .fields import (
    Invalid,
    did_you_mean,
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
USER_KEYS = ("username", "id", "type", "auth_factors", *CREDENTIAL_KEYS)


@dataclass
class HandWritten:
    """The hand-written orgs (their members not read yet) and users, and how to find them."""

    orgs: list[Org]
    users: list[User]
    users_by_ref: dict[str, User]  # by username, and by id where no username is the same
    orgs_by_ref: dict[str, Org]  # by name
    ids_seen: Collection[str]  # the ids written in the file
    ids: IdGenerator  # every id written or made so far is taken
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

    def read(self, raw_orgs: list[Any]) -> HandWritten:
        self._reserve_ids(raw_orgs)
        orgs: list[Org] = []
        users: list[User] = []
        for i, raw in enumerate(raw_orgs):
            org, org_users = self._org(raw, ("orgs", i))
            orgs.append(org)
            users.extend(org_users)
        by_user, by_org = self.users_by_ref, self.orgs_by_ref
        return HandWritten(orgs, users, by_user, by_org, self.ids_seen, self.ids, self.credentials)

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
        credentials = read_credentials(spec, path, user_id, user_type, self.folder, self.key_ids)
        if credentials is not None:
            self.credentials.append(credentials)
        user = User(user_id, username, org_id, user_type, tuple(factors))
        self.users_by_ref[username] = user
        self.users_by_ref.setdefault(user_id, user)
        return user
