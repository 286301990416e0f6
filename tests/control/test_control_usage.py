"""GET /_mock/usage: what no call exercised of a served scenario, across resets."""

from __future__ import annotations

from typing import Any

import jsonschema
import requests
from testkit import USAGE_SHOP

from zitadel_mock import MockServer, parse_scenario
from zitadel_mock.control.openapi import openapi_document

SECOND = "/management/v1/policies/login/second_factors/_search"
SHOP = USAGE_SHOP
DOC = openapi_document("/_mock")


def usage(server: MockServer, **headers: str) -> Any:
    answer = requests.get(server.url + "/_mock/usage", headers=headers, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    schema = DOC["paths"]["/usage"]["get"]["responses"]["200"]["content"]["application/json"]
    jsonschema.validate(body, {**schema["schema"], "components": DOC["components"]})
    return body


def post(server: MockServer, path: str, token: str = "shop-token") -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(server.url + path, headers=headers, timeout=5).status_code


def test_usage_counts_every_call_since_the_start_across_resets() -> None:
    with MockServer(parse_scenario(SHOP, source="shop.yaml")) as server:
        first = usage(server)
        assert first["calls"] == 0
        assert first["unused"]["rpcs"] == ["ListLoginPolicySecondFactors", "ListHumanAuthFactors"]
        assert post(server, SECOND) == 200
        assert requests.post(server.url + "/_mock/reset", timeout=5).status_code == 200
        assert post(server, "/management/v1/users/1/auth_factors/_search") == 503
        body = usage(server)
        assert body == {
            "namespace": "default",
            "scenario": "shop.yaml",
            "calls": 2,
            "unused": {
                "orgs": ["Idle"],
                "users": ["bob"],
                "tokens": ["stale-token"],
                "rules": [
                    "errors[1] (shop.yaml:16): rpc=ListHumanAuthFactors user=3 code=INTERNAL"
                ],
                "rpcs": [],
            },
            "totals": {"orgs": 2, "users": 3, "tokens": 2, "rules": 2, "rpcs": 2},
        }
        # Another scenario served: its usage starts again.
        other = requests.put(
            server.url + "/_mock/scenario",
            data="version: 1\norgs: [{name: Other}]\n",
            headers={"Content-Type": "application/yaml"},
            timeout=5,
        )
        assert other.status_code == 200
        again = usage(server)
        assert again["calls"] == 0
        assert again["unused"]["orgs"] == ["Other"]
        fresh = usage(server, **{"X-Mock-Namespace": "job-1"})
        assert fresh["namespace"] == "job-1"
        assert fresh["unused"]["orgs"] == ["Shop", "Idle"]  # a new one serves the loaded scenario
