"""The OpenAPI 3.1 document of the control API, served at ``/_mock/openapi.json``."""

from __future__ import annotations

import copy
from typing import Any

from ..model import ALL_RPCS
from ..namespaces import NAMESPACE_HEADER
from .schemas import SCHEMAS, STRING, ref

__all__ = ["openapi_document"]


_ERRORS = {
    "400": "the request cannot be read (JSON, query parameter, namespace name)",
    "401": "a token is required and was not sent",
    "404": "no such user, org or namespace",
    "409": "the namespaces together would serve more users than their bound; nothing changed",
    "422": "the body is well-formed but invalid; nothing changed",
    "429": "another PUT /_mock/scenario is being carried out; send it again once that is done",
    "503": "the server stopped while the scenario was being read; nothing changed",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    ok: str,
    *,
    status: str = "200",
    body: str | None = None,
    errors: str = "401",
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {status: {"description": "done", **_json(ref(ok))}}
    for code in ("400", *errors.split()):
        responses[code] = {"description": _ERRORS[code], **_json(ref("Error"))}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, **_json(ref(body))}
    return op


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": STRING,
        "description": description,
    }


_FILTER_PARAMS = [
    {"name": "rpc", "in": "query", "schema": {"enum": list(ALL_RPCS)}},
    {"name": "user", "in": "query", "schema": STRING, "description": "username or id"},
    {"name": "org", "in": "query", "schema": STRING, "description": "org name or id"},
    {"name": "status", "in": "query", "schema": {"type": "integer"}},
]

_DESCRIPTION = f"""\
Steer a running zitadel-mock between tests: reset it, replace its scenario, read its request
journal, force errors and change its state. JSON in and out; an error is a 4xx with
`{{"error": "..."}}` and changes nothing.

Every operation applies to the namespace named by the `{NAMESPACE_HEADER}` header (without it:
the default namespace). Each namespace has its own state, journal and forced errors, created on
first use from the loaded scenario.

When the server was started with `--control-token TOKEN`, every request needs
`Authorization: Bearer TOKEN` or `X-Mock-Token: TOKEN`.
"""


def openapi_document(prefix: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the control API mounted at ``prefix``."""
    org = [_path("org", "org name or id")]
    user = [_path("user", "username or id")]
    paths: dict[str, Any] = {
        "/health": {"get": _op("Tell that the mock is up (readiness probes)", "Health")},
        "/reset": {"post": _op("Drop every change, forced error and journal entry", "Reset")},
        "/scenario": {
            "get": _op("Describe the scenario the namespace serves", "Scenario"),
            "put": {
                **_op(
                    "Serve another scenario (YAML or JSON body); answers what it holds",
                    "ScenarioSummary",
                    errors="401 409 422 429 503",
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/yaml": {"schema": STRING},
                        "application/json": {"schema": {"type": "object"}},
                    },
                },
            },
        },
        "/journal": {
            "get": _op("List the calls answered, oldest first", "Journal", params=_FILTER_PARAMS),
            "delete": _op("Clear the journal", "Cleared"),
        },
        "/journal/count": {"get": _op("Count the calls answered", "Count", params=_FILTER_PARAMS)},
        "/errors": {
            "get": _op("List the forced errors still to fire", "ErrorRules"),
            "post": _op(
                "Force an error (the fields of a scenario's errors entry)",
                "ErrorRule",
                status="201",
                body="ErrorRuleInput",
                errors="401 422",
            ),
            "delete": _op("Clear the forced errors", "Cleared"),
        },
        "/orgs/{org}/second_factors": {
            "put": _op(
                "Set an org's second factors (a custom login policy)",
                "SecondFactors",
                body="SecondFactorsInput",
                errors="401 404 422",
                params=org,
            ),
            "delete": _op(
                "Make an org follow the instance default again",
                "SecondFactors",
                errors="401 404",
                params=org,
            ),
        },
        "/users": {
            "post": _op("Add a user", "User", status="201", body="UserInput", errors="401 422")
        },
        "/users/{user}/factors": {
            "post": _op(
                "Register a factor for a human user",
                "FactorAdded",
                status="201",
                body="FactorInput",
                errors="401 404 422",
                params=user,
            )
        },
        "/users/{user}/factors/{factor}": {
            "delete": _op(
                "Remove a user's factors of a type, or the u2f factor with this id",
                "FactorsRemoved",
                errors="401 404",
                params=[*user, _path("factor", "otp, u2f, otp_sms, otp_email or a u2f id")],
            )
        },
        "/tokens": {
            "post": _op(
                "Make a bearer token act as a user",
                "Token",
                status="201",
                body="TokenInput",
                errors="401 422",
            )
        },
        "/namespaces": {"get": _op("List the namespaces", "Namespaces")},
        "/usage": {
            "get": _op(
                "What no call exercised of the namespace's scenario since it is served",
                "Usage",
            )
        },
        "/namespaces/{name}": {
            "delete": _op(
                "Forget a namespace: it starts again from the loaded scenario",
                "Dropped",
                errors="401 404",
                params=[_path("name", "the namespace")],
            )
        },
    }
    namespace = {
        "name": NAMESPACE_HEADER,
        "in": "header",
        "schema": STRING,
        "description": "the namespace to act on; absent: the default one",
    }
    for item in paths.values():
        item["parameters"] = [namespace]
    return {
        "openapi": "3.1.0",
        "info": {"title": "zitadel-mock control API", "version": "1", "description": _DESCRIPTION},
        "servers": [{"url": prefix}],
        "security": [{}, {"bearer": []}, {"token": []}],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),  # callers may change their copy
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "token": {"type": "apiKey", "in": "header", "name": "X-Mock-Token"},
            },
        },
    }
