"""The Node SDKs on the v2 RPCs, and a service user signing in with its key file.

Programs in tests/sdk/node: ``@zitadel/client``'s v2 clients (UserService, SettingsService) over
its server transport (``client-v2-grpc``: native gRPC, connect-node) and its client transport
(``client-v2-grpcweb``: gRPC-web over HTTP/1.1, connect-web); ``@zitadel/node`` signing in as a
service user with ZITADEL's key file (``node-service-account``: discovery, a JWT profile
assertion at the token endpoint, then native gRPC with the token it got).

The scenario is the quick start's, with the edits below: the instance's own login policy and
id (so that GetLoginSettings tells the org's settings from the instance's), and a key for the
machine user acme-admin, made by ``zitadel-mock new-key`` into a temporary folder (no private
key is committed for these tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_node_sdks import (
    ALICE,
    AUTH_FACTORS,
    BOB,
    FIXTURES,
    SECOND_FACTORS,
    TOKEN,
    Run,
    run_programs,
)
from test_node_sdks import ANSWERS as V1_ANSWERS

from zitadel_mock import MockServer, ZitadelMock, load_scenario

V2_PROGRAMS = ("client-v2-grpc", "client-v2-grpcweb")
SERVICE_ACCOUNT = "node-service-account"
FACTORS = "ListAuthenticationFactors"
METHOD_TYPES = "ListAuthenticationMethodTypes"
LOGIN_SETTINGS = "GetLoginSettings"
ACME = "259242039378444290"
ACME_ADMIN = "259242039378444294"
INSTANCE = "259242039378440001"
KEY_ID = "259242039378444299"

# The edits to the quick start (see the module's docstring).
INSTANCE_SPEC = {
    "id": INSTANCE,
    "login_policy": {"second_factors": ["u2f"], "force_mfa": True, "passkeys_type": "not_allowed"},
}
ACME_POLICY = {"allow_register": False, "processed_sequence": 267831}

# The scenario's clock, 2025-08-28T10:46:22.123456Z, as protobuf-es's Timestamp.
CLOCK = {"seconds": "1756377982", "nanos": 123456000}


def login_settings(
    owner: str, owner_type: int, sequence: str, second_factors: list[int], **changed: Any
) -> dict[str, Any]:
    """GetLoginSettings' answer as protobuf-es holds it: a new instance's defaults, changed.

    Numbers: PasskeysType ALLOWED 1; MultiFactorType U2F_WITH_VERIFICATION 1; ResourceOwnerType
    INSTANCE 1, ORG 2; SecondFactorType OTP 1, U2F 2. The SDK's LoginSettings (@zitadel/proto
    1.3.1) predates field 20, allow_local_authentication: it keeps it among its unknown fields.
    """
    lifetime = {"nanos": 0}
    settings = {
        "allowUsernamePassword": True,
        "allowRegister": True,
        "allowExternalIdp": True,
        "forceMfa": False,
        "passkeysType": 1,
        "hidePasswordReset": False,
        "ignoreUnknownUsernames": False,
        "defaultRedirectUri": "",
        "secondFactors": second_factors,
        "multiFactors": [1],
        "allowDomainDiscovery": True,
        "disableLoginWithEmail": False,
        "disableLoginWithPhone": False,
        "resourceOwnerType": owner_type,
        "forceMfaLocalOnly": False,
        "passwordCheckLifetime": {"seconds": "864000", **lifetime},
        "externalLoginCheckLifetime": {"seconds": "864000", **lifetime},
        "mfaInitSkipLifetime": {"seconds": "2592000", **lifetime},
        "secondFactorCheckLifetime": {"seconds": "64800", **lifetime},
        "multiFactorCheckLifetime": {"seconds": "43200", **lifetime},
    }
    settings.update(changed)
    details = {
        "sequence": sequence,
        "resourceOwner": owner,
        "changeDate": CLOCK,
        "creationDate": CLOCK,
    }
    return {"details": details, "settings": settings}


# The scenario's answers as @zitadel/client's v2 messages hold them (protobuf-es: bigints as
# strings here, a oneof as {case, value}; enums as numbers: AUTH_FACTOR_STATE_READY 2,
# AuthenticationMethodType TOTP 4, U2F 5).
YUBIKEY = {"id": "259242039378444292", "name": "YubiKey 5"}
ALICE_FACTORS = {
    "result": [
        {"state": 2, "type": {"case": "otp", "value": {}}},
        {"state": 2, "type": {"case": "u2f", "value": YUBIKEY}},
    ]
}
ALICE_METHODS = {
    "authMethodTypes": [4, 5],
    "details": {"totalResult": "2", "processedSequence": "0", "timestamp": CLOCK},
}
# bob has no factor: no types (protobuf-es gives a repeated field as [] even when absent); the
# details keep their timestamp.
BOB_METHODS = {
    "authMethodTypes": [],
    "details": {"totalResult": "0", "processedSequence": "0", "timestamp": CLOCK},
}
ACME_SETTINGS = login_settings(ACME, 2, "267831", [1, 2], allowRegister=False)
INSTANCE_SETTINGS = login_settings(INSTANCE, 1, "0", [2], forceMfa=True, passkeysType=0)


@dataclass(frozen=True)
class Signed:
    """The test scenario's file and the key file of acme-admin's key."""

    scenario: Path
    key_file: Path
    # A key file for acme-admin whose key the scenario does not list.
    stray_key_file: Path


def new_key(scenario: Path, out: Path, key_id: str) -> Path:
    """``zitadel-mock new-key`` as a user runs it; the key file it wrote."""
    out.mkdir()
    argv = [sys.executable, "-m", "zitadel_mock", "new-key", "--user", "acme-admin"]
    argv += ["--scenario", str(scenario), "--out", str(out), "--key-id", key_id]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out / f"{key_id}.json"


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    folder = tmp_path_factory.mktemp("node-v2")
    data = yaml.safe_load((FIXTURES / "quickstart.yaml").read_text(encoding="utf-8"))
    data["instance"] = INSTANCE_SPEC
    (acme,) = data["orgs"]
    acme["login_policy"].update(ACME_POLICY)
    scenario = folder / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    key_file = new_key(scenario, folder / "keys", KEY_ID)
    stray = new_key(scenario, folder / "stray", "259242039378444300")
    admin = next(user for user in acme["users"] if user["username"] == "acme-admin")
    admin["keys"] = [{"id": KEY_ID, "public_key_file": f"keys/acme-admin-{KEY_ID}.pub.pem"}]
    scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    return Signed(scenario, key_file, stray)


@pytest.fixture(scope="module")
def mock(signed: Signed) -> Iterator[ZitadelMock]:
    with MockServer(load_scenario(signed.scenario)) as server:
        yield ZitadelMock(server)


@pytest.fixture
def zitadel(mock: ZitadelMock) -> Iterator[ZitadelMock]:
    """The module's server, back to its scenario for each test."""
    mock.reset()
    yield mock
    assert mock.server_errors() == []


