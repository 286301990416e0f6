"""The JSON Schema of the scenario format (draft-07, which editors' YAML support reads).

``zitadel-mock schema`` prints it: what the loader says of a scenario's shape (keys, types, names
of factors, states, roles, codes, rpcs); what depends on the whole file only the loader checks.
"""

from __future__ import annotations

import json
from typing import Any

from ..codes import CODES
from ..faults import FAULTS, MAX_SECONDS
from ..model import ALL_RPCS, USERLESS_RPCS
from ..roles import INSTANCE_ROLES, ORG_ROLES
from . import schema_login
from .read import MAX_USER_ID
from .schema_credentials import KEYS_LOADER_ONLY, credential_properties, machine_or_human
from .schema_words import about as _about
from .schema_words import described_generate as _described_generate
from .schema_words import offered as _offered

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
    ("key", KEYS_LOADER_ONLY),
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
RPC_PATTERN = rf"^([\s\S]*/)?({'|'.join(ALL_RPCS)})$"
USERLESS_RPC = rf"^([\s\S]*/)?({'|'.join(USERLESS_RPCS)})$"
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
            "user": {**_REF, "description": "the member: a username or a user id"},
            "roles": {
                "type": "array",
                "minItems": 1,
                "items": {"enum": sorted(roles)},
                "description": "the roles it holds here (decide what each token may call)",
            },
        },
        ("user", "roles"),
    )
    return {"type": "array", "items": member, "description": where}


