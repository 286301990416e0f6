"""Service users signing in, as ZITADEL's OAuth2/OIDC provider answers: no HTTP here.

The token endpoint takes the client credentials grant (a machine user's username and
``client_secret``) and the JWT profile grant (an assertion signed with one of its ``keys``), and
issues an opaque access token that acts on the API as that user. Discovery, the JWKS and
introspection are answered too. A request is a few strings (the form, the Basic credentials, the
issuer the adapter read from the Host header); an answer is a status, a JSON body and why.

Token calls are journalled as the rpc ``Token`` and go through the forced rules, the latency and
the rate limit like the API's calls, so that a test can make a sign-in fail.
"""

from __future__ import annotations

import binascii
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from .codes import ZError, http_status
from .faults import Injection
from .journal import Call, shown
from .model import TOKEN_RPC, IssuedToken, User, UserType
from .state import State, View
from .versions import Profile, Version

__all__ = [
    "API_AUDIENCE_SCOPE",
    "CLIENT_CREDENTIALS",
    "JWT_BEARER",
    "TOKEN_LIFETIME_NS",
    "OAuthAnswer",
    "OAuthRequest",
    "discovery",
    "expires_in",
    "introspect",
    "keys",
    "mint",
    "query_unescape",
    "token",
]

API_AUDIENCE_SCOPE = "urn:zitadel:iam:org:project:id:zitadel:aud"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME_NS = 12 * 3600 * 10**9  # ZITADEL's default access-token lifetime
SECOND_NS = 10**9
# The JWT-profile verifier's bounds (internal/api/oidc/token_jwt_profile.go).
ASSERTION_MAX_AGE_NS = 3600 * SECOND_NS
ASSERTION_OFFSET_NS = SECOND_NS
MAX_ASSERTION = 16 * 1024  # a signed assertion is under 1 KiB; PyJWT never sees a huge one
# The bad-assertion answer changed on the v4.x branch after this tag (commit 1c0422031, PR
# #11933), in no tag the mock's facts cover: up to it, 500 server_error; after it, 400.
LAST_INTERNAL_ERROR_ON_BAD_ASSERTION = Version(4, 13, 1)
# Which scopes are kept (zitadel/oidc drops the others silently).
_STANDARD_SCOPES = frozenset({"openid", "profile", "email", "phone", "address", "offline_access"})
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class OAuthRequest(NamedTuple):
    """What the OAuth endpoints read of an HTTP request."""

    method: str
    path: str
    form: Mapping[str, str]  # the first value of each field
    basic: tuple[str, str] | None  # Basic credentials as sent (not yet URL-unescaped)
    issuer: str  # scheme://host[:port] of the request
    form_error: bool = False  # the body could not be read as a form
    # For the journal only, as for the API's routes.
    headers: tuple[tuple[str, str], ...] = ()
    arrived_ns: int = 0
    started: float = 0.0
    namespace: str = "default"


@dataclass(frozen=True)
class OAuthAnswer:
    status: int
    body: bytes
    cache_control: str | None = None
    injection: Injection | None = None  # a delay or fault for the HTTP layer to carry out
    why: str = ""


@dataclass(frozen=True)
class OAuthError:
    """An OAuth error as zitadel/oidc writes it: ``{"error", "error_description"}``."""

    error: str
    description: str
    status: int = 400

    def answer(self, why: str) -> OAuthAnswer:
        body = {"error": self.error, "error_description": self.description}
        return OAuthAnswer(self.status, _json(body), why=why)


SCOPE_MISSING = OAuthError(
    "invalid_request",
    "The scope of your request is missing. Please ensure some scopes are requested. "
    "If you have any questions, you may contact the administrator of the application.",
)
GRANT_TYPE_MISSING = OAuthError("invalid_request", "grant_type missing")
FORM_ERROR = OAuthError("invalid_request", "error parsing form")
ASSERTION_MISSING = OAuthError("invalid_request", "assertion missing")
CLIENT_NOT_FOUND = OAuthError("invalid_client", "client not found")
BAD_BASIC = OAuthError("invalid_client", "invalid basic auth header")
SECRET_INVALID = OAuthError("invalid_request", "Errors.User.Machine.Secret.Invalid")
SECRET_MISSING = OAuthError("invalid_request", "Errors.User.Machine.Secret.NotExisting")
BAD_ASSERTION_INTERNAL = OAuthError("server_error", "Errors.Internal", 500)
BAD_ASSERTION = OAuthError("invalid_grant", "invalid assertion")
NOT_AUTHENTICATED = OAuthError("invalid_client", "client must be authenticated")
UNAUTHORIZED_CLIENT = OAuthError("unauthorized_client", "client authentication failed")


