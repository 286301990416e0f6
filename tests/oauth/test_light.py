"""Serving without credentials stays as light as before: cryptography and PyJWT not imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = """
import sys
import falcon.testing
from zitadel_mock import create_app, load_scenario
client = falcon.testing.TestClient(create_app(load_scenario("fixtures/quickstart.yaml")))
answer = client.simulate_post(
    "/management/v1/policies/login/second_factors/_search",
    headers={"Authorization": "Bearer acme-admin-token"},
)
assert answer.status_code == 200
assert client.simulate_get("/.well-known/openid-configuration").status_code == 200
print(sorted(m for m in sys.modules if m.split(".")[0] in ("cryptography", "jwt")))
"""


def test_no_crypto_is_imported_to_serve_a_scenario_without_keys() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert run.stdout == "[]\n", run.stderr
