"""The typed, immutable objects a scenario becomes once loaded and validated."""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass, field
from typing import Any

from .versions import DEFAULT, Profile

__all__ = [
    "ALL_RPCS",
    "AUTH_FACTOR_TYPES",
    "MAX_SECONDS",
    "OAUTH_RPCS",
    "RPCS",
    "SERVED_RPCS",
    "TOKEN_RPC",
    "V2_RPCS",
    "AuthFactor",
    "Credentials",
    "Delay",
    "ErrorRule",
    "Factor",
    "FactorState",
    "IssuedToken",
    "LoginPolicy",
    "LoginSettings",
    "MachineKey",
    "Member",
    "Methods",
    "Org",
    "RateLimit",
    "Scenario",
    "Token",
    "User",
    "UserType",
    "new_auth_factor",
    "new_user",
]

MAX_SECONDS = 3600.0  # the longest delay or hold; a drawn delay is cut there too


@dataclass(frozen=True)
class Delay:
    """A delay in seconds: fixed, uniform between two bounds, or lognormal (median, sigma)."""

    kind: str  # "fixed", "uniform" or "lognormal"
    a: float  # fixed: the seconds; uniform: the low bound; lognormal: the median
    b: float = 0.0  # uniform: the high bound; lognormal: sigma

    def draw(self, rng: random.Random) -> float:
        """Return one delay in seconds (a fixed delay draws nothing from ``rng``)."""
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        return min(rng.lognormvariate(math.log(self.a), self.b), MAX_SECONDS)

    def to_json(self) -> float | dict[str, Any]:
        """The form a scenario gives it in."""
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return {"uniform": [self.a, self.b]}
        return {"lognormal": {"median": self.a, "sigma": self.b}}


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` calls per token in each ``window`` of seconds; then 429."""

    requests: int
    window: float
    message: str | None = None  # None: the default message of RESOURCE_EXHAUSTED
    id: str | None = None


LIST_SECOND_FACTORS = "ListLoginPolicySecondFactors"
LIST_AUTH_FACTORS = "ListHumanAuthFactors"
RPCS: tuple[str, ...] = (LIST_SECOND_FACTORS, LIST_AUTH_FACTORS)
# The v2 RPCs (zitadel.user.v2.UserService, zitadel.settings.v2.SettingsService). They are kept
# out of ``RPCS``, which the usage report and the control API count and list, and can be named
# by a forced rule like the others (``SERVED_RPCS``).
LIST_AUTHENTICATION_FACTORS = "ListAuthenticationFactors"
LIST_AUTHENTICATION_METHOD_TYPES = "ListAuthenticationMethodTypes"
GET_LOGIN_SETTINGS = "GetLoginSettings"
V2_RPCS: tuple[str, ...] = (
    LIST_AUTHENTICATION_FACTORS,
    LIST_AUTHENTICATION_METHOD_TYPES,
    GET_LOGIN_SETTINGS,
)
SERVED_RPCS: tuple[str, ...] = RPCS + V2_RPCS
# The RPCs with no user in their request: a forced rule for one of them cannot name a user.
USERLESS_RPCS: tuple[str, ...] = (LIST_SECOND_FACTORS, GET_LOGIN_SETTINGS)
# The token endpoint (POST /oauth/v2/token), journalled and forced under this name. Kept apart
# from RPCS, the Management API's methods, which the usage report counts as a scenario's routes.
TOKEN_RPC = "Token"
OAUTH_RPCS: tuple[str, ...] = (TOKEN_RPC,)
ALL_RPCS: tuple[str, ...] = (*SERVED_RPCS, *OAUTH_RPCS)  # what a forced rule's rpc may name


class Factor(enum.Enum):
    """A second factor; the value is ZITADEL's ``SecondFactorType`` number.

    ``RECOVERY_CODES`` (from ZITADEL 4.10.0) is a second factor of login policies only: no
    user lists it as an auth factor (``AUTH_FACTOR_TYPES`` are the others).
    """

    OTP = 1
    U2F = 2
    OTP_EMAIL = 3
    OTP_SMS = 4
    RECOVERY_CODES = 5

    @property
    def key(self) -> str:
        """The scenario name: ``otp``, ``u2f``, ``otp_email``, ``otp_sms``."""
        return self.name.lower()

    @property
    def is_auth_factor(self) -> bool:
        """Whether a user can have it (``ListHumanAuthFactors`` lists it)."""
        return self is not Factor.RECOVERY_CODES

    @property
    def second_factor_type(self) -> str:
        """The ``SecondFactorType`` enum name, e.g. ``SECOND_FACTOR_TYPE_OTP``."""
        return f"SECOND_FACTOR_TYPE_{self.name}"

    @property
    def json_member(self) -> str:
        """The ``AuthFactor`` oneof member in JSON: ``otp``, ``u2f``, ``otpSms``, ``otpEmail``."""
        head, _, tail = self.key.partition("_")
        return head + tail.capitalize()

    @classmethod
    def parse(cls, value: str) -> Factor | None:
        """Return the factor for a scenario name or a full enum name, or None."""
        name = value.strip().upper().removeprefix("SECOND_FACTOR_TYPE_")
        return cls.__members__.get(name)


# The factors a user can register, in the order of their numbers.
AUTH_FACTOR_TYPES: tuple[Factor, ...] = tuple(f for f in Factor if f.is_auth_factor)


class FactorState(enum.Enum):
    """``AuthFactorState``; only READY factors are ever listed."""

    NOT_READY = 1
    READY = 2

    @property
    def wire(self) -> str:
        return f"AUTH_FACTOR_STATE_{self.name}"


class UserType(enum.Enum):
    HUMAN = "human"
    MACHINE = "machine"


@dataclass(frozen=True)
class AuthFactor:
    """One factor a human user has registered."""

    type: Factor
    state: FactorState = FactorState.READY
    id: str = ""  # the U2F token id; empty for the other types
    name: str = ""  # the name the user gave a U2F key


# A frozen dataclass sets each field through object.__setattr__, which makes an object cost
# twice what filling its __dict__ does. Loops that make a hundred thousand users and factors
# use these: the same objects (equal, with the same hash), made at once. Keys are set in the
# order of the fields, so that every object's __dict__ shares its keys with the others'.
_new = object.__new__


def new_auth_factor(type: Factor, state: FactorState, id: str, name: str) -> AuthFactor:
    """``AuthFactor(type, state, id, name)``, made faster."""
    factor = _new(AuthFactor)
    fields = factor.__dict__
    fields["type"], fields["state"], fields["id"], fields["name"] = type, state, id, name
    return factor


HOUR = 3600


@dataclass(frozen=True)
class LoginSettings:
    """The rest of a login policy, as GetLoginSettings answers it: a new instance's defaults.

    Lifetimes are whole seconds. ``allow_local_authentication`` is not kept: ZITADEL answers
    it equal to ``allow_username_password``.
    """

    allow_username_password: bool = True
    allow_register: bool = True
    allow_external_idp: bool = True
    force_mfa: bool = False
    passkeys_allowed: bool = True  # PASSKEYS_TYPE_ALLOWED
    hide_password_reset: bool = False
    ignore_unknown_usernames: bool = False
    default_redirect_uri: str = ""
    password_check_lifetime: int = 240 * HOUR
    external_login_check_lifetime: int = 240 * HOUR
    mfa_init_skip_lifetime: int = 720 * HOUR
    second_factor_check_lifetime: int = 18 * HOUR
    multi_factor_check_lifetime: int = 12 * HOUR
    u2f_with_verification: bool = True  # multi_factors: [MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION]
    allow_domain_discovery: bool = True
    disable_login_with_email: bool = False
    disable_login_with_phone: bool = False
    force_mfa_local_only: bool = False


DEFAULT_SETTINGS = LoginSettings()


@dataclass(frozen=True)
class LoginPolicy:
    second_factors: tuple[Factor, ...]
    processed_sequence: int = 0
    settings: LoginSettings = DEFAULT_SETTINGS


@dataclass(frozen=True)
class Member:
    user_id: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Methods:
    """What a human user can sign in with besides its auth factors (the v2 RPCs read it)."""

    password: bool = False
    passkeys: tuple[FactorState, ...] = ()  # one state per passkey, in registration order
    idp_links: tuple[str, ...] = ()  # the identity providers linked, by name
    recovery_codes: bool = False  # a set of recovery codes is registered (from 4.10.0)


NO_METHODS = Methods()


@dataclass(frozen=True)
class User:
    id: str
    username: str
    org_id: str
    type: UserType = UserType.HUMAN
    auth_factors: tuple[AuthFactor, ...] = ()
    methods: Methods = NO_METHODS


def new_user(
    id: str, username: str, org_id: str, type: UserType, auth_factors: tuple[AuthFactor, ...]
) -> User:
    """``User(id, username, org_id, type, auth_factors)``, made faster."""
    user = _new(User)
    fields = user.__dict__
    fields["id"], fields["username"], fields["org_id"] = id, username, org_id
    fields["type"], fields["auth_factors"] = type, auth_factors
    fields["methods"] = NO_METHODS
    return user


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    login_policy: LoginPolicy | None = None  # None: the org follows the instance default
    members: tuple[Member, ...] = ()


@dataclass(frozen=True)
class Token:
    token: str
    user_id: str
    expired: bool = False


@dataclass(frozen=True)
class MachineKey:
    """The public half of a service user's key, for the JWT profile (RS256)."""

    id: str  # the key id: the ``kid`` of the assertions it verifies
    public_key: str  # PEM (SubjectPublicKeyInfo), checked to be an RSA key when loaded


@dataclass(frozen=True)
class Credentials:
    """How a machine user signs in: a client secret, keys for the JWT profile, or both."""

    user_id: str
    client_secret: str | None = None
    keys: tuple[MachineKey, ...] = ()


@dataclass(frozen=True)
class IssuedToken:
    """An access token the token endpoint (or ``token_for``) issued to a service user."""

    token: str
    user_id: str
    expires_ns: int  # by the mock's clock (the scenario's frozen one, if it has one)
    scopes: tuple[str, ...]
    # Issued with urn:zitadel:iam:org:project:id:zitadel:aud: only then may it call the API.
    api_audience: bool
    issued_ns: int = 0  # when, by the mock's clock


@dataclass(frozen=True)
class ErrorRule:
    """A forced rule: matching requests get this answer before any auth check.

    An error ``code``, a network ``fault``, a ``delay`` of the normal answer, or a delay with
    either. ``then`` takes over the same requests once ``times`` are used up.
    """

    code: int | None  # None: no error answer (a fault, or only a delay)
    rpc: str | None = None  # None: both routes
    user_id: str | None = None
    org_id: str | None = None
    message: str | None = None
    id: str | None = None
    times: int | None = None  # None: always
    after: int = 0  # let this many matching requests pass first
    probability: float | None = None  # None: every time
    delay: Delay | None = None
    fault: str | None = None  # one of faults.FAULTS
    hold: float | None = None  # a timeout fault: the longest it holds (None: the default)
    then: ErrorRule | None = None
    # Where the rule was made, for the journal's ``why``: "fixtures/outage.yaml:31",
    # "fail() at tests/test_x.py:12", "POST /_mock/errors". Not part of what it does.
    origin: str = field(default="", compare=False)


DEFAULT_POLICY = LoginPolicy((Factor.OTP, Factor.U2F))


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: everything the mock serves, immutable."""

    orgs: tuple[Org, ...]
    users: tuple[User, ...] = ()
    instance_policy: LoginPolicy = DEFAULT_POLICY
    instance_members: tuple[Member, ...] = ()
    tokens: tuple[Token, ...] | None = None  # None: any "Bearer <token>" acts as IAM_OWNER
    errors: tuple[ErrorRule, ...] = ()
    seed: int = 0
    clock_ns: int | None = None  # a frozen clock, in nanoseconds since the epoch
    loaded_ns: int = 0  # when the scenario was loaded
    source: str | None = field(default=None, compare=False)
    latency: Delay | None = None  # added to every answer of the two routes
    rate_limit: RateLimit | None = None
    profile: Profile = DEFAULT  # the ZITADEL release answered as (zitadel_version)
    instance_id: str = "259242039378444289"  # the instance's id: GetLoginSettings' resourceOwner
    credentials: tuple[Credentials, ...] = ()  # how machine users sign in (OAuth)

    @property
    def zitadel_version(self) -> str:
        """The ZITADEL release the mock answers as, e.g. ``"4.13.1"``."""
        return str(self.profile.version)

    def org(self, ref: str) -> Org | None:
        """Find an org by id or name."""
        return next((o for o in self.orgs if ref in (o.id, o.name)), None)

    def user(self, ref: str) -> User | None:
        """Find a user by id or username."""
        return next((u for u in self.users if ref in (u.id, u.username)), None)
