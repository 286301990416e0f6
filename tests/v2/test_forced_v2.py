"""Forced rules, faults and the journal on the v2 RPCs, as on v1's."""

from __future__ import annotations

from typing import Any

import pytest
from v2kit import SCENARIO, V2Client, scenario_state

from zitadel_mock import MockServer, ScenarioError, ZitadelMock, parse_scenario

FORCED = (
    SCENARIO
    + """
errors:
  - {rpc: GetLoginSettings, code: UNAVAILABLE, times: 1}
  - {rpc: zitadel.user.v2.UserService/ListAuthenticationFactors, user: alice, code: INTERNAL,
     message: boom, id: QUERY-1}
  - {rpc: ListAuthenticationMethodTypes, fault: malformed_body}
"""
)


def test_a_scenarios_rules_answer_v2_calls(make_v2: Any) -> None:
    state = scenario_state(FORCED)
    v2: V2Client = make_v2(state)
    first = v2("GetLoginSettings")
    assert (first.status, first.error()) == (503, (14, "service unavailable", None))
    assert v2("GetLoginSettings").status == 200  # times: 1
    forced = v2("ListAuthenticationFactors", "1003")
    assert (forced.status, forced.error()) == (500, (13, "boom (QUERY-1)", "QUERY-1"))
    assert v2("ListAuthenticationFactors", "1006").status == 200  # another user
    calls = state.journal.calls()
    assert [c.rpc for c in calls] == [
        "GetLoginSettings",
        "GetLoginSettings",
        "ListAuthenticationFactors",
        "ListAuthenticationFactors",
    ]
    assert all(c.why for c in calls)
    assert calls[0].forced
    assert not calls[1].forced


def test_a_malformed_body_fault_cuts_each_framing(make_v2: Any) -> None:
    state = scenario_state(FORCED)
    client: V2Client = make_v2(state)
    if client.transport == "grpc":  # a frame announcing more than it carries: grpcio's UNKNOWN
        assert client("ListAuthenticationMethodTypes", "1003").error()[0] == 2
        assert state.journal.calls()[-1].injected is not None
        return
    cut = _send(client)
    whole = _send(make_v2(scenario_state()))
    assert (cut.status_code, whole.status_code) == (200, 200)
    if v2_transport(cut) == "grpc-web":  # the data frame cut in half, no trailer frame
        length = int.from_bytes(whole.content[1:5], "big")
        assert cut.content == whole.content[: 5 + length // 2]
    else:
        assert cut.content == whole.content[: len(whole.content) // 2]
    assert state.journal.calls()[-1].injected is not None


def v2_transport(result: Any) -> str:
    kind = result.headers.get("content-type", "")
    return "grpc-web" if kind.startswith("application/grpc-web") else kind


def _send(v2: V2Client) -> Any:
    method, path = _raw(v2.transport)
    headers = {"Authorization": "Bearer admin-token", **_type(v2.transport)}
    return v2.client.simulate_request(method, path, headers=headers, body=_body(v2.transport))


def _raw(transport: str) -> tuple[str, str]:
    if transport == "rest":
        return ("GET", "/v2/users/1003/authentication_methods")
    return ("POST", "/zitadel.user.v2.UserService/ListAuthenticationMethodTypes")


def _body(transport: str) -> bytes:
    if transport == "connect-json":
        return b'{"userId":"1003"}'
    if transport == "grpc-web":
        return b"\0\0\0\0\x06\x0a\x041003"
    return b"\x0a\x041003" if transport == "connect-proto" else b""


def _type(transport: str) -> dict[str, str]:
    if transport == "rest":
        return {}
    if transport == "grpc-web":
        return {"Content-Type": "application/grpc-web+proto"}
    return {"Content-Type": "application/" + transport.removeprefix("connect-")}


def test_fail_from_a_test_names_a_v2_rpc(make_v2: Any) -> None:
    state = scenario_state()
    state.add_error(rpc="ListAuthenticationMethodTypes", code="PERMISSION_DENIED", times=1)
    v2: V2Client = make_v2(state)
    assert v2("ListAuthenticationMethodTypes", "1003").status == 403
    assert v2("ListAuthenticationMethodTypes", "1003").status == 200


def test_a_rule_for_get_login_settings_cannot_name_a_user() -> None:
    text = "version: 1\norgs: [{name: A, users: [{username: u}]}]\n"
    text += "errors: [{rpc: GetLoginSettings, user: u, code: INTERNAL}]\n"
    with pytest.raises(ScenarioError, match="GetLoginSettings has no user in its path"):
        parse_scenario(text)


def test_the_test_handle_filters_and_forces_v2_rpcs() -> None:
    with MockServer(parse_scenario(SCENARIO)) as server:
        mock = ZitadelMock(server)
        mock.fail(rpc="GetLoginSettings", code="UNAVAILABLE", times=1)
        client = V2Client(server.state, "connect-json", asgi=False)
        assert client("GetLoginSettings").status == 503
        assert client("GetLoginSettings").status == 200
        mock.assert_called("GetLoginSettings", times=2)
        mock.assert_called("GetLoginSettings", times=1, status=503)
