"""Forced rules beyond errors: after, times, then, probability, delays, latency, rate limits.

Over both apps with falcon's test client; what a real client sees of the network faults is in
test_faults_network.py.
"""

from __future__ import annotations

import random
import time
from typing import Any

import falcon.testing
import pytest
from testkit import ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, client, scenario

from zitadel_mock import ScenarioError, State, create_app
from zitadel_mock.faults import Delay
from zitadel_mock.scenario.rules import STEP_KEYS
from zitadel_mock.scenario.schema import scenario_schema

ADMIN = bearer("acme-admin")


def with_errors(errors: str, *, top: str = "") -> State:
    return State(scenario(MAIN + top + "errors:\n" + errors))


def statuses(c: falcon.testing.TestClient, count: int, **headers: str) -> list[int]:
    return [
        c.simulate_post(SECOND_FACTORS, headers={**ADMIN, **headers}).status_code
        for _ in range(count)
    ]


# -- selection: after, times, then --------------------------------------------------------------


def test_after_lets_requests_pass_first(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE, after: 2, times: 1}\n")
    assert statuses(client(state, asgi), 4) == [200, 200, 503, 200]


def test_then_takes_over_once_times_are_used_up(asgi: bool) -> None:
    state = with_errors(
        "  - code: UNAVAILABLE\n"
        "    times: 2\n"
        "    then: {code: INTERNAL, times: 1, then: {after: 1, code: NOT_FOUND, times: 1}}\n"
    )
    assert statuses(client(state, asgi), 7) == [503, 503, 500, 200, 404, 200, 200]


def test_then_answer_normally_but_slowly(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE, times: 2, then: {delay: 0.01}}\n")
    c = client(state, asgi)
    assert statuses(c, 3) == [503, 503, 200]
    calls = state.journal.calls()
    assert [c.forced for c in calls] == [True, True, False]
    assert calls[2].injected is not None
    assert (calls[2].injected.step, calls[2].injected.delay) == (1, 0.01)


def test_each_rule_counts_every_matching_request(asgi: bool) -> None:
    # The second rule's after counts the two requests the first rule answered.
    state = with_errors(
        "  - {code: UNAVAILABLE, times: 2}\n  - {code: INTERNAL, after: 2, times: 1}\n"
    )
    assert statuses(client(state, asgi), 4) == [503, 503, 500, 200]


def test_rules_match_their_route_and_user(asgi: bool) -> None:
    state = with_errors("  - {rpc: ListHumanAuthFactors, user: alice, code: 5, after: 1}\n")
    c = client(state, asgi)
    for _ in range(3):
        assert c.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 200
    assert c.simulate_post(auth_factors(ALICE), headers=ADMIN).status_code == 200
    assert c.simulate_post(auth_factors(ALICE), headers=ADMIN).status_code == 404


def test_listed_rules_count_the_uses_left_of_their_chain() -> None:
    state = with_errors(
        "  - {code: 14, times: 2, then: {delay: 0.5, times: 3}}\n"
        "  - {code: 13, times: 1, then: {delay: 0.5}}\n"
    )
    assert [left for _, left in state.errors()] == [5, None]
    statuses(client(state, False), 1)
    assert [left for _, left in state.errors()] == [4, None]


# -- probability and reproducibility -------------------------------------------------------------

RANDOM = """\
  - {code: UNAVAILABLE, probability: 0.3, after: 1}
  - {delay: {uniform: [0, 0.002]}, probability: 0.5, times: 10}
  - code: INTERNAL
    times: 3
    probability: 0.5
    then: {delay: {lognormal: {median: 0.001, sigma: 0.5}}}
"""


def outcomes(state: State, count: int = 40) -> list[tuple[int, Any]]:
    c = client(state, False)
    statuses(c, count)
    return [
        (call.status, call.injected and (call.injected.rule, call.injected.delay))
        for call in state.journal.calls()
    ]


