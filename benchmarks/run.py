"""Run every benchmark of zitadel-mock on this machine and print a table with the targets.

usage: python benchmarks/run.py [--quick] [--markdown]

Throughput uses wrk (load from a second process) when installed, else benchmarks/loadgen.py
(install wrk on Debian/Ubuntu: sudo apt-get install wrk). Every figure is the median of several
runs; comparisons are ratios measured side by side in the same run. Traffic goes to 127.0.0.1
only, and every step is bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
SECOND = "/management/v1/policies/login/second_factors/_search"
AUTH = "/management/v1/users/259242039378444291/auth_factors/_search"
TOKEN = "acme-admin-token"
Row = tuple[str, str, str, bool | None]


def sh(args: list[str], **kwargs: object) -> str:
    return subprocess.run(
        args, capture_output=True, text=True, check=True, timeout=300, **kwargs
    ).stdout  # type: ignore[call-overload, no-any-return]


# -- throughput ------------------------------------------------------------------------------


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(url: str, path: str, connections: int, seconds: float) -> dict[str, float]:
    if shutil.which("wrk"):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(f'wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer {TOKEN}"\n')
        try:
            out = sh(
                [
                    "wrk",
                    "-t1",
                    f"-c{connections}",
                    f"-d{max(1, round(seconds))}s",
                    "--latency",
                    "-s",
                    script.name,
                    url + path,
                ]
            )
        finally:
            os.unlink(script.name)
        latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        return {"rps": rps, "p50_ms": _ms(latency["50"]), "p99_ms": _ms(latency["99"])}
    out = sh([PY, str(HERE / "loadgen.py"), url, path, str(connections), str(seconds), TOKEN])
    return json.loads(out)  # type: ignore[no-any-return]


def throughput(runs: int, seconds: float) -> tuple[list[Row], list[str]]:
    lines = []
    results: dict[tuple[str, str, int], dict[str, float]] = {}
    for kind in ("bare", "mock"):
        server = subprocess.Popen(
            [PY, str(HERE / "targets.py"), kind, "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = server.stdout.readline().strip()  # type: ignore[union-attr]
            load(url, SECOND, 4, 1)  # warm up
            for route_name, path in (("second factors", SECOND), ("auth factors", AUTH)):
                for connections in (1, 4, 16):
                    samples = [load(url, path, connections, seconds) for _ in range(runs)]
                    results[(kind, route_name, connections)] = {
                        key: statistics.median(s[key] for s in samples)
                        for key in ("rps", "p50_ms", "p99_ms")
                    }
        finally:
            server.stdin.close()  # type: ignore[union-attr]
            server.wait(timeout=30)
    rows: list[Row] = []
    lines.append(
        "| route | connections | mock req/s | bare falcon req/s | mock / bare | p50 ms | p99 ms |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for route_name in ("second factors", "auth factors"):
        for connections in (1, 4, 16):
            mock, bare = (
                results[("mock", route_name, connections)],
                results[("bare", route_name, connections)],
            )
            ratio = mock["rps"] / bare["rps"]
            lines.append(
                f"| {route_name} | {connections} | {mock['rps']:,.0f} | {bare['rps']:,.0f} "
                f"| {ratio:.2f} | {mock['p50_ms']:.2f} | {mock['p99_ms']:.2f} |"
            )
            rows.append(
                (
                    f"{route_name}, {connections} conn: mock / bare falcon",
                    f"{ratio:.2f}",
                    ">= 0.85",
                    ratio >= 0.85,
                )
            )
        flat = results[("mock", route_name, 16)]["rps"] / results[("mock", route_name, 1)]["rps"]
        rows.append((f"{route_name}: 16 vs 1 connection", f"{flat:.2f}", ">= 0.7", flat >= 0.7))
        p99 = results[("mock", route_name, 16)]["p99_ms"]
        rows.append((f"{route_name}: p99 at 16 connections", f"{p99:.1f} ms", "< 10 ms", p99 < 10))
    return rows, lines


# -- start, stop, import -----------------------------------------------------------------------

IN_PROCESS = r"""
import http.client, time, sys
import waitress.server, waitress.wasyncore, falcon
from zitadel_mock import MockServer, load_scenario
scenario = load_scenario(sys.argv[1])
def post(conn):
    headers = {"Authorization": "Bearer acme-admin-token", "Content-Length": "0"}
    conn.request("POST", "/management/v1/policies/login/second_factors/_search", headers=headers)
    return conn.getresponse().read()
t0 = time.perf_counter()
mock = MockServer(scenario).start()
conn = http.client.HTTPConnection("127.0.0.1", mock.port)
post(conn)
t1 = time.perf_counter()
conns = [http.client.HTTPConnection("127.0.0.1", mock.port) for _ in range(8)]
for c in conns:
    post(c)
t2 = time.perf_counter()
mock.stop()
t3 = time.perf_counter()
for c in [conn, *conns]:
    c.close()
