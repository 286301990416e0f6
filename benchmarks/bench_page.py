"""The live page's poll, GET /_mock/page.json: its time and size as the journal fills.

Run: .venv/bin/python benchmarks/bench_page.py
A full journal (10,000 calls) of the main test scenario's calls, and a scenario of 100,000
users (the page lists 500); each figure is the median of 20 polls over a keep-alive session.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from testkit import ALICE, MAIN, auth_factors, bearer, scenario

from zitadel_mock import MockServer, State, parse_scenario


def poll(session: requests.Session, url: str, params: dict[str, str] | None = None) -> str:
    times, size = [], 0
    for _ in range(20):
        start = time.perf_counter()
        answer = session.get(url + "/_mock/page.json", params=params)
        times.append(time.perf_counter() - start)
        size = len(answer.content)
    return f"{statistics.median(times) * 1000:.1f} ms, {size / 1024:.0f} KiB"


def main() -> None:
    with MockServer(State(scenario(MAIN))) as mock, requests.Session() as session:
        print("empty journal:", poll(session, mock.url))
        for _ in range(10_000):
            session.post(mock.url + auth_factors(ALICE), headers=bearer("acme-admin"))
        print("10,000 calls:", poll(session, mock.url))
        print("10,000 calls, status=401 filter:", poll(session, mock.url, {"status": "401"}))
    big = parse_scenario("version: 1\nseed: 1\ngenerate: {orgs: 1000, users_per_org: 100}\n")
    with MockServer(State(big)) as mock, requests.Session() as session:
        print("100,000 users:", poll(session, mock.url))


if __name__ == "__main__":
    main()
