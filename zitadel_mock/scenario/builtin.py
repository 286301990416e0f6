"""The small scenario served when a test run names none."""

from __future__ import annotations

from typing import Any

from ..model import Scenario
from .read import scenario_from_data

__all__ = ["BUILTIN_SCENARIO", "builtin_scenario"]

# One organisation following the instance default (OTP, U2F), a user with each kind of factor
# state, a user without factors and a machine user. No tokens: any "Bearer <anything>" acts as
# an IAM_OWNER of ACME.
BUILTIN_SCENARIO: dict[str, Any] = {
    "version": 1,
    "clock": "2025-08-28T10:46:22.123456Z",
    "orgs": [
        {
            "name": "ACME",
            "id": "259242039378444290",
            "users": [
                {
                    "username": "alice",
                    "id": "259242039378444291",
                    "auth_factors": [
                        "otp",
                        {"type": "u2f", "name": "YubiKey 5", "id": "259242039378444292"},
                        {"type": "otp_sms", "state": "not_ready"},
                    ],
                },
                {"username": "bob", "id": "259242039378444293"},
                {"username": "service-account", "id": "259242039378444294", "type": "machine"},
            ],
        }
    ],
}


def builtin_scenario() -> Scenario:
    return scenario_from_data(BUILTIN_SCENARIO, source="<built-in scenario>")
