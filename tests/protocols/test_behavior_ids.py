"""BEHAVIOR 7: ZITADEL ids are decimal Sonyflake numbers; generated ones are 18 digits, unique,
and the same for the same seed on every load."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from falcon.testing import TestClient
from testkit import SECOND_FACTORS, auth_factors

from zitadel_mock import Scenario, load_scenario, parse_scenario
from zitadel_mock.ids import EPOCH, IdGenerator, IdStream, decode, sonyflake

Make = Callable[..., TestClient]

# Orgs, users and U2F keys without ids: every id below is generated from the seed.
TEXT = """
version: 1
seed: {seed}
orgs:
  - name: ACME
    login_policy: {{second_factors: [otp_sms]}}
    members: [{{user: admin, roles: [ORG_OWNER]}}]
    users:
      - {{username: alice, auth_factors: [u2f, {{type: u2f, name: backup}}, otp]}}
      - {{username: bob, auth_factors: [u2f]}}
      - {{username: admin, type: machine}}
  - name: Globex
    users: [{{username: carol, auth_factors: [u2f]}}, {{username: dave}}]
tokens: [{{token: admin, user: admin}}]
"""


def all_ids(scenario: Scenario) -> list[str]:
    ids = [org.id for org in scenario.orgs] + [user.id for user in scenario.users]
    return ids + [f.id for user in scenario.users for f in user.auth_factors if f.id]


def load(seed: int) -> Scenario:
    return parse_scenario(TEXT.format(seed=seed))


def test_a_known_id_decodes_to_its_day() -> None:
    when, sequence, machine = decode("259242039378444290")
    assert when.date() == datetime(2024, 3, 21).date()
    assert sonyflake(259242039378444290 >> 24, sequence, machine) == "259242039378444290"


def test_the_layout_time_sequence_machine() -> None:
    id = sonyflake(100, 7, 0xBEEF)
    assert int(id) == 100 << 24 | 7 << 16 | 0xBEEF
    when, sequence, machine = decode(id)
    assert (when - EPOCH).total_seconds() == 1.0  # 100 units of 10 ms
    assert (sequence, machine) == (7, 0xBEEF)


@pytest.mark.parametrize("seed", [0, 1, 7, -5, 2**40])
def test_generated_ids_are_18_digit_sonyflakes_of_a_plausible_time(seed: int) -> None:
    ids = all_ids(load(seed))
    assert len(ids) == 11
    for id in ids:
        assert id.isdigit()
        assert len(id) == 18
        assert int(id) < 2**63
        when, sequence, machine = decode(id)
        assert (
            datetime(2024, 1, 1, tzinfo=timezone.utc)
            <= when
            < datetime(2027, 1, 1, tzinfo=timezone.utc)
        )
        assert sonyflake(int(id) >> 24, sequence, machine) == id


def test_generated_ids_are_unique() -> None:
    users = "\n".join(f"      - {{username: u{i}, auth_factors: [u2f, u2f]}}" for i in range(300))
    text = f"version: 1\norgs:\n  - name: A\n    users:\n{users}\n"
    ids = all_ids(parse_scenario(text))
    assert len(ids) == 1 + 300 + 600
    assert len(set(ids)) == len(ids)


def test_one_key_made_again_and_again_costs_the_same_each_time() -> None:
    # A factor added and removed in a loop asks for the id of the same key each time: each
    # call goes on from the last id made for it (3000 calls, not 4.5 million tries), and makes
    # what a new generator that knows the ids taken makes.
    ids = IdGenerator(5)
    started = time.monotonic()
    made = [ids.make("u2f:alice:added:0") for _ in range(3000)]
    assert time.monotonic() - started < 2
    assert len(set(made)) == len(made)
    for n in (0, 1, 2, 500, 2999):
        assert IdGenerator(5, taken=set(made[:n])).make("u2f:alice:added:0") == made[n]
    following = IdGenerator(5, taken=set(made)).make("u2f:alice:added:0")
    ids.reserve(following)  # a reserved id is skipped too
    assert ids.make("u2f:alice:added:0") not in {*made, following}


def test_the_same_seed_gives_the_same_ids_on_every_load(tmp_path: Path) -> None:
    file = tmp_path / "scenario.yaml"
    file.write_text(TEXT.format(seed=7), encoding="utf-8")
    first = all_ids(load_scenario(file))
    assert all_ids(load_scenario(file)) == first
    assert all_ids(load(7)) == first


def test_another_seed_gives_other_ids() -> None:
    assert set(all_ids(load(7))).isdisjoint(all_ids(load(8)))


def test_given_ids_are_kept_and_never_generated_again() -> None:
    taken = all_ids(load(3))
    # ACME is given the id Globex would get: Globex gets another one.
    text = TEXT.format(seed=3).replace("name: ACME\n", f'name: ACME\n    id: "{taken[1]}"\n')
    scenario = parse_scenario(text)
    assert scenario.orgs[0].id == taken[1]
    assert all_ids(scenario).count(taken[1]) == 1


def test_generated_ids_are_served(make_client: Make) -> None:
    scenario = load(7)
    acme, globex = scenario.orgs
    alice = scenario.user("alice")
    assert alice is not None
    client = make_client(scenario)
    admin = {"Authorization": "Bearer admin"}
    keys = client.simulate_post(auth_factors(alice.id), headers=admin).json["result"]
    assert [k["u2f"]["id"] for k in keys if "u2f" in k] == [
        f.id for f in alice.auth_factors if f.id
    ]
    in_acme = client.simulate_post(SECOND_FACTORS, headers={**admin, "x-zitadel-orgid": acme.id})
    assert in_acme.json["result"] == ["SECOND_FACTOR_TYPE_OTP_SMS"]
    in_globex = client.simulate_post(
        SECOND_FACTORS, headers={**admin, "x-zitadel-orgid": globex.id}
    )
    assert in_globex.status_code == 404  # Globex exists; the admin is no member there


def test_request_fields_do_not_check_the_id_format(make_client: Make) -> None:
    client = make_client(load(7))
    admin = {"Authorization": "Bearer admin"}
    # Any user id: no 400, just no factors. Any org id: no 400, just no such org.
    assert client.simulate_post(auth_factors("not-a-number"), headers=admin).json == {}
    assert client.simulate_post(auth_factors("-1"), headers=admin).json == {}
    result = client.simulate_post(SECOND_FACTORS, headers={**admin, "x-zitadel-orgid": "abc"})
    assert result.status_code == 403


def test_an_id_stream_skips_the_ids_taken_and_takes_the_rest() -> None:
    drawn = IdStream("seed", IdGenerator()).take(300)
    ids = IdGenerator(taken={drawn[1]})
    assert ids.reserve_new([drawn[0], drawn[0], drawn[1], drawn[2]]) == [drawn[0], drawn[2]]
    assert drawn[0] in ids
    assert drawn[2] in ids
    stream = IdStream("seed", IdGenerator(taken={drawn[1]}))
    assert [stream() for _ in range(3)] == [drawn[0], drawn[2], drawn[3]]
    assert all(len(id) == 18 for id in drawn)
