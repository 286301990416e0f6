"""The v2 RPCs as ZITADEL answers them: plain functions over a snapshot, no HTTP.

``answers.handle`` runs what every RPC shares (forced rules, the auth checks of the
interceptor, the journal) and asks ``decide`` for the rest. The interceptor checks only the
token and the organisation in context for the two UserService RPCs (their permission is
``authenticated``); each handler then checks ``user.read`` itself, where ZITADEL's does:
ListAuthenticationFactors in the user's own organisation, and only when it found rows;
ListAuthenticationMethodTypes in the caller's context organisation, before its query.
GetLoginSettings needs ``policy.read`` in the context organisation, which the interceptor checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from .clock import rfc3339
from .codes import ZError
from .journal import shown
from .model import (
    GET_LOGIN_SETTINGS,
    LIST_AUTHENTICATION_FACTORS,
    AuthFactor,
    Factor,
    FactorState,
    LoginPolicy,
    User,
)
from .protocols.rest.protojson import dumps
from .roles import USER_READ, grants
from .state import View

__all__ = [
    "AUTH_FACTORS",
    "STATES",
    "Decided",
    "V2Args",
    "decide",
]

MAX_USER_ID = 200
# zitadel.user.v2.AuthFactors: the filter's numbers (OTP, i.e. TOTP, is 0).
AUTH_FACTORS: dict[str, int] = {"OTP": 0, "OTP_SMS": 1, "OTP_EMAIL": 2, "U2F": 3}
_FILTER_NUMBER = {Factor.OTP: 0, Factor.OTP_SMS: 1, Factor.OTP_EMAIL: 2, Factor.U2F: 3}
# zitadel.user.v2.AuthFactorState.
STATES: dict[str, int] = {
    "AUTH_FACTOR_STATE_UNSPECIFIED": 0,
    "AUTH_FACTOR_STATE_NOT_READY": 1,
    "AUTH_FACTOR_STATE_READY": 2,
    "AUTH_FACTOR_STATE_REMOVED": 3,
}
# When a request names no type or no state: every type, and READY factors only.
DEFAULT_TYPES = frozenset(AUTH_FACTORS.values())
DEFAULT_STATES = frozenset({FactorState.READY.value})
_METHOD = "AUTHENTICATION_METHOD_TYPE_"
_METHOD_OF = {Factor.OTP: "TOTP", Factor.U2F: "U2F", Factor.OTP_SMS: "OTP_SMS"}
_METHOD_OF[Factor.OTP_EMAIL] = "OTP_EMAIL"

NO_MEMBERSHIP = ZError(5, "membership not found", "AUTHZ-cdgFk")
# The handlers' own permission check (authz.CheckPermission) has another id than the
# interceptor's (AUTH-5mWD2).
NO_USER_READ = ZError(7, "No matching permissions found", "AUTH-AWfge")
CTX_INSTANCE_FALSE = ZError(
    3,
    "invalid GetLoginSettingsRequest.Ctx: embedded message failed validation | "
    "caused by: invalid RequestContext.Instance: value must equal true",
)


def user_id_length(rpc: str) -> ZError:
    """The validation error of a user id outside 1 to 200 runes (a plain one, no id)."""
    return ZError(
        3,
        f"invalid {rpc}Request.UserId: value length must be between 1 and 200 runes, inclusive",
    )


@dataclass(frozen=True)
class V2Args:
    """What a v2 request carries besides its user id: filters, or the settings' context.

    ``auth_factors`` and ``states`` are enum numbers as sent (any number: one no factor has
    filters everything out); ``ctx_instance`` is None when ``ctx.instance`` was not sent.
    """

    auth_factors: tuple[int, ...] = ()
    states: tuple[int, ...] = ()
    ctx_org_id: str | None = None
    ctx_instance: bool | None = None

    @property
    def size(self) -> int:
        """About how much the answer memo's key holds of it."""
        return len(self.auth_factors) + len(self.states) + len(self.ctx_org_id or "")


class Decided(NamedTuple):
    """A v2 answer: its JSON (None: ``error`` answers) and why it was given."""

    body: bytes | None
    why: str
    error: ZError | None = None


Roles = Callable[[str], "frozenset[str] | None"]  # the caller's roles in an org (None: none)


