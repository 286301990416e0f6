"""The JSON Schema of the scenario format (draft-07, which editors' YAML support reads).

``zitadel-mock schema`` prints it. It says what the loader says about the shape of a scenario:
keys, types, names of factors, states, roles, codes and rpcs. What depends on the whole file
cannot be said in JSON Schema, and only the loader checks it (``LOADER_ONLY``).
"""

from __future__ import annotations

import json
from typing import Any

from ..codes import CODES
from ..faults import FAULTS, MAX_SECONDS
from ..generate.options import generate_schema
from ..model import LIST_SECOND_FACTORS, RPCS
from ..roles import INSTANCE_ROLES, ORG_ROLES
from .read import MAX_USER_ID

__all__ = ["LOADER_ONLY", "scenario_schema", "schema_text"]

# The kinds of mistake that only the loader catches, as a JSON Schema validator sees each value
# alone: (kind, what the loader says).
LOADER_ONLY: tuple[tuple[str, str], ...] = (
    ("unknown reference", "a member, token or error names a user or org the file does not define"),
    (
        "duplicate",
        "two orgs, users, tokens or ids are the same, a name is another object's id, "
        "or a member or factor repeats",
    ),
    ("calendar", "a clock that has the RFC 3339 form but is no real date, like 2025-02-30"),
    (
        "syntax",
        "invalid YAML or JSON, a key given twice, several documents, text that is not UTF-8, "
        "a recursive alias, aliases that expand past their bound",
    ),
    ("number form", "1.0 where a whole number is expected (JSON Schema counts it as one)"),
    ("bounds", "a uniform delay whose low bound is above its high bound"),
    (
        "version",
        "a zitadel_version of the right form outside 4.0.0 to 4.13.1, or recovery_codes in a "
        "login policy of a zitadel_version before 4.10.0",
    ),
)


