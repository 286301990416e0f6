"""The common shape of a scenario's orgs and users, read in a tight loop.

Files written by ``zitadel-mock generate``, and most written by hand, spell each value the
plain way: factor types and states in lower case, ids as strings or numbers, no key twice.
:func:`read_orgs_fast` reads that shape and builds exactly what the precise reader in
:mod:`zitadel_mock.orgs` builds. At anything else, a mistake or a spelling it does not know, it
gives up and returns None: it never reports a mistake itself, so it need not find the first
one, only see that there is one.
"""

from __future__ import annotations

from typing import Any

from ..ids import IdGenerator
from ..model import (
    AUTH_FACTOR_TYPES,
    AuthFactor,
    Factor,
    FactorState,
    Org,
    User,
    UserType,
    new_auth_factor,
    new_user,
)
from .fields import Invalid, parse_auth_factor, parse_policy
from .orgs import MAX_USER_ID, ORG_KEYS, HandWritten

__all__ = ["read_orgs_fast"]

_ORG_KEYS = frozenset(ORG_KEYS)
_FACTOR_KEYS = frozenset(("type", "name", "id", "state"))
_USER_TYPES = {"human": UserType.HUMAN, "machine": UserType.MACHINE}
# Recovery codes are no auth factor: the precise reader says so.
_TYPES = {factor.key: factor for factor in AUTH_FACTOR_TYPES}
_STATES = {"ready": FactorState.READY, "not_ready": FactorState.NOT_READY}
# Factors other than U2F carry nothing of their own: one object serves every user.
_PLAIN = {
    (f, s): AuthFactor(f, s) for f in AUTH_FACTOR_TYPES if f is not Factor.U2F for s in FactorState
}
_BARE = {f.key: _PLAIN[f, FactorState.READY] for f in AUTH_FACTOR_TYPES if f is not Factor.U2F}
_LARGEST_ID = 2**64  # a number id beyond it is left to the precise reader


class _GiveUp(Exception):
    """Not the common shape: the precise reader decides."""


class _MustMake(Exception):
    """An id is to be made, which must wait until every id written in the file is taken."""


class _NoMaking(IdGenerator):
    """The ids of a pass that makes none: making one stops it."""

    def make(self, key: str) -> str:
        raise _MustMake


def read_orgs_fast(raw_orgs: list[Any], seed: int) -> HandWritten | None:
    """Read the ``orgs`` list as the precise reader would, or None if it is not the common shape.

    One pass reads everything, with the ids written in the file as they come. If an id is to
    be made (something written without one), a first pass takes every written id, as the
    precise reader does, so that the ids made are the same, and a second one reads the rest.
    """
    try:
        try:
            read = _read(raw_orgs, _NoMaking())
            read.ids = IdGenerator(seed, read.ids_seen)
        except _MustMake:
            read = _read(raw_orgs, IdGenerator(seed, _written_ids(raw_orgs)))
        return read
    except (_GiveUp, Invalid):
        return None


def _id(value: object) -> str:
    """An id, as ``expect_str(value, allow_int=True, max_len=MAX_USER_ID)`` reads it."""
    if type(value) is str:
        if len(value) > MAX_USER_ID or not value.strip():
            raise _GiveUp
        return value
    if type(value) is int and 0 <= value < _LARGEST_ID:
        return str(value)
    raise _GiveUp


def _unique(ids: list[str]) -> set[str]:
    """The ids, each of which must be written once."""
    unique = set(ids)
    if len(unique) < len(ids):
        raise _GiveUp
    return unique


def _written_ids(raw_orgs: list[Any]) -> set[str]:
    """Every id written in the file (each once)."""
    written: list[str] = []
    for org in raw_orgs:
        if type(org) is not dict:
            raise _GiveUp
        if "id" in org:
            written.append(_id(org["id"]))
        users = org.get("users")
        for user in users if type(users) is list else ():
            if type(user) is not dict:
                raise _GiveUp
            if "id" in user:
                written.append(_id(user["id"]))
            factors = user.get("auth_factors")
            for factor in factors if type(factors) is list else ():
                if type(factor) is dict and "id" in factor:
                    written.append(_id(factor["id"]))
    return _unique(written)