def _json(message: Mapping[str, Any]) -> bytes:
    # As Go's json.Encoder writes it: compact, a newline at the end.
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def bad_assertion(profile: Profile) -> OAuthError:
    """What a bad JWT-profile assertion is answered, for the release the scenario names."""
    if profile.version <= LAST_INTERNAL_ERROR_ON_BAD_ASSERTION:
        return BAD_ASSERTION_INTERNAL
    return BAD_ASSERTION


# -- discovery and keys --------------------------------------------------------------------------

_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]
_CLAIMS = [
    *("sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "c_hash"),
    *("at_hash", "act", "scopes", "client_id", "azp", "preferred_username", "name"),
    *("family_name", "given_name", "locale", "email", "email_verified", "phone_number"),
    "phone_number_verified",
]


def discovery(issuer: str) -> OAuthAnswer:
    """``/.well-known/openid-configuration``, fields in zitadel/oidc's order."""
    document: dict[str, Any] = {"issuer": issuer}
    for name, path in (
        ("authorization_endpoint", "/oauth/v2/authorize"),
        ("token_endpoint", "/oauth/v2/token"),
        ("introspection_endpoint", "/oauth/v2/introspect"),
        ("userinfo_endpoint", "/oidc/v1/userinfo"),
        ("revocation_endpoint", "/oauth/v2/revoke"),
        ("end_session_endpoint", "/oidc/v1/end_session"),
        ("device_authorization_endpoint", "/oauth/v2/device_authorization"),
        ("jwks_uri", "/oauth/v2/keys"),
    ):
        document[name] = issuer + path
    document |= {
        "scopes_supported": ["openid", "profile", "email", "phone", "address", "offline_access"],
        "response_types_supported": ["code", "id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": [
            "authorization_code",
            "implicit",
            "refresh_token",
            CLIENT_CREDENTIALS,
            JWT_BEARER,
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [
            "EdDSA",
            "RS256",
            "RS384",
            "RS512",
            "ES256",
            "ES384",
            "ES512",
        ],
        "request_object_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": _METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "revocation_endpoint_auth_methods_supported": _METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "claims_supported": _CLAIMS,
        "code_challenge_methods_supported": ["S256"],
        # ui_locales_supported (the instance's languages) is left out: a live server's list is
        # not established, and an empty list is omitted, as omitempty does.
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
    return OAuthAnswer(200, _json(document), why="answered: the discovery document")


def keys() -> OAuthAnswer:
    """``/oauth/v2/keys``: the JWKS of the mock's signing key (ZITADEL caches it 5 minutes)."""
    from .oauth_keys import jwks

    return OAuthAnswer(
        200,
        _json(jwks()),
        cache_control="max-age=300, must-revalidate",
        why="answered: the mock's signing key",
    )


# -- the token endpoint --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decided:
    answer: OAuthAnswer
    user: User | None  # the client, as far as it could be told (for the journal and the rules)


def token(state: State, request: OAuthRequest) -> OAuthAnswer:
    """Answer ``POST /oauth/v2/token`` and record it in the journal as ``Token``."""
    view = state.view
    decided = _token(state, view, request)
    user = decided.user
    answer = decided.answer
    why = answer.why
    user_id = user.id if user is not None else None
    org_id = user.org_id if user is not None else None
    # The rate limit counts sign-ins per client: they carry no bearer token.
    injection = state.take_error(TOKEN_RPC, user_id, org_id, f"oauth-client:{user_id or ''}")
    delay = 0.0
    if injection is not None:
        answer = _injected(injection, answer)
        delay = injection.delay
        why = injection.why if injection.replaces_answer else f"{injection.why}; {why}"
    dropped = injection is not None and injection.fault not in (None, "malformed_body")
    state.record(
        Call(
            TOKEN_RPC,
            request.method,
            request.path,
            user_id,
            org_id,
            None,
            0 if dropped else answer.status,
            b"" if dropped else answer.body,
            injection is not None and injection.replaces_answer,
            injection,
            why,
            request.arrived_ns or time.time_ns(),
            (time.perf_counter() - request.started if request.started else 0.0) + delay,
            request.headers,
            "rest",
            request.namespace,
        )
    )
    return replace(answer, why=why)


def _injected(injection: Injection, normal: OAuthAnswer) -> OAuthAnswer:
    """A forced rule's answer, in OAuth's form: ZITADEL maps its errors by kind (oidcError)."""
    if injection.code is not None:
        error = ZError.of(injection.code, injection.message, injection.id)
        status = http_status(injection.code)
        kind = "server_error" if status >= 500 else "invalid_request"
        answer = OAuthError(kind, error.message, status).answer(normal.why)
    elif injection.fault == "timeout":  # if the hold passes with the client still there
        answer = OAuthError("server_error", "context deadline exceeded", 504).answer(normal.why)
    elif injection.fault == "malformed_body":
        answer = replace(normal, body=normal.body[: len(normal.body) // 2])
    elif injection.fault is not None:
        answer = OAuthAnswer(200, b"")  # the connection is dropped instead
    else:
        answer = normal
    return replace(answer, injection=injection)


def _token(state: State, view: View, request: OAuthRequest) -> _Decided:
    if request.form_error:
        return _Decided(FORM_ERROR.answer("the body is not a form zitadel/oidc can read"), None)
    form = request.form
    grant = form.get("grant_type", "")
    if not grant:
        return _Decided(GRANT_TYPE_MISSING.answer("no grant_type in the form"), None)
    if grant == JWT_BEARER:
        return _jwt_profile(state, view, request)
    if grant not in (CLIENT_CREDENTIALS, "authorization_code", "refresh_token"):
        error = OAuthError("unsupported_grant_type", f"{grant} not supported")
        return _Decided(error.answer(f"grant_type {shown(grant)} is not served"), None)
    user, refused = _client(view, request)
    if refused is not None:
        return _Decided(refused, user)
    if user is None:  # _client answers a refusal for every request without a client
        return _Decided(CLIENT_NOT_FOUND.answer("no client"), None)
    if grant != CLIENT_CREDENTIALS:
        # A service user's client allows only the client credentials grant.
        error = OAuthError("unauthorized_client", f'grant_type "{grant}" not allowed')
        why = f"{user.username} signs in with client_credentials only, not {grant}"
        return _Decided(error.answer(why), user)
    scopes = _scopes(form.get("scope", ""))
    if scopes is None:
        return _Decided(SCOPE_MISSING.answer("no scope in the form"), user)
    return _Decided(_issue(state, view, user, scopes, request.issuer, "client credentials"), user)


def query_unescape(value: str) -> str | None:
    """Go's url.QueryUnescape: ``+`` is a space, ``%XX`` a byte; None for a broken escape."""
    from urllib.parse import unquote_plus

    if _BAD_ESCAPE.search(value):
        return None
    try:
        return unquote_plus(value, errors="strict")
    except UnicodeDecodeError:
        return value  # Go keeps the bytes; the lookup below finds no such user
    except (ValueError, binascii.Error):
        return None


def _client(view: View, request: OAuthRequest) -> tuple[User | None, OAuthAnswer | None]:
    """The machine user the client credentials name, and the refusal if they do not hold."""
    form = request.form
    if request.basic is not None:  # HTTP Basic overrides the form's fields
        client_id = query_unescape(request.basic[0])
        secret = query_unescape(request.basic[1])
        if client_id is None or secret is None:
            return None, BAD_BASIC.answer("the Basic credentials have a broken %-escape")
    else:  # no Basic credentials, or some Go's BasicAuth cannot read: the form's fields
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    user: User | None = view.users.get(client_id) if client_id else None
    if user is None or user.username != client_id or user.type is not UserType.MACHINE:
        why = f"client_id {shown(client_id)} is the username of no machine user"
        if not client_id:
            why = "no client_id (in Basic credentials or the form)"
        return None, CLIENT_NOT_FOUND.answer(why)
    credentials = view.credentials.get(user.id)
    if credentials is None or credentials.client_secret is None:
        why = f"{user.username} has no client_secret in the scenario"
        return user, SECRET_MISSING.answer(why)
    if not hmac.compare_digest(secret.encode(), credentials.client_secret.encode()):
        return user, SECRET_INVALID.answer(f"the client_secret is not {user.username}'s")
    return user, None


def _scopes(text: str) -> tuple[str, ...] | None:
    """The scopes kept (unknown ones dropped, as ZITADEL does); None if none were asked."""
    asked = text.split()
    if not asked:
        return None
    kept = (s for s in asked if s in _STANDARD_SCOPES or s.startswith("urn:zitadel:iam:"))
    return tuple(dict.fromkeys(kept))


def expires_in(expires_ns: int, now_ns: int) -> int:
    """Seconds left, truncated, as zitadel/oidc counts them (a fresh 12 h token: 43199)."""
    return max(0, (expires_ns - now_ns - 1) // SECOND_NS)


def _issue(
    state: State, view: View, user: User, scopes: tuple[str, ...], issuer: str, how: str
) -> OAuthAnswer:
    issued = state.issue_token(
        user.id,
        scopes,
        lifetime_ns=TOKEN_LIFETIME_NS,
        api_audience=API_AUDIENCE_SCOPE in scopes,
    )
    now = issued.issued_ns
    body: dict[str, Any] = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": expires_in(issued.expires_ns, now),
    }
    if "openid" in scopes:
        body["id_token"] = _id_token(user, issuer, now, issued.expires_ns)
    audience = "" if issued.api_audience else f", without {API_AUDIENCE_SCOPE} (not for the API)"
    why = f"answered: an access token for {user.username} ({how}){audience}"
    return OAuthAnswer(200, _json(body), why=why)


def _id_token(user: User, issuer: str, now_ns: int, expires_ns: int) -> str:
    from .oauth_keys import sign

    return sign(
        {
            "iss": issuer,
            "sub": user.id,
            "aud": [user.username],
            "exp": expires_ns // SECOND_NS,
            "iat": now_ns // SECOND_NS,
            "azp": user.username,
            "client_id": user.username,
        }
    )


def mint(
    state: State,
    user: User,
    scopes: tuple[str, ...],
    *,
    lifetime_ns: int = TOKEN_LIFETIME_NS,
) -> IssuedToken:
    """Issue an access token for ``user`` as the token endpoint would, without a request."""
    return state.issue_token(
        user.id, scopes, lifetime_ns=lifetime_ns, api_audience=API_AUDIENCE_SCOPE in scopes
    )


# -- the JWT profile -----------------------------------------------------------------------------


def _jwt_profile(state: State, view: View, request: OAuthRequest) -> _Decided:
    assertion = request.form.get("assertion", "")
    if not assertion:
        return _Decided(ASSERTION_MISSING.answer("no assertion in the form"), None)
    checked = _verify_assertion(view, assertion, request.issuer, time.time_ns())
    if isinstance(checked, str):
        claimed = _claimed_user(view, assertion)
        error = bad_assertion(view.profile)
        return _Decided(error.answer(f"bad assertion: {checked}"), claimed)
    user = checked
    scopes = _scopes(request.form.get("scope", ""))
    if scopes is None:
        return _Decided(SCOPE_MISSING.answer("no scope in the form"), user)
    return _Decided(_issue(state, view, user, scopes, request.issuer, "JWT profile"), user)


def _claimed_user(view: View, assertion: str) -> User | None:
    """The user an assertion names (``iss``), unverified: for the journal and the rules only."""
    claims = _unverified(assertion)
    if claims is None:
        return None
    subject = claims[1].get("iss")
    user = view.users.get(subject) if isinstance(subject, str) else None
    return user if user is not None and user.id == subject else None


def _unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    import jwt

    if len(assertion) > MAX_ASSERTION:
        return None
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return header, claims


def _time(claims: Mapping[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not -(2**62) < value < 2**62:  # float('inf') and the like: no time at all
        return None
    return int(value * SECOND_NS)


def _verify_assertion(view: View, assertion: str, issuer: str, now: int) -> User | str:
    """The user an assertion signs in, or why it is refused; zitadel/oidc's order of checks.

    The times are checked against the real time, whatever the scenario's clock: a client signs
    with its own clock.
    """
    if len(assertion) > MAX_ASSERTION:
        return f"the assertion is over {MAX_ASSERTION} characters"
    parsed = _unverified(assertion)
    if parsed is None:
        return "not a JWT"
    header, claims = parsed
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if issuer not in audiences:
        return f"aud {shown(str(audience))} does not contain the issuer {shown(issuer)}"
    expires = _time(claims, "exp")
    if expires is None or not now + ASSERTION_OFFSET_NS < expires:
        return "exp is missing" if expires is None else "exp is not after now + 1 s: expired"
    issued = _time(claims, "iat")
    if issued is None:
        return "iat is missing"
    # zitadel/oidc rounds both bounds to the second.
    if issued > _round_s(now + ASSERTION_OFFSET_NS):
        return "iat is in the future (more than 1 s ahead)"
    if issued < _round_s(now - ASSERTION_MAX_AGE_NS):
        return "iat is more than 1 h old"
    subject, who = claims.get("sub"), claims.get("iss")
    if subject != who:
        return "delegation not allowed, issuer and sub must be identical"
    user: User | None = view.users.get(who) if isinstance(who, str) else None
    if user is None or user.id != who:
        return f"iss {shown(str(who))} is the id of no user"
    credentials = view.credentials.get(user.id)
    kid = header.get("kid")
    key = next((k for k in credentials.keys if k.id == kid), None) if credentials else None
    if key is None:
        return f"{user.username} has no key {shown(str(kid))}"
    import jwt

    from .oauth_keys import public_key

    try:
        jwt.decode(
            assertion,
            public_key(key.public_key),
            algorithms=["RS256"],
            # The claims were checked above, as ZITADEL checks them; PyJWT checks the signature.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError as exc:
        return f"the signature does not verify with key {shown(key.id)}: {exc}"
    return user


def _round_s(ns: int) -> int:
    """Go's Time.Round(time.Second): to the nearest second, halves away from zero."""
    return (ns + SECOND_NS // 2) // SECOND_NS * SECOND_NS


# -- introspection -------------------------------------------------------------------------------


def introspect(state: State, request: OAuthRequest) -> OAuthAnswer:
    """``POST /oauth/v2/introspect``.

    ZITADEL takes an application's credentials here, which scenarios do not model: the mock
    takes a machine user's own (Basic username and client_secret, or a ``client_assertion``
    signed with one of its keys) as if they were an API application's.
    """
    view = state.view
    form = request.form
    client: User | str | None = None
    if request.basic is not None:
        client_id = query_unescape(request.basic[0]) or ""
        secret = query_unescape(request.basic[1]) or ""
        user = view.users.get(client_id) if client_id else None
        credentials = view.credentials.get(user.id) if user is not None else None
        if (
            user is None
            or user.username != client_id
            or credentials is None
            or credentials.client_secret is None
            or not hmac.compare_digest(secret.encode(), credentials.client_secret.encode())
        ):
            client = f"no machine user {shown(client_id)} with this client_secret"
        else:
            client = user
    elif form.get("client_assertion"):
        client = _verify_assertion(view, form["client_assertion"], request.issuer, time.time_ns())
    if client is None:
        return NOT_AUTHENTICATED.answer("no client credentials (Basic or client_assertion)")
    if isinstance(client, str):
        return UNAUTHORIZED_CLIENT.answer(f"the client is refused: {client}")
    entry = view.issued.get(form.get("token", ""))
    now = state.now_ns()
    if entry is None or entry.expires_ns <= now or not entry.api_audience:
        return OAuthAnswer(200, _json({"active": False}), why="answered: the token is not active")
    user = view.users.get(entry.user_id)
    username = user.username if user is not None else entry.user_id
    body = {
        "active": True,
        "scope": " ".join(entry.scopes),
        "client_id": username,
        "token_type": "Bearer",
        "exp": entry.expires_ns // SECOND_NS,
        "iat": entry.issued_ns // SECOND_NS,
        "sub": entry.user_id,
        "aud": [username],
        "iss": request.issuer,
        "username": username,
    }
    return OAuthAnswer(200, _json(body), why=f"answered: an active token of {username}")
