"""Per-call cost of the usage tracker behind GET /_mock/usage, in process (BENCHMARKS.md).

Every call `serve` answers is counted for the usage report; this times that count alone, for
one call repeated (the common case: most calls repeat one seen before), best of three runs.
"""

from __future__ import annotations

import timeit

from zitadel_mock import MockServer, parse_scenario
from zitadel_mock.journal import Call
from zitadel_mock.usage import UsageTracker

CALLS = 200_000


def main() -> None:
    users = "\n".join(f"      - {{username: user{i}, auth_factors: [otp]}}" for i in range(1000))
    tokens = "\n".join(f"  - {{token: tok{i}, user: user{i}}}" for i in range(1000))
    text = f"version: 1\norgs:\n  - name: A\n    users:\n{users}\ntokens:\n{tokens}\n"
    scenario = parse_scenario(text, source="bench.yaml")
    tracker = UsageTracker(MockServer(scenario).namespaces)
    user = scenario.users[5]
    path = f"/management/v1/users/{user.id}/auth_factors/_search"
    call = Call("ListHumanAuthFactors", "POST", path, user.id, user.org_id, "tok5", 200, b"{}")
    best = min(timeit.timeit(lambda: tracker.observe(call), number=CALLS) for _ in range(3))
    print(f"usage tracker: {best / CALLS * 1e6:.2f} us a call (best of 3 x {CALLS:,})")


if __name__ == "__main__":
    main()
