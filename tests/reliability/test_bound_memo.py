"""The answer memo holds keys of a bounded size: a client's oversized header is never kept."""

from __future__ import annotations

from testkit import ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, client, scenario

from zitadel_mock import State
from zitadel_mock.answers import MEMO_KEY


def test_the_memo_skips_oversized_keys_of_every_kind() -> None:
    state = State(scenario(MAIN))
    c = client(state, asgi=False)
    big = "9" * 100_000
    for n in range(20):
        value = f"{n}{big}"
        oversized = [  # an org id header, a token, a user id in the path
            (SECOND_FACTORS, {**bearer("acme-admin"), "x-zitadel-orgid": value}),
            (SECOND_FACTORS, bearer(value)),
            (auth_factors(value), bearer("acme-admin")),
        ]
        for path, headers in oversized:
            assert c.simulate_post(path, headers=headers).status_code != 200
    state.journal.clear()  # what is left is the memo alone
    kept = sum(len(part or "") for key in state.view.answers for part in key)
    assert kept <= MEMO_KEY
    assert len(state.view.answers) == 0
    # Keys of a sane size are still kept.
    assert c.simulate_post(auth_factors(ALICE), headers=bearer("acme-admin")).status_code == 200
    assert len(state.view.answers) == 1
