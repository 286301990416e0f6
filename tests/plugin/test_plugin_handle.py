"""``ZitadelMock``, the handle the plugin's fixture yields, over a real server (no pytest run)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from zitadel_mock import (
    MockAssertionError,
    MockServer,
    ScenarioError,
    ServerSideError,
    ZitadelMock,
    parse_scenario,
)
from zitadel_mock.scenario.builtin import builtin_scenario

HERE = os.path.relpath(__file__)  # how fail() names its caller's file in a rule's origin

SECOND = "/management/v1/policies/login/second_factors/_search"
SHOP = """
version: 1
orgs:
  - name: Shop
    id: "100"
    users:
      - {username: alice, id: "1", auth_factors: [otp]}
      - {username: shop-bot, id: "2", type: machine}
    members: [{user: shop-bot, roles: [ORG_OWNER]}]
tokens: [{token: shop-token, user: shop-bot}]
"""
STRICT = "version: 1\norgs: [{name: Strict, login_policy: {second_factors: [u2f]}}]\n"


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[ZitadelMock]:
    (tmp_path / "shop.yaml").write_text(SHOP)
    (tmp_path / "strict.yaml").write_text(STRICT)
    with MockServer(builtin_scenario()) as server:
        handle = ZitadelMock(server)
        handle.use(tmp_path / "shop.yaml")
        yield handle


def post(mock: ZitadelMock, path: str = SECOND, token: str = "shop-token", **headers: str) -> int:
    headers["Authorization"] = f"Bearer {token}"
    return requests.post(mock.url + path, headers=headers, timeout=5).status_code


def auth(user: str) -> str:
    return f"/management/v1/users/{user}/auth_factors/_search"


def test_use_loads_each_scenario_once_and_switches(mock: ZitadelMock, tmp_path: Path) -> None:
    shop = mock.scenario
    assert shop.orgs[0].name == "Shop"
    mock.use(tmp_path / "strict.yaml")
    assert mock.scenario.orgs[0].name == "Strict"
    mock.use(str(tmp_path / "shop.yaml"))
    assert mock.scenario is shop  # from the cache: the file is not read again
    mock.use(None)
    assert mock.scenario.orgs[0].name == "ACME"
    assert repr(mock) == f"<ZitadelMock {mock.url} scenario=<built-in scenario>>"


def test_use_of_a_broken_file_raises_and_keeps_serving(mock: ZitadelMock, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"missing\.yaml: no such file"):
        mock.use(tmp_path / "missing.yaml")
    assert mock.scenario.orgs[0].name == "Shop"


def test_use_undoes_every_change(mock: ZitadelMock, tmp_path: Path) -> None:
    mock.fail(code="UNAVAILABLE")
    mock.set_second_factors("Shop", ["otp_sms"])
    mock.add_token("new-token", "alice")
    assert post(mock) == 503
    mock.use(tmp_path / "shop.yaml")
    assert (post(mock), post(mock, token="new-token")) == (200, 401)
    assert len(mock.requests) == 2


def test_use_undoes_a_scenario_replaced_through_the_control_api(
    mock: ZitadelMock, tmp_path: Path
) -> None:
    answer = requests.put(
        mock.url + "/_mock/scenario",
        data=STRICT,
        headers={"Content-Type": "application/yaml"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert mock.scenario.orgs[0].name == "Strict"
    mock.use(tmp_path / "shop.yaml")
    assert mock.scenario.orgs[0].name == "Shop"


def test_use_forgets_namespaces(mock: ZitadelMock, tmp_path: Path) -> None:
    assert post(mock, **{"X-Mock-Namespace": "job-1"}) == 200
    assert len(mock.server.namespaces) == 2
    mock.use(tmp_path / "strict.yaml")
    assert len(mock.server.namespaces) == 1
    # A namespace created now starts from the scenario in use, not the first one served.
    assert post(mock, token="any", **{"X-Mock-Namespace": "job-1"}) == 200
    assert mock.server.namespaces.get("job-1").scenario.orgs[0].name == "Strict"


def test_journal_and_filters(mock: ZitadelMock) -> None:
    mock.fail(rpc="ListHumanAuthFactors", code="UNAVAILABLE", times=1)
    assert [post(mock, auth("1")), post(mock, auth("alice")), post(mock)] == [503, 200, 200]
    first = mock.requests[0]
    assert (first.rpc, first.user_id, first.org_id, first.token, first.status, first.forced) == (
        "ListHumanAuthFactors",
        "1",
        "100",
        "shop-token",
        503,
        True,
    )
    assert mock.requests[2].answer["result"] == [
        "SECOND_FACTOR_TYPE_OTP",
        "SECOND_FACTOR_TYPE_U2F",
    ]
    assert len(mock.calls("ListHumanAuthFactors", user="alice")) == 1  # by name
    assert len(mock.calls("ListHumanAuthFactors", user="1", status=503)) == 1  # by id
    assert len(mock.calls(org="Shop")) == len(mock.calls(org="100")) == 3
    assert mock.calls(org="999") == []  # an id the scenario has not: no call was made in it
    mock.assert_called("ListHumanAuthFactors", times=2, org="Shop")
    mock.assert_called(status=503)
    mock.assert_not_called("ListHumanAuthFactors", user="shop-bot")
    mock.reset()
    assert mock.requests == []
    mock.assert_not_called()


ALCIE = "unknown user 'alcie': the scenario has no such user; did you mean 'alice'?"
SHOPP = "unknown org 'Shopp': the scenario has no such org; did you mean 'Shop'?"


@pytest.mark.parametrize(
    ("check", "error"),
    [
        (lambda m: m.assert_not_called(user="alcie"), ALCIE),
        (lambda m: m.assert_not_called("ListHumanAuthFactors", user="alcie"), ALCIE),
        (lambda m: m.assert_called(times=0, org="Shopp"), SHOPP),
        (lambda m: m.calls(user="alcie"), ALCIE),
        (lambda m: m.calls(user="ALCIE"), ALCIE.replace("alcie", "ALCIE")),  # case aside
        (lambda m: m.calls(org="Shopp", user="alice"), SHOPP),
        (
            lambda m: m.calls(user="nobody"),
            "unknown user 'nobody': the scenario has no such user, nor one with a similar name",
        ),
        (  # a digit to str.isdigit, but no ZITADEL id
            lambda m: m.calls(user="\u00b2"),
            "unknown user '\u00b2': the scenario has no such user, nor one with a similar name",
        ),
        (
            lambda m: m.calls(user="x" * 5000),
            f"unknown user {'x' * 60!r}... (5000 characters): the scenario has no such user, "
            "nor one with a similar name",
        ),
        (lambda m: m.calls(status=42), "status 42 is not an HTTP status (100 to 599)"),
        (
            lambda m: m.assert_not_called(status=600),
            "status 600 is not an HTTP status (100 to 599)",
        ),
    ],
)
def test_a_filter_that_names_nothing_is_an_error(
    mock: ZitadelMock, check: Callable[[ZitadelMock], object], error: str
) -> None:
    post(mock, auth("1"))
    with pytest.raises(ValueError, match=f"^{re.escape(error)}$"):
        check(mock)


@pytest.mark.parametrize("status", ["abc", "200", 200.0, True])
def test_a_status_filter_is_an_int(mock: ZitadelMock, status: object) -> None:
    with pytest.raises(TypeError, match=r"^status must be an HTTP status, an int from 100 to 599"):
        mock.calls(status=status)  # type: ignore[arg-type]


def test_filters_name_the_nearest_names_of_this_tests_scenario(mock: ZitadelMock) -> None:
    with pytest.raises(
        ValueError, match=r"^unknown user 'zelda': .*, nor one with a similar name$"
    ):
        mock.calls(user="zelda")
    for name in ("zelda", "alicia", "malice"):
        mock.add_user(name)
    assert mock.calls(user="zelda") == []  # added by this test: a name it may use
    nearest = "did you mean 'alice', 'malice' or 'alicia'?"  # the closest first
    with pytest.raises(ValueError, match=f"^unknown user 'alcie': .*; {re.escape(nearest)}$"):
        mock.assert_not_called(user="alcie")
    mock.reset()
    with pytest.raises(
        ValueError, match=r"^unknown user 'zelda': .*, nor one with a similar name$"
    ):
        mock.calls(user="zelda")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda m: m.fail(user="alcie", code=14), "user: no user 'alcie'; did you mean 'alice'?"),
        (lambda m: m.fail(org="Shopp", code=14), "org: no org 'Shopp'; did you mean 'Shop'?"),
        (lambda m: m.add_factor("alcie", "otp"), "user: no user 'alcie'; did you mean 'alice'?"),
        (lambda m: m.remove_factor("Alice", "otp"), "user: no user 'Alice'; did you mean 'alice'?"),
        (
            lambda m: m.add_token("t", "shop-bott"),
            "user: no user 'shop-bott'; did you mean 'shop-bot'?",
        ),
        (lambda m: m.add_user("bob", org="Shopp"), "org: no org 'Shopp'; did you mean 'Shop'?"),
        (
            lambda m: m.set_second_factors("shop", ["otp"]),
            "org: no org 'shop'; did you mean 'Shop'?",
        ),
        (lambda m: m.fail(user="nobody", code=14), "user: no user 'nobody'"),  # none near
    ],
)
def test_changes_naming_an_unknown_user_or_org_name_the_nearest(
    mock: ZitadelMock, change: Callable[[ZitadelMock], object], error: str
) -> None:
    with pytest.raises(ScenarioError, match=f": {re.escape(error)}$"):
        change(mock)


def test_an_unknown_id_a_request_carried_selects_its_calls(mock: ZitadelMock) -> None:
    # The journal records the id in the path and the org header as sent, known or not.
    assert post(mock, auth("12345")) == 200
    assert post(mock, **{"x-zitadel-orgid": "999"}) == 403
    assert [c.path for c in mock.calls(user="12345")] == [auth("12345")]
    assert [c.status for c in mock.calls(org="999")] == [403]
    assert len(mock.calls(user=12345)) == 1  # type: ignore[arg-type]  # an id given as an int
    mock.assert_not_called(user="54321")
    with pytest.raises(TypeError, match=r"^user must be a name or an id"):
        mock.calls(user=["alice"])  # type: ignore[arg-type]


def test_assert_called_failure_lists_the_calls(mock: ZitadelMock) -> None:
    post(mock, auth("1"))
    post(mock, auth("1"), token="stolen")
    with pytest.raises(MockAssertionError) as raised:
        mock.assert_called("ListHumanAuthFactors", times=1, user="alice")
    assert str(raised.value) == (
        "expected ListHumanAuthFactors (user='alice') once, it was called 2 times.\n"
        "Calls made:\n"
        "  POST /management/v1/users/1/auth_factors/_search -> 200 user=1 (alice) org=100 (Shop)"
        ": answered: 1 ready auth factor of alice\n"
        "  POST /management/v1/users/1/auth_factors/_search -> 401 user=1 (alice)"
        ": token 'stolen' is not in the scenario; did you mean 'shop-token'?"
    )


def test_assert_not_called_failure_lists_the_calls(mock: ZitadelMock) -> None:
    line = sys._getframe().f_lineno + 1
    mock.fail(code="INTERNAL")
    post(mock)
    with pytest.raises(MockAssertionError) as raised:
        mock.assert_not_called("ListLoginPolicySecondFactors", org="Shop", status=500)
    assert str(raised.value) == (
        "expected ListLoginPolicySecondFactors (org='Shop', status=500) not to be called, "
        "it was called once.\nCalls made:\n"
        "  POST /management/v1/policies/login/second_factors/_search -> 500 org=100 (Shop) "
        f"(forced): forced rule 0 (fail() at {HERE}:{line}): INTERNAL"
    )


def test_assert_called_when_nothing_was_called(mock: ZitadelMock) -> None:
    with pytest.raises(MockAssertionError) as raised:
        mock.assert_called()
    assert str(raised.value) == "expected the mock at least once, it was called 0 times. " + (
        "No call was made."
    )
    mock.assert_called("ListHumanAuthFactors", times=0)


def test_an_unknown_rpc_is_a_mistake_not_a_zero(mock: ZitadelMock) -> None:
    with pytest.raises(ValueError, match="unknown rpc 'ListHumanAuthFactor'; expected one of"):
        mock.assert_not_called("ListHumanAuthFactor")


def test_fail_takes_the_fields_of_a_scenario_error(mock: ZitadelMock) -> None:
    rule = mock.fail("ListHumanAuthFactors", code=5, user="alice", message="gone", id="X-1")
    assert (rule.rpc, rule.user_id, rule.code, rule.message, rule.id) == (
        "ListHumanAuthFactors",
        "1",
        5,
        "gone",
        "X-1",
    )
    answer = requests.post(
        mock.url + auth("1"), headers={"Authorization": "Bearer shop-token"}, timeout=5
    )
    assert (answer.status_code, answer.json()["message"]) == (404, "gone (X-1)")
    assert post(mock, auth("2")) == 200  # another user: not forced
    with pytest.raises(ScenarioError, match="no user 'nobody'"):
        mock.fail(code="UNAVAILABLE", user="nobody")


def test_state_changes(mock: ZitadelMock) -> None:
    mock.set_second_factors("100", ["otp_email"])
    assert mock.server.state.view.policies.get("100").policy.second_factors[0].key == "otp_email"
    key = mock.add_factor("alice", {"type": "u2f", "name": "Key"})
    assert key.name == "Key"
    assert mock.remove_factor("alice", "otp") == 1
    user = mock.add_user("dave", org="Shop", auth_factors=["otp_sms"])
    assert mock.add_token("dave-token", "dave").user_id == user.id
    answer = requests.post(
        mock.url + auth(user.id), headers={"Authorization": "Bearer shop-token"}, timeout=5
    )
    assert answer.json() == {"result": [{"state": "AUTH_FACTOR_STATE_READY", "otpSms": {}}]}
    assert post(mock, auth(user.id), token="dave-token") == 404  # a known token, no membership
    mock.reset()
    assert mock.server.state.view.users.get("dave") is None
    assert mock.server.state.view.policies.get("100") is None


def test_server_errors_from_every_namespace(mock: ZitadelMock) -> None:
    assert mock.server_errors() == []
    mock.raise_server_errors()  # nothing to raise
    mock.server.state.record_server_error("Traceback: one")
    mock.server.namespaces.get("job-1").record_server_error("Traceback: two")
    assert mock.server_errors() == ["Traceback: one", "Traceback: two"]
    with pytest.raises(ServerSideError, match="while serving:\nTraceback: one\nTraceback: two"):
        mock.raise_server_errors()
    mock.clear_server_errors()
    assert mock.server_errors() == []
    # A reset forgets them too; one recorded afterwards is found again.
    mock.server.state.record_server_error("Traceback: three")
    mock.reset()
    assert mock.server_errors() == []
    mock.server.state.record_server_error("Traceback: four")
    assert mock.server_errors() == ["Traceback: four"]


def test_handle_over_a_state_from_a_scenario_object() -> None:
    with MockServer(parse_scenario(SHOP, source="shop.yaml")) as server:
        mock = ZitadelMock(server)
        assert mock.url == server.url
        assert mock.scenario.source == "shop.yaml"
