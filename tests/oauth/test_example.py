"""examples/service-users/ does what the README's "Service users: signing in" shows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import requests

from zitadel_mock import MockServer, load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service-users"
SCOPE = "openid urn:zitadel:iam:org:project:id:zitadel:aud"
SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"


def test_both_flows_as_the_readme_shows_them() -> None:
    key = json.loads((EXAMPLE / "keys" / "acme-admin-key.txt").read_text())
    assert list(key) == ["type", "keyId", "key", "expirationDate", "userId"]
    with MockServer(load_scenario(EXAMPLE / "scenario.yaml")) as mock:
        url = mock.url
        secret = requests.post(
            f"{url}/oauth/v2/token",
            data={"grant_type": "client_credentials", "scope": SCOPE},
            auth=("acme-admin", "acme-admin-secret"),
            timeout=10,
        )
        assert secret.status_code == 200
        assert secret.json()["expires_in"] == 43199
        now = int(time.time())
        claims = {"iss": key["userId"], "sub": key["userId"], "aud": url, "iat": now}
        assertion = jwt.encode(
            {**claims, "exp": now + 3600}, key["key"], "RS256", headers={"kid": key["keyId"]}
        )
        signed = requests.post(
            f"{url}/oauth/v2/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
                "scope": SCOPE,
                "client_id": "None",  # zitadel-client sends it so
            },
            timeout=10,
        )
        assert signed.status_code == 200, signed.text
        for answer in (secret, signed):
            token = answer.json()["access_token"]
            api = requests.post(
                url + SECOND_FACTORS, headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            assert api.json()["result"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
