"""What a sign-in costs, in process (BENCHMARKS.md "Service users' sign-in").

Times, with falcon's test client on the WSGI app (best of three runs): an API call with a
scenario token, the same with an issued access token (never memoised: it expires by the clock),
a client-credentials sign-in (with an ID token to sign, and without), a JWT-profile sign-in
(PyJWT verifies RS256), and the import of cryptography and PyJWT that only a scenario with
credentials pays. The sign-ins fill the state's store of issued tokens past its bound (10,000).
"""

from __future__ import annotations

import subprocess
import sys
import time
import timeit
from urllib.parse import quote

import falcon.testing
import jwt

from zitadel_mock import create_app, parse_scenario
from zitadel_mock.oauth_keys import new_key_pair

N = 2000
SCOPE = quote("openid urn:zitadel:iam:org:project:id:zitadel:aud")
API = quote("urn:zitadel:iam:org:project:id:zitadel:aud")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _best(call: object) -> float:
    return min(timeit.timeit(call, number=N) for _ in range(3)) / N * 1e6  # type: ignore[arg-type]


def main() -> None:
    keys = new_key_pair()
    pem = keys.public_pem.replace("\n", "\\n")
    text = f"""version: 1
orgs:
  - name: A
    members: [{{user: bot, roles: [ORG_OWNER]}}]
    users:
      - {{username: bot, id: "7", type: machine, client_secret: s,
          keys: [{{id: "1", public_key: "{pem}"}}]}}
tokens: [{{token: pat, user: bot}}]
"""
    client = falcon.testing.TestClient(create_app(parse_scenario(text)))
    path = "/management/v1/policies/login/second_factors/_search"
    signed = client.simulate_post(
        "/oauth/v2/token",
        body=f"grant_type=client_credentials&scope={SCOPE}&client_id=bot&client_secret=s",
        headers=FORM,
    )
    token = signed.json["access_token"]
    now = int(time.time())
    claims = {"iss": "7", "sub": "7", "aud": "http://falconframework.org", "iat": now}
    assertion = jwt.encode(
        {**claims, "exp": now + 3600}, keys.private_pem, "RS256", headers={"kid": "1"}
    )
    rows = {
        "API call, scenario token": lambda: client.simulate_post(
            path, headers={"Authorization": "Bearer pat"}
        ),
        "API call, issued token": lambda: client.simulate_post(
            path, headers={"Authorization": f"Bearer {token}"}
        ),
        "sign-in, client credentials": lambda: client.simulate_post(
            "/oauth/v2/token",
            body=f"grant_type=client_credentials&scope={SCOPE}&client_id=bot&client_secret=s",
            headers=FORM,
        ),
        "sign-in, client credentials, no openid": lambda: client.simulate_post(
            "/oauth/v2/token",
            body=f"grant_type=client_credentials&scope={API}&client_id=bot&client_secret=s",
            headers=FORM,
        ),
        "sign-in, JWT profile": lambda: client.simulate_post(
            "/oauth/v2/token",
            body=f"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion={assertion}"
            f"&scope={SCOPE}",
            headers=FORM,
        ),
    }
    base = None
    for name, call in rows.items():
        cost = _best(call)
        base = base or cost
        print(f"{name:40} {cost:8.1f} us  x{cost / base:.2f}")
    code = "import time; t=time.perf_counter(); import cryptography.hazmat.primitives.serialization, jwt; print(time.perf_counter()-t)"  # noqa: E501
    took = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
        for _ in range(3)
    )
    print(f"{'import cryptography + PyJWT':40} {took * 1e3:8.1f} ms (once, with credentials only)")


if __name__ == "__main__":
    main()
