"""The schema's parts for what the v2 RPCs read: login settings and users' sign-in methods."""

from __future__ import annotations

from typing import Any

from .fields import MAX_LIFETIME, MAX_URI, MULTI_FACTOR_TYPES, PASSKEYS_TYPES
from .schema_words import about as _about
from .schema_words import offered as _offered

__all__ = ["INSTANCE_ID", "login_settings", "machine_user", "user_methods"]

INSTANCE_ID = (
    "the instance's id (GetLoginSettings' resourceOwner for the default policy); "
    "generated from the seed when omitted"
)

_TEXT = {"type": "string", "pattern": r"\S"}  # a string that is not blank


def _ci(word: str) -> str:
    """A case-insensitive regex for ``word`` (JSON Schema regexes take no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def _one_of_ci(words: list[str]) -> str:
    return "(" + "|".join(_ci(w) for w in words) + ")"


# A state is upper-cased by the loader, not stripped (schema.STATE_PATTERN says the same).
STATE_PATTERN = rf"^({_ci('auth_factor_state_')})?{_one_of_ci(['not_ready', 'ready'])}$"


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False}


def login_settings() -> dict[str, Any]:
    """A login policy's optional settings, which GetLoginSettings answers."""
    flag = {"type": "boolean"}
    lifetime = {"type": "integer", "minimum": 0, "maximum": MAX_LIFETIME}
    said = {
        "allow_username_password": "sign-in with username and password; true when omitted",
        "allow_register": "self-registration; true when omitted",
        "allow_external_idp": "sign-in through identity providers; true when omitted",
        "force_mfa": "a second factor is required; false when omitted",
        "hide_password_reset": "no password reset link; false when omitted",
        "ignore_unknown_usernames": "an unknown username is not told apart; false when omitted",
        "allow_domain_discovery": "users found by their email's domain; true when omitted",
        "disable_login_with_email": "no sign-in with the email address; false when omitted",
        "disable_login_with_phone": "no sign-in with the phone number; false when omitted",
        "force_mfa_local_only": "force_mfa only for local users; false when omitted",
    }
    out: dict[str, Any] = {key: _about(flag, text) for key, text in said.items()}
    hours = {
        "password_check_lifetime": 240,
        "external_login_check_lifetime": 240,
        "mfa_init_skip_lifetime": 720,
        "second_factor_check_lifetime": 18,
        "multi_factor_check_lifetime": 12,
    }
    for key, default in hours.items():
        out[key] = _about(lifetime, f"seconds; {default * 3600} ({default} h) when omitted")
    out["passkeys_type"] = _offered(
        {
            "type": "string",
            "pattern": rf"^\s*({_ci('passkeys_type_')})?{_one_of_ci(list(PASSKEYS_TYPES))}\s*$",
        },
        list(PASSKEYS_TYPES),
        "whether passkeys may be used; allowed when omitted",
    )
    out["default_redirect_uri"] = {
        "type": "string",
        "maxLength": MAX_URI,
        "description": "where the login goes without a redirect; empty when omitted",
    }
    out["multi_factors"] = {
        "type": "array",
        "maxItems": 1,
        "items": _offered(
            {
                "type": "string",
                "pattern": rf"^\s*({_ci('multi_factor_type_')})?{_ci('u2f_with_verification')}\s*$",
            },
            list(MULTI_FACTOR_TYPES),
            "a multi-factor type",
        ),
        "description": "the multi factors allowed; [u2f_with_verification] when omitted",
    }
    return out


def user_methods() -> dict[str, Any]:
    """A human user's other sign-in methods, which ListAuthenticationMethodTypes lists."""
    passkey = {
        "anyOf": [
            _about(_TEXT, "the passkey's name (ready)"),
            _object(
                {
                    "name": _about(_TEXT, "the passkey's name"),
                    "state": _offered(
                        {"type": "string", "pattern": STATE_PATTERN},
                        ["ready", "not_ready"],
                        "whether its set-up was finished; ready when omitted",
                    ),
                }
            ),
        ]
    }
    return {
        "password": {
            "type": "boolean",
            "description": "the user has a password; false when omitted",
        },
        "passkeys": {
            "type": "array",
            "items": passkey,
            "description": "the user's passkeys (ListAuthenticationMethodTypes: PASSKEY)",
        },
        "idp_links": {
            "type": "array",
            "items": _TEXT,
            "description": "the identity providers linked, by name "
            "(ListAuthenticationMethodTypes: IDP)",
        },
        "recovery_codes": {
            "type": "boolean",
            "description": "the user has recovery codes (from ZITADEL 4.10.0); false when omitted",
        },
    }


def machine_user() -> dict[str, Any]:
    """A machine user has no auth factors, nor any other way to sign in that v2 lists."""
    return {
        "if": {"properties": {"type": {"const": "machine"}}, "required": ["type"]},
        "then": {
            "properties": {
                "auth_factors": {"maxItems": 0},
                **dict.fromkeys(user_methods(), False),
            }
        },
    }
