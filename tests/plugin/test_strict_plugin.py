"""Strict tests and the usage report, run the way users run them: pytester projects."""

from __future__ import annotations

import pytest
from testkit import USAGE_SHOP

# Import before pytester's in-process runs (see test_plugin.py).
import zitadel_mock  # noqa: F401

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:cacheprovider")

SCENARIO = USAGE_SHOP
HELPERS = """
import requests

SECOND = "/management/v1/policies/login/second_factors/_search"

def post(mock, path=SECOND, token="shop-token"):
    answer = requests.post(mock.url + path, headers={"Authorization": "Bearer " + token})
    return answer.status_code

def auth(user):
    return f"/management/v1/users/{user}/auth_factors/_search"
"""
TESTS = """
import pytest
from helpers import auth, post

def test_rule_that_fires(zitadel_mock):
    zitadel_mock.fail("ListLoginPolicySecondFactors", code="UNAVAILABLE", times=1)
    assert post(zitadel_mock) == 503

def test_rule_that_never_fires(zitadel_mock):
    zitadel_mock.fail("ListHumanAuthFactors", code="INTERNAL", user="alice")
    assert post(zitadel_mock) == 200

def test_unexpected_refusal(zitadel_mock):
    assert post(zitadel_mock, token="shop-tokn") == 401

def test_expected_refusal(zitadel_mock):
    zitadel_mock.expect_refused("ListLoginPolicySecondFactors", status=401)
    assert post(zitadel_mock, token="shop-tokn") == 401

@pytest.mark.zitadel_mock_strict(False)
def test_opted_out(zitadel_mock):
    assert post(zitadel_mock, "/management/v1/nothing") == 404

def test_scenario_rule(zitadel_mock):
    assert post(zitadel_mock, auth("1")) == 503
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", zitadel=SCENARIO)
    pytester.makepyfile(helpers=HELPERS, test_shop=TESTS)
    pytester.makeini("[pytest]\nzitadel_mock = true\nzitadel_mock_scenario = zitadel.yaml\n")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*QUIET, *args)


def test_without_strict_every_test_passes(project: pytest.Pytester) -> None:
    run(project).assert_outcomes(passed=6)


@pytest.mark.parametrize("how", ["cli", "ini", "xdist"])
def test_strict_fails_unfired_rules_and_unexpected_refusals(
    project: pytest.Pytester, how: str
) -> None:
    if how == "ini":
        project.makeini(
            "[pytest]\nzitadel_mock = true\nzitadel_mock_scenario = zitadel.yaml\n"
            "zitadel_mock_strict = true\n"
        )
    args = {
        "cli": ["--zitadel-mock-strict"],
        "ini": [],
        "xdist": ["--zitadel-mock-strict", "-n", "2"],
    }
    result = run(project, *args[how])
    result.assert_outcomes(passed=4, failed=2)
    # Each failure's section (their order is the workers' under xdist).
    result.stdout.fnmatch_lines(
        [
            "*_ test_rule_that_never_fires _*",
            "zitadel-mock (strict): 1 forced rule(s) never fired:",
            "  rule 2 (fail() at test_shop.py:*): rpc=ListHumanAuthFactors user=1 code=INTERNAL",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_unexpected_refusal _*",
            "zitadel-mock (strict): the mock refused 1 call(s) the test did not expect to be "
            "refused (say so with zitadel_mock.expect_refused(...)):",
            "  POST /management/v1/policies/login/second_factors/_search -> 401*",
        ]
    )


def test_the_marker_makes_one_test_strict_and_is_checked(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_marked="""
        import pytest
        from helpers import post

        @pytest.mark.zitadel_mock_strict
        def test_strict(zitadel_mock):
            assert post(zitadel_mock, token="nope") == 401

        @pytest.mark.zitadel_mock_strict("yes")
        def test_bad_marker(zitadel_mock):
            pass
        """
    )
    result = run(project, "test_marked.py")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_strict _*",
            "zitadel-mock (strict): the mock refused 1 call(s)*",
            "*_ test_bad_marker _*",
            "zitadel_mock_strict takes at most one argument, True or False: "
            "@pytest.mark.zitadel_mock_strict(False)",
        ]
    )


EXPECTED_REPORT = [
    "*- zitadel-mock usage -*",
    "scenario zitadel.yaml (* calls):",
    "  orgs never exercised (1 of 2): Idle",
    "  users never exercised (1 of 3): bob",
    "  tokens never exercised (1 of 2): stale-token",
    "  forced rules that never fired (1 of 2):",
    "    errors?1? (*zitadel.yaml:15): rpc=ListHumanAuthFactors user=3 code=INTERNAL",
]


def test_the_usage_report_names_what_no_test_exercised(project: pytest.Pytester) -> None:
    assert "zitadel-mock usage" not in run(project).stdout.str()
    result = run(project, "--zitadel-mock-report")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(EXPECTED_REPORT, consecutive=True)
    assert "rpcs never exercised" not in result.stdout.str()
    project.makeini(
        "[pytest]\nzitadel_mock = true\nzitadel_mock_scenario = zitadel.yaml\n"
        "zitadel_mock_report = true\n"
    )
    run(project).stdout.fnmatch_lines(EXPECTED_REPORT, consecutive=True)


def test_the_usage_report_merges_xdist_workers(project: pytest.Pytester) -> None:
    # Each part is exercised by a test that may run in either worker: bob only in one.
    project.makepyfile(
        test_more="""
        from helpers import auth, post

        def test_bob_rule(zitadel_mock):
            assert post(zitadel_mock, auth("3")) == 500
        """
    )
    result = run(project, "-n", "2", "--zitadel-mock-report", "-p", "xdist")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(
        [
            "*- zitadel-mock usage -*",
            "scenario zitadel.yaml (* calls):",
            "  tokens never exercised (1 of 2): stale-token",
        ]
    )
    out = result.stdout.str()
    assert "users never exercised" not in out  # bob's call ran in one worker only
    assert "forced rules that never fired" not in out
    assert out.count("zitadel-mock usage") == 1  # the controller's, not the workers'
