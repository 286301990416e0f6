"""What ZITADEL's OIDC provider publishes and checks besides tokens: discovery, its keys,
introspection. No HTTP here."""

from __future__ import annotations

import time
from typing import Any

from .journal import shown
from .model import User
from .oauth_clients import credentials, secret_matches, verify_assertion
from .oauth_messages import (
    CLIENT_CREDENTIALS,
    JWT_BEARER,
    SECOND_NS,
    OAuthAnswer,
    OAuthError,
    OAuthRequest,
    json_body,
    query_unescape,
)
from .state import State

__all__ = ["NOT_AUTHENTICATED", "UNAUTHORIZED_CLIENT", "discovery", "introspect", "keys"]

NOT_AUTHENTICATED = OAuthError("invalid_client", "client must be authenticated")
UNAUTHORIZED_CLIENT = OAuthError("unauthorized_client", "client authentication failed")

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
    return OAuthAnswer(200, json_body(document), why="answered: the discovery document")


def keys() -> OAuthAnswer:
    """``/oauth/v2/keys``: the JWKS of the mock's signing key (ZITADEL caches it 5 minutes)."""
    from .oauth_keys import jwks

    return OAuthAnswer(
        200,
        json_body(jwks()),
        cache_control="max-age=300, must-revalidate",
        why="answered: the mock's signing key",
    )


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
        user: User | None = view.users.get(client_id) if client_id else None
        found = credentials(state, view).get(user.id) if user is not None else None
        if user is None or user.username != client_id or not secret_matches(secret, found):
            client = f"no machine user {shown(client_id)} with this client_secret"
        else:
            client = user
    elif form.get("client_assertion"):
        keys = credentials(state, view)
        assertion = form["client_assertion"]
        client = verify_assertion(view, keys, assertion, request.issuer, time.time_ns())
    if client is None:
        return NOT_AUTHENTICATED.answer("no client credentials (Basic or client_assertion)")
    if isinstance(client, str):
        return UNAUTHORIZED_CLIENT.answer(f"the client is refused: {client}")
    entry = view.issued.get(form.get("token", ""))
    now = state.now_ns()
    if entry is None or entry.expires_ns <= now or not entry.api_audience:
        why = "answered: the token is not active"
        return OAuthAnswer(200, json_body({"active": False}), why=why)
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
    return OAuthAnswer(200, json_body(body), why=f"answered: an active token of {username}")
