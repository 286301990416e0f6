"""Answers are worked out once per snapshot of the state: never an answer of an older one."""

from __future__ import annotations

from testkit import ACME, ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, client, scenario

from zitadel_mock import State
from zitadel_mock.answers import MEMO_KEY, MEMO_SIZE, Request, handle


def second_factors(state: State, token: str = "acme-admin") -> list[str]:
    answer = client(state, asgi=False).simulate_post(SECOND_FACTORS, headers=bearer(token))
    return list(answer.json.get("result", []))


def test_a_change_is_answered_at_once_and_a_reset_answers_the_scenario_again() -> None:
    state = State(scenario(MAIN))
    before = second_factors(state)
    assert before == ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"]
    state.set_second_factors("ACME", ["otp"])
    assert second_factors(state) == ["SECOND_FACTOR_TYPE_OTP"]
    state.reset()
    assert second_factors(state) == before


def test_a_factor_added_or_removed_after_an_answer_shows_in_the_next() -> None:
    state = State(scenario(MAIN))
    c = client(state, asgi=False)

    def count() -> int:
        return len(
            c.simulate_post(auth_factors(ALICE), headers=bearer("acme-admin")).json["result"]
        )

    assert count() == 4
    factor = state.add_factor(ALICE, {"type": "u2f", "name": "spare"})
    assert count() == 5
    state.remove_factor(ALICE, factor.id)
    assert count() == 4


def test_a_token_added_after_a_refusal_is_accepted() -> None:
    state = State(scenario(MAIN))
    c = client(state, asgi=False)
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("new")).status_code == 401
    state.add_token("new", "acme-admin")
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("new")).status_code == 200


def test_every_call_is_journaled_even_when_its_answer_is_known() -> None:
    state = State(scenario(MAIN))
    for _ in range(3):
        second_factors(state)
    assert [call.status for call in state.journal.calls()] == [200, 200, 200]


def test_a_forced_error_wins_over_a_known_answer() -> None:
    state = State(scenario(MAIN))
    second_factors(state)
    state.add_error(rpc="ListLoginPolicySecondFactors", code="UNAVAILABLE", times=1)
    c = client(state, asgi=False)
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 503
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 200


def test_the_memo_is_bounded_in_entries_and_skips_huge_keys() -> None:
    state = State(scenario(MAIN))
    for n in range(MEMO_SIZE + 10):
        handle(state, Request("ListLoginPolicySecondFactors", "POST", "/", f"Bearer t{n}", ACME))
    assert 0 < len(state.view.answers) <= MEMO_SIZE
    state.view.answers.clear()
    huge = "Bearer " + "x" * MEMO_KEY
    answer = handle(state, Request("ListLoginPolicySecondFactors", "POST", "/", huge, ACME))
    assert answer.status == 401
    assert state.view.answers == {}
