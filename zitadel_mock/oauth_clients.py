"""Who a client of the OAuth endpoints is: a machine user's secret, or its JWT assertion.

The assertion is checked as zitadel/oidc's JWT-profile verifier does (audience, expiry, issue
time, subject, then the signature with the key its ``kid`` names); PyJWT verifies the
signature. ``cryptography`` and PyJWT are imported on the first assertion only.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from .journal import shown
from .model import Credentials, User
from .oauth_messages import SECOND_NS, OAuthError
from .state import State, View
from .versions import Profile, Version

__all__ = [
    "BAD_ASSERTION",
    "BAD_ASSERTION_INTERNAL",
    "bad_assertion",
    "claimed_user",
    "credentials",
    "secret_matches",
    "verify_assertion",
]

# The JWT-profile verifier's bounds (internal/api/oidc/token_jwt_profile.go).
ASSERTION_MAX_AGE_NS = 3600 * SECOND_NS
ASSERTION_OFFSET_NS = SECOND_NS
MAX_ASSERTION = 16 * 1024  # a signed assertion is under 1 KiB; PyJWT never sees a huge one
# The bad-assertion answer changed on the v4.x branch after this tag (commit 1c0422031, PR
# #11933), in no tag the mock's facts cover: up to it, 500 server_error; after it, 400.
LAST_INTERNAL_ERROR_ON_BAD_ASSERTION = Version(4, 13, 1)
BAD_ASSERTION_INTERNAL = OAuthError("server_error", "Errors.Internal", 500)
BAD_ASSERTION = OAuthError("invalid_grant", "invalid assertion")


def bad_assertion(profile: Profile) -> OAuthError:
    """What a bad JWT-profile assertion is answered, for the release the scenario names."""
    if profile.version <= LAST_INTERNAL_ERROR_ON_BAD_ASSERTION:
        return BAD_ASSERTION_INTERNAL
    return BAD_ASSERTION


def credentials(state: State, view: View) -> Mapping[str, Credentials]:
    """The scenario's credentials by user id, indexed once per snapshot."""
    index: Mapping[str, Credentials] | None = view.derived.get("credentials")
    if index is None:  # two threads may both build it: the same index, either kept
        index = {c.user_id: c for c in state.scenario.credentials}
        view.derived["credentials"] = index
    return index


def secret_matches(secret: str, found: Credentials | None) -> bool:
    """Whether ``secret`` is the user's client secret (compared in constant time)."""
    if found is None or found.client_secret is None:
        return False
    return hmac.compare_digest(secret.encode(), found.client_secret.encode())


def claimed_user(view: View, assertion: str) -> User | None:
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


def verify_assertion(
    view: View, keys: Mapping[str, Credentials], assertion: str, issuer: str, now: int
) -> User | str:
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
    found = keys.get(user.id)
    kid = header.get("kid")
    key = next((k for k in found.keys if k.id == kid), None) if found else None
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
