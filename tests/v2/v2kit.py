"""The v2 tests' scenario, and a client that speaks Connect JSON, Connect binary or REST.

``V2Client`` calls an rpc by name and returns the answer as JSON, whatever the transport
carried (a binary answer is decoded).
"""

from __future__ import annotations

import base64
import json
import textwrap
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

import falcon.testing
import grpc
from google.protobuf import json_format

from zitadel_mock import MockServer, State, create_app, parse_scenario
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
TRANSPORTS = ("connect-json", "connect-proto", "rest", "grpc-web", "grpc")
# gRPC-web answers HTTP 200 whatever the code; a reply's ``status`` is then the HTTP status
# Connect would give for it (connect-go's connectCodeToHTTP), so that tests read alike.
CODE_STATUS = {1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400,
               10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}  # fmt: skip
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
        self.server: MockServer | None = None
        if transport == "grpc":  # native gRPC: MockServer's HTTP/2 listener, read by grpcio
            self.server = MockServer(state).start()
            self.channel = grpc.insecure_channel(self.server.url.removeprefix("http://"))

    def close(self) -> None:
        if self.server is not None:
            self.channel.close()
            self.server.stop()

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
        if self.transport == "grpc":
            return self._grpc(rpc, path, message, headers)
        if self.transport == "grpc-web":
            headers["Content-Type"] = "application/grpc-web+proto"
            request = message_class(f"{_package(rpc)}.{rpc}Request")()
            json_format.ParseDict(message, request)
            data = request.SerializeToString()
            body = b"\0" + len(data).to_bytes(4, "big") + data
            result = self.client.simulate_post(path, headers=headers, body=body)
            return self._grpc_web_reply(result, rpc)
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

    def _grpc(self, rpc: str, path: str, message: dict[str, Any], headers: dict[str, str]) -> Reply:
        request = message_class(f"{_package(rpc)}.{rpc}Request")()
        json_format.ParseDict(message, request)
        response = message_class(f"{_package(rpc)}.{rpc}Response")
        method = self.channel.unary_unary(
            path,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response.FromString,
        )
        metadata = [(name.lower(), value) for name, value in headers.items()]
        try:
            answer, call = method.with_call(request, metadata=metadata, timeout=10)
        except grpc.RpcError as error:
            failed: Any = error
            code = failed.code().value[0]
            body: dict[str, Any] = {"code": CONNECT_NAMES[code]}
            if failed.details():
                body["message"] = failed.details()
            trailers = dict(failed.trailing_metadata() or ())
            if "grpc-status-details-bin" in trailers:
                status = message_class("google.rpc.Status").FromString(
                    trailers["grpc-status-details-bin"]
                )
                detail = message_class("zitadel.v1.ErrorDetail").FromString(status.details[0].value)
                body["details"] = [{"debug": {"id": detail.id, "message": detail.message}}]
            sent = dict(failed.initial_metadata() or ())
            return Reply(CODE_STATUS[code], body, sent, b"", self.transport)
        got = dict(call.initial_metadata())
        raw = answer.SerializeToString()
        return Reply(200, json_format.MessageToDict(answer), got, raw, self.transport)

    def _grpc_web_reply(self, result: falcon.testing.Result, rpc: str) -> Reply:
        headers = {k.lower(): v for k, v in result.headers.items()}
        assert result.status_code == 200
        assert headers["content-type"] == "application/grpc-web+proto"
        code = int(headers.get("grpc-status", "0"))
        if code:  # trailers-only: the status in the headers, an empty body
            assert result.content == b""
            body: dict[str, Any] = {"code": CONNECT_NAMES[code]}
            if "grpc-message" in headers:
                body["message"] = unquote(headers["grpc-message"])
            if "grpc-status-details-bin" in headers:
                raw = base64.b64decode(headers["grpc-status-details-bin"] + "==")
                status = message_class("google.rpc.Status").FromString(raw)
                detail = message_class("zitadel.v1.ErrorDetail").FromString(status.details[0].value)
                body["details"] = [{"debug": {"id": detail.id, "message": detail.message}}]
            return Reply(CODE_STATUS[code], body, headers, result.content, self.transport)
        content = result.content
        length = int.from_bytes(content[1:5], "big")
        assert content[5 + length :] == b"\x80\x00\x00\x00\x10grpc-status: 0\r\n"
        response = message_class(f"{_package(rpc)}.{rpc}Response")()
        response.ParseFromString(content[5 : 5 + length])
        answer = json_format.MessageToDict(response)
        return Reply(200, answer, headers, content, self.transport)


def _package(rpc: str) -> str:
    return SERVICE[rpc].rsplit(".", 1)[0]
