"""ZITADEL-style ids: 18-digit Sonyflake numbers, reproducible from the seed (BEHAVIOR 7)."""

from __future__ import annotations

from datetime import datetime, timezone

from support import scenario

from zitadel_mock.ids import IdGenerator, decode, sonyflake

TEXT = """
version: 1
seed: {seed}
orgs:
  - name: A
    users: [{{username: a, auth_factors: [u2f, u2f]}}, {{username: b}}, {{username: c}}]
  - name: B
    users: [{{username: d}}]
"""


def all_ids(seed: int) -> list[str]:
    loaded = scenario(TEXT.format(seed=seed))
    ids = [o.id for o in loaded.orgs] + [u.id for u in loaded.users]
    ids += [f.id for u in loaded.users for f in u.auth_factors]
    return ids


def test_layout_of_a_known_id() -> None:
    when, sequence, machine = decode("259242039378444290")
    assert when.date() == datetime(2024, 3, 21, tzinfo=timezone.utc).date()
    assert sonyflake(259242039378444290 >> 24, sequence, machine) == "259242039378444290"


def test_generated_ids_are_18_digit_plausible_and_unique() -> None:
    ids = all_ids(7)
    assert len(ids) == 8
    assert len(set(ids)) == len(ids)
    for id in ids:
        assert id.isdigit()
        assert len(id) == 18
        when, _, _ = decode(id)
        assert (
            datetime(2024, 1, 1, tzinfo=timezone.utc)
            <= when
            < datetime(2026, 1, 1, tzinfo=timezone.utc)
        )


def test_same_seed_same_ids_other_seed_other_ids() -> None:
    assert all_ids(7) == all_ids(7)
    assert set(all_ids(7)).isdisjoint(all_ids(8))


def test_adding_a_user_keeps_the_others_ids() -> None:
    before = scenario(TEXT.format(seed=1))
    after = scenario(TEXT.format(seed=1).replace("{username: b}", "{username: new}, {username: b}"))
    assert {u.username: u.id for u in before.users}.items() <= {
        u.username: u.id for u in after.users
    }.items()


def test_generated_ids_never_equal_a_given_one() -> None:
    first = IdGenerator(0).make("user:x")
    generator = IdGenerator(0)
    generator.reserve(first)
    assert generator.make("user:x") != first
