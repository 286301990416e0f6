"""The v2 tests' scenario, and a client that speaks Connect JSON, Connect binary or REST.

``V2Client`` calls an rpc by name and returns the answer as JSON, whatever the transport
carried (a binary answer is decoded).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import falcon.testing
from google.protobuf import json_format

from zitadel_mock import State, create_app, parse_scenario
from zitadel_mock.protocols.grpc.messages import message_class

SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22.123456Z"
instance:
  id: "259242039378440001"
  members:
    - {user: root, roles: [IAM_OWNER]}
orgs:
  - name: ACME
    id: "259242039378444290"
    login_policy:
      second_factors: [otp, otp_email]
      processed_sequence: 42
      force_mfa: true
      passkeys_type: not_allowed
      password_check_lifetime: 3600
      multi_factors: []
      default_redirect_uri: https://acme.example/home
    members:
      - {user: admin, roles: [ORG_OWNER]}
      - {user: settings, roles: [ORG_SETTINGS_MANAGER]}
      - {user: impostor, roles: [ORG_END_USER_IMPERSONATOR]}
    users:
      - {username: admin, id: "1001"}
      - {username: settings, id: "1002"}
      - {username: impostor, id: "1008"}
      - username: alice
        id: "1003"
        password: true
        passkeys: [MacBook]
        idp_links: [google]
        recovery_codes: true
        auth_factors:
          - otp
          - {type: u2f, id: "1004", name: YubiKey}
          - {type: u2f, id: "1005", name: Pending, state: not_ready}
          - otp_sms
          - {type: otp_email, state: not_ready}
      - {username: bob, id: "1006"}
      - {username: bot, id: "1007", type: machine}
  - name: Globex
    id: "2001"
    users:
      - {username: gina, id: "2002", password: true, auth_factors: [otp]}
      - {username: root, id: "2003"}
  - name: Initech
    id: "3001"
    members:
      - {user: ivan, roles: [ORG_OWNER]}
    users:
      - {username: ivan, id: "3002"}
tokens:
  - {token: admin-token, user: admin}
  - {token: settings-token, user: settings}
  - {token: impostor-token, user: impostor}
  - {token: alice-token, user: alice}
  - {token: bob-token, user: bob}
  - {token: gina-token, user: gina}
  - {token: root-token, user: root}
  - {token: ivan-token, user: ivan}
  - {token: expired-token, user: alice, expired: true}
"""

SERVICE = {
    "ListAuthenticationFactors": "zitadel.user.v2.UserService",
    "ListAuthenticationMethodTypes": "zitadel.user.v2.UserService",
    "GetLoginSettings": "zitadel.settings.v2.SettingsService",
}
REST = {
    "ListAuthenticationFactors": ("POST", "/v2/users/{}/authentication_factors/_search"),
    "ListAuthenticationMethodTypes": ("GET", "/v2/users/{}/authentication_methods"),
    "GetLoginSettings": ("GET", "/v2/settings/login"),
}
TRANSPORTS = ("connect-json", "connect-proto", "rest")
# Connect's code names (connect-go code.go).
CONNECT_NAMES = {
    1: "canceled",
    2: "unknown",
    3: "invalid_argument",
    4: "deadline_exceeded",
    5: "not_found",
    6: "already_exists",
    7: "permission_denied",
    8: "resource_exhausted",
    9: "failed_precondition",
    10: "aborted",
    11: "out_of_range",
    12: "unimplemented",
    13: "internal",
    14: "unavailable",
    15: "data_loss",
    16: "unauthenticated",
}


@dataclass
class Reply:
    status: int
    body: Any  # the answer as JSON (a binary answer decoded), or the error's JSON
    headers: dict[str, str]
    raw: bytes
    transport: str

    def error(self) -> tuple[int, str, str | None]:
        """The error as (gRPC code, message, ZITADEL id), read from the transport's format."""
        body = self.body
        details = body.get("details", [])
        if self.transport == "rest":
            ident = details[0]["id"] if details else None
            return body["code"], body.get("message", ""), ident
        code = {name: number for number, name in CONNECT_NAMES.items()}[body["code"]]
        ident = details[0]["debug"]["id"] if details else None
        return code, body.get("message", ""), ident


def scenario_state(text: str = SCENARIO) -> State:
    return State(parse_scenario(textwrap.dedent(text), source="v2.yaml"))


class V2Client:
    def __init__(self, state: State, transport: str, asgi: bool) -> None:
        self.state = state
        self.transport = transport
        self.client = falcon.testing.TestClient(create_app(state, asgi=asgi))

    def __call__(
        self,
        rpc: str,
        user_id: str | None = None,
        *,
        token: str | None = "admin-token",
        org: str | None = None,
        auth_factors: tuple[str, ...] = (),
        states: tuple[str, ...] = (),
        ctx: dict[str, Any] | None = None,
    ) -> Reply:
        headers = {}
        if token is not None:
            headers["Authorization"] = token if " " in token else f"Bearer {token}"
        if org is not None:
            headers["x-zitadel-orgid"] = org
        if self.transport == "rest":
            method, template = REST[rpc]
            pairs = [("authFactors", a) for a in auth_factors] + [("states", s) for s in states]
            for key, value in (ctx or {}).items():
                pairs.append((f"ctx.{key}", str(value).lower()))
            result = self.client.simulate_request(
                method, template.format(user_id), headers=headers, query_string=urlencode(pairs)
            )
            return self._reply(result, None)
        message: dict[str, Any] = {}
        if user_id is not None:
            message["userId"] = user_id
        if auth_factors:
            message["authFactors"] = list(auth_factors)
        if states:
            message["states"] = list(states)
        if ctx is not None:
            message["ctx"] = ctx
        path = f"/{SERVICE[rpc]}/{rpc}"
        if self.transport == "connect-json":
            headers["Content-Type"] = "application/json"
            body = json.dumps(message).encode()
        else:
            headers["Content-Type"] = "application/proto"
            request = message_class(f"{_package(rpc)}.{rpc}Request")()
            json_format.ParseDict(message, request)
            body = request.SerializeToString()
        result = self.client.simulate_post(path, headers=headers, body=body)
        return self._reply(result, rpc)

    def _reply(self, result: falcon.testing.Result, rpc: str | None) -> Reply:
        headers = {k.lower(): v for k, v in result.headers.items()}
        if self.transport == "connect-proto" and result.status_code == 200:
            assert headers["content-type"] == "application/proto"
            response = message_class(f"{_package(rpc or '')}.{rpc}Response")()
            response.ParseFromString(result.content)
            body = json_format.MessageToDict(response)
        else:
            assert headers["content-type"] == "application/json"
            body = json.loads(result.content)
        return Reply(result.status_code, body, headers, result.content, self.transport)


def _package(rpc: str) -> str:
    return SERVICE[rpc].rsplit(".", 1)[0]
