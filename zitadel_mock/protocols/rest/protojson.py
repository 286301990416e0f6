"""ZITADEL's JSON, as its gateway writes it with protojson defaults.

Zero values are omitted (so an empty answer is ``{}``), 64-bit integers are strings, enums are
their names, fields come in proto declaration order, and there is no indentation.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ...clock import rfc3339
from ...codes import ZError
from ...model import AuthFactor, Factor, FactorState, LoginPolicy

__all__ = ["FIXED_HEADERS", "auth_factors_body", "dumps", "error_body", "second_factors_body"]

# The headers every answer of ZITADEL's gateway carries, besides Content-Type and its date (the
# apps' answers and the server's own error answers alike).
FIXED_HEADERS = (
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("X-Robots-Tag", "none"),
)

ERROR_DETAIL_TYPE = "type.googleapis.com/zitadel.v1.ErrorDetail"


def dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


# An answer is a pure function of frozen model objects, and building and encoding it costs about
# as much as falcon's whole handling of the request: the last few hundred are kept.
@lru_cache(maxsize=256)
def second_factors_body(policy: LoginPolicy, view_ns: int | None) -> bytes:
    """``ListLoginPolicySecondFactorsResponse``: ``{details, result}``."""
    details: dict[str, Any] = {}
    if policy.second_factors:
        details["totalResult"] = str(len(policy.second_factors))
    if policy.processed_sequence:
        details["processedSequence"] = str(policy.processed_sequence)
    if view_ns is not None:  # a set Timestamp is written, even the epoch itself
        details["viewTimestamp"] = rfc3339(view_ns)
    message: dict[str, Any] = {}
    if details:
        message["details"] = details
    if policy.second_factors:
        message["result"] = [f.second_factor_type for f in policy.second_factors]
    return dumps(message)


def _auth_factor(factor: AuthFactor) -> dict[str, Any]:
    content: dict[str, str] = {}
    if factor.type is Factor.U2F:
        if factor.id:
            content["id"] = factor.id
        if factor.name:
            content["name"] = factor.name
    return {"state": factor.state.wire, factor.type.json_member: content}


@lru_cache(maxsize=256)
def auth_factors_body(factors: tuple[AuthFactor, ...]) -> bytes:
    """``ListHumanAuthFactorsResponse``: READY factors only, no ``details``."""
    result = [_auth_factor(f) for f in factors if f.state is FactorState.READY]
    return dumps({"result": result} if result else {})


def error_body(error: ZError) -> bytes:
    """A ``google.rpc.Status``; a ZITADEL error id adds one ``ErrorDetail``."""
    message: dict[str, Any] = {"code": error.code}
    if error.full_message:
        message["message"] = error.full_message
    if error.id:
        detail = {"@type": ERROR_DETAIL_TYPE, "id": error.id}
        if error.message:
            detail["message"] = error.message
        message["details"] = [detail]
    return dumps(message)
