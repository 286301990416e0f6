"""The official ZITADEL Node SDKs against the mock, as their users call it.

Three consumer programs (tests/sdk/node): ``@zitadel/node`` (native gRPC over h2c),
``@zitadel/client``'s server transport (native gRPC, connect-node) and its client transport
(gRPC-web over HTTP/1.1, connect-web). Each prints what its SDK gave: the answer as the SDK's
own message objects, or the error with the SDK's code, message and decoded details. The
programs of one test run side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zitadel_mock import MockServer, ZitadelMock, load_scenario

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROGRAMS = ("node-grpc", "client-grpc", "client-grpcweb")
TOKEN = "acme-admin-token"
ALICE = "259242039378444291"
BOB = "259242039378444293"
SECOND_FACTORS = "ListLoginPolicySecondFactors"
AUTH_FACTORS = "ListHumanAuthFactors"

# The quick-start scenario's answers as each SDK's messages hold them: @zitadel/node's
# ts-proto objects (64-bit integers as Long, timestamps as Date: microseconds are cut;
# a oneof member is a field of its own) and @zitadel/client's protobuf-es ones (bigints,
# Timestamp messages, a oneof as {case, value}). Enums are numbers in both: OTP 1, U2F 2, READY 2.
ANSWERS: dict[str, dict[str, Any]] = {
    "node-grpc": {
        SECOND_FACTORS: {
            "details": {
                "totalResult": "2",
                "processedSequence": "0",
                "viewTimestamp": "2025-08-28T10:46:22.123Z",
            },
            "result": [1, 2],
        },
        "alice": {
            "result": [
                {"state": 2, "otp": {}},
                {"state": 2, "u2f": {"id": "259242039378444292", "name": "YubiKey 5"}},
            ]
        },
        "bob": {"result": []},
    },
    "client": {
        SECOND_FACTORS: {
            "details": {
                "totalResult": "2",
                "processedSequence": "0",
                "viewTimestamp": {"seconds": "1756377982", "nanos": 123456000},
            },
            "result": [1, 2],
        },
        "alice": {
            "result": [
                {"state": 2, "type": {"case": "otp", "value": {}}},
                {
                    "state": 2,
                    "type": {
                        "case": "u2f",
                        "value": {"id": "259242039378444292", "name": "YubiKey 5"},
                    },
                },
            ]
        },
        "bob": {"result": []},
    },
}


# One program run: a node start (about 0.3 s alone, seconds on a crowded machine) and one
# call, whose own deadline the tests keep far below this.
RUN_TIMEOUT = 60.0


@dataclass(frozen=True)
class Run:
    """One run of a consumer program: which, with what options."""

    program: str
    rpc: str
    url: str
    token: str | None = None
    org: str | None = None
    user: str | None = None
    timeout_ms: int | None = None
    key_file: Path | None = None  # a service user's key file (node-service-account)
    ctx: str | None = None  # GetLoginSettings' context: an org id or "instance" (client-v2-*)

    def argv(self) -> list[str]:
        argv = ["node", f"{self.program}.mjs", "--url", self.url, "--rpc", self.rpc]
        for name, value in (
            ("--token", self.token),
            ("--org", self.org),
            ("--user", self.user),
            ("--timeout-ms", self.timeout_ms),
            ("--key-file", self.key_file),
            ("--ctx", self.ctx),
        ):
            if value is not None:
                argv += [name, str(value)]
        return argv


def run_programs(folder: Path, runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Run the programs side by side; return each one's JSON line, in the order given."""

    def one(run: Run) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZITADEL_")}
        try:
            done = subprocess.run(
                run.argv(),
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as hung:
            raise AssertionError(f"{run} gave no answer within {RUN_TIMEOUT:.0f} s") from hung
        lines = done.stdout.strip().splitlines()
        try:
            line: dict[str, Any] = json.loads(lines[-1])
        except (IndexError, ValueError):
            raise AssertionError(
                f"{run} printed no JSON line (exit {done.returncode}):\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            ) from None
        return line

    with ThreadPoolExecutor(max_workers=max(1, len(runs))) as pool:
        return list(pool.map(one, runs))


def _shape(program: str) -> str:
    return "node-grpc" if program == "node-grpc" else "client"


@pytest.fixture(scope="module")
def mock() -> Iterator[ZitadelMock]:
    with MockServer(load_scenario(FIXTURES / "quickstart.yaml")) as server:
        yield ZitadelMock(server)


@pytest.fixture
def zitadel(mock: ZitadelMock) -> Iterator[ZitadelMock]:
    """The module's server, back to the quick-start scenario for each test."""
    mock.reset()
    yield mock
    assert mock.server_errors() == []


def runs(mock: ZitadelMock, **options: Any) -> list[Run]:
    """One run of each program with the same options."""
    options.setdefault("rpc", SECOND_FACTORS)
    return [Run(program, url=mock.url, **options) for program in PROGRAMS]


def by_program(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each program's line (three runs in PROGRAMS order), without its duration."""
    return {
        program: {k: v for k, v in line.items() if k != "ms"}
        for program, line in zip(PROGRAMS, lines, strict=True)
    }


def test_each_sdk_gets_the_scenarios_answers(node_sdks: Path, zitadel: ZitadelMock) -> None:
    cases = [(SECOND_FACTORS, None, SECOND_FACTORS), (AUTH_FACTORS, ALICE, "alice")]
    cases.append((AUTH_FACTORS, BOB, "bob"))  # no factors: a zero-byte message
    planned = [
        (program, expected, Run(program, rpc, zitadel.url, token=TOKEN, user=user))
        for rpc, user, expected in cases
        for program in PROGRAMS
    ]
    lines = run_programs(node_sdks, [run for _, _, run in planned])
    got = {
        (program, expected): line
        for (program, expected, _), line in zip(planned, lines, strict=True)
    }
    want = {
        (program, expected): {"ok": True, "result": ANSWERS[_shape(program)][expected]}
        for program, expected, _ in planned
    }
    assert {key: {k: v for k, v in line.items() if k != "ms"} for key, line in got.items()} == want
    zitadel.assert_called(SECOND_FACTORS, times=3, status=200)
    zitadel.assert_called(AUTH_FACTORS, times=6, status=200)
    protocols = [call.protocol for call in zitadel.requests]
    assert sorted(protocols) == ["grpc"] * 6 + ["grpc-web"] * 3


def test_without_a_token_each_sdk_gets_auth_header_missing(
    node_sdks: Path, zitadel: ZitadelMock
) -> None:
    got = by_program(run_programs(node_sdks, runs(zitadel, rpc=AUTH_FACTORS, user=ALICE)))
    for program, line in got.items():
        assert (line["ok"], line["code"], line["message"], line["details"]) == (
            False,
            16,
            "auth header missing",
            [],
        ), program
    assert [call.token for call in zitadel.requests] == [None, None, None]


def test_an_unknown_org_reaches_each_sdk_with_its_error_detail(
    node_sdks: Path, zitadel: ZitadelMock
) -> None:
    got = by_program(run_programs(node_sdks, runs(zitadel, token=TOKEN, org="404404404")))
    for program, line in got.items():
        assert line["code"] == 7, (program, line)
        assert line["message"] == "Organisation doesn't exist (AUTH-Bs7Ds)", program
        assert line["details"] == [
            {
                "type": "zitadel.v1.ErrorDetail",
                "id": "AUTH-Bs7Ds",
                "message": "Organisation doesn't exist",
            }
        ], program
    assert {call.org_id for call in zitadel.requests} == {"404404404"}


def test_a_forced_error_reaches_each_sdk_with_its_code_message_and_id(
    node_sdks: Path, zitadel: ZitadelMock
) -> None:
    zitadel.fail(AUTH_FACTORS, code="UNAVAILABLE", message="Errors.Maintenance", id="MOCK-m1")
    got = by_program(
        run_programs(node_sdks, runs(zitadel, rpc=AUTH_FACTORS, token=TOKEN, user=ALICE))
    )
    for program, line in got.items():
        assert (line["code"], line["message"]) == (14, "Errors.Maintenance (MOCK-m1)"), program
        assert line["details"] == [
            {"type": "zitadel.v1.ErrorDetail", "id": "MOCK-m1", "message": "Errors.Maintenance"}
        ], program
    assert all(call.forced for call in zitadel.requests)


def test_a_delay_is_felt_and_a_shorter_deadline_gives_deadline_exceeded(
    node_sdks: Path, zitadel: ZitadelMock
) -> None:
    delay = 1.5
    zitadel.fail(delay=delay)
    patient = runs(zitadel, token=TOKEN)
    hasty = runs(zitadel, token=TOKEN, timeout_ms=300)
    lines = run_programs(node_sdks, patient + hasty)
    for program, line in zip(PROGRAMS, lines[:3], strict=True):
        assert line["ok"] is True, (program, line)
        # A lower bound only: the call cannot be answered before the delay is over.
        assert line["ms"] >= delay * 1000 - 50, (program, line)
    for program, line in zip(PROGRAMS, lines[3:], strict=True):
        assert (line["ok"], line["code"]) == (False, 4), (program, line)


# What each SDK reports for each fault of the mock: the README's table "How a fault reaches
# each SDK". The programs call with a deadline of TIMEOUT_MS: a held call reaches it, and so
# does a native gRPC call after random_data_then_close, which neither Node SDK ever settles.
TIMEOUT_MS = 1500
FAULT_CODES: dict[str, dict[str, set[int]]] = {
    # connect-node sees the reset either on the socket (ABORTED, "read ECONNRESET") or first on
    # the stream (CANCELLED, "http/2 stream closed with error code CANCEL"), as Node orders them.
    "connection_reset": {"node-grpc": {14}, "client-grpc": {10, 1}, "client-grpcweb": {2}},
    "empty_response": {"node-grpc": {2}, "client-grpc": {13}, "client-grpcweb": {2}},
    "malformed_body": {"node-grpc": {13}, "client-grpc": {3}, "client-grpcweb": {3}},
    "random_data_then_close": {"node-grpc": {4}, "client-grpc": {4}, "client-grpcweb": {2}},
    "timeout": {"node-grpc": {4}, "client-grpc": {4}, "client-grpcweb": {4}},
}


@pytest.mark.parametrize("fault", sorted(FAULT_CODES))
def test_each_fault_reaches_each_sdk_as_an_error(
    node_sdks: Path, zitadel: ZitadelMock, fault: str
) -> None:
    zitadel.fail(fault=fault)
    got = by_program(run_programs(node_sdks, runs(zitadel, token=TOKEN, timeout_ms=TIMEOUT_MS)))
    for program, line in got.items():
        assert line["ok"] is False, (program, line)
        assert line["code"] in FAULT_CODES[fault][program], (program, line)
    assert [call.status for call in zitadel.requests] == [
        0 if fault != "malformed_body" else 200
    ] * 3
