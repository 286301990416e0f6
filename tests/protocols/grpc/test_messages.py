"""The project's own .proto files against ZITADEL's worked encodings (PROTOCOLS.md section 3)."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from google.protobuf import json_format

from zitadel_mock.codes import ZError
from zitadel_mock.protocols.grpc.messages import METHODS, message_class, status_details

ROOT = Path(__file__).resolve().parents[3]


def test_an_empty_member_of_a_oneof_is_still_written() -> None:
    factor = message_class("zitadel.user.v1.AuthFactor")(state=2)
    factor.otp.SetInParent()
    assert factor.SerializeToString().hex() == "08021200"


def test_the_auth_factors_answer() -> None:
    encoded = bytes.fromhex(
        "0a04080212000a2208021a1e0a1232353932343230333933373834343432393012086669646f206b6579"
    )
    answer = message_class("zitadel.management.v1.ListHumanAuthFactorsResponse").FromString(encoded)
    assert json_format.MessageToDict(answer) == {
        "result": [
            {"state": "AUTH_FACTOR_STATE_READY", "otp": {}},
            {
                "state": "AUTH_FACTOR_STATE_READY",
                "u2f": {"id": "259242039378444290", "name": "fido key"},
            },
        ]
    }
    assert answer.SerializeToString() == encoded


def test_the_second_factors_answer() -> None:
    encoded = bytes.fromhex("0a0f08021a0b08fee6c0c506108094ef3a12020102")
    answer = message_class("zitadel.management.v1.ListLoginPolicySecondFactorsResponse").FromString(
        encoded
    )
    assert json_format.MessageToDict(answer) == {
        "details": {"totalResult": "2", "viewTimestamp": "2025-08-28T10:46:22.123456Z"},
        "result": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"],
    }
    assert answer.SerializeToString() == encoded


def test_recovery_codes_is_5() -> None:
    enum = message_class("zitadel.management.v1.ListLoginPolicySecondFactorsResponse").DESCRIPTOR
    values = enum.fields_by_name["result"].enum_type.values_by_name
    assert values["SECOND_FACTOR_TYPE_RECOVERY_CODES"].number == 5


def test_the_error_detail_and_the_status_details() -> None:
    detail = message_class("zitadel.v1.ErrorDetail")(
        id="AUTH-7fs1e", message="Errors.Token.Invalid"
    )
    assert base64.b64encode(detail.SerializeToString()).rstrip(b"=") == (
        b"CgpBVVRILTdmczFlEhRFcnJvcnMuVG9rZW4uSW52YWxpZA"
    )
    status = status_details(ZError(16, "Errors.Token.Invalid", "AUTH-7fs1e"))
    assert status is not None
    assert base64.b64encode(status).rstrip(b"=") == (
        b"CBASIUVycm9ycy5Ub2tlbi5JbnZhbGlkIChBVVRILTdmczFlKRpQCip0eXBlLmdvb2dsZWFwaXMuY29tL3pp"
        b"dGFkZWwudjEuRXJyb3JEZXRhaWwSIgoKQVVUSC03ZnMxZRIURXJyb3JzLlRva2VuLkludmFsaWQ"
    )
    assert status_details(ZError(16, "auth header missing")) is None


def test_the_request_field_numbers() -> None:
    request = message_class("zitadel.management.v1.ListHumanAuthFactorsRequest")(user_id="42")
    assert request.SerializeToString() == b"\x0a\x0242"
    assert sorted(METHODS) == [
        "/zitadel.management.v1.ManagementService/ListHumanAuthFactors",
        "/zitadel.management.v1.ManagementService/ListLoginPolicySecondFactors",
        "/zitadel.settings.v2.SettingsService/GetLoginSettings",
        "/zitadel.user.v2.UserService/ListAuthenticationFactors",
        "/zitadel.user.v2.UserService/ListAuthenticationMethodTypes",
    ]


def test_the_descriptor_set_is_what_the_proto_files_give() -> None:
    checked = subprocess.run(
        [sys.executable, str(ROOT / "scripts/build_protos.py"), "--check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
