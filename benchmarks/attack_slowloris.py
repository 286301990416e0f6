"""Normal requests' latency while slow and idle clients hold connections to ``zitadel-mock serve``.

usage: python benchmarks/attack_slowloris.py [--connections 0 97 98 500 900] [--requests 2000]
                                             [-- SERVE_OPTIONS...]

For each number N of attacking connections, a fresh ``python -m zitadel_mock serve`` (default
settings, plus SERVE_OPTIONS) is started; N connections are opened: half slowloris (a request
line and one header, then one more header line a second, never finished), a quarter idle
keep-alive (one request answered, then nothing), a quarter silent (connected, nothing sent).
Then a normal client sends ``--requests`` requests on one keep-alive connection and a tenth as
many on a new connection each, every one with a 5 s timeout, and the latencies are printed
(p50, p99, max, timeouts). A normal request that times out ends that run's measure. The attack
goes on (one header line a second on each slowloris connection) while the normal client runs.
Traffic goes to 127.0.0.1 only; each run is bounded in time.

To measure the code before a change: ``PYTHONPATH=/path/to/old/checkout python ...`` (the
server runs ``python -m zitadel_mock`` from the path Python finds first).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = str(ROOT / "fixtures" / "quickstart.yaml")
PATH = "/management/v1/policies/login/second_factors/_search"
HEAD = f"POST {PATH} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer acme-admin-token\r\n"
HEADERS = {"Authorization": "Bearer acme-admin-token", "Content-Length": "0"}


def start(options: list[str]) -> tuple[subprocess.Popen[str], int]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([os.environ.get("PYTHONPATH", ""), str(ROOT)]),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zitadel_mock",
            "serve",
            "-s",
            QUICKSTART,
            "--port",
            "0",
            "-q",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),  # not a folder whose zitadel_mock would be imported first
    )
    assert proc.stdout is not None
    match = re.search(r":(\d+)$", proc.stdout.readline().strip())
    if match is None:
        proc.kill()
        raise SystemExit("the server did not start")
    return proc, int(match.group(1))


def attack(port: int, count: int) -> tuple[list[socket.socket], list[socket.socket]]:
    """Open ``count`` attacking connections; return (all of them, the slowloris ones)."""
    opened: list[socket.socket] = []
    slow: list[socket.socket] = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        opened.append(sock)
        kind = index % 4
        if kind in (0, 1):
            sock.sendall(HEAD.encode())
            slow.append(sock)
        elif kind == 2:
            sock.sendall((HEAD + "Content-Length: 0\r\n\r\n").encode())  # answered: idle after
    return opened, slow


def trickle(slow: list[socket.socket], stop: threading.Event) -> None:
    line = 0
    while not stop.wait(1):
        for sock in slow:
            with contextlib.suppress(OSError):  # closed by the server's deadline
                sock.sendall(b"X-Slow-%d: 1\r\n" % line)
        line += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(port: int, requests: int) -> tuple[list[float], int]:
    """Latencies in ms of the normal client's requests, and how many timed out (0 or 1)."""
    latencies: list[float] = []
    kept = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        for index in range(requests + requests // 10):
            fresh = index % 11 == 10  # one in eleven on a new connection
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5) if fresh else kept
            started = time.perf_counter()
            try:
                conn.request("POST", PATH, headers=HEADERS)
                answer = conn.getresponse()
                answer.read()
            except OSError:
                return latencies, 1
            finally:
                if fresh:
                    conn.close()
            latencies.append((time.perf_counter() - started) * 1000)
            assert answer.status == 200, answer.status
    finally:
        kept.close()
    return latencies, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, nargs="+", default=[0, 97, 98, 500, 900])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("serve_options", nargs="*", help="passed to zitadel-mock serve")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(args.connections) + 256
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    print(f"load average: {os.getloadavg()[0]:.2f}; options: {args.serve_options or 'defaults'}")
    print("| attacking connections | normal requests | p50 ms | p99 ms | max ms | timed out |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in args.connections:
        proc, port = start(args.serve_options)
        stop = threading.Event()
        opened: list[socket.socket] = []
        try:
            opened, slow = attack(port, count)
            trickler = threading.Thread(target=trickle, args=(slow, stop), daemon=True)
            trickler.start()
            time.sleep(0.5)  # the server has accepted what it will accept
            latencies, timeouts = measure(port, args.requests)
        finally:
            stop.set()
            for sock in opened:
                sock.close()
            proc.terminate()
            proc.wait(60)
        if latencies:
            p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
            figures = f"{p50:.2f} | {p99:.2f} | {max(latencies):.2f}"
        else:
            figures = "- | - | -"
        print(f"| {count} | {len(latencies)} | {figures} | {timeouts} |", flush=True)


if __name__ == "__main__":
    main()
