"""Hostile journal filters over a real socket: a 400 naming the problem, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from zitadel_mock import MockServer, load_scenario

QUICKSTART = Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml"


@pytest.fixture(scope="module")
def url() -> str:
    with MockServer(load_scenario(QUICKSTART)) as mock:
        yield mock.url


@pytest.mark.parametrize(
    "query",
    [
        "status=" + "9" * 5000,  # int() would refuse it past 4,300 digits
        "status=%C2%B2",  # a digit to str.isdigit, refused by int()
        "status=%D9%A4%D9%A0%D9%A4",  # Arabic-Indic digits: 404 to int(), not to HTTP
        "status=-200",
        "status=",
        "user=alcie",  # a typo of a name: an error, not an empty list
        "org=Shopp",
        "user=" + "a" * 100_000,
    ],
)
@pytest.mark.parametrize("route", ["/_mock/journal", "/_mock/journal/count"])
def test_a_bad_filter_is_a_400(url: str, route: str, query: str) -> None:
    answer = requests.get(f"{url}{route}?{query}", timeout=30)
    assert answer.status_code == 400, answer.text
    message = answer.json()["error"]
    assert message.startswith(("status: ", "unknown user ", "unknown org "))
    assert len(message) < 400  # a long value is quoted cut short


def test_a_typo_names_the_nearest_name(url: str) -> None:
    answer = requests.get(f"{url}/_mock/journal/count?user=alcie", timeout=30)
    assert answer.json() == {
        "error": "unknown user 'alcie': the scenario has no such user; did you mean 'alice'?"
    }