def without_ms(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != "ms"}


def test_each_v2_rpc_gives_the_scenarios_answers_on_both_transports(
    node_sdks: Path, zitadel: ZitadelMock
) -> None:
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        (FACTORS, {"user": ALICE}, ALICE_FACTORS),
        (FACTORS, {"user": BOB}, {"result": []}),
        (METHOD_TYPES, {"user": ALICE}, ALICE_METHODS),
        (METHOD_TYPES, {"user": BOB}, BOB_METHODS),
        # Without ctx: the org in context, the token's (ACME); ctx names an org or the instance.
        (LOGIN_SETTINGS, {}, ACME_SETTINGS),
        (LOGIN_SETTINGS, {"ctx": ACME}, ACME_SETTINGS),
        (LOGIN_SETTINGS, {"ctx": "instance"}, INSTANCE_SETTINGS),
    ]
    planned = [
        (Run(program, rpc, zitadel.url, token=TOKEN, **options), expected)
        for rpc, options, expected in cases
        for program in V2_PROGRAMS
    ]
    lines = run_programs(node_sdks, [run for run, _ in planned])
    got = {run: without_ms(line) for (run, _), line in zip(planned, lines, strict=True)}
    assert got == {run: {"ok": True, "result": expected} for run, expected in planned}
    assert sorted(call.protocol for call in zitadel.requests) == ["grpc"] * 7 + ["grpc-web"] * 7
    assert {(call.rpc, call.status) for call in zitadel.requests} == {
        (FACTORS, 200),
        (METHOD_TYPES, 200),
        (LOGIN_SETTINGS, 200),
    }


def v2_runs(zitadel: ZitadelMock, **options: Any) -> list[Run]:
    """Each v2 RPC on each transport, with the same options."""
    return [
        Run(program, rpc, zitadel.url, user=None if rpc == LOGIN_SETTINGS else ALICE, **options)
        for rpc in (FACTORS, METHOD_TYPES, LOGIN_SETTINGS)
        for program in V2_PROGRAMS
    ]


def test_without_a_token_each_v2_rpc_gets_auth_header_missing(
    node_sdks: Path, zitadel: ZitadelMock
) -> None:
    planned = v2_runs(zitadel)
    lines = run_programs(node_sdks, planned)
    for run, line in zip(planned, lines, strict=True):
        assert (line["ok"], line["code"], line["message"], line["details"]) == (
            False,
            16,
            "auth header missing",
            [],
        ), (run, line)
    assert [call.token for call in zitadel.requests] == [None] * 6


