"""The plugin under pytest-xdist: every worker has its own server on its own port."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_xdist_workers_each_have_their_own_port(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="""
        import os, pathlib
        import pytest
        import requests

        SECOND = "/management/v1/policies/login/second_factors/_search"

        @pytest.mark.parametrize("i", range(8))
        def test_port(zitadel_mock, i):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            pathlib.Path(f"{worker}-{i}.url").write_text(zitadel_mock.url)
            headers = {"Authorization": "Bearer any"}
            # Reset before every test: the error forced below never reaches the next test.
            assert requests.post(zitadel_mock.url + SECOND, headers=headers).status_code == 200
            zitadel_mock.fail(code="UNAVAILABLE")
        """
    )
    result = pytester.runpytest_subprocess(
        "--zitadel-mock",
        "-n",
        "2",
        "-p",
        "no:hypothesispytest",
        "-p",
        "no:faker",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=8)
    by_worker: dict[str, set[str]] = {}
    for path in pytester.path.glob("gw*.url"):
        by_worker.setdefault(path.name.split("-")[0], set()).add(path.read_text())
    assert sorted(by_worker) == ["gw0", "gw1"]
    assert all(len(urls) == 1 for urls in by_worker.values())
    assert by_worker["gw0"] != by_worker["gw1"]
