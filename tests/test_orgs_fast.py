"""The fast reader of orgs and users agrees with the precise one, or leaves the data to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zitadel_mock.errors import ScenarioError
from zitadel_mock.generate.options import Options, parse_factor_mix
from zitadel_mock.generate.writer import scenario_data
from zitadel_mock.model import (
    AuthFactor,
    Factor,
    FactorState,
    User,
    UserType,
    new_auth_factor,
    new_user,
)
from zitadel_mock.scenario.fields import Invalid
from zitadel_mock.scenario.orgs import HandWritten, _Reader
from zitadel_mock.scenario.orgs_fast import read_orgs_fast
from zitadel_mock.scenario.source import parse_text

ROOT = Path(__file__).parent.parent
FILES = sorted([*ROOT.glob("fixtures/*.yaml"), *ROOT.glob("tests/broken/*.yaml")])


def precise(raw_orgs: Any, seed: int = 0) -> HandWritten | Invalid:
    try:
        return _Reader(seed).read(raw_orgs)
    except Invalid as exc:
        return exc


def summary(read: HandWritten) -> tuple[Any, ...]:
    """Everything a reader hands on, in a form that compares equal when it is the same."""
    return (
        read.orgs,
        read.users,
        list(read.users_by_ref.items()),  # the order decides which name a hint suggests
        list(read.orgs_by_ref.items()),
        set(read.ids_seen),
        read.ids._taken,
        read.ids._salts,
    )


def check_agreement(raw_orgs: Any, seed: int = 0) -> HandWritten | None:
    """The fast reader builds what the precise one does, or gives up; never on valid data only."""
    expected = precise(raw_orgs, seed)
    fast = read_orgs_fast(raw_orgs, seed)
    if fast is not None:
        assert not isinstance(expected, Invalid), f"fast accepted: {expected.message}"
        assert summary(fast) == summary(expected)
    return fast


def test_the_fast_constructors_make_the_same_objects() -> None:
    user = new_user("1", "a", "2", UserType.MACHINE, ())
    assert user == User("1", "a", "2", UserType.MACHINE, ())
    assert hash(user) == hash(User("1", "a", "2", UserType.MACHINE, ()))
    assert list(user.__dict__) == list(User.__dataclass_fields__)
    factor = new_auth_factor(Factor.U2F, FactorState.NOT_READY, "7", "key")
    assert factor == AuthFactor(Factor.U2F, FactorState.NOT_READY, "7", "key")
    assert list(factor.__dict__) == list(AuthFactor.__dataclass_fields__)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixtures_and_broken_files(path: Path) -> None:
    try:
        data = parse_text(path.read_bytes().decode(), path.name, "yaml")
    except (UnicodeDecodeError, ScenarioError):
        pytest.skip("not YAML that parses")
    if isinstance(data, dict) and isinstance(data.get("orgs"), list):
        seed = data.get("seed", 0)
        check_agreement(data["orgs"], seed if isinstance(seed, int) else 0)


def test_a_generated_file_takes_the_fast_path() -> None:
    options = Options(orgs=3, users_per_org=30, seed=5, factors=parse_factor_mix("u2f=1", ()))
    assert check_agreement(scenario_data(options)["orgs"], 5) is not None


def test_ids_to_make_wait_for_every_written_one() -> None:
    # The second user's id is made after the third one's written id is taken: the same id as
    # the precise reader makes, which could otherwise be the written one.
    raw = [
        {"name": "a", "users": [{"username": "x", "id": "1"}, {"username": "y"}]},
        {"name": "b", "id": "9", "users": [{"username": "z", "auth_factors": ["u2f", "otp"]}]},
        {"name": "c", "users": [{"username": "w", "id": 12, "auth_factors": [{"type": "u2f"}]}]},
    ]
    assert check_agreement(raw, 3) is not None


@pytest.mark.parametrize(
    "raw",
    [
        [{"name": "a", "id": "b"}, {"name": "b"}],  # an org named as another org's id
        [{"name": "a", "users": [{"username": "x", "id": "y"}, {"username": "y"}]}],
        [{"name": "a", "users": [{"username": "y"}, {"username": "x", "id": "y"}]}],
        [{"name": "a", "users": [{"username": "x", "id": "1"}]}, {"name": "b", "id": 1}],
        [{"name": "a", "users": [{"username": "x", "id": None}]}],
        [{"name": "a", "users": [{"username": "x", "type": None}]}],
        [{"name": "a", "users": [{"username": "x", "auth_factors": [{"type": "otp", "id": "1"}]}]}],
        [{"name": "a", "users": [{"username": "x", "auth_factors": [{"type": "u2f", "id": " "}]}]}],
        [{"name": "a", "users": [{"username": "x", "type": "machine", "auth_factors": ["otp"]}]}],
        [{"name": "a", "users": [{"username": "x", "auth_factors": [{"type": "u2f", "name": 1}]}]}],
    ],
)
def test_mistakes_are_left_to_the_precise_reader(raw: list[Any]) -> None:
    assert isinstance(precise(raw), Invalid)
    assert read_orgs_fast(raw, 0) is None


def test_valid_but_unusual_spellings_agree() -> None:
    raw = [
        {
            "name": "a",
            "id": "x",  # a user named as an org's id: allowed
            "users": [
                {"username": "x", "id": "x"},  # named as its own id
                {"username": "b", "auth_factors": ["OTP", " otp_sms ", "SECOND_FACTOR_TYPE_U2F"]},
                {"username": "c", "auth_factors": [{"type": "otp", "state": "NOT_READY"}]},
                {"username": "d", "id": 5, "auth_factors": [{"type": "u2f", "id": 6}]},
            ],
        }
    ]
    check_agreement(raw)


# -- random data from a small vocabulary, so that names and ids meet -----------------------------

WORDS = st.sampled_from(["a", "b", "1", "2", " ", "", "u2f", "otp", "OTP", "machine", "human"])
VALUES = st.one_of(WORDS, st.none(), st.booleans(), st.integers(-1, 3), st.just([]))
FACTOR = st.one_of(
    WORDS,
    VALUES,
    st.dictionaries(st.sampled_from(["type", "id", "name", "state", "x"]), VALUES, max_size=4),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["u2f", "otp"]), "id": WORDS, "name": WORDS},
        optional={"state": st.sampled_from(["ready", "not_ready", "READY", "no"])},
    ),
)
USER = st.one_of(
    VALUES,
    st.fixed_dictionaries(
        {"username": WORDS},
        optional={
            "id": VALUES,
            "type": st.sampled_from(["human", "machine", "robot"]),
            "auth_factors": st.one_of(VALUES, st.lists(FACTOR, max_size=3)),
            "x": VALUES,
        },
    ),
)
ORG = st.one_of(
    VALUES,
    st.fixed_dictionaries(
        {"name": WORDS},
        optional={"id": VALUES, "users": st.one_of(VALUES, st.lists(USER, max_size=4))},
    ),
)


@settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(ORG, max_size=3), st.integers(0, 3))
def test_random_orgs_agree(raw: list[Any], seed: int) -> None:
    check_agreement(raw, seed)


# Mostly valid: only names, ids and factors that are right on their own, so that what decides is
# how they meet (a name that is an id, an id given twice, ids to make).
NAME = st.sampled_from(["a", "b", "c", "1", "2"])
ID = st.one_of(NAME, st.integers(1, 3))
GOOD_FACTOR = st.one_of(
    st.sampled_from(["otp", "u2f", "otp_sms", "otp_email", "OTP"]),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["u2f", "otp"])},
        optional={"id": ID, "name": NAME, "state": st.sampled_from(["ready", "not_ready"])},
    ),
)
GOOD_USER = st.fixed_dictionaries(
    {"username": NAME},
    optional={
        "id": ID,
        "type": st.just("human"),
        "auth_factors": st.lists(GOOD_FACTOR, max_size=3),
    },
)
GOOD_ORG = st.fixed_dictionaries(
    {"name": NAME}, optional={"id": ID, "users": st.lists(GOOD_USER, max_size=3)}
)


@settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(GOOD_ORG, max_size=3), st.integers(0, 3))
def test_random_valid_looking_orgs_agree(raw: list[Any], seed: int) -> None:
    check_agreement(raw, seed)
