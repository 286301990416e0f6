"""The JSON schemas of the control API's bodies: the components of its OpenAPI document."""

from __future__ import annotations

from typing import Any

from ..codes import CODE_NAMES
from ..faults import FAULTS
from ..model import ALL_RPCS

__all__ = ["SCHEMAS", "STRING", "ref"]


def ref(name: str) -> dict[str, Any]:
    """A reference to one of the ``SCHEMAS``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


_FACTOR_TYPES = ["otp", "u2f", "otp_sms", "otp_email"]
_ZITADEL_VERSION = {
    "type": "string",
    "pattern": r"^\d+\.\d+\.\d+$",
    "description": "the ZITADEL release answered as (the scenario's zitadel_version), e.g. 4.13.1",
}
STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_NAME_OR_ID = {"type": ["string", "integer"], "description": "a name or an id"}
_SECONDS = {"type": "number", "minimum": 0, "description": "seconds"}
_DELAY = {
    "description": "seconds, {uniform: [low, high]} or {lognormal: {median, sigma}}",
    "anyOf": [
        _SECONDS,
        _object({"uniform": {"type": "array", "items": _SECONDS, "minItems": 2, "maxItems": 2}}),
        _object(
            {"lognormal": _object({"median": _SECONDS, "sigma": {"type": "number", "minimum": 0}})}
        ),
    ],
}
# What a rule, or a step of its then chain, does (the same in a scenario's errors entry).
_STEP_INPUT: dict[str, Any] = {
    "code": {"type": ["string", "integer"], "examples": ["UNAVAILABLE", 14]},
    "message": STRING,
    "id": STRING,
    "times": {"type": "integer", "minimum": 1},
    "after": {"type": "integer", "minimum": 0, "description": "let this many requests pass"},
    "probability": {"type": "number", "minimum": 0, "maximum": 1},
    "delay": _DELAY,
    "fault": {"enum": list(FAULTS)},
    "hold": {**_SECONDS, "description": "timeout: the longest the request is held"},
    "then": {"$ref": "#/components/schemas/StepInput"},
}


def _step_output() -> dict[str, Any]:
    return {
        "code": {"enum": [*sorted(CODE_NAMES.values()), None]},
        "message": _nullable("string"),
        "id": _nullable("string"),
        "times": _nullable("integer"),
        "after": _INTEGER,
        "probability": _nullable("number"),
        "delay": {"anyOf": [{"type": "null"}, _DELAY]},
        "fault": {"enum": [*FAULTS, None]},
        "hold": _nullable("number"),
        "then": {"anyOf": [{"type": "null"}, ref("Step")]},
    }


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": {"type": "string", "description": "what is wrong, in one line"},
            "errors": {
                "type": "array",
                "items": _object(
                    {"line": _nullable("integer"), "path": STRING, "message": STRING},
                    ["path", "message"],
                ),
            },
        },
        ["error"],
    ),
    "Health": _object(
        {
            "status": {"const": "ok"},
            "scenario": _nullable("string"),
            "zitadel_version": _ZITADEL_VERSION,
            "namespaces": _INTEGER,
            "reload_error": {
                "type": ["string", "null"],
                "description": "the last rejected edit of the scenario file (--reload)",
            },
        }
    ),
    "Reset": _object({"namespace": STRING, "scenario": _nullable("string")}),
    "Factor": _object(
        {
            "type": {"enum": _FACTOR_TYPES},
            "state": {"enum": ["ready", "not_ready"]},
            "id": _nullable("string"),
            "name": _nullable("string"),
        }
    ),
    "User": _object(
        {
            "id": STRING,
            "username": STRING,
            "org_id": STRING,
            "type": {"enum": ["human", "machine"]},
            "auth_factors": {"type": "array", "items": ref("Factor")},
        }
    ),
    "Scenario": _object(
        {
            "source": _nullable("string"),
            "zitadel_version": _ZITADEL_VERSION,
            "orgs": {"type": "array", "items": _object({"id": STRING, "name": STRING})},
            "users": {"type": "array", "items": ref("User")},
        }
    ),
    "ScenarioSummary": _object(
        {
            "namespace": STRING,
            "source": _nullable("string"),
            "zitadel_version": _ZITADEL_VERSION,
            "orgs": _INTEGER,
            "users": _INTEGER,
            "tokens": {**_nullable("integer"), "description": "null: any token is accepted"},
            "errors": _INTEGER,
        }
    ),
    "Call": _object(
        {
            "rpc": {"enum": [*ALL_RPCS, None]},
            "method": STRING,
            "path": STRING,
            "user_id": _nullable("string"),
            "org_id": _nullable("string"),
            "token": _nullable("string"),
            "status": _INTEGER,
            "forced": {"type": "boolean"},
            "answer": {
                "type": ["object", "null"],
                "description": "the JSON body the mock answered (null: none, or not JSON)",
            },
            "injected": {"anyOf": [{"type": "null"}, ref("Injected")]},
            "why": {
                "type": "string",
                "description": "what decided the answer: the auth check that refused it, the "
                "forced rule that fired (its index and origin), the rate limit, the nearest "
                "route, or what was answered",
            },
            "time": {
                "type": "string",
                "format": "date-time",
                "description": "when the request arrived (RFC 3339, UTC)",
            },
            "duration": {**_SECONDS, "description": "seconds from arrival to answer"},
            "headers": {
                "type": "object",
                "additionalProperties": STRING,
                "description": "the request's headers; Authorization shortened to its scheme "
                "and the first 6 characters",
            },
            "protocol": {"enum": ["rest"]},
            "namespace": STRING,
        }
    ),
    "Injected": _object(
        {
            "rule": {"type": ["integer", "null"], "description": "the rule's position"},
            "step": {"type": "integer", "description": "the step of its then chain"},
            "code": {"enum": [*sorted(CODE_NAMES.values()), None]},
            "fault": {"enum": [*FAULTS, None]},
            "delay": {**_SECONDS, "description": "seconds waited: rule delay plus latency"},
            "rate_limited": {"type": "boolean"},
        }
    ),
    "Journal": _object(
        {
            "calls": {"type": "array", "items": ref("Call")},
            "count": {"type": "integer", "description": "calls listed (after the filters)"},
            "total": {"type": "integer", "description": "calls in the journal"},
            "dropped": {"type": "integer", "description": "oldest calls dropped at the bound"},
            "max": {"type": "integer", "description": "the journal's bound"},
        }
    ),
    "Count": _object({"count": _INTEGER}),
    "Cleared": _object({"cleared": _INTEGER}),
    "ErrorRuleInput": _object(
        {
            "rpc": {"type": "string", "enum": list(ALL_RPCS)},
            "user": _NAME_OR_ID,
            "org": _NAME_OR_ID,
        }
        | _STEP_INPUT,
        [],
    ),
    "StepInput": _object(_STEP_INPUT, []),
    "ErrorRule": _object(
        {
            "rpc": {"enum": [*ALL_RPCS, None]},
            "user_id": _nullable("string"),
            "org_id": _nullable("string"),
            **_step_output(),
            "remaining": {"type": ["integer", "null"], "description": "null: always"},
            "origin": {
                "type": "string",
                "description": "where the rule was made: a scenario file and line, a fail() "
                "call, POST /_mock/errors",
            },
        }
    ),
    "Step": _object(_step_output()),
    "ErrorRules": _object({"errors": {"type": "array", "items": ref("ErrorRule")}}),
    "SecondFactorsInput": _object(
        {
            "second_factors": {
                "type": ["array", "null"],
                "items": STRING,
                "description": "null: follow the instance default; recovery_codes from 4.10.0",
            }
        }
    ),
    "SecondFactors": _object(
        {"org_id": STRING, "second_factors": {"type": ["array", "null"], "items": STRING}}
    ),
    "FactorInput": {
        "oneOf": [
            {"type": "string", "examples": _FACTOR_TYPES},
            _object({"type": STRING, "name": STRING, "id": STRING, "state": STRING}, ["type"]),
        ]
    },
    "FactorAdded": _object({"user_id": STRING, "factor": ref("Factor")}),
    "FactorsRemoved": _object({"user_id": STRING, "removed": _INTEGER}),
    "UserInput": _object(
        {
            "username": STRING,
            "org": _NAME_OR_ID,
            "id": {"type": ["string", "integer"]},
            "type": {"enum": ["human", "machine"]},
            "auth_factors": {"type": "array", "items": ref("FactorInput")},
        },
        ["username"],
    ),
    "TokenInput": _object(
        {"token": STRING, "user": _NAME_OR_ID, "expired": {"type": "boolean"}},
        ["token", "user"],
    ),
    "Token": _object({"token": STRING, "user_id": STRING, "expired": {"type": "boolean"}}),
    "Namespaces": _object(
        {
            "namespaces": {
                "type": "array",
                "items": _object({"name": STRING, "calls": _INTEGER}),
            },
            "max": _INTEGER,
            "evicted": _INTEGER,
        }
    ),
    "Dropped": _object({"dropped": STRING}),
    "Usage": _object(
        {
            "namespace": STRING,
            "scenario": {"type": "string", "description": "the scenario's source"},
            "calls": {"type": "integer", "description": "calls counted since it is served"},
            "unused": _object(
                {
                    kind: {"type": "array", "items": STRING, "description": what}
                    for kind, what in (
                        ("orgs", "org names no call had in context or was about"),
                        ("users", "usernames no call was about or sent a token of"),
                        ("tokens", "tokens no call sent"),
                        ("rules", "the scenario's forced rules that never fired"),
                        ("rpcs", "RPCs no call was routed to"),
                    )
                }
            ),
            "totals": {
                "type": "object",
                "additionalProperties": _INTEGER,
                "description": "how many of each kind the scenario holds",
            },
        }
    ),
}