print((t1 - t0) * 1000, (t3 - t2) * 1000)
"""


def startup(runs: int) -> list[Row]:
    quick = str(ROOT / "fixtures" / "quickstart.yaml")
    starts, stops, imports, serves = [], [], [], []
    for _ in range(runs):
        start, stop = map(float, sh([PY, "-c", IN_PROCESS, quick]).split())
        starts.append(start)
        stops.append(stop)
        out = sh(
            [
                PY,
                "-c",
                "import time, sys; t = time.perf_counter(); import zitadel_mock; "
                "print((time.perf_counter() - t) * 1000, 'faker' in sys.modules)",
            ]
        )
        imports.append(float(out.split()[0]))
        assert out.split()[1] == "False", "import zitadel_mock imported faker"
        serves.append(serve_start(quick))
    s, t, i, v = (statistics.median(x) for x in (starts, stops, imports, serves))
    return [
        ("MockServer start to first answer (imports excluded)", f"{s:.2f} ms", "< 5 ms", s < 5),
        ("MockServer.stop() with 9 keep-alive connections open", f"{t:.2f} ms", "< 2 ms", t < 2),
        ("zitadel-mock serve: process start to first answer", f"{v:.0f} ms", "< 400 ms", v < 400),
        ("import zitadel_mock (faker not imported)", f"{i:.0f} ms", "< 80 ms", i < 80),
    ]


def serve_start(scenario: str) -> float:
    began = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "zitadel_mock", "serve", "-s", scenario, "--port", "0", "-q"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        port = int(line.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request(
            "POST", SECOND, headers={"Authorization": f"Bearer {TOKEN}", "Content-Length": "0"}
        )
        conn.getresponse().read()
        elapsed = (time.perf_counter() - began) * 1000
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return elapsed


# -- the pytest plugin ---------------------------------------------------------------------------


def plugin(runs: int) -> tuple[list[Row], list[str]]:
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "test_trivial.py").write_text("def test_a():\n    pass\n")
        base = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "test_trivial.py")]
        with_plugin, without = [], []
        for _ in range(runs * 4):
            for args, out in ((base, with_plugin), ([*base, "-p", "no:zitadel_mock"], without)):
                began = time.perf_counter()
                sh(args)
                out.append((time.perf_counter() - began) * 1000)
        idle = statistics.median(with_plugin) - statistics.median(without)
        importtime = (
            sh(
                [PY, "-X", "importtime", "-c", "import pytest_plugin.plugin"],
                stderr=subprocess.STDOUT,
            )
            if False
            else subprocess.run(
                [PY, "-X", "importtime", "-c", "import pytest, pytest_plugin.plugin"],
                capture_output=True,
                text=True,
                check=True,
            ).stderr
        )
        own = sum(
            int(line.split("|")[0].split(":")[1])
            for line in importtime.splitlines()
            if "pytest_plugin" in line
        )
        per_test = fixture_overhead(folder, max(runs, 1))
    finally:
        shutil.rmtree(folder)
    rows: list[Row] = [
        (
            "plugin installed, not enabled: extra time of a pytest run",
            f"{idle:.1f} ms",
            "< 5 ms",
            idle < 5,
        ),
        ("plugin module's own import time", f"{own / 1000:.2f} ms", "", None),
        (
            "zitadel_mock fixture per test (reset included), 100 users",
            f"{per_test:.3f} ms",
            "< 0.2 ms",
            per_test < 0.2,
        ),
    ]
    return rows, []


FIXTURE_SUITE = """
import pytest

@pytest.mark.parametrize("i", range({count}))
def test_with(i, zitadel_mock):
    pass

@pytest.mark.parametrize("i", range({count}))
def test_without(i):
    pass
"""
DURATIONS = """
import json, os
TIMES = {"with": [], "without": []}

def pytest_runtest_logreport(report):
    kind = "with" if "test_with[" in report.nodeid else "without"
    TIMES[kind].append((report.nodeid, report.duration))

def pytest_sessionfinish(session):
    totals = {}
    for kind, items in TIMES.items():
        per_test = {}
        for nodeid, duration in items:
            per_test[nodeid] = per_test.get(nodeid, 0.0) + duration
        totals[kind] = sorted(per_test.values())
    with open(os.environ["DURATIONS_OUT"], "w") as out:
        json.dump(totals, out)
"""


def fixture_overhead(folder: Path, runs: int) -> float:
    """Median setup+call+teardown of a test with the fixture minus one without, in one session."""
    users = "\n".join(
        f"      - {{username: user{i}, auth_factors: [otp, u2f]}}" for i in range(100)
    )
    (folder / "big.yaml").write_text(f"version: 1\norgs:\n  - name: A\n    users:\n{users}\n")
    (folder / "test_fixture.py").write_text(FIXTURE_SUITE.format(count=1000))
    (folder / "conftest.py").write_text(DURATIONS)
    out = folder / "durations.json"
    args = [
        PY,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(folder / "test_fixture.py"),
        "--zitadel-mock",
        "--zitadel-mock-scenario",
        str(folder / "big.yaml"),
    ]
    samples = []
    for _ in range(runs):
        sh(args, env={**os.environ, "DURATIONS_OUT": str(out)})
        totals = json.loads(out.read_text())
        samples.append(statistics.median(totals["with"]) - statistics.median(totals["without"]))
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    args = parser.parse_args()
    runs, seconds = (1, 2.0) if args.quick else (3, 4.0)
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; load generator: "
        f"{'wrk' if shutil.which('wrk') else 'benchmarks/loadgen.py (wrk not installed)'}",
        flush=True,
    )
    rows: list[Row] = []
    throughput_rows, table = throughput(runs, seconds)
    print("\n".join(table), flush=True)
    rows += throughput_rows
    rows += startup(max(runs * 2 + 1, 3))
    plugin_rows, _ = plugin(runs)
    rows += plugin_rows
    print("\n| what | measured | target | holds |\n|---|---|---|---|")
    for what, value, target, holds in rows:
        verdict = "" if holds is None else ("yes" if holds else "**no**")
        print(f"| {what} | {value} | {target} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
