"""The pytest plugin, run the way users run it: pytester projects with their own tests."""

from __future__ import annotations

import pytest

# Import before pytester's in-process runs: they unload what a run imports, and libyaml's C
# parser, which cannot be loaded twice, would then build nodes a re-imported yaml does not know.
import zitadel_mock  # noqa: F401

pytest_plugins = ["pytester"]

SCENARIO = """
version: 1
orgs:
  - name: Shop
    id: "100"
    login_policy: {second_factors: [otp, u2f]}
    users:
      - {username: alice, id: "1", auth_factors: [otp]}
      - {username: shop-bot, id: "2", type: machine}
    members: [{user: shop-bot, roles: [ORG_OWNER]}]
tokens: [{token: shop-token, user: shop-bot}]
"""
STRICT = """
version: 1
orgs: [{name: Strict, login_policy: {second_factors: [u2f]}}]
"""
HELPERS = """
import requests

SECOND = "/management/v1/policies/login/second_factors/_search"

def factors(mock, token="shop-token", path=SECOND):
    answer = requests.post(mock.url + path, headers={"Authorization": "Bearer " + token})
    return answer.status_code, answer.json().get("result")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", zitadel=SCENARIO, strict=STRICT)
    pytester.makepyfile(helpers=HELPERS)
    pytester.makeini("[pytest]\nzitadel_mock_scenario = zitadel.yaml\n")
    return pytester


def test_without_the_flag_fixture_tests_are_skipped(project: pytest.Pytester) -> None:
    project.makepyfile(test_a="def test_uses(zitadel_mock): pass\ndef test_plain(): pass\n")
    result = project.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*zitadel-mock is off: run pytest with --zitadel-mock*"])
    assert "zitadel-mock: on" not in result.stdout.str()


def test_flag_serves_the_ini_scenario(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import os
        from helpers import factors

        def test_policy(zitadel_mock):
            default = ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
            assert factors(zitadel_mock) == (200, default)
            assert os.environ["ZITADEL_MOCK_URL"] == zitadel_mock.url
            assert zitadel_mock.scenario.orgs[0].name == "Shop"
        """
    )
    result = project.runpytest("--zitadel-mock")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["zitadel-mock: on, scenario: *zitadel.yaml"])


def test_ini_switch_and_cli_scenario(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nzitadel_mock = true\n")
    project.makepyfile(
        test_a="""
        from helpers import factors

        def test_policy(zitadel_mock):
            assert factors(zitadel_mock, "any") == (200, ["SECOND_FACTOR_TYPE_U2F"])
        """
    )
    project.runpytest("--zitadel-mock-scenario", "strict.yaml").assert_outcomes(passed=1)


def test_builtin_scenario_without_any_scenario(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="""
        import requests

        def test_builtin(zitadel_mock):
            answer = requests.post(
                zitadel_mock.url + "/management/v1/users/259242039378444291/auth_factors/_search",
                headers={"Authorization": "Bearer anything"},
            )
            assert [list(f)[1] for f in answer.json()["result"]] == ["otp", "u2f"]
        """
    )
    result = pytester.runpytest("--zitadel-mock")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["zitadel-mock: on, scenario: built-in"])


def test_marker_on_function_class_and_module(project: pytest.Pytester) -> None:
    project.mkdir("sub")
    (project.path / "sub" / "other.yaml").write_text(STRICT)
    project.makepyfile(
        test_a="""
        import pytest
        from helpers import factors

        U2F = (200, ["SECOND_FACTOR_TYPE_U2F"])
        DEFAULT = (200, ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"])

        @pytest.mark.zitadel_scenario("strict.yaml")
        def test_function(zitadel_mock):
            assert factors(zitadel_mock, "any") == U2F

        def test_default_again(zitadel_mock):
            assert factors(zitadel_mock) == DEFAULT

        @pytest.mark.zitadel_scenario("strict.yaml")
        class TestClass:
            def test_one(self, zitadel_mock):
                assert factors(zitadel_mock, "any") == U2F
        """
    )
    (project.path / "sub" / "test_module.py").write_text(
        "import pytest, requests\n"
        "pytestmark = pytest.mark.zitadel_scenario('other.yaml')\n"
        "def test_module(zitadel_mock):\n"
        "    url = zitadel_mock.url + '/management/v1/policies/login/second_factors/_search'\n"
        "    answer = requests.post(url, headers={'Authorization': 'Bearer any'})\n"
        "    assert answer.json()['result'] == ['SECOND_FACTOR_TYPE_U2F']\n"
    )
    project.runpytest("--zitadel-mock", "--strict-markers", "-p", "no:randomly").assert_outcomes(
        passed=4
    )


def test_reset_between_tests(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        from helpers import factors

        def test_1_changes_everything(zitadel_mock):
            zitadel_mock.fail(code="UNAVAILABLE")
            zitadel_mock.set_second_factors("Shop", ["otp_sms"])
            zitadel_mock.add_token("new-token", "alice")
            assert factors(zitadel_mock)[0] == 503

        def test_2_sees_none_of_it(zitadel_mock):
            assert zitadel_mock.requests == []
            default = ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
            assert factors(zitadel_mock) == (200, default)
            assert factors(zitadel_mock, "new-token")[0] == 401
        """
    )
    project.runpytest("--zitadel-mock", "-p", "no:randomly").assert_outcomes(passed=2)


def test_state_changes(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import requests
        from helpers import factors

        def auth(mock, user="1"):
            path = f"/management/v1/users/{user}/auth_factors/_search"
            headers = {"Authorization": "Bearer shop-token"}
            return requests.post(mock.url + path, headers=headers).json()

        def test_changes(zitadel_mock):
            zitadel_mock.set_second_factors("100", ["otp_email"])
            assert factors(zitadel_mock) == (200, ["SECOND_FACTOR_TYPE_OTP_EMAIL"])
            zitadel_mock.set_second_factors("Shop", None)
            assert factors(zitadel_mock)[1] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
            key = zitadel_mock.add_factor("alice", {"type": "u2f", "name": "Key"})
            assert auth(zitadel_mock)["result"][1] == {
                "state": "AUTH_FACTOR_STATE_READY", "u2f": {"id": key.id, "name": "Key"}}
            assert zitadel_mock.remove_factor("alice", "otp") == 1
            assert len(auth(zitadel_mock)["result"]) == 1
            user = zitadel_mock.add_user("dave", auth_factors=["otp_sms"])
            assert auth(zitadel_mock, user.id) == {
                "result": [{"state": "AUTH_FACTOR_STATE_READY", "otpSms": {}}]}
        """
    )
    project.runpytest("--zitadel-mock").assert_outcomes(passed=1)


