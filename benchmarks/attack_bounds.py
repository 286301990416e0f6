"""The bounds' figures: a long PUT /_mock/scenario against `zitadel-mock serve`, and SIGTERM.

usage: python benchmarks/attack_bounds.py [--users-per-org N]

Starts `zitadel-mock serve` (default settings), sends PUT /_mock/scenario with a generate: block
of 60 orgs of N users (default 1000), and meanwhile a ListLoginPolicySecondFactors call every
10 ms; prints the PUT's time, its answer's size, the server's RSS growth, and the latency of the
calls made during it (median, max). Then a second server gets a 200,000-user PUT and SIGTERM
0.5 s later: prints how long the exit took and what the client got. Prints Markdown.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

SCENARIO = "version: 1\norgs: [{name: A}]\n"
SECOND = "/management/v1/policies/login/second_factors/_search"


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as file:
        line = next(line for line in file if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def serve(path: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "zitadel_mock", "serve", "-s", str(path), "-p", "0", "-q"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, server.stdout.readline().split()[-1]


def long_put(path: Path, per_org: int) -> None:
    server, url = serve(path)
    try:
        before = rss(server.pid)
        body = f"version: 1\ngenerate: {{orgs: 60, users_per_org: {per_org}, seed: 1}}\n"
        box: list[Any] = []
        start = time.perf_counter()
        put = threading.Thread(
            target=lambda: box.append(requests.put(url + "/_mock/scenario", data=body))
        )
        put.start()
        latencies = []
        with requests.Session() as s:
            while put.is_alive():
                t0 = time.perf_counter()
                s.post(url + SECOND, headers={"Authorization": "Bearer x"})
                latencies.append(time.perf_counter() - t0)
                time.sleep(0.01)
        put.join()
        took = time.perf_counter() - start
        answer = box[0]
        print(
            f"| PUT of {60 * per_org:,} generated users | {took:.2f} s, "
            f"answer {len(answer.content)} bytes ({answer.status_code}), "
            f"RSS +{(rss(server.pid) - before) / 2**20:.0f} MiB | "
            f"{len(latencies)} calls meanwhile: "
            f"median {statistics.median(latencies) * 1e3:.1f} ms, "
            f"max {max(latencies) * 1e3:.1f} ms |"
        )
    finally:
        server.terminate()
        server.wait()


def sigterm(path: Path) -> None:
    server, url = serve(path)
    box: list[Any] = []

    def put() -> None:
        body = "version: 1\ngenerate: {orgs: 200, users_per_org: 1000, seed: 1}\n"
        try:
            box.append(requests.put(url + "/_mock/scenario", data=body, timeout=120))
        except requests.RequestException as exc:
            box.append(exc)

    client = threading.Thread(target=put)
    client.start()
    time.sleep(0.5)
    start = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    server.wait()
    took = time.perf_counter() - start
    client.join()
    got = box[0]
    what = (
        f"{got.status_code} {got.text.strip()}" if isinstance(got, requests.Response) else repr(got)
    )
    print(f"| SIGTERM 0.5 s into a 200,000-user PUT | exit in {took:.2f} s | client got {what} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users-per-org", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_text(SCENARIO)
        print("| input | measured | |\n|---|---|---|")
        long_put(path, args.users_per_org)
        sigterm(path)


if __name__ == "__main__":
    main()
