"""gRPC unary throughput: the mock against a bare grpcio server, and REST on waitress vs hypercorn.

usage: python benchmarks/bench_grpc.py [--seconds S] [--rounds N]

1. Native gRPC (h2c): ``zitadel-mock serve -q`` and a bare grpcio server that returns a fixed
   ``ListLoginPolicySecondFactorsResponse`` (the reference gRPC implementation, doing nothing
   else), both up at once and loaded in turns by a grpcio client in a third process: the
   ratio compares neighbouring runs.
2. The arrangement chosen (waitress for HTTP/1.1, connections handed over to an h2 loop for
   HTTP/2) against the alternative of serving everything with hypercorn (HTTP/1.1 and h2c on
   one port, ASGI trailers): REST throughput of the mock's falcon app on each, over HTTP/1.1,
   loaded by benchmarks/loadgen.py. Skipped, with a note, when hypercorn is not installed
   (it is not a dependency: ``pip install hypercorn`` to measure it).

Traffic goes to 127.0.0.1 only; every step is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
SCENARIO = ROOT / "fixtures/quickstart.yaml"
METHOD = "/zitadel.management.v1.ManagementService/ListLoginPolicySecondFactors"
REST = "/management/v1/policies/login/second_factors/_search"
TOKEN = "acme-admin-token"
# ListLoginPolicySecondFactorsResponse{details: {total_result: 2, view_timestamp}, [OTP, U2F]}
FIXED = bytes.fromhex("0a0f08021a0b08fee6c0c506108094ef3a12020102")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def bare_server(port: int) -> None:
    """A grpcio server answering the method with a fixed message (run in its own process)."""
    from concurrent import futures

    import grpc

    def answer(request: bytes, context: object) -> bytes:
        return FIXED

    handler = grpc.method_handlers_generic_handler(
        "zitadel.management.v1.ManagementService",
        {
            "ListLoginPolicySecondFactors": grpc.unary_unary_rpc_method_handler(
                answer, request_deserializer=None, response_serializer=None
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


def grpc_load(port: int, threads: int, seconds: float) -> None:
    """Blocking calls from ``threads`` threads over one channel; prints one JSON line."""
    import grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(METHOD)
        metadata = [("authorization", f"Bearer {TOKEN}")]
        call(b"", metadata=metadata, timeout=10)  # connected before the clock starts
        latencies: list[float] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def worker() -> None:
            mine = []
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                call(b"", metadata=metadata, timeout=10)
                mine.append(time.perf_counter() - started)
            with lock:
                latencies.extend(mine)

        began = time.perf_counter()
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - began
    latencies.sort()
    print(
        json.dumps(
            {
                "rps": len(latencies) / elapsed,
                "p50_ms": latencies[len(latencies) // 2] * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            }
        )
    )


def measure(args: list[str], seconds: float) -> dict[str, float]:
    done = subprocess.run(
        [PY, *args], capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def in_turns(
    servers: dict[str, list[str]], rounds: int, seconds: float
) -> dict[str, list[dict[str, float]]]:
    got: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    for turn in range(rounds):
        order = list(servers) if turn % 2 == 0 else list(reversed(servers))
        for name in order:
            got[name].append(measure(servers[name], seconds))
    return got


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def report(title: str, got: dict[str, list[dict[str, float]]], base: str) -> None:
    print(f"\n{title}")
    print("| server | req/s (median) | p50 ms | p99 ms | / " + base + " |")
    print("|---|---|---|---|---|")
    for name, runs in got.items():
        ratio = median(runs, "rps") / median(got[base], "rps")
        print(
            f"| {name} | {median(runs, 'rps'):,.0f} | {median(runs, 'p50_ms'):.2f} "
            f"| {median(runs, 'p99_ms'):.2f} | {ratio:.2f} |"
        )


def start(args: list[str], port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [PY, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    wait_port(port)
    return process


HYPERCORN_APP = """
from zitadel_mock import create_app, load_scenario
app = create_app(load_scenario({scenario!r}), asgi=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4, help="client threads (gRPC)")
    options = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    mock_port, bare_port = free_port(), free_port()
    processes = [
        start(["-m", "zitadel_mock", "serve", "--scenario", str(SCENARIO), "-q",
               "--port", str(mock_port)], mock_port),
        start([__file__, "bare-server", str(bare_port)], bare_port),
    ]  # fmt: skip
    try:
        load = [__file__, "grpc-load", "", str(options.threads), str(options.seconds)]
        got = in_turns(
            {
                "zitadel-mock (gRPC)": [*load[:2], str(mock_port), *load[3:]],
                "bare grpcio": [*load[:2], str(bare_port), *load[3:]],
            },
            options.rounds,
            options.seconds,
        )
        report(
            f"native gRPC, unary, {options.threads} client threads, one channel",
            got,
            "bare grpcio",
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)

    try:
        import hypercorn  # noqa: F401
    except ImportError:
        print("\nhypercorn is not installed: the arrangement comparison is skipped")
        return
    waitress_port, hypercorn_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "hyper_app.py").write_text(HYPERCORN_APP.format(scenario=str(SCENARIO)))
        env = {**os.environ, "PYTHONPATH": scratch}
        processes = [
            start(["-m", "zitadel_mock", "serve", "--scenario", str(SCENARIO), "-q",
                   "--port", str(waitress_port)], waitress_port),
            start(["-m", "hypercorn", "--bind", f"127.0.0.1:{hypercorn_port}",
                   "--log-level", "error", "hyper_app:app"], hypercorn_port, env),
        ]  # fmt: skip
        try:
            loadgen = str(HERE / "loadgen.py")
            got = in_turns(
                {
                    f"{name} (REST, HTTP/1.1)": [
                        loadgen, f"http://127.0.0.1:{port}", REST, "4", str(options.seconds), TOKEN
                    ]
                    for name, port in (("waitress", waitress_port), ("hypercorn", hypercorn_port))
                },
                options.rounds,
                options.seconds,
            )
            report("REST, 4 keep-alive connections", got, "waitress (REST, HTTP/1.1)")
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "bare-server":
        bare_server(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "grpc-load":
        grpc_load(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
