"""Soak: a server under steady load while its state changes; its memory stays flat.

Client threads in another process (``soak_client.py``: none of them takes the server's time)
send a mix of requests over keep-alive connections (both routes, a bad token, an unknown path, a
wrong method), while a steering thread forces errors and delays, changes the
login policy and a user's factors (through the ``ZitadelMock`` handle and the control API) and
reads the journal. After a warm-up, the memory blocks that Python's objects hold
(``sys.getallocatedblocks``, after a full collection) and the resident set (``/proc/self/statm``)
are measured; again at the end. (tracemalloc would give bytes, but it slows the server down
five to eight times: the soak would see a tenth of the requests.)

The journal is the one store that grows with the requests; its bound keeps memory flat. The
short soak shows that the measure can fail: the same load on a server whose journal keeps every
call grows by about six blocks per request, which the bound would catch many times over.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from soak_client import exchange

from zitadel_mock import MockServer, parse_scenario
from zitadel_mock.namespaces import Namespaces
from zitadel_mock.testing import ZitadelMock

SCENARIO = """
version: 1
orgs:
  - name: ACME
    members: [{user: admin, roles: [ORG_OWNER]}]
    users:
      - {username: alice, auth_factors: [otp, {type: u2f, name: "YubiKey 5"}]}
      - {username: bob}
      - {username: admin, type: machine}
tokens:
  - {token: admin-token, user: admin}
"""
JOURNAL = 500  # the journal bound of the soaked server
CLIENTS = 3  # threads of the load process, each on a keep-alive connection
PACE = 0.002  # seconds between two state changes
CLIENT = Path(__file__).with_name("soak_client.py")
WARM_UP = 2000  # requests before the first measure: caches, worker threads, a full journal
# The blocks the server may gain between the two measures: caches that fill on their own clock
# (the formatted second of each Expires, up to 64) and worker threads started late by a delay
# (up to 64); measured: +70 to +1100 over 6000 requests. An unbounded journal passes it within
# 700 requests.
FLAT = 4000
# The resident set also holds allocator arenas, fragmentation and the peaks of reading a whole
# journal as JSON: measured +1 to +3 MiB over 6000 requests, so the bound is looser.
RSS_FLAT = 16 << 20


@dataclass
class Load:
    """What the clients and the steering did, and what went wrong."""

    requests: int = 0
    changes: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, report: dict[str, Any]) -> None:
        """Add a load process's report."""
        self.requests += report["requests"]
        for status, count in report["statuses"].items():
            self.statuses[int(status)] = self.statuses.get(int(status), 0) + count
        self.problems += report["problems"]


@dataclass
class Figures:
    """One soak, measured."""

    requests: int  # after the warm-up
    seconds: float
    python: list[int]  # Python's allocated blocks after the warm-up, then after each part
    rss: list[int]  # bytes, the same
    threads: int  # of this process, at the end
    journal: int
    dropped: int
    load: Load

    @property
    def growth(self) -> int:
        return self.python[-1] - self.python[0]

    @property
    def rss_growth(self) -> int:
        return self.rss[-1] - self.rss[0]

    def line(self) -> str:
        blocks = " -> ".join(str(value) for value in self.python)
        mib = " -> ".join(f"{value / (1 << 20):.1f}" for value in self.rss)
        return (
            f"soak: {self.requests} requests and {self.load.changes} state changes in "
            f"{self.seconds:.1f} s ({self.requests / self.seconds:.0f}/s); python blocks "
            f"{blocks} ({self.growth:+d}); rss {mib} MiB; {self.threads} threads; journal "
            f"{self.journal}, dropped {self.dropped}; statuses "
            f"{dict(sorted(self.load.statuses.items()))}"
        )


def rss() -> int:
    """The resident set of this process, in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def python_memory() -> int:
    """The memory blocks Python's objects hold, after a full collection."""
    gc.collect()
    return sys.getallocatedblocks()