def _ci(word: str) -> str:
    """A case-insensitive regex for ``word`` (JSON Schema regexes take no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def _one_of_ci(words: list[str]) -> str:
    return "(" + "|".join(_ci(w) for w in words) + ")"


_FACTOR_NAMES = ["otp_email", "otp_sms", "otp", "u2f"]
# Factor.parse: surrounding spaces and case are ignored, SECOND_FACTOR_TYPE_ may prefix it.
FACTOR_PATTERN = rf"^\s*({_ci('second_factor_type_')})?{_one_of_ci(_FACTOR_NAMES)}\s*$"
POLICY_FACTOR_PATTERN = (
    rf"^\s*({_ci('second_factor_type_')})?{_one_of_ci(['recovery_codes', *_FACTOR_NAMES])}\s*$"
)
# versions.parse_zitadel_version: the range (4.0.0 to 4.13.1) is the loader's to check.
ZITADEL_VERSION_PATTERN = r"^\s*v?[0-9]{1,6}\.[0-9]{1,6}(\.[0-9]{1,6})?\s*$"
U2F_PATTERN = rf"^\s*({_ci('second_factor_type_')})?{_ci('u2f')}\s*$"
# The state is upper-cased, not stripped.
STATE_PATTERN = rf"^({_ci('auth_factor_state_')})?{_one_of_ci(['not_ready', 'ready'])}$"
CODE_PATTERN = rf"^\s*{_one_of_ci([n for n in CODES if n != 'OK'])}\s*$"
# An rpc may be given with its service, as in a gRPC method path.
RPC_PATTERN = rf"^([\s\S]*/)?({'|'.join(RPCS)})$"
SECOND_FACTORS_RPC = rf"^([\s\S]*/)?{LIST_SECOND_FACTORS}$"
CLOCK_PATTERN = r"^\s*\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)\s*$"

_TEXT = {"type": "string", "pattern": r"\S"}  # a string that is not blank
_REF = {"anyOf": [_TEXT, {"type": "integer", "minimum": 0}]}  # a name, or an id as a number
_ID = {"anyOf": [{**_TEXT, "maxLength": MAX_USER_ID}, {"type": "integer", "minimum": 0}]}


def _object(
    properties: dict[str, Any], required: tuple[str, ...] = (), **more: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    out["additionalProperties"] = False
    out.update(more)
    return out


def _members(roles: frozenset[str], where: str) -> dict[str, Any]:
    member = _object(
        {
            "user": {**_REF, "description": "username or id"},
            "roles": {"type": "array", "minItems": 1, "items": {"enum": sorted(roles)}},
        },
        ("user", "roles"),
    )
    return {"type": "array", "items": member, "description": where}


_SECONDS = {"type": "number", "minimum": 0, "maximum": MAX_SECONDS}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS}
_DELAY = {
    "description": "seconds, {uniform: [low, high]} or {lognormal: {median, sigma}}",
    "anyOf": [
        _SECONDS,
        _object(
            {"uniform": {"type": "array", "items": _SECONDS, "minItems": 2, "maxItems": 2}},
            ("uniform",),
        ),
        _object(
            {
                "lognormal": _object(
                    {"median": _POSITIVE, "sigma": {"type": "number", "minimum": 0, "maximum": 10}},
                    ("median", "sigma"),
                )
            },
            ("lognormal",),
        ),
    ],
}


def _step_schema(properties: dict[str, Any], *conditions: dict[str, Any]) -> dict[str, Any]:
    """A forced rule, or a step of its ``then`` chain: what it does, and what goes together."""
    return _object(
        properties,
        anyOf=[{"required": [key]} for key in ("code", "fault", "delay")],
        # An error code or a fault, not both; a message and an id go with a code; then with
        # times; hold with a timeout fault.
        allOf=[
            {"not": {"required": ["code", "fault"]}},
            {
                "if": {"required": ["hold"]},
                "then": {"required": ["fault"], "properties": {"fault": {"const": "timeout"}}},
            },
            *conditions,
        ],
        dependencies={"message": ["code"], "id": ["code"], "then": ["times"]},
    )


def _step_properties() -> dict[str, Any]:
    properties = {
        "code": {
            "anyOf": [
                {"type": "string", "pattern": CODE_PATTERN},
                {"type": "integer", "minimum": 1, "maximum": 16},
            ]
        },
        "message": _TEXT,
        "id": _TEXT,
        "times": {"type": "integer", "minimum": 1},
        "after": {"type": "integer", "minimum": 0},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "delay": _DELAY,
        "fault": {"enum": list(FAULTS)},
        "hold": _POSITIVE,
        "then": {"$ref": "#/definitions/step"},
    }
    return properties


def scenario_schema() -> dict[str, Any]:
    """Return the JSON Schema of a scenario file."""
    factor_name = {"type": "string", "pattern": FACTOR_PATTERN}
    auth_factor = {
        "anyOf": [
            factor_name,
            _object(
                {
                    "type": factor_name,
                    "name": {**_TEXT, "description": "u2f only"},
                    "id": {**_ID, "description": "u2f only; generated when omitted"},
                    "state": {"type": "string", "pattern": STATE_PATTERN},
                },
                ("type",),
                # Only a u2f factor has a name and an id.
                **{
                    "if": {"properties": {"type": {"pattern": U2F_PATTERN}}},
                    "else": {"properties": {"name": False, "id": False}},
                },
            ),
        ]
    }
    policy = _object(
        {
            "second_factors": {
                "type": "array",
                "items": {"type": "string", "pattern": POLICY_FACTOR_PATTERN},
                "uniqueItems": True,
            },
            "processed_sequence": {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
        },
        ("second_factors",),
    )
    user = _object(
        {
            "username": _TEXT,
            "id": _ID,
            "type": {"enum": ["human", "machine"]},
            "auth_factors": {"type": "array", "items": auth_factor},
        },
        ("username",),
        # A machine user has no auth factors.
        **{
            "if": {"properties": {"type": {"const": "machine"}}, "required": ["type"]},
            "then": {"properties": {"auth_factors": {"maxItems": 0}}},
        },
    )
    org = _object(
        {
            "name": _TEXT,
            "id": _ID,
            "login_policy": policy,
            "members": _members(ORG_ROLES, "org members: ORG_* and PROJECT_* roles"),
            "users": {"type": "array", "items": user},
        },
        ("name",),
    )
    token = _object(
        {"token": _TEXT, "user": _REF, "expired": {"type": "boolean"}}, ("token", "user")
    )
    error = _step_schema(
        {"rpc": {"type": "string", "pattern": RPC_PATTERN}, "user": _REF, "org": _REF}
        | _step_properties(),
        # ListLoginPolicySecondFactors has no user in its path: such a rule never matches.
        {
            "if": {"properties": {"rpc": {"pattern": SECOND_FACTORS_RPC}}, "required": ["rpc"]},
            "then": {"properties": {"user": False}},
        },
    )
    rate_limit = _object(
        {
            "requests": {"type": "integer", "minimum": 1},
            "window": _POSITIVE,
            "message": _TEXT,
            "id": _TEXT,
        },
        ("requests", "window"),
    )
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "zitadel-mock scenario",
        "description": "What zitadel-mock serves: orgs, users, factors, tokens, forced errors.",
        "definitions": {"step": _step_schema(_step_properties())},
        **_object(
            {
                "version": {"const": 1},
                "zitadel_version": {
                    "type": "string",
                    "pattern": ZITADEL_VERSION_PATTERN,
                    "description": "the ZITADEL release answered as: '4.13' (4.13.0) or "
                    "'4.12.3', from 4.0.0 to 4.13.1; default 4.13.1",
                },
                "seed": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
                "clock": {"type": "string", "pattern": CLOCK_PATTERN},
                "instance": _object(
                    {
                        "login_policy": policy,
                        "members": _members(INSTANCE_ROLES, "instance members: IAM_* roles"),
                    }
                ),
                "orgs": {"type": "array", "items": org},
                "tokens": {"type": "array", "items": token},
                "errors": {"type": "array", "items": error},
                "latency": _DELAY,
                "rate_limit": rate_limit,
                "generate": generate_schema(),
            },
            ("version",),
            # Hand-written orgs (at least one), a generate: block, or both.
            anyOf=[
                {"required": ["orgs"], "properties": {"orgs": {"minItems": 1}}},
                {"required": ["generate"]},
            ],
        ),
    }


def schema_text() -> str:
    """The schema as indented JSON text, as ``zitadel-mock schema`` prints it."""
    return json.dumps(scenario_schema(), indent=2) + "\n"
