"""Strict checks and usage on the handle, over a real server (no pytest run)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from testkit import USAGE_SHOP

from zitadel_mock import MockAssertionError, MockServer, ZitadelMock
from zitadel_mock.scenario.builtin import builtin_scenario
from zitadel_mock.usage import Usage, format_report, merge_reports

SECOND = "/management/v1/policies/login/second_factors/_search"
SHOP = USAGE_SHOP


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[ZitadelMock]:
    (tmp_path / "shop.yaml").write_text(SHOP)
    with MockServer(builtin_scenario()) as server:
        handle = ZitadelMock(server)
        handle.use(tmp_path / "shop.yaml")
        yield handle


def post(mock: ZitadelMock, path: str = SECOND, token: str = "shop-token") -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(mock.url + path, headers=headers, timeout=5).status_code


def auth(user: str) -> str:
    return f"/management/v1/users/{user}/auth_factors/_search"


def test_a_rule_added_by_the_test_that_never_fired_fails_the_check(mock: ZitadelMock) -> None:
    mock.fail("ListLoginPolicySecondFactors", code="UNAVAILABLE", times=1)
    mock.fail("ListHumanAuthFactors", code="INTERNAL", user="alice")
    line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
    assert post(mock) == 503
    with pytest.raises(MockAssertionError) as failure:
        mock.assert_all_rules_fired()
    text = str(failure.value)
    assert text.startswith("1 forced rule(s) never fired:\n")
    origin = f"fail() at tests/plugin/test_strict_handle.py:{line}"
    assert f"\n  rule 3 ({origin}): rpc=ListHumanAuthFactors user=1 code=INTERNAL" in text
    assert "\n  rule 2 " not in text  # the one used up fired
    assert [i for i, _ in mock.unfired_rules()] == [3]
    # The scenario's own rules only when asked: many tests share them.
    assert [i for i, _ in mock.unfired_rules(scenario=True)] == [0, 1, 3]
    assert post(mock, auth("1")) == 503  # the scenario's rule 0 fires first
    assert post(mock, auth("1")) == 500
    mock.assert_all_rules_fired()
    mock.reset()
    mock.assert_all_rules_fired()  # a reset forgets the rules added


def test_a_refusal_by_an_auth_check_is_unexpected_unless_expected(mock: ZitadelMock) -> None:
    assert post(mock, token="no-such-token") == 401
    assert post(mock, "/management/v1/nothing") == 404
    mock.fail("ListLoginPolicySecondFactors", code="UNAVAILABLE", times=1)
    assert post(mock) == 503  # a forced rule's answer is what the test asked for
    with pytest.raises(MockAssertionError) as failure:
        mock.assert_no_unexpected_refusals()
    text = str(failure.value)
    assert text.startswith("the mock refused 2 call(s) the test did not expect to be refused")
    assert f"POST {SECOND} -> 401" in text
    assert "POST /management/v1/nothing -> 404" in text
    assert "-> 503" not in text
    mock.expect_refused("ListLoginPolicySecondFactors", status=401)
    assert [c.status for c in mock.unexpected_refusals()] == [404]
    mock.expect_refused(status=404)
    mock.assert_strict()
    mock.reset()
    assert post(mock, token="no-such-token") == 401
    assert len(mock.unexpected_refusals()) == 1  # expectations end with the reset


def test_expect_refused_checks_its_filters(mock: ZitadelMock) -> None:
    with pytest.raises(ValueError, match=r"unknown user 'alcie'.*did you mean 'alice'"):
        mock.expect_refused(user="alcie")
    with pytest.raises(ValueError, match="unknown rpc"):
        mock.expect_refused("ListUsers")
    assert post(mock, auth("3")) == 500  # bob's rule in the scenario
    mock.expect_refused(user="alice")
    assert post(mock, auth("1")) == 503
    assert post(mock, auth("1"), token="no-such-token") == 401
    mock.assert_no_unexpected_refusals()  # alice's refusal expected, the rest by rules


def test_usage_names_what_no_call_exercised(mock: ZitadelMock) -> None:
    usage = Usage(mock.scenario)
    assert post(mock) == 200
    assert post(mock, auth("1")) == 503
    assert post(mock, auth("99999")) == 200  # an id the scenario lacks: not kept
    usage.observe_all(mock.requests)
    report = usage.report()
    assert report["calls"] == 3
    assert report["unused"] == {
        "orgs": ["Idle"],
        "users": ["bob"],
        "tokens": ["stale-token"],
        "rules": [
            f"errors[1] ({mock.scenario.source}:16): rpc=ListHumanAuthFactors user=3 code=INTERNAL"
        ],
        "rpcs": [],
    }
    # Two workers: unused is what neither exercised.
    other = {**report, "calls": 1, "unused": {**report["unused"], "orgs": [], "users": ["bob"]}}
    (merged,) = merge_reports([report, other])
    assert merged["calls"] == 4
    assert merged["unused"]["orgs"] == []
    assert merged["unused"]["users"] == ["bob"]
    lines = format_report([merged])
    assert lines[0].endswith("(4 calls):")
    assert "  users never exercised (1 of 3): bob" in lines
    assert "  forced rules that never fired (1 of 2):" in lines


def test_usage_keeps_only_what_the_scenario_holds(mock: ZitadelMock) -> None:
    # A client sending a new token and user id on every call grows nothing past a bound.
    usage = Usage(mock.scenario)
    template = mock.requests
    assert post(mock, token="stranger-0") == 401
    (call,) = mock.requests[len(template) :]
    for i in range(10_000):
        usage.observe(call._replace(token=f"stranger-{i}", user_id=str(10**9 + i)))
    assert usage.calls == 10_000
    assert len(usage._seen) == Usage.MAX_SEEN
    assert all(not names for kind, names in usage.used.items() if kind != "rpcs")
    assert usage.report()["unused"]["tokens"] == ["shop-token", "stale-token"]