def steer(mock: ZitadelMock, stop: threading.Event, load: Load, bound: int) -> None:
    """Change the state all the time, through the handle and the control API."""
    rule = json.dumps({"code": "INTERNAL", "times": 1}).encode()
    post_rule = (
        b"POST /_mock/errors HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(rule), rule)
    )
    read_journal = b"GET /_mock/journal HTTP/1.1\r\nHost: mock\r\n\r\n"
    with socket.create_connection((mock.server.host, mock.server.port), timeout=30) as control:
        step = 0
        while not stop.wait(PACE):
            step += 1
            mock.set_second_factors("ACME", ["otp_email"] if step % 2 else None)
            # With its id given: a generated id stays reserved until a reset (no id is made
            # twice in a run), so a loop of generated ids would keep one more id each time.
            mock.add_factor("alice", {"type": "u2f", "name": f"key {step}", "id": "900"})
            mock.remove_factor("alice", "900")
            if step % 5 == 0:
                mock.fail("ListHumanAuthFactors", code="UNAVAILABLE", times=1)
            if step % 50 == 0:  # a delay: requests go to worker threads until it is used
                mock.fail("ListHumanAuthFactors", delay=0.001, times=1)
            if step % 20 == 0:
                status, _ = exchange(control, post_rule)
                status, body = exchange(control, read_journal)
                journal = json.loads(body)
                counts = len(journal["calls"]), journal["total"], journal["max"]
                if status != 200 or max(counts[:2]) > bound or counts[2] != bound:
                    seen = f"{status}, (calls, total, max) = {counts}"
                    load.problems.append(f"GET /_mock/journal: {seen}")
            if len(mock.requests) > bound:
                load.problems.append(f"the journal holds {len(mock.requests)} calls")
            load.changes += 1


def phase(mock: ZitadelMock, load: Load, bound: int, requests: int, seconds: float) -> None:
    """Load the server from another process, steering it meanwhile, until the load is done."""
    ids = json.dumps({user.username: user.id for user in mock.scenario.users})
    command = [sys.executable, str(CLIENT), mock.server.host, str(mock.server.port)]
    command += [str(CLIENTS), str(requests), str(seconds), ids]
    stop = threading.Event()
    steering = threading.Thread(target=steer, args=(mock, stop, load, bound))
    steering.start()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 600)
    finally:
        stop.set()
        steering.join()
    assert done.returncode == 0, done.stderr
    load.add(json.loads(done.stdout))


def run(bound: int, requests: int = 0, seconds: float = 0.0, parts: int = 1) -> Figures:
    """Soak a new server whose journal keeps ``bound`` calls, for ``requests`` or ``seconds``
    in all, measured after the warm-up and after each of ``parts`` equal parts."""
    load = Load()
    python, resident = [], []
    with MockServer(Namespaces(parse_scenario(SCENARIO), journal_size=bound)) as server:
        mock = ZitadelMock(server)
        phase(mock, load, bound, WARM_UP, 0)
        warmed = load.requests
        started = time.monotonic()
        for _ in range(parts):
            python.append(python_memory())
            resident.append(rss())
            phase(mock, load, bound, requests // parts, seconds / parts)
        elapsed = time.monotonic() - started
        python.append(python_memory())
        resident.append(rss())
        threads = threading.active_count()
        log = server.state.journal
        kept, dropped, server_errors = len(log), log.dropped, server.state.server_errors
    assert load.problems == []
    assert server_errors == []
    assert kept + dropped == load.requests  # every call journaled, or counted as dropped
    return Figures(load.requests - warmed, elapsed, python, resident, threads, kept, dropped, load)


def test_short_soak_keeps_memory_flat() -> None:
    bounded = run(JOURNAL, requests=6000)
    assert bounded.journal == JOURNAL
    assert bounded.dropped == WARM_UP + bounded.requests - JOURNAL
    assert bounded.growth < FLAT, bounded.line()
    assert bounded.rss_growth < RSS_FLAT, bounded.line()
    # The same load, every call kept: the growth that the bound prevents is plain to see.
    unbounded = run(1 << 40, requests=1500)
    assert unbounded.dropped == 0
    per_request = unbounded.growth / unbounded.requests
    assert per_request > 3, unbounded.line()
    assert per_request * bounded.requests > 4 * FLAT


@pytest.mark.slow
def test_long_soak_keeps_memory_flat(
    pytestconfig: pytest.Config, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = run(JOURNAL, seconds=pytestconfig.getoption("soak_seconds"), parts=5)
    with capsys.disabled():
        print("\n" + figures.line())
    assert figures.journal == JOURNAL
    assert figures.growth < FLAT, figures.line()
    assert figures.rss_growth < RSS_FLAT, figures.line()