def test_an_unknown_org_reaches_each_v2_client_with_its_error_detail(
    node_sdks: Path, zitadel: ZitadelMock
) -> None:
    planned = v2_runs(zitadel, token=TOKEN, org="404404404")
    lines = run_programs(node_sdks, planned)
    for run, line in zip(planned, lines, strict=True):
        assert (line["code"], line["message"]) == (
            7,
            "Organisation doesn't exist (AUTH-Bs7Ds)",
        ), (run, line)
        assert line["details"] == [
            {
                "type": "zitadel.v1.ErrorDetail",
                "id": "AUTH-Bs7Ds",
                "message": "Organisation doesn't exist",
            }
        ], run
    assert {(call.org_id, call.status) for call in zitadel.requests} == {("404404404", 403)}


def test_a_service_account_signs_in_with_its_key_file_then_calls_v1(
    node_sdks: Path, zitadel: ZitadelMock, signed: Signed
) -> None:
    planned = [
        Run(SERVICE_ACCOUNT, SECOND_FACTORS, zitadel.url, key_file=signed.key_file),
        Run(SERVICE_ACCOUNT, AUTH_FACTORS, zitadel.url, key_file=signed.key_file, user=ALICE),
    ]
    lines = run_programs(node_sdks, planned)
    # @zitadel/node's messages, as test_node_sdks's token-signed calls get them (the policy's
    # processed_sequence is this scenario's).
    second_factors = V1_ANSWERS["node-grpc"][SECOND_FACTORS]
    second_factors = {
        **second_factors,
        "details": {**second_factors["details"], "processedSequence": "267831"},
    }
    assert [without_ms(line) for line in lines] == [
        {"ok": True, "result": second_factors},
        {"ok": True, "result": V1_ANSWERS["node-grpc"]["alice"]},
    ]
    # Each program signed in once (the JWT profile), then called with the token it was given.
    sign_ins = zitadel.calls(rpc="Token")
    assert [(call.status, call.user_id, call.org_id, call.why) for call in sign_ins] == [
        (200, ACME_ADMIN, ACME, "answered: an access token for acme-admin (JWT profile)")
    ] * 2
    issued = {call.answer["access_token"] for call in sign_ins}
    assert len(issued) == 2
    api_calls = [call for call in zitadel.requests if call.rpc != "Token"]
    assert sorted((call.rpc, call.protocol, call.status) for call in api_calls) == [
        (AUTH_FACTORS, "grpc", 200),
        (SECOND_FACTORS, "grpc", 200),
    ]
    assert {call.token for call in api_calls} == issued
    # As the service user (its org in context), each call after the sign-in that gave its token.
    assert {call.org_id for call in api_calls} == {ACME}
    order = zitadel.requests
    for call in api_calls:
        (sign_in,) = [c for c in sign_ins if c.answer["access_token"] == call.token]
        assert order.index(sign_in) < order.index(call)


def test_a_forced_error_on_token_reaches_the_sdk_as_axios_error(
    node_sdks: Path, zitadel: ZitadelMock, signed: Signed
) -> None:
    zitadel.fail("Token", code="UNAVAILABLE", message="Errors.Maintenance", times=1)
    zitadel.fail("Token", code="INVALID_ARGUMENT", message="Errors.Bad", times=1)
    planned = [
        Run(SERVICE_ACCOUNT, SECOND_FACTORS, zitadel.url, key_file=signed.key_file),
    ]
    (first,) = run_programs(node_sdks, planned)
    (second,) = run_programs(node_sdks, planned)
    # The SDK's interceptor lets axios's error through: no gRPC code, the HTTP status and
    # ZITADEL's OAuth error body (a 5xx is server_error, anything else invalid_request).
    assert [without_ms(first), without_ms(second)] == [
        {
            "ok": False,
            "code": None,
            "error": "AxiosError",
            "axiosCode": axios_code,
            "message": f"Request failed with status code {status}",
            "status": status,
            "body": {"error": error, "error_description": description},
        }
        for status, axios_code, error, description in (
            (503, "ERR_BAD_RESPONSE", "server_error", "Errors.Maintenance"),
            (400, "ERR_BAD_REQUEST", "invalid_request", "Errors.Bad"),
        )
    ]
    assert [(call.rpc, call.status, call.forced) for call in zitadel.requests] == [
        ("Token", 503, True),
        ("Token", 400, True),
    ]


# What the program prints for a fault on the token endpoint (besides "ok": false, "code": None).
TOKEN_FAULTS: dict[str, dict[str, Any]] = {
    "connection_reset": {"error": "AxiosError", "axiosCode": "ECONNRESET", "status": None},
    "empty_response": {"error": "AxiosError", "axiosCode": "ECONNRESET", "status": None},
    # axios keeps the cut JSON as a string; the SDK finds no access_token in it.
    "malformed_body": {
        "error": "Error",
        "message": "Authentication failed. No access token returned.",
    },
}


