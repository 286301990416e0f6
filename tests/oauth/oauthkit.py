"""What the OAuth tests share: the scenario of a machine user with a secret and a key, and
the requests its SDKs send."""

from __future__ import annotations

import base64
import textwrap
import time
from typing import Any

import falcon.testing
import jwt

from zitadel_mock.oauth_keys import KeyPair

ACME = "259242039378444290"
ADMIN = "259242039378444294"  # acme-admin, a machine user with a secret and a key
BOT = "259242039378444296"  # bot, a machine user without credentials
KEY_ID = "259242039378444295"
ISSUER = "http://zitadel.test:8080"  # the Host the tests send, as the issuer it makes
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HOST = {"host": "zitadel.test", "port": 8080}  # simulate_request's: Host zitadel.test:8080
API_SCOPE = "urn:zitadel:iam:org:project:id:zitadel:aud"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"


def scenario_text(public_pem: str, extra: str = "", version: str = "4.13.1") -> str:
    pem = public_pem.replace("\n", "\\n")
    return (
        textwrap.dedent(
            f"""\
        version: 1
        zitadel_version: "{version}"
        clock: "2025-08-28T10:46:22Z"
        orgs:
          - name: ACME
            id: "{ACME}"
            members: [{{user: acme-admin, roles: [ORG_OWNER]}}]
            users:
              - {{username: alice, id: "259242039378444291"}}
              - username: acme-admin
                id: "{ADMIN}"
                type: machine
                client_secret: "acme admin+secret%"
                keys: [{{id: "{KEY_ID}", public_key: "{pem}"}}]
              - {{username: bot, id: "{BOT}", type: machine}}
          - name: Globex
            id: "259242039378444300"
        tokens: [{{token: acme-admin-token, user: acme-admin}}]
        """
        )
        + extra
    )


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def assertion(key_pair: KeyPair, *, kid: str = KEY_ID, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ADMIN, "sub": ADMIN, "aud": ISSUER, "iat": now, "exp": now + 3600}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key_pair.private_pem, algorithm=alg, headers={"kid": kid})


def post_token(client: falcon.testing.TestClient, body: str, **headers: str) -> Any:
    return client.simulate_post("/oauth/v2/token", body=body, headers={**FORM, **headers}, **HOST)
