"""Service users signing in at the token endpoint, as ZITADEL answers: no HTTP here.

The token endpoint takes the client credentials grant (a machine user's username and
``client_secret``) and the JWT profile grant (an assertion signed with one of its ``keys``), and
issues an opaque access token that acts on the API as that user (the state keeps it). A request
is a few strings (the form, the Basic credentials, the issuer the adapter read from the Host
header); an answer is a status, a JSON body and why.

Token calls are journalled as the rpc ``Token`` and go through the forced rules, the latency and
the rate limit like the API's calls, so that a test can make a sign-in fail.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from .codes import ZError, http_status
from .faults import Injection
from .journal import shown
from .model import TOKEN_RPC, IssuedToken, User, UserType
from .oauth_clients import (
    bad_assertion,
    claimed_user,
    credentials,
    secret_matches,
    verify_assertion,
)
from .oauth_messages import (
    API_AUDIENCE_SCOPE,
    CLIENT_CREDENTIALS,
    JWT_BEARER,
    SECOND_NS,
    OAuthAnswer,
    OAuthError,
    OAuthRequest,
    json_body,
    query_unescape,
)
from .recording import journal_entry
from .state import State, View

__all__ = ["MAX_ISSUED", "TOKEN_LIFETIME_NS", "expires_in", "mint", "mint_for", "token"]

TOKEN_LIFETIME_NS = 12 * 3600 * SECOND_NS  # ZITADEL's default access-token lifetime
# Access tokens kept per namespace: past this many, the oldest issued is forgotten (refused
# as unknown from then on), so that a long-running server signing in in a loop stays bounded.
MAX_ISSUED = 10_000
# Which scopes are kept (zitadel/oidc drops the others silently).
_STANDARD_SCOPES = frozenset({"openid", "profile", "email", "phone", "address", "offline_access"})
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
    user_id = user.id if user is not None else None
    org_id = user.org_id if user is not None else None
    # The rate limit counts sign-ins per client: they carry no bearer token.
    injection = state.take_error(TOKEN_RPC, user_id, org_id, f"oauth-client:{user_id or ''}")
    why = answer.why
    if injection is not None:
        answer = _injected(injection, answer)
    call = journal_entry(
        TOKEN_RPC, request, user_id, org_id, None, answer.status, answer.body, injection, why
    )
    state.record(call)
    return replace(answer, why=call.why)


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
    user, refused = _client(state, view, request)
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


def _client(
    state: State, view: View, request: OAuthRequest
) -> tuple[User | None, OAuthAnswer | None]:
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
    found = credentials(state, view).get(user.id)
    if found is None or found.client_secret is None:
        why = f"{user.username} has no client_secret in the scenario"
        return user, SECRET_MISSING.answer(why)
    if not secret_matches(secret, found):
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
    issued = mint(state, user, scopes)
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
    return OAuthAnswer(200, json_body(body), why=why)


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
    """Issue an access token for ``user`` as the token endpoint does; the state keeps it.

    Opaque, as ZITADEL's default (bearer) access-token type; random, since a client must treat
    it as opaque anyway. Its times are the mock's clock (the scenario's, if frozen).
    """
    now = state.now_ns()
    entry = IssuedToken(
        secrets.token_urlsafe(32),
        user.id,
        now + lifetime_ns,
        scopes,
        API_AUDIENCE_SCOPE in scopes,
        now,
    )
    state.keep_token(entry, MAX_ISSUED)
    return entry


def mint_for(state: State, user: str, scopes: tuple[str, ...], lifetime: float) -> str:
    """``ZitadelMock.token_for``: a machine user's access token, named by username or id."""
    from .errors import ScenarioError
    from .journal import did_you_mean, known_names

    users = state.view.users
    found: User | None = users.get(str(user))
    if found is None:
        near = did_you_mean(str(user), known_names("user", users))
        raise ScenarioError(f"no user {shown(str(user))}{near}", path="user")
    if found.type is not UserType.MACHINE:
        raise ScenarioError(
            f"{found.username!r} is a human user; only machine users sign in", path="user"
        )
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime < 0:
        raise ValueError(f"lifetime: expected seconds (0 or more), got {lifetime!r}")
    nanoseconds = int(min(lifetime, 10 * 365 * 86400) * SECOND_NS)
    return mint(state, found, scopes, lifetime_ns=nanoseconds).token


# -- the JWT profile -----------------------------------------------------------------------------


def _jwt_profile(state: State, view: View, request: OAuthRequest) -> _Decided:
    assertion = request.form.get("assertion", "")
    if not assertion:
        return _Decided(ASSERTION_MISSING.answer("no assertion in the form"), None)
    keys = credentials(state, view)
    checked = verify_assertion(view, keys, assertion, request.issuer, time.time_ns())
    if isinstance(checked, str):
        claimed = claimed_user(view, assertion)
        error = bad_assertion(view.profile)
        return _Decided(error.answer(f"bad assertion: {checked}"), claimed)
    user = checked
    scopes = _scopes(request.form.get("scope", ""))
    if scopes is None:
        return _Decided(SCOPE_MISSING.answer("no scope in the form"), user)
    return _Decided(_issue(state, view, user, scopes, request.issuer, "JWT profile"), user)
