"""The control API's wire: its requests, its answers, and the JSON forms of the model."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..codes import CODE_NAMES
from ..model import AuthFactor, ErrorRule, Scenario, Token, User
from ..namespaces import Namespaces
from ..state import State

__all__ = [
    "ControlError",
    "ControlRequest",
    "Handler",
    "Operation",
    "Reply",
    "factor_json",
    "rule_json",
    "scenario_json",
    "token_json",
    "user_json",
]


class ControlError(Exception):
    """A control request that cannot be carried out: a 4xx status and a one-line message."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


@dataclass(frozen=True)
class ControlRequest:
    """What an operation reads of a control request."""

    namespaces: Namespaces
    namespace: str
    params: Mapping[str, str]  # from the route's URI template
    query: Mapping[str, list[str]]
    body: bytes = b""
    content_type: str = ""

    def state(self) -> State:
        """The namespace's state (created on first use)."""
        return self.namespaces.get(self.namespace)

    def json(self) -> Any:
        """The body as JSON; an empty or invalid body is a 400."""
        if not self.body.strip():
            raise ControlError(400, "expected a JSON body, got an empty one")
        try:
            return json.loads(self.body)
        except UnicodeDecodeError:
            raise ControlError(400, "the body is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise ControlError(
                400, f"invalid JSON in the body: {exc.msg} (line {exc.lineno})"
            ) from None

    def object(self) -> dict[str, Any]:
        value = self.json()
        if not isinstance(value, dict):
            raise ControlError(400, "expected a JSON object in the body")
        return value


Handler = Callable[[ControlRequest], Reply]


@dataclass(frozen=True)
class Operation:
    method: str
    route: str  # under the control prefix, e.g. "/errors"
    handler: Handler
    query: tuple[str, ...] = ()  # the query parameters it accepts


def factor_json(factor: AuthFactor) -> dict[str, Any]:
    return {
        "type": factor.type.key,
        "state": factor.state.name.lower(),
        "id": factor.id or None,
        "name": factor.name or None,
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "org_id": user.org_id,
        "type": user.type.value,
        "auth_factors": [factor_json(f) for f in user.auth_factors],
    }


def _step_json(rule: ErrorRule) -> dict[str, Any]:
    return {
        "code": CODE_NAMES[rule.code] if rule.code is not None else None,
        "message": rule.message,
        "id": rule.id,
        "times": rule.times,
        "after": rule.after,
        "probability": rule.probability,
        "delay": rule.delay.to_json() if rule.delay is not None else None,
        "fault": rule.fault,
        "hold": rule.hold,
        "then": _step_json(rule.then) if rule.then is not None else None,
    }


def rule_json(rule: ErrorRule, remaining: int | None) -> dict[str, Any]:
    return {
        "rpc": rule.rpc,
        "user_id": rule.user_id,
        "org_id": rule.org_id,
        **_step_json(rule),
        "remaining": remaining,
        "origin": rule.origin,
    }


def token_json(token: Token) -> dict[str, Any]:
    return {"token": token.token, "user_id": token.user_id, "expired": token.expired}


def scenario_json(scenario: Scenario) -> dict[str, Any]:
    return {
        "source": scenario.source,
        "zitadel_version": scenario.zitadel_version,
        "orgs": [{"id": o.id, "name": o.name} for o in scenario.orgs],
        "users": [user_json(u) for u in scenario.users],
    }
