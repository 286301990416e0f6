"""The checker every answer in these tests goes through (``testkit``): it must reject what
ZITADEL never writes and accept what it does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi
import pytest
from falcon.testing import TestClient
from testkit import SECOND_FACTORS, check_answer, violations

Make = Callable[..., TestClient]


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("second_factors", b'{"result":["SECOND_FACTOR_TYPE_OTP"],"details":{"totalResult":"1"}}'),
        ("second_factors", b'{"details":{"totalResult":1},"result":["SECOND_FACTOR_TYPE_OTP"]}'),
        ("second_factors", b'{"details":{"totalResult":"1"},"result":[1]}'),
        ("second_factors", b'{"details":{"totalResult":"0"}}'),
        ("second_factors", b'{"details":{"viewTimestamp":"2025-08-28T10:46:22.12Z"}}'),
        ("second_factors", b'{"details":{"viewTimestamp":"2025-08-28T10:46:22+00:00"}}'),
        ("second_factors", b'{"details":{},"result":[]}'),
        ("second_factors", b'{"details":{"total_result":"1"},"result":["SECOND_FACTOR_TYPE_OTP"]}'),
        ("auth_factors", b'{"result":[]}'),
        ("auth_factors", b'{"result":[{"otp":{},"state":"AUTH_FACTOR_STATE_READY"}]}'),
        ("auth_factors", b'{"result":[{"state":"AUTH_FACTOR_STATE_READY"}]}'),
        ("auth_factors", b'{"result":[{"state":"READY","otp":{}}]}'),
        ("auth_factors", b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp_sms":{}}]}'),
        ("auth_factors", b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","u2f":{"name":""}}]}'),
        ("auth_factors", b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp":{},"u2f":{}}]}'),
        ("auth_factors", b'{"details":{},"result":[]}'),
        ("error", b'{"code":"16","message":"x"}'),
        ("error", b'{"message":"x","code":16}'),
        ("error", b'{"code":16,"message":"x","details":[]}'),
        ("error", b'{"code":7,"message":"x","details":[{"id":"A","message":"x"}]}'),
        ("error", b'{"code":7,"error":"x"}'),
        ("error", b'{\n  "code": 7\n}'),
        ("error", b'{"code":7,"code":7}'),
        ("error", b"[]"),
    ],
)
def test_the_checker_rejects_what_zitadel_never_writes(kind: str, raw: bytes) -> None:
    assert violations(kind, raw)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("second_factors", b"{}"),
        ("second_factors", b'{"details":{"viewTimestamp":"2025-08-28T10:46:22Z"}}'),
        ("second_factors", b'{"details":{"totalResult":"1","processedSequence":"267831",'
         b'"viewTimestamp":"2025-08-28T10:46:22.123456789Z"},"result":["SECOND_FACTOR_TYPE_OTP"]}'),
        ("auth_factors", b"{}"),
        ("auth_factors", b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
         b'{"state":"AUTH_FACTOR_STATE_READY",'
         b'"u2f":{"id":"259242039378444290","name":"fido key"}}]}'),
        ("auth_factors", b'{"result":[{"otpEmail":{}}]}'),
        ("error", b'{"code":5,"message":"Not Found"}'),
        ("error", b'{"code":16,"message":"x (A-1)","details":[{"@type":'
         b'"type.googleapis.com/zitadel.v1.ErrorDetail","id":"A-1","message":"x"}]}'),
    ],
)  # fmt: skip
def test_the_checker_accepts_what_zitadel_writes(kind: str, raw: bytes) -> None:
    assert violations(kind, raw) == []
    # Whether a build writes a space after commas is not defined: both forms are valid.
    spaced = json.dumps(json.loads(raw), separators=(", ", ": "), ensure_ascii=False).encode()
    assert violations(kind, spaced) == []


def test_the_checker_rejects_missing_headers() -> None:
    with pytest.raises(AssertionError, match="cache-control"):
        check_answer("POST", SECOND_FACTORS, 200, {"content-type": "application/json"}, b"{}")


class _Wrong:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"code": 5}


class _AsyncWrong:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"code": 5}


def test_a_checked_client_fails_on_a_wrong_answer(make_client: Make, asgi: bool) -> None:
    client = make_client("version: 1\norgs: [{name: A}]\n")
    app: Any = falcon.asgi.App() if asgi else falcon.App()
    app.add_route(SECOND_FACTORS, _AsyncWrong() if asgi else _Wrong())
    client.app = app
    with pytest.raises(AssertionError) as failure:
        client.simulate_post(SECOND_FACTORS)
    assert "header cache-control" in str(failure.value)
    assert "unknown fields ['code']" in str(failure.value)
