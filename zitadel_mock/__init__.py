"""zitadel-mock: a faithful mock of ZITADEL's Management API MFA routes, driven by scenarios."""

from __future__ import annotations

from .app import create_app
from .errors import ScenarioError, ServerError, ZitadelMockError
from .journal import Call, Journal
from .mock import MockAssertionError, ServerSideError, ZitadelMock
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
from .scenario import load_scenario, parse_scenario, scenario_from_data
from .server import MockServer
from .state import State

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
