"""The JSON Schema of a machine user's credentials: its client secret and its keys."""

from __future__ import annotations

from typing import Any

from .orgs import MAX_USER_ID

__all__ = ["KEYS_LOADER_ONLY", "credential_properties", "machine_or_human"]

KEYS_LOADER_ONLY = (
    "a machine key that is no RSA public key in PEM (of 2048 bits or more), or a "
    "public_key_file that is missing, outside the scenario's folder, not a regular file or "
    "larger than 64 KiB"
)
_TEXT = {"type": "string", "pattern": r"\S"}
_ID = {"anyOf": [{**_TEXT, "maxLength": MAX_USER_ID}, {"type": "integer", "minimum": 0}]}


def _key() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "id": {
                **_ID,
                "description": "the key id: the kid header of the assertions it verifies",
            },
            "public_key": {
                **_TEXT,
                "description": "the public key, in PEM ('-----BEGIN PUBLIC KEY-----...'): RSA, "
                "2048 bits or more",
            },
            "public_key_file": {
                **_TEXT,
                "description": "a file holding the public key in PEM, relative to the "
                "scenario's folder (and inside it)",
            },
        },
        "required": ["id"],
        "additionalProperties": False,
        "oneOf": [{"required": ["public_key"]}, {"required": ["public_key_file"]}],
    }


def credential_properties() -> dict[str, Any]:
    """The user's keys ``client_secret`` and ``keys``."""
    return {
        "client_secret": {
            **_TEXT,
            "description": "machine users only: the secret of the client credentials grant at "
            "/oauth/v2/token (the client id is the username)",
        },
        "keys": {
            "type": "array",
            "items": _key(),
            "description": "machine users only: the public halves of the keys its JWT profile "
            "assertions are signed with (RS256)",
        },
    }


def machine_or_human(machine: dict[str, Any]) -> dict[str, Any]:
    """A user's condition on its type: ``machine`` for a machine user; a human one (the
    default type) has no client secret and no keys."""
    return {
        "if": {"properties": {"type": {"const": "machine"}}, "required": ["type"]},
        "then": machine,
        "else": {"properties": {"client_secret": False, "keys": False}},
    }