@pytest.mark.parametrize("fault", sorted(TOKEN_FAULTS))
def test_a_fault_on_token_reaches_the_sdk_as_an_error(
    node_sdks: Path, zitadel: ZitadelMock, signed: Signed, fault: str
) -> None:
    zitadel.fail("Token", fault=fault)
    run = Run(SERVICE_ACCOUNT, SECOND_FACTORS, zitadel.url, key_file=signed.key_file)
    (line,) = run_programs(node_sdks, [run])
    assert (line["ok"], line["code"]) == (False, None), line
    assert {key: line[key] for key in TOKEN_FAULTS[fault]} == TOKEN_FAULTS[fault], line
    assert [call.rpc for call in zitadel.requests] == ["Token"]


def test_a_calls_deadline_does_not_cover_the_sign_in_before_it(
    node_sdks: Path, zitadel: ZitadelMock, signed: Signed
) -> None:
    # The SDK's interceptor signs in with axios, without a timeout and before the call: a held
    # token endpoint holds the call past its deadline, until the hold's 504.
    hold = 1.0
    zitadel.fail("Token", fault="timeout", hold=hold)
    run = Run(
        SERVICE_ACCOUNT, SECOND_FACTORS, zitadel.url, key_file=signed.key_file, timeout_ms=300
    )
    (line,) = run_programs(node_sdks, [run])
    assert (line["error"], line["status"], line["body"]) == (
        "AxiosError",
        504,
        {"error": "server_error", "error_description": "context deadline exceeded"},
    ), line
    # A lower bound only: the answer cannot come before the hold is over.
    assert line["ms"] >= hold * 1000 - 50, line


def test_a_key_the_scenario_does_not_list_is_refused_as_zitadel_refuses_it(
    node_sdks: Path, zitadel: ZitadelMock, signed: Signed
) -> None:
    run = Run(SERVICE_ACCOUNT, SECOND_FACTORS, zitadel.url, key_file=signed.stray_key_file)
    (line,) = run_programs(node_sdks, [run])
    assert without_ms(line) == {
        "ok": False,
        "code": None,
        "error": "AxiosError",
        "axiosCode": "ERR_BAD_RESPONSE",
        "message": "Request failed with status code 500",
        "status": 500,
        "body": {"error": "server_error", "error_description": "Errors.Internal"},
    }
    assert [(call.rpc, call.status) for call in zitadel.requests] == [("Token", 500)]


@pytest.mark.parametrize(
    ("program", "argv", "message"),
    [
        (SERVICE_ACCOUNT, ["--rpc", SECOND_FACTORS],
         "the service user's key file is missing (--key-file or ZITADEL_KEY_FILE)"),
        (SERVICE_ACCOUNT, ["--rpc", SECOND_FACTORS, "--key-file", "k.json", "--token", "t"],
         "unknown option --token"),
        (SERVICE_ACCOUNT, ["--rpc", LOGIN_SETTINGS, "--key-file", "k.json"],
         f'--rpc must be one of {SECOND_FACTORS}, {AUTH_FACTORS}, not "{LOGIN_SETTINGS}"'),
        ("client-v2-grpc", ["--rpc", SECOND_FACTORS],
         f"--rpc must be one of {FACTORS}, {METHOD_TYPES}, {LOGIN_SETTINGS}, "
         f'not "{SECOND_FACTORS}"'),
        ("client-v2-grpcweb", ["--rpc", FACTORS],
         f"{FACTORS} needs a user id (--user or ZITADEL_USER_ID)"),
        ("client-v2-grpc", ["--rpc", LOGIN_SETTINGS, "--ctx", "acme"],
         '--ctx must be an organisation id or instance, not "acme"'),
        ("client-v2-grpc", ["--rpc", METHOD_TYPES, "--user", ALICE, "--ctx", "instance"],
         f"--ctx is GetLoginSettings' only, not {METHOD_TYPES}'s"),
        ("client-v2-grpcweb", ["--rpc", LOGIN_SETTINGS, "--key-file", "k.json"],
         "unknown option --key-file"),
    ],
)  # fmt: skip
def test_a_program_refuses_options_it_does_not_take_with_its_usage(
    node_sdks: Path, program: str, argv: list[str], message: str
) -> None:
    done = subprocess.run(
        ["node", f"{program}.mjs", "--url", "http://127.0.0.1:9", *argv],
        cwd=node_sdks,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "")},  # no ZITADEL_* variable
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    first, second = done.stderr.splitlines()[:2]
    assert first == message
    assert second.startswith("usage: node <program>.mjs --url URL --rpc "), second