def decide(
    view: View,
    rpc: str,
    user_id: str | None,
    args: V2Args,
    caller: str | None,
    context_org: str,
    roles: Roles,
    instance_id: str,
) -> Decided:
    """Answer a v2 RPC whose interceptor checks passed.

    ``caller`` is the calling user's id (None for an open-mode token, which acts as an
    IAM_OWNER); ``context_org`` the organisation in context, which exists.
    """
    if rpc == GET_LOGIN_SETTINGS:
        return _login_settings(view, args, context_org, instance_id)
    user_id = user_id or ""
    if not 1 <= len(user_id) <= MAX_USER_ID:
        why = f"the user id has {len(user_id)} characters; ZITADEL takes 1 to {MAX_USER_ID}"
        return Decided(None, why, user_id_length(rpc))
    user = view.users.get(user_id)
    if user is not None and user.id != user_id:
        user = None  # the index also holds usernames; the request holds an id
    if rpc == LIST_AUTHENTICATION_FACTORS:
        return _factors(view, user_id, user, args, caller, roles)
    return _method_types(view, user_id, user, caller, context_org, roles)


def _name(view: View, user_id: str | None) -> str:
    user = view.users.get(user_id) if user_id else None
    return user.username if user is not None and user.id == user_id else "the caller"


def _user_read(view: View, org_id: str, caller: str | None, roles: Roles) -> Decided | None:
    """The refusal of a caller without ``user.read`` in ``org_id``; None if it has it."""
    held = roles(org_id)
    org = view.orgs.get(org_id)
    where = org.name if org is not None else shown(org_id)
    if held is None:
        return Decided(None, f"{_name(view, caller)} has no membership in {where}", NO_MEMBERSHIP)
    if not grants(held, USER_READ):
        why = f"{_name(view, caller)} holds {', '.join(sorted(held))} in {where}; needs user.read"
        return Decided(None, why, NO_USER_READ)
    return None


def _factors(
    view: View, user_id: str, user: User | None, args: V2Args, caller: str | None, roles: Roles
) -> Decided:
    types = frozenset(args.auth_factors) or DEFAULT_TYPES
    states = frozenset(args.states) or DEFAULT_STATES
    rows = tuple(
        f
        for f in view.factors.get(user_id, ())
        if _FILTER_NUMBER.get(f.type) in types and f.state.value in states
    )
    if not rows:
        who = user.username if user is not None else f"user {shown(user_id)} (not in the scenario)"
        return Decided(
            factors_body(()), f"answered: no auth factors of {who} match; no permission check"
        )
    if caller != user_id:
        # The permission is checked in the organisation of the rows found: the user's own.
        refused = _user_read(view, user.org_id if user else "", caller, roles)
        if refused is not None:
            return refused
    count = len(rows)
    who = user.username if user is not None else shown(user_id)
    why = f"answered: {count} auth factor{'s' * (count != 1)} of {who}"
    return Decided(factors_body(rows), why)


def _factor(factor: AuthFactor) -> dict[str, Any]:
    content: dict[str, str] = {}
    if factor.type is Factor.U2F:
        if factor.id:
            content["id"] = factor.id
        # A U2F registration never verified has no name yet.
        if factor.name and factor.state is FactorState.READY:
            content["name"] = factor.name
    return {"state": factor.state.wire, factor.type.json_member: content}


@lru_cache(maxsize=256)
def factors_body(rows: tuple[AuthFactor, ...]) -> bytes:
    """``ListAuthenticationFactorsResponse``: ``{result}``, no details."""
    return dumps({"result": [_factor(f) for f in rows]} if rows else {})


def method_types(user: User, factors: tuple[AuthFactor, ...]) -> tuple[str, ...]:
    """The user's ready sign-in methods: passkeys, the factors as registered, recovery codes,
    then PASSWORD and IDP (ZITADEL's query: its distinct types, then the two joins)."""
    found: list[str] = []
    methods = user.methods
    if FactorState.READY in methods.passkeys:
        found.append("PASSKEY")
    for factor in factors:
        name = _METHOD_OF.get(factor.type)
        if name is not None and factor.state is FactorState.READY and name not in found:
            found.append(name)
    if methods.recovery_codes:
        found.append("RECOVERY_CODE")
    if methods.password:
        found.append("PASSWORD")
    if methods.idp_links:
        found.append("IDP")
    return tuple(_METHOD + name for name in found)


def _method_types(
    view: View,
    user_id: str,
    user: User | None,
    caller: str | None,
    context_org: str,
    roles: Roles,
) -> Decided:
    if caller != user_id:
        refused = _user_read(view, context_org, caller, roles)
        if refused is not None:
            return refused
    stamp = view.instance_policy.updated_ns
    if user is None:
        why = f"answered: no methods: user {shown(user_id)} is not in the scenario"
        return Decided(method_types_body((), stamp), why)
    found = method_types(user, view.factors.get(user_id, ()))
    count = len(found)
    why = f"answered: {count} authentication method type{'s' * (count != 1)} of {user.username}"
    return Decided(method_types_body(found, stamp), why)