def test_probability_and_delays_are_the_same_for_a_seed() -> None:
    first = outcomes(with_errors(RANDOM, top="seed: 42\n"))
    again = outcomes(with_errors(RANDOM, top="seed: 42\n"))
    assert first == again
    assert {status for status, _ in first} == {200, 500, 503}
    assert len({delay for _, injected in first if injected for delay in [injected[1]]}) > 5
    assert outcomes(with_errors(RANDOM, top="seed: 43\n")) != first


def test_a_reset_replays_the_same_outcomes() -> None:
    state = with_errors(RANDOM, top="seed: 7\n")
    first = outcomes(state)
    state.reset()
    assert outcomes(state) == first


def test_rules_added_at_run_time_are_reproducible_too() -> None:
    def run() -> list[int]:
        state = State(scenario(MAIN + "seed: 3\n"))
        state.add_error(code="UNAVAILABLE", probability=0.5)
        return statuses(client(state, False), 30)

    assert run() == run()
    assert set(run()) == {200, 503}


def test_probability_zero_and_one(asgi: bool) -> None:
    state = with_errors("  - {code: 14, probability: 0}\n  - {code: 13, probability: 1}\n")
    assert statuses(client(state, asgi), 3) == [500, 500, 500]


def test_delay_distributions_draw_within_their_bounds() -> None:
    rng = random.Random(1)
    assert Delay("fixed", 0.25).draw(rng) == 0.25
    uniform = [Delay("uniform", 0.1, 0.2).draw(rng) for _ in range(500)]
    assert min(uniform) >= 0.1
    assert max(uniform) <= 0.2
    lognormal = sorted(Delay("lognormal", 0.05, 0.5).draw(rng) for _ in range(2001))
    assert 0.045 < lognormal[1000] < 0.055  # the median
    assert Delay("lognormal", 1000, 10).draw(rng) <= 3600  # draws are cut at an hour


# -- delays and latency --------------------------------------------------------------------------


def test_a_delay_alone_delays_the_normal_answer(asgi: bool) -> None:
    state = with_errors("  - {delay: 0.1, times: 1}\n")
    c = client(state, asgi)
    started = time.monotonic()
    assert c.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 200
    assert time.monotonic() - started >= 0.1
    started = time.monotonic()
    assert c.simulate_post(SECOND_FACTORS, headers=ADMIN).status_code == 200
    assert time.monotonic() - started < 0.1


def test_a_delay_with_a_code(asgi: bool) -> None:
    state = with_errors("  - {delay: 0.05, code: UNAVAILABLE, message: slow and down}\n")
    started = time.monotonic()
    answer = client(state, asgi).simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert time.monotonic() - started >= 0.05
    assert (answer.status_code, answer.json) == (503, {"code": 14, "message": "slow and down"})


def test_latency_is_added_to_every_answer(asgi: bool) -> None:
    state = State(scenario(MAIN + "latency: {uniform: [0.02, 0.03]}\n"))
    state.add_error(code="UNAVAILABLE", delay=0.01, times=1)
    c = client(state, asgi)
    assert statuses(c, 2) == [503, 200]
    first, second = (call.injected for call in state.journal.calls())
    assert first is not None
    assert second is not None
    assert 0.03 <= first.delay <= 0.04
    assert (second.rule, second.code) == (None, None)
    assert 0.02 <= second.delay <= 0.03


def test_the_journal_says_what_was_injected(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE, times: 1, then: {fault: malformed_body}}\n")
    c = client(state, asgi)
    statuses(c, 2)
    calls = [call.to_dict() for call in state.journal.calls()]
    assert calls[0]["injected"] == {
        "rule": 0,
        "step": 0,
        "code": "UNAVAILABLE",
        "fault": None,
        "delay": 0,
        "rate_limited": False,
    }
    assert calls[1]["injected"]["fault"] == "malformed_body"
    assert (calls[1]["status"], calls[1]["answer"], calls[1]["forced"]) == (200, None, True)


