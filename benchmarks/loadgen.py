"""A small keep-alive HTTP load client, used when wrk is not installed.

usage: python benchmarks/loadgen.py URL PATH CONNECTIONS SECONDS TOKEN
Prints one JSON line: {"rps": ..., "p50_ms": ..., "p99_ms": ...}. One thread a connection:
the client shares one core's worth of GIL, so figures are lower than wrk's.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit


def main(url: str, path: str, connections: int, seconds: float, token: str) -> None:
    parts = urlsplit(url)
    latencies: list[float] = []
    lock = threading.Lock()
    failed: list[int] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[float] = []
        headers = {"Authorization": f"Bearer {token}", "Content-Length": "0"}
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            conn.request("POST", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:  # refusals measure nothing of the routes
                failed.append(response.status)
                break
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failed:
        sys.exit(f"{url}{path} answered {failed[0]}, not 200")
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(
        json.dumps(
            {
                "rps": len(latencies) / elapsed,
                "p50_ms": pick(0.5),
                "p99_ms": pick(0.99),
                "requests": len(latencies),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
