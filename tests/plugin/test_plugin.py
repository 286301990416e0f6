"""The pytest plugin, run the way users run it: pytester projects with their own tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Import before pytester's in-process runs: they unload what a run imports, and libyaml's C
# parser, which cannot be loaded twice, would then build nodes a re-imported yaml does not know.
import zitadel_mock  # noqa: F401

pytest_plugins = ["pytester"]

# Other plugins of the development environment, left out of the inner runs: pytester unloads
# what each run imports, so they would be imported again in every run, for seconds each.
QUIET = ("-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:cacheprovider")

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
DEFAULT = ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
U2F = ["SECOND_FACTOR_TYPE_U2F"]

def factors(mock, token="shop-token", path=SECOND):
    answer = requests.post(mock.url + path, headers={"Authorization": "Bearer " + token})
    return answer.status_code, answer.json().get("result")
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*QUIET, *args)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", zitadel=SCENARIO, strict=STRICT)
    pytester.makepyfile(helpers=HELPERS)
    pytester.makeini("[pytest]\nzitadel_mock_scenario = zitadel.yaml\n")
    return pytester


# -- on, off, options --------------------------------------------------------------------------


def test_without_the_flag_fixture_tests_are_skipped(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        def test_uses(zitadel_mock): pass
        def test_session(zitadel_mock_server): pass
        def test_plain(): pass
        """
    )
    result = run(project, "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    off = "zitadel-mock is off: run pytest with --zitadel-mock (or set zitadel_mock = true *)"
    result.stdout.fnmatch_lines([f"SKIPPED * test_a.py:1: {off}", f"SKIPPED * test_a.py:2: {off}"])
    assert "zitadel-mock: on" not in result.stdout.str()


def test_flag_serves_the_ini_scenario(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import os
        from helpers import DEFAULT, factors

        def test_policy(zitadel_mock):
            assert factors(zitadel_mock) == (200, DEFAULT)
            assert os.environ["ZITADEL_MOCK_URL"] == zitadel_mock.url
            assert zitadel_mock.scenario.orgs[0].name == "Shop"
        """
    )
    result = run(project, "--zitadel-mock")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["zitadel-mock: on, scenario: zitadel.yaml"])


def test_ini_switch_and_paths_relative_to_ini_and_invocation_dir(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ini names conf/zitadel.yaml (relative to the ini file); pytest runs from sub/, where
    # the CLI's path is relative to sub/.
    project.makeini("[pytest]\nzitadel_mock = true\nzitadel_mock_scenario = conf/zitadel.yaml\n")
    (project.path / "conf").mkdir()
    (project.path / "conf" / "zitadel.yaml").write_text(SCENARIO)
    (project.path / "sub").mkdir()
    (project.path / "sub" / "mine.yaml").write_text(STRICT)
    (project.path / "sub" / "test_a.py").write_text(
        "import sys\n"
        "def test_org(zitadel_mock):\n"
        "    print('org:', zitadel_mock.scenario.orgs[0].name)\n"
    )
    monkeypatch.chdir(project.path / "sub")
    result = run(project, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["zitadel-mock: on, scenario: conf*zitadel.yaml", "*org: Shop*"])
    result = run(project, "-s", "--zitadel-mock-scenario", "mine.yaml")  # the CLI wins
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["zitadel-mock: on, scenario: sub*mine.yaml", "*org: Strict*"])


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
    result = run(pytester, "--zitadel-mock")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["zitadel-mock: on, scenario: built-in"])


def test_help_and_markers(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(
        [
            "zitadel-mock (a mock of ZITADEL's MFA routes):",
            "  --zitadel-mock *serve a ZITADEL mock*",
            "  --zitadel-mock-scenario=PATH",
            "*zitadel_mock (bool):*serve a ZITADEL mock (like --zitadel-mock)",
            "*zitadel_mock_scenario (string):*",
        ]
    )
    result = run(pytester, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.zitadel_scenario(path): serve this scenario file*"])


BROKEN = "version: 1\norgs: [{name: A, users: [{username: u, type: x}]}]\n"
BROKEN_ERROR = "broken.yaml:2: orgs[0].users[0].type: 'x' is not one of human, machine"
USES_THE_DEFAULT = """
import pytest

def test_a(zitadel_mock): pass
def test_b(zitadel_mock): pass
def test_session(zitadel_mock_server): pass

@pytest.mark.zitadel_scenario("strict.yaml")
def test_valid_marker(zitadel_mock):
    assert zitadel_mock.scenario.orgs[0].name == "Strict"

def test_plain(): pass
"""


def _errors(result: pytest.RunResult) -> list[str]:
    """The first line of each error's report, in order."""
    lines = result.stdout.lines
    return [lines[i + 1] for i, line in enumerate(lines) if "_ ERROR at setup of " in line]


@pytest.mark.parametrize(
    ("default", "error"),
    [
        ("broken.yaml", f"zitadel-mock: {{root}}/{BROKEN_ERROR}"),
        ("missing.yaml", "zitadel-mock: {root}/missing.yaml: no such file"),
    ],
    ids=["broken", "missing"],
)
def test_a_bad_default_scenario_is_reported_once(
    project: pytest.Pytester, default: str, error: str
) -> None:
    project.makefile(".yaml", broken=BROKEN)
    project.makepyfile(test_a=USES_THE_DEFAULT)
    result = run(project, "--zitadel-mock-scenario", default, "--zitadel-mock", "-p", "no:randomly")
    # Only the tests that need the default error; one with a valid scenario of its own passes.
    result.assert_outcomes(errors=3, passed=2)
    pointer = (
        f"zitadel-mock: the scenario {default} cannot be loaded; "
        "its error is reported at test_a.py::test_a"
    )
    assert _errors(result) == [error.format(root=project.path), pointer, pointer]
    out = result.stdout.str()
    assert "Traceback" not in out
    assert "During handling" not in out


def test_a_bad_marker_scenario_fails_only_its_tests(project: pytest.Pytester) -> None:
    project.makefile(".yaml", broken=BROKEN)
    project.makepyfile(
        test_a="""
        import pytest

        @pytest.mark.zitadel_scenario("broken.yaml")
        class TestBroken:
            def test_1(self, zitadel_mock): pass
            def test_2(self, zitadel_mock): pass

        def test_default(zitadel_mock):
            assert zitadel_mock.scenario.orgs[0].name == "Shop"
        """
    )
    result = run(project, "--zitadel-mock", "-p", "no:randomly")
    result.assert_outcomes(errors=2, passed=1)
    assert _errors(result) == [
        f"zitadel-mock: {project.path}/{BROKEN_ERROR}",
        "zitadel-mock: the scenario broken.yaml cannot be loaded; "
        "its error is reported at test_a.py::TestBroken::test_1",
    ]


def test_a_typo_in_an_assertion_fails_the_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        def test_user_typo(zitadel_mock):
            zitadel_mock.assert_not_called(user="alcie")

        def test_org_typo(zitadel_mock):
            zitadel_mock.assert_called(times=0, org="Shopp")

        def test_added_user(zitadel_mock):
            zitadel_mock.add_user("carol")
            zitadel_mock.assert_not_called(user="carol")
        """
    )
    result = run(project, "--zitadel-mock", "-p", "no:randomly")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "E * ValueError: unknown user 'alcie': "
            "the scenario has no such user; did you mean 'alice'?",
            "E * ValueError: unknown org 'Shopp': "
            "the scenario has no such org; did you mean 'Shop'?",
        ]
    )


# -- the marker ----------------------------------------------------------------------------------


def test_marker_on_function_class_and_module(project: pytest.Pytester) -> None:
    project.mkdir("sub")
    (project.path / "sub" / "other.yaml").write_text(STRICT)
    project.makepyfile(
        test_a="""
        import pytest
        from helpers import DEFAULT, U2F, factors

        @pytest.mark.zitadel_scenario("strict.yaml")
        def test_function(zitadel_mock):
            assert factors(zitadel_mock, "any") == (200, U2F)

        def test_default_again(zitadel_mock):
            assert factors(zitadel_mock) == (200, DEFAULT)

        @pytest.mark.zitadel_scenario(path="strict.yaml")
        class TestClass:
            def test_one(self, zitadel_mock):
                assert factors(zitadel_mock, "any") == (200, U2F)

            @pytest.mark.zitadel_scenario("zitadel.yaml")  # the closest marker wins
            def test_two(self, zitadel_mock):
                assert factors(zitadel_mock) == (200, DEFAULT)
        """
    )
    (project.path / "sub" / "test_module.py").write_text(
        "import pytest\n"
        "pytestmark = pytest.mark.zitadel_scenario('other.yaml')  # next to this file\n"
        "def test_module(zitadel_mock):\n"
        "    assert zitadel_mock.scenario.orgs[0].name == 'Strict'\n"
    )
    run(project, "--zitadel-mock", "--strict-markers", "-p", "no:randomly").assert_outcomes(
        passed=5
    )


def test_marker_of_a_test_that_asks_for_the_fixture_at_run_time(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import pytest
        from helpers import U2F, factors

        @pytest.mark.zitadel_scenario("strict.yaml")
        def test_dynamic(request):
            zitadel_mock = request.getfixturevalue("zitadel_mock")
            assert factors(zitadel_mock, "any") == (200, U2F)
        """
    )
    run(project, "--zitadel-mock").assert_outcomes(passed=1)


def test_marker_mistakes_are_clear(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import pytest

        @pytest.mark.zitadel_scenario()
        def test_no_path(zitadel_mock): pass

        @pytest.mark.zitadel_scenario("a.yaml", "b.yaml")
        def test_two_paths(zitadel_mock): pass

        @pytest.mark.zitadel_scenario("missing.yaml")
        def test_missing_file(zitadel_mock): pass
        """
    )
    result = run(project, "--zitadel-mock")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*zitadel_scenario takes one argument, the scenario's path: "
            "@pytest.mark.zitadel_scenario('scenarios/strict.yaml')",
            "*zitadel-mock: *missing.yaml: no such file",
        ]
    )


# -- one test at a time --------------------------------------------------------------------------


def test_reset_before_each_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        import requests
        from helpers import DEFAULT, factors

        def test_1_changes_everything(zitadel_mock):
            zitadel_mock.fail(code="UNAVAILABLE")
            zitadel_mock.set_second_factors("Shop", ["otp_sms"])
            zitadel_mock.add_token("new-token", "alice")
            assert factors(zitadel_mock)[0] == 503

        def test_2_sees_none_of_it(zitadel_mock):
            assert zitadel_mock.requests == []
            assert factors(zitadel_mock) == (200, DEFAULT)
            assert factors(zitadel_mock, "new-token")[0] == 401
            # A scenario replaced through the control API lasts for this test only, too.
            body = "version: 1\\norgs: [{name: Other}]\\n"
            assert requests.put(zitadel_mock.url + "/_mock/scenario", data=body).ok

        def test_3_has_the_scenario_back(zitadel_mock):
            assert factors(zitadel_mock) == (200, DEFAULT)
        """
    )
    run(project, "--zitadel-mock", "-p", "no:randomly").assert_outcomes(passed=3)


def test_url_in_the_environment_during_each_test(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZITADEL_MOCK_URL", "http://configured-before")
    project.makepyfile(
        test_a="""
        import os, subprocess, sys

        def test_child(zitadel_mock):
            code = "import os; print(os.environ['ZITADEL_MOCK_URL'])"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            assert out.stdout.strip() == zitadel_mock.url

        def test_restored_after(zitadel_mock_server):
            assert os.environ["ZITADEL_MOCK_URL"] == "http://configured-before"
        """
    )
    run(project, "--zitadel-mock", "-p", "no:randomly").assert_outcomes(passed=2)


def test_url_is_right_in_every_test_and_restored_at_the_end(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZITADEL_MOCK_URL", raising=False)
    project.makepyfile(
        test_a="""
        import os

        def test_1_uses(zitadel_mock):
            assert os.environ["ZITADEL_MOCK_URL"] == zitadel_mock.url
            os.environ["ZITADEL_MOCK_URL"] = "left behind"  # and not put back

        def test_2_uses(zitadel_mock):
            assert os.environ["ZITADEL_MOCK_URL"] == zitadel_mock.url

        def test_3_does_not(zitadel_mock_server):
            assert "ZITADEL_MOCK_URL" not in os.environ

        def test_4_asks_at_run_time(request):
            assert "ZITADEL_MOCK_URL" not in os.environ
            mock = request.getfixturevalue("zitadel_mock")
            assert os.environ["ZITADEL_MOCK_URL"] == mock.url
        """
    )
    run(project, "--zitadel-mock", "-p", "no:randomly").assert_outcomes(passed=4)
    assert "ZITADEL_MOCK_URL" not in os.environ  # the run's own environment, after it


def test_a_run_inside_a_test_has_its_own_switch(project: pytest.Pytester) -> None:
    # A test that runs pytest (pytester, in the same process) with the mock off, then uses
    # its own run's mock: each run sees its own.
    project.makepyfile(
        test_a="""
        pytest_plugins = ["pytester"]

        def test_outer(pytester, zitadel_mock):
            pytester.makepyfile(test_inner="def test_inner(zitadel_mock): pass")
            inner = pytester.runpytest("-p", "no:cacheprovider")
            inner.assert_outcomes(skipped=1)
            inner = pytester.runpytest("-p", "no:cacheprovider", "--zitadel-mock")
            inner.assert_outcomes(passed=1)
            assert zitadel_mock.scenario.orgs[0].name == "Shop"
        """
    )
    run(project, "--zitadel-mock").assert_outcomes(passed=1)


def test_a_configured_run_inside_a_test_leaves_the_tests_mock_alone(
    project: pytest.Pytester,
) -> None:
    # A test that configures pytest in process (its config stays configured until the test
    # ends) and then asks for the mock: the mock is that of the run the test belongs to.
    project.makepyfile(
        test_a="""
        from helpers import DEFAULT, factors

        pytest_plugins = ["pytester"]

        def test_outer(pytester, request):
            pytester.parseconfigure("-p", "no:cacheprovider")  # the mock off in that config
            mock = request.getfixturevalue("zitadel_mock")
            assert factors(mock) == (200, DEFAULT)

        def test_outer_on(pytester, request):
            pytester.parseconfigure("-p", "no:cacheprovider", "--zitadel-mock")
            mock = request.getfixturevalue("zitadel_mock")
            assert factors(mock) == (200, DEFAULT)
        """
    )
    run(project, "--zitadel-mock", "-p", "no:randomly").assert_outcomes(passed=2)


def test_session_fixture_for_one_long_lived_server(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        URLS = []

        def test_1(zitadel_mock_server):
            URLS.append(zitadel_mock_server.url)
            zitadel_mock_server.add_token("kept", "alice")

        def test_2(zitadel_mock_server):
            assert zitadel_mock_server.url == URLS[0]
            assert zitadel_mock_server.server.state.view.tokens.get("kept") is not None

        def test_3(zitadel_mock_server, zitadel_mock):
            assert zitadel_mock is zitadel_mock_server
            assert zitadel_mock.server.state.view.tokens.get("kept") is None
        """
    )
    run(project, "--zitadel-mock", "-p", "no:randomly").assert_outcomes(passed=3)


# -- what a test reads and asserts ----------------------------------------------------------------


def test_journal_and_assertion_helpers_in_a_run(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        from helpers import factors

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
            zitadel_mock.assert_not_called("ListLoginPolicySecondFactors")

        def test_reads_well_when_it_fails(zitadel_mock):
            factors(zitadel_mock, path=AUTH)
            zitadel_mock.assert_called("ListHumanAuthFactors", times=2, user="alice")
        """
    )
    result = run(project, "--zitadel-mock")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            ">       zitadel_mock.assert_called(*",
            "E       *MockAssertionError: expected ListHumanAuthFactors (user='alice') 2 times, "
            "it was called once.",
            "E       Calls made:",
            "E         POST /management/v1/users/1/auth_factors/_search -> 200 "
            "user=1 (alice) org=100 (Shop): answered: 1 ready auth factor of alice",
        ]
    )


# -- exceptions inside the mock ------------------------------------------------------------------


def test_server_side_exception_fails_the_test_that_caused_it(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a="""
        from helpers import factors

        def boom(*args):
            raise RuntimeError("broken inside the mock")

        def test_passes_but_the_mock_broke(zitadel_mock, monkeypatch):
            monkeypatch.setattr("zitadel_mock.protocols.rest.app.handle", boom)
            monkeypatch.setattr("zitadel_mock.protocols.rest.direct.handle", boom)
            assert factors(zitadel_mock)[0] == 500

        def test_next_is_fine(zitadel_mock):
            assert factors(zitadel_mock)[0] == 200

        def test_fails_and_the_mock_broke(zitadel_mock, monkeypatch):
            monkeypatch.setattr("zitadel_mock.protocols.rest.app.handle", boom)
            monkeypatch.setattr("zitadel_mock.protocols.rest.direct.handle", boom)
            assert factors(zitadel_mock)[0] == 200
        """
    )
    result = run(project, "--zitadel-mock", "-p", "no:randomly", "-rA")
    # The first fails; the third fails for its own assertion, and its teardown reports the
    # exception inside the mock.
    result.assert_outcomes(passed=1, failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_fails_and_the_mock_broke _*",
            "an exception was raised inside zitadel-mock while serving this test:",
            "Traceback (most recent call last):",
            "RuntimeError: broken inside the mock",
            "*_ test_passes_but_the_mock_broke _*",
            "an exception was raised inside zitadel-mock while serving this test:",
            "Traceback (most recent call last):",
            "RuntimeError: broken inside the mock",
            "*_ test_fails_and_the_mock_broke _*",
            "E       assert 500 == 200",
        ]
    )


