"""The OAuth endpoints' requests, answers and errors, as zitadel/oidc writes them: no HTTP."""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .faults import Injection

__all__ = [
    "API_AUDIENCE_SCOPE",
    "CLIENT_CREDENTIALS",
    "JWT_BEARER",
    "SECOND_NS",
    "OAuthAnswer",
    "OAuthError",
    "OAuthRequest",
    "json_body",
    "query_unescape",
]

API_AUDIENCE_SCOPE = "urn:zitadel:iam:org:project:id:zitadel:aud"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SECOND_NS = 10**9
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
    protocol: str = "rest"


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
        return OAuthAnswer(self.status, json_body(body), why=why)


def json_body(message: Mapping[str, Any]) -> bytes:
    """JSON as Go's json.Encoder writes it: compact, a newline at the end."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


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