_SECONDS = {"type": "number", "minimum": 0, "maximum": MAX_SECONDS}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS}
_DELAY_FORMS = "seconds, {uniform: [low, high]} or {lognormal: {median, sigma}}"
_DELAY: dict[str, Any] = {
    "description": _DELAY_FORMS,
    "anyOf": [
        _SECONDS,
        _object(
            {
                "uniform": {
                    "type": "array",
                    "items": _SECONDS,
                    "minItems": 2,
                    "maxItems": 2,
                    "description": "[low, high] seconds: each request waits a random time between",
                }
            },
            ("uniform",),
        ),
        _object(
            {
                "lognormal": _object(
                    {
                        "median": _about(_POSITIVE, "the median wait, in seconds"),
                        "sigma": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": 10,
                            "description": "the spread: the standard deviation of the log",
                        },
                    },
                    ("median", "sigma"),
                    description="a long-tailed wait, like a real network's",
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
    codes = [n for n in CODES if n != "OK"]
    properties = {
        "code": {
            "anyOf": [
                _offered(
                    {"type": "string", "pattern": CODE_PATTERN},
                    codes,
                    "a gRPC code name (any case)",
                ),
                {"type": "integer", "minimum": 1, "maximum": 16, "description": "a gRPC code"},
            ],
            "description": "the error answered, as ZITADEL answers it: a gRPC code, by name "
            "or number, mapped to its HTTP status",
        },
        "message": _about(_TEXT, "the error's message; a default one per code when omitted"),
        "id": _about(_TEXT, "the error's id (ZITADEL's, e.g. 'AUTH-7fs1e'); with a code"),
        "times": _about(
            {"type": "integer", "minimum": 1},
            "how many matching requests it answers, then it is spent; without end when omitted",
        ),
        "after": _about(
            {"type": "integer", "minimum": 0},
            "how many matching requests it lets through first",
        ),
        "probability": _about(
            {"type": "number", "minimum": 0, "maximum": 1},
            "the chance it fires on each matching request (from the scenario's seed)",
        ),
        "delay": _about(_DELAY, "a wait before the answer: " + _DELAY_FORMS),
        "fault": _about(
            {"enum": list(FAULTS)},
            "a broken answer instead of an error: the connection reset or closed, a malformed "
            "or random body, or no answer (timeout)",
        ),
        "hold": _about(_POSITIVE, "with fault timeout: seconds the connection is held open"),
        "then": _about(
            {"$ref": "#/definitions/step"},
            "what the rule does once its times are spent: another step, with its own times",
        ),
    }
    return properties


def scenario_schema() -> dict[str, Any]:
    """Return the JSON Schema of a scenario file."""
    factor_name = _offered(
        {"type": "string", "pattern": FACTOR_PATTERN},
        sorted(_FACTOR_NAMES),
        "a second factor type (any case; a SECOND_FACTOR_TYPE_ prefix is allowed)",
    )
    auth_factor = {
        "anyOf": [
            factor_name,
            _object(
                {
                    "type": factor_name,
                    "name": {**_TEXT, "description": "u2f only: the key's name"},
                    "id": {**_ID, "description": "u2f only; generated when omitted"},
                    "state": _offered(
                        {"type": "string", "pattern": STATE_PATTERN},
                        ["ready", "not_ready"],
                        "whether the factor's set-up was finished; ready when omitted",
                    ),
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
                "items": _offered(
                    {"type": "string", "pattern": POLICY_FACTOR_PATTERN},
                    sorted(["recovery_codes", *_FACTOR_NAMES]),
                    "a second factor type the policy allows (any case)",
                ),
                "uniqueItems": True,
                "description": "the second factors ListLoginPolicySecondFactors answers",
            },
            "processed_sequence": {
                "type": "integer",
                "minimum": 0,
                "maximum": 2**64 - 1,
                "description": "the policy's details.sequence in answers",
            },
            **schema_login.login_settings(),
        },
        ("second_factors",),
        description="a login policy of its own",
    )
    user = _object(
        {
            "username": _about(_TEXT, "the user's login name; tokens and members name it"),
            "id": _about(_ID, "the user's id; generated from the seed when omitted"),
            "type": {
                "enum": ["human", "machine"],
                "description": "a human or a machine user; human when omitted",
            },
            "auth_factors": {
                "type": "array",
                "items": auth_factor,
                "description": "what ListHumanAuthFactors answers for the user (humans only)",
            },
            **schema_login.user_methods(),
        }
        | credential_properties(),
        ("username",),
        **machine_or_human(schema_login.machine_user()["then"]),  # what each type may not have
    )
    org = _object(
        {
            "name": _about(_TEXT, "the organisation's name; tokens, members and rules name it"),
            "id": _about(_ID, "the organisation's id; generated from the seed when omitted"),
            "login_policy": _about(policy, "the org's own login policy; the instance's if omitted"),
            "members": _members(ORG_ROLES, "org members: ORG_* and PROJECT_* roles"),
            "users": {"type": "array", "items": user, "description": "the org's users"},
        },
        ("name",),
    )
    token = _object(
        {
            "token": _about(_TEXT, "the bearer token a client sends"),
            "user": _about(_REF, "the user it authenticates: a username or a user id"),
            "expired": {"type": "boolean", "description": "refused as expired (401) when true"},
        },
        ("token", "user"),
    )
    error = _step_schema(
        {
            "rpc": _offered(
                {"type": "string", "pattern": RPC_PATTERN},
                list(ALL_RPCS),
                "the rpc it matches (a service prefix is allowed); any rpc when omitted",
            ),
            "user": _about(_REF, "the user in the path it matches; any when omitted"),
            "org": _about(_REF, "the organisation in context it matches; any when omitted"),
        }
        | _step_properties(),
        # An rpc without a user (ListLoginPolicySecondFactors, GetLoginSettings) never matches.
        {
            "if": {"properties": {"rpc": {"pattern": USERLESS_RPC}}, "required": ["rpc"]},
            "then": {"properties": {"user": False}},
        },
    )
    rate_limit = _object(
        {
            "requests": {
                "type": "integer",
                "minimum": 1,
                "description": "how many requests a token may make per window",
            },
            "window": _about(_POSITIVE, "the window, in seconds"),
            "message": _about(_TEXT, "the message of the RESOURCE_EXHAUSTED answer"),
            "id": _about(_TEXT, "the id of the RESOURCE_EXHAUSTED answer"),
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
                "version": {"const": 1, "description": "the scenario format's version: 1"},
                "zitadel_version": {
                    "type": "string",
                    "pattern": ZITADEL_VERSION_PATTERN,
                    "description": "the ZITADEL release answered as: '4.13' (4.13.0) or "
                    "'4.12.3', from 4.0.0 to 4.13.1; default 4.13.1",
                },
                "seed": {
                    "type": "integer",
                    "minimum": -(2**63),
                    "maximum": 2**63 - 1,
                    "description": "makes generated ids and random choices the same every run",
                },
                "clock": {
                    "type": "string",
                    "pattern": CLOCK_PATTERN,
                    "description": "freezes the mock's time (RFC 3339), e.g. "
                    "'2025-08-28T10:46:22Z'; the load time when omitted",
                },
                "instance": _object(
                    {
                        "id": _about(_ID, schema_login.INSTANCE_ID),
                        "login_policy": _about(policy, "the instance's default login policy"),
                        "members": _members(INSTANCE_ROLES, "instance members: IAM_* roles"),
                    },
                    description="the ZITADEL instance: its default policy and its members",
                ),
                "orgs": {
                    "type": "array",
                    "items": org,
                    "description": "the organisations, with their users",
                },
                "tokens": {
                    "type": "array",
                    "items": token,
                    "description": "the accepted bearer tokens; when omitted any bearer token "
                    "acts as IAM_OWNER",
                },
                "errors": {
                    "type": "array",
                    "items": error,
                    "description": "forced rules: matching requests get this answer before "
                    "any auth check",
                },
                "latency": _about(_DELAY, "a wait before every answer: " + _DELAY_FORMS),
                "rate_limit": _about(rate_limit, "answers RESOURCE_EXHAUSTED (429) past a rate"),
                "generate": _described_generate(),
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
