"""The v2 protobuf messages: the methods served, worked encodings, the enum alias."""

from __future__ import annotations

import json

from google.protobuf import json_format

from zitadel_mock.protocols.grpc.messages import METHODS, encode_answer, message_class

DEFAULT_JSON = (
    '{"details":{"sequence":"3","changeDate":"2025-08-28T10:46:22.123456Z",'
    '"resourceOwner":"259242039378440001","creationDate":"2025-08-28T10:46:22.123456Z"},'
    '"settings":{"allowUsernamePassword":true,"allowLocalAuthentication":true,'
    '"allowRegister":true,"allowExternalIdp":true,"passkeysType":"PASSKEYS_TYPE_ALLOWED",'
    '"passwordCheckLifetime":"864000s","externalLoginCheckLifetime":"864000s",'
    '"mfaInitSkipLifetime":"2592000s","secondFactorCheckLifetime":"64800s",'
    '"multiFactorCheckLifetime":"43200s",'
    '"secondFactors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"],'
    '"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"allowDomainDiscovery":true,'
    '"resourceOwnerType":"RESOURCE_OWNER_TYPE_INSTANCE"}}'
)


def test_the_three_methods_with_their_rpc_names() -> None:
    served = {path: (m.rpc, m.request, m.response) for path, m in METHODS.items()}
    assert served["/zitadel.user.v2.UserService/ListAuthenticationFactors"] == (
        "ListAuthenticationFactors",
        "zitadel.user.v2.ListAuthenticationFactorsRequest",
        "zitadel.user.v2.ListAuthenticationFactorsResponse",
    )
    assert served["/zitadel.user.v2.UserService/ListAuthenticationMethodTypes"][0] == (
        "ListAuthenticationMethodTypes"
    )
    assert served["/zitadel.settings.v2.SettingsService/GetLoginSettings"][2] == (
        "zitadel.settings.v2.GetLoginSettingsResponse"
    )


def test_login_settings_field_numbers() -> None:
    fields = message_class("zitadel.settings.v2.LoginSettings").DESCRIPTOR.fields
    assert [(f.name, f.number) for f in fields] == [
        ("allow_username_password", 1),
        ("allow_local_authentication", 20),
        ("allow_register", 2),
        ("allow_external_idp", 3),
        ("force_mfa", 4),
        ("passkeys_type", 5),
        ("hide_password_reset", 6),
        ("ignore_unknown_usernames", 7),
        ("default_redirect_uri", 8),
        ("password_check_lifetime", 9),
        ("external_login_check_lifetime", 10),
        ("mfa_init_skip_lifetime", 11),
        ("second_factor_check_lifetime", 12),
        ("multi_factor_check_lifetime", 13),
        ("second_factors", 14),
        ("multi_factors", 15),
        ("allow_domain_discovery", 16),
        ("disable_login_with_email", 17),
        ("disable_login_with_phone", 18),
        ("resource_owner_type", 19),
        ("force_mfa_local_only", 22),
    ]


def test_the_default_login_settings_round_trip() -> None:
    method = METHODS["/zitadel.settings.v2.SettingsService/GetLoginSettings"]
    binary = encode_answer(method, DEFAULT_JSON.encode())
    response = message_class(method.response).FromString(binary)
    assert response.settings.password_check_lifetime.seconds == 864000
    assert list(response.settings.second_factors) == [1, 2]
    assert response.details.sequence == 3
    assert json_format.MessageToDict(response) == json.loads(DEFAULT_JSON)


def test_the_otp_alias_is_number_1_and_json_names_it_otp() -> None:
    enum = (
        message_class("zitadel.settings.v2.LoginSettings")
        .DESCRIPTOR.fields_by_name["second_factors"]
        .enum_type
    )
    assert enum.values_by_name["SECOND_FACTOR_TYPE_OTP"].number == 1
    assert enum.values_by_name["SECOND_FACTOR_TYPE_TOTP"].number == 1
    assert enum.values_by_number[1].name == "SECOND_FACTOR_TYPE_OTP"
    settings = message_class("zitadel.settings.v2.LoginSettings")(second_factors=[1])
    assert settings.SerializeToString() == bytes.fromhex("720101")  # field 14, packed


def test_auth_factors_otp_is_zero_and_the_answer_encodes_as_v1s() -> None:
    enum = message_class("zitadel.user.v2.ListAuthenticationFactorsRequest").DESCRIPTOR
    names = {v.name: v.number for v in enum.fields_by_name["auth_factors"].enum_type.values}
    assert names == {"OTP": 0, "OTP_SMS": 1, "OTP_EMAIL": 2, "U2F": 3}
    method = METHODS["/zitadel.user.v2.UserService/ListAuthenticationFactors"]
    body = (
        b'{"result":[{"state":"AUTH_FACTOR_STATE_READY","otp":{}},'
        b'{"state":"AUTH_FACTOR_STATE_READY","u2f":{"id":"259242039378444290","name":"fido key"}}]}'
    )
    assert encode_answer(method, body).hex() == (
        "0a04080212000a2208021a1e0a1232353932343230333933373834343432393012086669646f206b6579"
    )


def test_method_types_details_and_enum() -> None:
    method = METHODS["/zitadel.user.v2.UserService/ListAuthenticationMethodTypes"]
    body = b'{"details":{"totalResult":"1","timestamp":"1970-01-01T00:00:00Z"},' + (
        b'"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE"]}'
    )
    # details {total_result: 1, timestamp: {}} (a set, zero Timestamp), types [8]
    assert encode_answer(method, body).hex() == "0a0408011a00" + "120108"
