"""Forced errors and the gRPC-to-HTTP table (BEHAVIOR 6)."""

from __future__ import annotations

import pytest
from support import (
    ACME,
    ALICE,
    CAROL,
    GLOBEX,
    MAIN,
    SECOND_FACTORS,
    auth_factors,
    bearer,
    checked,
    client,
    scenario,
)

from zitadel_mock import State

TABLE = [
    (1, "CANCELLED", 499),
    (2, "UNKNOWN", 500),
    (3, "INVALID_ARGUMENT", 400),
    (4, "DEADLINE_EXCEEDED", 504),
    (5, "NOT_FOUND", 404),
    (6, "ALREADY_EXISTS", 409),
    (7, "PERMISSION_DENIED", 403),
    (8, "RESOURCE_EXHAUSTED", 429),
    (9, "FAILED_PRECONDITION", 400),
    (10, "ABORTED", 409),
    (11, "OUT_OF_RANGE", 400),
    (12, "UNIMPLEMENTED", 501),
    (13, "INTERNAL", 500),
    (14, "UNAVAILABLE", 503),
    (15, "DATA_LOSS", 500),
    (16, "UNAUTHENTICATED", 401),
]


def with_errors(errors: str) -> State:
    return State(scenario(MAIN + "errors:\n" + errors))


@pytest.mark.parametrize(("code", "name", "status"), TABLE)
@pytest.mark.parametrize("spelling", ["name", "number", "lower"])
def test_code_to_http_status(asgi: bool, code: int, name: str, status: int, spelling: str) -> None:
    value = {"name": name, "number": str(code), "lower": name.lower()}[spelling]
    state = with_errors(f"  - {{code: {value}, message: boom}}\n")
    result = client(state, asgi).simulate_post(SECOND_FACTORS, headers=bearer("acme-admin"))
    assert result.status_code == status
    assert result.content == b'{"code":%d,"message":"boom"}' % code
    if status == 401:
        assert result.headers["www-authenticate"] == "boom"


def test_an_id_adds_it_to_the_message_and_one_detail(asgi: bool) -> None:
    state = with_errors(
        '  - {code: INTERNAL, message: "An internal error occurred", id: QUERY-abc12}\n'
    )
    result = client(state, asgi).simulate_post(SECOND_FACTORS, headers=bearer("acme-admin"))
    assert result.status_code == 500
    assert checked(result) == {
        "code": 13,
        "message": "An internal error occurred (QUERY-abc12)",
        "details": [
            {
                "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                "id": "QUERY-abc12",
                "message": "An internal error occurred",
            }
        ],
    }


def test_a_default_message_per_code(asgi: bool) -> None:
    state = with_errors("  - {code: INTERNAL}\n")
    result = client(state, asgi).simulate_post(SECOND_FACTORS, headers=bearer("acme-admin"))
    assert result.json == {"code": 13, "message": "An internal error occurred"}


def test_forced_errors_come_before_the_auth_checks(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE}\n")
    result = client(state, asgi).simulate_post(SECOND_FACTORS)  # no Authorization
    assert result.status_code == 503


def test_times_limits_a_rule_then_normal_answers(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE, times: 2}\n")
    c = client(state, asgi)
    statuses = [
        c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code for _ in range(4)
    ]
    assert statuses == [503, 503, 200, 200]


def test_rules_are_tried_in_order(asgi: bool) -> None:
    state = with_errors("  - {code: NOT_FOUND, times: 1}\n  - {code: INTERNAL}\n")
    c = client(state, asgi)
    statuses = [
        c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code for _ in range(3)
    ]
    assert statuses == [404, 500, 500]


def test_rpc_filter(asgi: bool) -> None:
    state = with_errors("  - {rpc: ListHumanAuthFactors, code: UNAVAILABLE}\n")
    c = client(state, asgi)
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 200
    assert c.simulate_post(auth_factors(ALICE), headers=bearer("acme-admin")).status_code == 503


def test_user_filter_by_username_or_id(asgi: bool) -> None:
    for ref in ("alice", ALICE):
        state = with_errors(f'  - {{user: "{ref}", code: UNAVAILABLE}}\n')
        c = client(state, asgi)
        assert c.simulate_post(auth_factors(ALICE), headers=bearer("acme-admin")).status_code == 503
        assert c.simulate_post(auth_factors(CAROL), headers=bearer("acme-admin")).status_code == 200
        assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 200


def test_org_filter_uses_the_header_else_the_callers_org(asgi: bool) -> None:
    state = with_errors("  - {org: Globex, code: UNAVAILABLE}\n")
    c = client(state, asgi)
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin")).status_code == 200
    assert c.simulate_post(SECOND_FACTORS, headers=bearer("globex-admin")).status_code == 503
    to_globex = {**bearer("acme-admin"), "x-zitadel-orgid": GLOBEX}
    assert c.simulate_post(SECOND_FACTORS, headers=to_globex).status_code == 503
    to_acme = {**bearer("iam-viewer"), "x-zitadel-orgid": ACME}
    assert c.simulate_post(SECOND_FACTORS, headers=to_acme).status_code == 200


def test_state_forced_error_and_reset(asgi: bool) -> None:
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


def test_journal_marks_forced_answers(asgi: bool) -> None:
    state = with_errors("  - {code: UNAVAILABLE, times: 1}\n")
    c = client(state, asgi)
    c.simulate_post(SECOND_FACTORS, headers=bearer("acme-admin"))
    c.simulate_post(auth_factors(ALICE), headers=bearer("acme-admin"))
    calls = state.journal.calls()
    assert [(call.rpc, call.status, call.forced) for call in calls] == [
        ("ListLoginPolicySecondFactors", 503, True),
        ("ListHumanAuthFactors", 200, False),
    ]
    assert calls[1].user_id == ALICE
    assert calls[1].org_id == ACME
    assert calls[1].token == "acme-admin"
    assert calls[1].answer["result"][0] == {"state": "AUTH_FACTOR_STATE_READY", "otp": {}}