def test_exception_caused_by_a_fixture_teardown_is_reported(project: pytest.Pytester) -> None:
    # A fixture over zitadel_mock calls the mock as it is torn down: the check runs after it.
    project.makepyfile(
        test_a="""
        import pytest
        from helpers import factors

        def boom(*args):
            raise RuntimeError("broken while the client logged out")

        @pytest.fixture
        def client(zitadel_mock, monkeypatch):
            yield zitadel_mock
            monkeypatch.setattr("zitadel_mock.protocols.rest.app.handle", boom)
            monkeypatch.setattr("zitadel_mock.protocols.rest.direct.handle", boom)
            factors(zitadel_mock)  # a last call on the way out

        def test_uses_the_client(client):
            assert factors(client)[0] == 200
        """
    )
    result = run(project, "--zitadel-mock", "-rA")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_uses_the_client _*",
            "an exception was raised inside zitadel-mock while serving this test:",
            "RuntimeError: broken while the client logged out",
        ]
    )


# -- import-light ---------------------------------------------------------------------------------


def test_a_run_without_the_flag_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="""
        import sys

        def test_nothing_heavy():
            heavy = {"falcon", "waitress", "yaml", "faker", "zitadel_mock"}
            assert heavy.isdisjoint(sys.modules)
            assert "zitadel_mock_pytest.plugin" in sys.modules
        """
    )
    pytester.runpytest_subprocess(*QUIET).assert_outcomes(passed=1)


def test_the_consumer_example_passes(pytester: pytest.Pytester) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "consumer"
    result = run(pytester, str(example), "--zitadel-mock", "-p", "no:randomly")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["zitadel-mock: on, scenario: tests*zitadel.yaml"])
