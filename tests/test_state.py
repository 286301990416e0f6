"""The live state: changes, forced errors and the journal, and their reset."""

from __future__ import annotations

from testkit import ACME, ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, client, scenario

from zitadel_mock import State


def with_errors(errors: str) -> State:
    return State(scenario(MAIN + "errors:\n" + errors))


def test_added_forced_error_then_reset(asgi: bool) -> None:
    state = State(scenario(MAIN))
    c = client(state, asgi)
    state.add_error(rpc="ListLoginPolicySecondFactors", code="RESOURCE_EXHAUSTED", times=1)
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 429
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 200
    state.add_error(code=14)
    state.reset()
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 200


def test_scenario_rule_counts_start_again_after_reset(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE, times: 1}\n")
    c = client(state, asgi)
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 503
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 200
    state.reset()
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 503


def test_rate_limit_windows_start_again_after_reset(asgi: bool) -> None:
    state = State(scenario(MAIN + "rate_limit: {requests: 1, window: 60}\n"))
    c = client(state, asgi)
    codes = [c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code]
    codes.append(c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code)
    state.reset()
    codes.append(c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code)
    assert codes == [200, 429, 200]


def test_reset_tells_the_server_whether_answers_may_wait() -> None:
    calm, slow = State(scenario(MAIN)), State(scenario(MAIN + "latency: 0.001\n"))
    assert (calm.serving.slow, slow.serving.slow) == (False, True)
    calm.add_error(code="UNAVAILABLE", delay=0.01)
    assert calm.serving.slow
    calm.reset()  # the delayed rule is gone
    assert not calm.serving.slow
    slow.reset()  # the scenario's latency stays
    assert slow.serving.slow


def test_journal_records_each_call(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE, times: 1}\n")
    c = client(state, asgi)
    c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin"))
    c.simulate_post(auth_factors(ALICE), headers=bearer("acme-admin"))
    c.simulate_get("/nope")
    calls = state.journal.calls()
    assert [(call.rpc, call.status, call.forced) for call in calls] == [
        ("ListLoginPolicySecondFactors", 503, True),
        ("ListHumanAuthFactors", 200, False),
        (None, 404, False),
    ]
    assert (calls[1].user_id, calls[1].org_id, calls[1].token) == (ALICE, ACME, "acme-admin")
    assert calls[1].answer["result"][0] == {"state": "AUTH_FACTOR_STATE_READY", "otp": {}}
    state.reset()
    assert state.journal.calls() == []


def test_changes_are_undone_by_reset(asgi: bool) -> None:
    state = State(scenario(MAIN))
    c = client(state, asgi)
    state.set_second_factors("ACME", ["otp"])
    state.add_factor("bob", "otp_sms")
    state.add_token("new", "alice")
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).json["result"] == [
        "SECOND_FACTOR_TYPE_OTP"
    ]
    state.reset()
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).json["result"] == [
        "SECOND_FACTOR_TYPE_OTP_EMAIL",
        "SECOND_FACTOR_TYPE_U2F",
    ]
    assert (
        c.simulate_post(auth_factors("259242039378444294"), headers=bearer("acme-admin")).json == {}
    )
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("new")).status_code == 401


def test_adding_a_user_keeps_the_others_ids() -> None:
    text = "version: 1\nseed: 1\norgs: [{name: A, users: [{username: a}, {username: b}]}]\n"
    before = scenario(text)
    after = scenario(text.replace("{username: b}", "{username: new}, {username: b}"))
    ids_after = {u.username: u.id for u in after.users}
    assert all(ids_after[u.username] == u.id for u in before.users)


def test_a_bare_u2f_name_gets_a_generated_id() -> None:
    loaded = scenario(
        "version: 1\norgs: [{name: A, users: [{username: u, auth_factors: [u2f]}]}]\n"
    )
    assert len(loaded.users[0].auth_factors[0].id) == 18