def _read(raw_orgs: list[Any], ids: IdGenerator) -> HandWritten:
    orgs: list[Org] = []
    users: list[User] = []
    users_by_ref: dict[str, User] = {}
    orgs_by_ref: dict[str, Org] = {}
    org_ids: dict[str, int] = {}
    written: list[str] = []  # every id written in the file, checked to be unique at the end
    for i, raw in enumerate(raw_orgs):
        if type(raw) is not dict or not (raw.keys() <= _ORG_KEYS and "name" in raw):
            raise _GiveUp
        name = raw["name"]
        if type(name) is not str or not name.strip() or name in orgs_by_ref:
            raise _GiveUp
        if "id" in raw:
            org_id = _id(raw["id"])
            written.append(org_id)
            org_ids[org_id] = i
        else:
            org_id = ids.make(f"org:{name}")
        policy = None
        if "login_policy" in raw:
            policy = parse_policy(raw["login_policy"], ("orgs", i, "login_policy"))
        org = Org(org_id, name, policy)
        orgs_by_ref[name] = org
        orgs.append(org)
        raw_users = raw.get("users", [])
        if type(raw_users) is not list:
            raise _GiveUp
        _users(raw_users, org_id, ids, written, users_by_ref, users)
    for org_id, i in org_ids.items():  # an org named as another org's id
        if orgs_by_ref.get(org_id, orgs[i]) is not orgs[i]:
            raise _GiveUp
    return HandWritten(orgs, users, users_by_ref, orgs_by_ref, _unique(written), ids)


def _users(
    raw_users: list[Any],
    org_id: str,
    ids: IdGenerator,
    written: list[str],
    by_ref: dict[str, User],
    out: list[User],
) -> None:
    """Read one org's users into ``out``: the loop a big scenario spends its time in.

    A key is looked up once, with ``get``; the keys found, counted, must be all there are: a
    key the count misses is one not known, or a known one set to null.
    """
    user_types, bare, human, machine = _USER_TYPES, _BARE, UserType.HUMAN, UserType.MACHINE
    u2f, ready, longest, keep = Factor.U2F, FactorState.READY, MAX_USER_ID, written.append
    for raw in raw_users:
        if type(raw) is not dict:
            raise _GiveUp
        username = raw.get("username")
        if type(username) is not str or username in by_ref or not username.strip():
            raise _GiveUp
        user_id = raw.get("id")
        text = raw.get("type")
        raw_factors = raw.get("auth_factors")
        found = 1 + (user_id is not None) + (text is not None) + (raw_factors is not None)
        if len(raw) != found:
            raise _GiveUp
        user_type = human
        if text is not None:
            named = user_types.get(text) if type(text) is str else None
            if named is None:
                raise _GiveUp
            user_type = named
        if user_id is None:
            user_id = ids.make(f"user:{username}")
        else:
            if type(user_id) is not str or len(user_id) > longest or not user_id.strip():
                user_id = _id(user_id)  # a number, or a mistake
            keep(user_id)
        factors: tuple[AuthFactor, ...] = ()
        if raw_factors is not None:
            if type(raw_factors) is not list or (raw_factors and user_type is machine):
                raise _GiveUp
            read: list[AuthFactor] = []
            for item in raw_factors:
                if type(item) is str:
                    factor = bare.get(item)
                    if factor is None:  # u2f, whose id is made, or another spelling
                        key = f"u2f:{username}:{len(read)}"
                        factor = parse_auth_factor(item, (), ids, key)
                elif type(item) is not dict:
                    raise _GiveUp
                elif (
                    len(item) == 3
                    and item.get("type") == "u2f"
                    and type(name := item.get("name")) is str
                    and type(factor_id := item.get("id")) is str
                    and len(factor_id) <= longest
                    and factor_id.strip()
                    and name.strip()
                ):  # the commonest mapping: a security key, {type: u2f, id, name}
                    keep(factor_id)
                    factor = new_auth_factor(u2f, ready, factor_id, name)
                else:
                    factor = _factor(item, ids, written, f"u2f:{username}:{len(read)}")
                read.append(factor)
            factors = tuple(read)
        user = new_user(user_id, username, org_id, user_type, factors)
        by_ref[username] = user
        if user_id in by_ref and user_id != username:  # another user's name
            raise _GiveUp
        by_ref[user_id] = user
        out.append(user)


def _factor(raw: dict[Any, Any], ids: IdGenerator, written: list[str], key: str) -> AuthFactor:
    """A factor written as a mapping: ``{type, name, id, state}``."""
    if not raw.keys() <= _FACTOR_KEYS:
        raise _GiveUp
    text = raw.get("type")
    factor = _TYPES.get(text) if type(text) is str else None
    if factor is None:
        raise _GiveUp
    state = FactorState.READY
    if "state" in raw:
        text = raw["state"]
        found = _STATES.get(text) if type(text) is str else None
        if found is None:
            raise _GiveUp
        state = found
    if factor is not Factor.U2F:
        if "name" in raw or "id" in raw:
            raise _GiveUp
        return _PLAIN[factor, state]
    name = ""
    if "name" in raw:
        name = raw["name"]
        if type(name) is not str or not name.strip():
            raise _GiveUp
    if "id" in raw:
        factor_id = _id(raw["id"])
        written.append(factor_id)
    else:
        factor_id = ids.make(key)
    return new_auth_factor(factor, state, factor_id, name)