@lru_cache(maxsize=256)
def method_types_body(found: tuple[str, ...], stamp_ns: int) -> bytes:
    """``ListAuthenticationMethodTypesResponse``; its details' timestamp is always written."""
    details: dict[str, Any] = {}
    if found:
        details["totalResult"] = str(len(found))
    details["timestamp"] = rfc3339(stamp_ns)
    message: dict[str, Any] = {"details": details}
    if found:
        message["authMethodTypes"] = list(found)
    return dumps(message)


def _login_settings(view: View, args: V2Args, context_org: str, instance_id: str) -> Decided:
    if args.ctx_instance is False:
        return Decided(None, "ctx.instance is false; ZITADEL takes only true", CTX_INSTANCE_FALSE)
    if args.ctx_instance:
        owner, asked = None, "ctx.instance"
    elif args.ctx_org_id:
        owner, asked = args.ctx_org_id, f"ctx.orgId {shown(args.ctx_org_id)}"
    else:
        owner, asked = context_org, "the org in context"
    custom = view.policies.get(owner) if owner is not None else None
    if custom is not None:
        org = view.orgs.get(owner or "")
        name = org.name if org is not None else owner
        why = f"answered: {name}'s login policy ({asked})"
        return Decided(settings_body(custom.policy, custom.updated_ns, owner or "", True), why)
    policy = view.instance_policy
    if owner is not None and view.orgs.get(owner) is None:
        whose = f"{asked} names no organisation, so the instance's default login policy"
    else:
        whose = f"the instance's default login policy ({asked} has none of its own)"
        if owner is None:
            whose = "the instance's default login policy (ctx.instance)"
    return Decided(settings_body(policy.policy, policy.updated_ns, instance_id, False), whose)


def _duration(seconds: int) -> str:
    return f"{seconds}s"


@lru_cache(maxsize=256)
def settings_body(policy: LoginPolicy, stamp_ns: int, owner: str, org: bool) -> bytes:
    """``GetLoginSettingsResponse``: ``{details, settings}``, zero values left out."""
    details: dict[str, Any] = {}
    if policy.processed_sequence:
        details["sequence"] = str(policy.processed_sequence)
    details["changeDate"] = rfc3339(stamp_ns)
    if owner:
        details["resourceOwner"] = owner
    details["creationDate"] = rfc3339(stamp_ns)
    s = policy.settings
    fields: list[tuple[str, Any]] = [
        ("allowUsernamePassword", s.allow_username_password),
        ("allowLocalAuthentication", s.allow_username_password),
        ("allowRegister", s.allow_register),
        ("allowExternalIdp", s.allow_external_idp),
        ("forceMfa", s.force_mfa),
        ("passkeysType", "PASSKEYS_TYPE_ALLOWED" if s.passkeys_allowed else None),
        ("hidePasswordReset", s.hide_password_reset),
        ("ignoreUnknownUsernames", s.ignore_unknown_usernames),
        ("defaultRedirectUri", s.default_redirect_uri),
        ("passwordCheckLifetime", _duration(s.password_check_lifetime)),
        ("externalLoginCheckLifetime", _duration(s.external_login_check_lifetime)),
        ("mfaInitSkipLifetime", _duration(s.mfa_init_skip_lifetime)),
        ("secondFactorCheckLifetime", _duration(s.second_factor_check_lifetime)),
        ("multiFactorCheckLifetime", _duration(s.multi_factor_check_lifetime)),
        # JSON names number 1 by its first declared name, SECOND_FACTOR_TYPE_OTP.
        ("secondFactors", [f.second_factor_type for f in policy.second_factors]),
        (
            "multiFactors",
            ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"] if s.u2f_with_verification else [],
        ),
        ("allowDomainDiscovery", s.allow_domain_discovery),
        ("disableLoginWithEmail", s.disable_login_with_email),
        ("disableLoginWithPhone", s.disable_login_with_phone),
        ("resourceOwnerType", "RESOURCE_OWNER_TYPE_ORG" if org else "RESOURCE_OWNER_TYPE_INSTANCE"),
        ("forceMfaLocalOnly", s.force_mfa_local_only),
    ]
    # Durations are always set (a zero one is written "0s"); other zero values are left out.
    settings = {key: value for key, value in fields if value}
    return dumps({"details": details, "settings": settings})