def test_journal_and_assertion_helpers(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import pytest
        import requests
        from helpers import factors
        from zitadel_mock import MockAssertionError

        AUTH = "/management/v1/users/1/auth_factors/_search"

        def test_retries(zitadel_mock):
            zitadel_mock.fail(rpc="ListHumanAuthFactors", code="UNAVAILABLE", times=2)
            statuses = [factors(zitadel_mock, path=AUTH)[0] for _ in range(3)]
            assert statuses == [503, 503, 200]
            assert len(zitadel_mock.requests) == 3
            call = zitadel_mock.requests[2]
            assert (call.rpc, call.user_id, call.org_id, call.token, call.status) == (
                "ListHumanAuthFactors", "1", "100", "shop-token", 200)
            assert call.answer == {"result": [{"state": "AUTH_FACTOR_STATE_READY", "otp": {}}]}
            zitadel_mock.assert_called("ListHumanAuthFactors", times=3, user="alice")
            zitadel_mock.assert_called("ListHumanAuthFactors", times=2, status=503)
            zitadel_mock.assert_not_called("ListLoginPolicySecondFactors")

        def test_failure_messages(zitadel_mock):
            factors(zitadel_mock, path=AUTH)
            with pytest.raises(MockAssertionError) as raised:
                zitadel_mock.assert_called("ListHumanAuthFactors", times=2, user="alice")
            assert str(raised.value) == (
                "expected ListHumanAuthFactors (user='alice') 2 times, it was called once.\\n"
                "Calls made:\\n"
                "  POST /management/v1/users/1/auth_factors/_search -> 200 user=1 org=100")
            with pytest.raises(MockAssertionError, match="not to be called, it was called once"):
                zitadel_mock.assert_not_called("ListHumanAuthFactors")
            zitadel_mock.reset()
            with pytest.raises(MockAssertionError, match="No call was made"):
                zitadel_mock.assert_called("ListLoginPolicySecondFactors")
        """
    )
    project.runpytest("--zitadel-mock").assert_outcomes(passed=2)


def test_server_side_exception_fails_the_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        from helpers import factors

        def test_boom(zitadel_mock, monkeypatch):
            def boom(*args):
                raise RuntimeError("broken inside the mock")
            monkeypatch.setattr("zitadel_mock.service.second_factors_body", boom)
            assert factors(zitadel_mock)[0] == 500

        def test_next_is_fine(zitadel_mock):
            assert factors(zitadel_mock)[0] == 200
        """
    )
    result = project.runpytest("--zitadel-mock", "-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*an exception was raised inside zitadel-mock while serving this test*",
            "*RuntimeError: broken inside the mock*",
        ]
    )


def test_url_reaches_subprocesses(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import subprocess, sys

        def test_child(zitadel_mock):
            code = "import os; print(os.environ['ZITADEL_MOCK_URL'])"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            assert out.stdout.strip() == zitadel_mock.url
        """
    )
    project.runpytest("--zitadel-mock").assert_outcomes(passed=1)


def test_bad_scenario_is_one_clear_failure(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml", broken="version: 1\norgs: [{name: A, users: [{username: u, type: x}]}]\n"
    )
    project.makepyfile(test_a="def test_a(zitadel_mock): pass\n")
    result = project.runpytest("--zitadel-mock", "--zitadel-mock-scenario", "broken.yaml")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*zitadel-mock: *broken.yaml:2: orgs[[]0[]].users[[]0[]].type: 'x'*"]
    )
    assert "Traceback" not in result.stdout.str()


def test_session_fixture_for_one_long_lived_server(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        URLS = []

        def test_1(zitadel_mock_server):
            URLS.append(zitadel_mock_server.url)

        def test_2(zitadel_mock_server, zitadel_mock):
            assert zitadel_mock is zitadel_mock_server
            assert URLS == [zitadel_mock.url]
        """
    )
    project.runpytest("--zitadel-mock", "-p", "no:randomly").assert_outcomes(passed=2)


def test_xdist_workers_each_have_their_own_port(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import os, pathlib
        import pytest

        @pytest.mark.parametrize("i", range(8))
        def test_port(zitadel_mock, i):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            pathlib.Path(f"{worker}-{i}.url").write_text(zitadel_mock.url)
            zitadel_mock.fail(code="UNAVAILABLE")  # reset before every test: never leaks
        """
    )
    result = project.runpytest_subprocess("--zitadel-mock", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    by_worker: dict[str, set[str]] = {}
    for path in project.path.glob("gw*.url"):
        by_worker.setdefault(path.name.split("-")[0], set()).add(path.read_text())
    assert sorted(by_worker) == ["gw0", "gw1"]
    assert all(len(urls) == 1 for urls in by_worker.values())
    assert by_worker["gw0"] != by_worker["gw1"]