# -- malformed bodies and timeouts in-process ----------------------------------------------------


def test_malformed_body_is_the_answer_cut_in_half(asgi: bool) -> None:
    state = with_errors("  - {fault: malformed_body, times: 1}\n")
    c = falcon.testing.TestClient(create_app(state, asgi=asgi))  # unchecked: the body is broken
    broken = c.simulate_post(SECOND_FACTORS, headers=ADMIN)
    whole = c.simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert broken.status_code == 200
    assert broken.content == whole.content[: len(whole.content) // 2]
    assert broken.headers["content-length"] == str(len(broken.content))


def test_a_timeout_answers_504_once_its_hold_has_passed(asgi: bool) -> None:
    # In-process there is no client to give up: the hold passes, then the gateway's 504.
    state = with_errors("  - {fault: timeout, hold: 0.05}\n")
    started = time.monotonic()
    answer = client(state, asgi).simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert time.monotonic() - started >= 0.05
    assert (answer.status_code, answer.json) == (
        504,
        {"code": 4, "message": "context deadline exceeded"},
    )
    assert state.journal.calls()[0].status == 0  # no answer was planned


def test_socket_faults_without_waitress_are_a_clear_server_error() -> None:
    state = with_errors("  - {fault: connection_reset}\n")
    answer = client(state, False).simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert answer.status_code == 500
    assert "the connection_reset fault needs the socket" in state.server_errors[0]


# -- the ASGI app cannot drop connections ---------------------------------------------------------


@pytest.mark.parametrize("fault", ["connection_reset", "empty_response", "random_data_then_close"])
def test_asgi_refuses_socket_faults_in_the_scenario(fault: str) -> None:
    loaded = scenario(MAIN + f"errors:\n  - {{code: 14, times: 1, then: {{fault: {fault}}}}}\n")
    with pytest.raises(ScenarioError) as raised:
        create_app(loaded, asgi=True)
    assert str(raised.value) == (
        f"test.yaml: errors[0].then.fault: the {fault} fault needs the socket, which an ASGI "
        "app does not own; serve with MockServer or zitadel-mock serve (waitress) for it"
    )
    create_app(loaded)  # the WSGI app takes it


def test_asgi_refuses_socket_faults_added_later() -> None:
    state = State(scenario(MAIN))
    create_app(state, asgi=True)
    with pytest.raises(ScenarioError, match="the empty_response fault needs the socket"):
        state.add_error(fault="empty_response")
    assert state.errors() == []
    state.add_error(fault="timeout", hold=1)  # these the ASGI app can do
    state.add_error(fault="malformed_body")
    state.add_error(delay=0.5)


def test_asgi_control_api_refuses_socket_faults() -> None:
    state = State(scenario(MAIN))
    c = falcon.testing.TestClient(create_app(state, asgi=True, control=True))
    answer = c.simulate_post("/_mock/errors", json={"fault": "connection_reset"})
    assert answer.status_code == 422
    assert answer.json["error"].startswith("fault: the connection_reset fault needs the socket")
    replaced = c.simulate_put(
        "/_mock/scenario", body=MAIN + "errors: [{fault: random_data_then_close}]\n"
    )
    assert replaced.status_code == 422
    assert "errors[0].fault: the random_data_then_close fault" in replaced.json["error"]


# -- rate limiting -------------------------------------------------------------------------------


def test_rate_limit_per_token(asgi: bool) -> None:
    state = State(scenario(MAIN + "rate_limit: {requests: 2, window: 0.3}\n"))
    c = client(state, asgi)
    assert statuses(c, 3) == [200, 200, 429]
    other = c.simulate_post(SECOND_FACTORS, headers=bearer("acme-settings"))
    assert other.status_code == 200  # another token has its own window
    limited = c.simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert limited.json == {"code": 8, "message": "quota exceeded"}
    assert state.journal.calls()[-1].injected is not None
    assert state.journal.calls()[-1].injected.rate_limited
    time.sleep(0.3)
    assert statuses(c, 1) == [200]  # a new window


def test_rate_limit_message_and_id(asgi: bool) -> None:
    text = MAIN + "rate_limit: {requests: 1, window: 60, message: Too many, id: QUOTA-x1}\n"
    c = client(State(scenario(text)), asgi)
    statuses(c, 1)
    answer = c.simulate_post(SECOND_FACTORS, headers=ADMIN)
    assert answer.status_code == 429
    assert answer.json == {
        "code": 8,
        "message": "Too many (QUOTA-x1)",
        "details": [
            {
                "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                "id": "QUOTA-x1",
                "message": "Too many",
            }
        ],
    }


def test_rate_limit_comes_before_forced_rules(asgi: bool) -> None:
    state = State(scenario(MAIN + "rate_limit: {requests: 1, window: 60}\n"))
    state.add_error(code="UNAVAILABLE", times=2)
    assert statuses(client(state, asgi), 3) == [503, 429, 429]
    assert [left for _, left in state.errors()] == [1]  # the limited calls never reached it


# -- the same fields everywhere -------------------------------------------------------------------


def test_the_schema_and_the_reader_know_the_same_rule_keys() -> None:
    step = scenario_schema()["definitions"]["step"]
    assert tuple(step["properties"]) == STEP_KEYS


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "missing required key: one of 'code', 'fault', 'delay'"),
        (
            {"fault": "reset"},
            "fault: 'reset' is not one of connection_reset, empty_response, "
            "malformed_body, random_data_then_close, timeout",
        ),
        (
            {"code": 14, "then": {"delay": 1}},
            "then: then takes over once times are used up: add times",
        ),
        (
            {"delay": {"uniform": [2, 1]}},
            "delay.uniform: the low bound 2 is above the high bound 1",
        ),
        (
            {"code": 14, "probability": 2},
            "probability: expected a number from 0 to 1, got a number (2)",
        ),
        (
            {"code": 14, "times": 1, "then": {"org": "ACME", "code": 13}},
            "then.org: then takes over the requests of its rule; org goes on the rule",
        ),
    ],
)
def test_fail_and_the_control_api_read_rules_alike(fields: dict[str, Any], error: str) -> None:
    state = State(scenario(MAIN))
    with pytest.raises(ScenarioError) as raised:
        state.add_error(**fields)
    assert str(raised.value).endswith(error)
    c = falcon.testing.TestClient(create_app(state, control=True))
    answer = c.simulate_post("/_mock/errors", json=fields)
    assert (answer.status_code, answer.json["error"]) == (422, error)


def test_control_api_lists_the_new_fields() -> None:
    state = State(scenario(MAIN))
    c = falcon.testing.TestClient(create_app(state, control=True))
    body = {
        "rpc": "ListHumanAuthFactors",
        "code": "UNAVAILABLE",
        "times": 2,
        "after": 1,
        "probability": 0.5,
        "delay": {"lognormal": {"median": 0.2, "sigma": 0.5}},
        "then": {"fault": "timeout", "hold": 2, "times": 1},
    }
    added = c.simulate_post("/_mock/errors", json=body)
    assert added.status_code == 201
    assert added.json == {
        "rpc": "ListHumanAuthFactors",
        "user_id": None,
        "org_id": None,
        "code": "UNAVAILABLE",
        "message": None,
        "id": None,
        "times": 2,
        "after": 1,
        "probability": 0.5,
        "delay": {"lognormal": {"median": 0.2, "sigma": 0.5}},
        "fault": None,
        "hold": None,
        "then": {
            "code": None,
            "message": None,
            "id": None,
            "times": 1,
            "after": 0,
            "probability": None,
            "delay": None,
            "fault": "timeout",
            "hold": 2.0,
            "then": None,
        },
        "remaining": 3,
        "origin": "POST /_mock/errors",
    }
