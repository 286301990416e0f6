"""zitadel-mock: a faithful mock of ZITADEL's Management API MFA routes, driven by scenarios."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ScenarioError, ServerError, ZitadelMockError

if TYPE_CHECKING:
    from .journal import Call, Journal
    from .model import (
        AuthFactor,
        ErrorRule,
        Factor,
        FactorState,
        LoginPolicy,
        Org,
        Scenario,
        Token,
        User,
    )
    from .protocols.rest.app import create_app
    from .scenario.read import load_scenario, parse_scenario, scenario_from_data
    from .server import MockServer
    from .state import State
    from .testing import MockAssertionError, ServerSideError, ZitadelMock
    from .usage import Usage

# Public names and the module each lives in. They are imported on first use, so that
# ``import zitadel_mock`` (and the pytest plugin, in every test run of every project that
# installs us) does not pay for falcon, waitress and yaml until something needs them.
_LAZY = {
    "create_app": "protocols.rest.app",
    "Call": "journal",
    "Journal": "journal",
    "MockAssertionError": "testing",
    "ServerSideError": "testing",
    "ZitadelMock": "testing",
    "AuthFactor": "model",
    "ErrorRule": "model",
    "Factor": "model",
    "FactorState": "model",
    "LoginPolicy": "model",
    "Org": "model",
    "Scenario": "model",
    "Token": "model",
    "User": "model",
    "load_scenario": "scenario.read",
    "parse_scenario": "scenario.read",
    "scenario_from_data": "scenario.read",
    "MockServer": "server",
    "State": "state",
    "Usage": "usage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zitadel_mock' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AuthFactor",
    "Call",
    "ErrorRule",
    "Factor",
    "FactorState",
    "Journal",
    "LoginPolicy",
    "MockAssertionError",
    "MockServer",
    "Org",
    "Scenario",
    "ScenarioError",
    "ServerError",
    "ServerSideError",
    "State",
    "Token",
    "Usage",
    "User",
    "ZitadelMock",
    "ZitadelMockError",
    "__version__",
    "create_app",
    "load_scenario",
    "parse_scenario",
    "scenario_from_data",
]

__version__ = "0.1.0"
