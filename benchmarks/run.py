"""Run every benchmark of zitadel-mock on this machine and print a table with the targets.

usage: python benchmarks/run.py [--quick]

The full run takes about five minutes on two cores, ``--quick`` about one and a half.
Throughput uses wrk (load from a second process) when installed, else benchmarks/loadgen.py
(install wrk on Debian/Ubuntu: sudo apt-get install wrk). The mock and the bare falcon app are
both up during the throughput runs and loaded in turns, so every mock / bare ratio compares
neighbouring runs; figures are medians of several runs, and the machine's load average is
printed at the start and the end (on a shared machine, trust the ratios more than the req/s).
benchmarks/bench_plugin.py and benchmarks/bench_load.py run last when present (with
``--quick`` passed on). Traffic goes to 127.0.0.1 only, and every step is bounded in time.
Why waitress's worker pool collapses on two cores, measured: benchmarks/collapse.py.
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
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
SECOND = "/management/v1/policies/login/second_factors/_search"
AUTH = "/management/v1/users/259242039378444291/auth_factors/_search"
TOKEN = "acme-admin-token"
Row = tuple[str, str, str, bool | None]


def sh(args: list[str], timeout: float = 300, **kwargs: Any) -> str:
    done = subprocess.run(
        args, capture_output=True, text=True, check=True, timeout=timeout, **kwargs
    )
    return str(done.stdout)


# -- throughput ------------------------------------------------------------------------------


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(
    url: str, path: str, connections: int, seconds: float, *, wrk: bool = True
) -> dict[str, float]:
    """Load ``url + path`` from a second process: wrk if installed (and ``wrk``), else loadgen."""
    if wrk and shutil.which("wrk"):
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
        # A run that measured refusals or errors measured nothing of the routes: stop.
        refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if refused or "Socket errors" in out:
            raise SystemExit(f"wrk got answers other than 200 from {url + path}:\n{out}")
        latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        done = re.search(r"(\d+) requests in", out)
        return {
            "rps": rps,
            "p50_ms": _ms(latency["50"]),
            "p99_ms": _ms(latency["99"]),
            "requests": float(done.group(1)) if done else rps * max(1, round(seconds)),
        }
    out = sh([PY, str(HERE / "loadgen.py"), url, path, str(connections), str(seconds), TOKEN])
    return json.loads(out)  # type: ignore[no-any-return]


def throughput(runs: int, seconds: float) -> tuple[list[Row], list[str]]:
    """Load the mock and the bare app in turns, both up at once: each ratio is of neighbours."""
    samples: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    ratios: dict[tuple[str, int], list[float]] = {}
    servers = {
        kind: subprocess.Popen(
            [PY, str(HERE / "targets.py"), kind, "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind in ("bare", "mock")
    }
    try:
        urls = {kind: s.stdout.readline().strip() for kind, s in servers.items()}  # type: ignore[union-attr]
        for url in urls.values():
            load(url, SECOND, 4, 1)  # warm up
        for route_name, path in (("second factors", SECOND), ("auth factors", AUTH)):
            for connections in (1, 4, 16):
                for run in range(runs):
                    # Alternate who goes first, so that a drift in the machine's load cancels out.
                    order = ("bare", "mock") if run % 2 == 0 else ("mock", "bare")
                    got = {kind: load(urls[kind], path, connections, seconds) for kind in order}
                    for kind, figures in got.items():
                        samples.setdefault((kind, route_name, connections), []).append(figures)
                    ratio = got["mock"]["rps"] / got["bare"]["rps"]
                    ratios.setdefault((route_name, connections), []).append(ratio)
    finally:
        for server in servers.values():
            server.stdin.close()  # type: ignore[union-attr]
            server.wait(timeout=30)
    results = {
        key: {k: statistics.median(s[k] for s in runs_) for k in ("rps", "p50_ms", "p99_ms")}
        for key, runs_ in samples.items()
    }
    rows: list[Row] = []
    lines = [
        "| route | connections | mock req/s | bare falcon req/s | mock / bare | p50 ms | p99 ms "
        "| bare p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for route_name in ("second factors", "auth factors"):
        for connections in (1, 4, 16):
            mock, bare = (
                results[("mock", route_name, connections)],
                results[("bare", route_name, connections)],
            )
            ratio = statistics.median(ratios[(route_name, connections)])
            lines.append(
                f"| {route_name} | {connections} | {mock['rps']:,.0f} | {bare['rps']:,.0f} "
                f"| {ratio:.2f} | {mock['p50_ms']:.2f} | {mock['p99_ms']:.2f} "
                f"| {bare['p99_ms']:.2f} |"
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
import http.client, mimetypes, time, sys
import waitress.server, waitress.wasyncore, falcon
import encodings.idna  # imported by the first getaddrinfo() of a str host
import zitadel_mock.protocols.rest.app, zitadel_mock.control.http, zitadel_mock.server
from zitadel_mock import MockServer, load_scenario
mimetypes.init()  # falcon's first App() reads the system's MIME table: once per process
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
t4 = time.perf_counter()  # once more: the process's one-time costs are paid now
again = MockServer(scenario).start()
conn = http.client.HTTPConnection("127.0.0.1", again.port)
post(conn)
t5 = time.perf_counter()
again.stop()
conn.close()
print((t1 - t0) * 1000, (t3 - t2) * 1000, (t5 - t4) * 1000)
"""


def startup(runs: int) -> list[Row]:
    quick = str(ROOT / "fixtures" / "quickstart.yaml")
    starts, stops, imports, serves, restarts = [], [], [], [], []
    for _ in range(runs):
        try:
            out = sh([PY, "-c", IN_PROCESS, quick], timeout=60)
        except subprocess.TimeoutExpired:  # reported, and the other runs still count
            print("a MockServer start/stop run did not finish in 60 s", flush=True)
            continue
        start, stop, restart = map(float, out.split())
        starts.append(start)
        stops.append(stop)
        restarts.append(restart)
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
    if not starts:  # every run timed out: no figure, and no target held
        starts, stops, restarts = [float("nan")], [float("nan")], [float("nan")]
    s, t, i, v, r = (statistics.median(x) for x in (starts, stops, imports, serves, restarts))
    return [
        (
            "MockServer start to first answer (imports, falcon's MIME table excluded)",
            f"{s:.2f} ms",
            "< 5 ms",
            s < 5,
        ),
        ("the same, a second MockServer in that process", f"{r:.2f} ms", "", None),
        ("MockServer.stop() with 9 keep-alive connections open", f"{t:.2f} ms", "< 2 ms", t < 2),
        ("zitadel-mock serve: process start to first answer", f"{v:.0f} ms", "< 400 ms", v < 400),
        ("import zitadel_mock (faker not imported)", f"{i:.0f} ms", "< 80 ms", i < 80),
    ]


def serve_start(scenario: str) -> float:
    began = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "zitadel_mock", "serve", "-s", scenario, "--port", "0", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
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
        # The other installed plugins are blocked in both runs of a pair: their imports (hundreds
        # of ms) would only add noise. Entry points are still scanned as in any run, and this
        # plugin is loaded from its entry point, as in a consumer's project.
        others = [arg for name in _other_plugins() for arg in ("-p", f"no:{name}")]
        base = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *others]
        base.append(str(folder / "test_trivial.py"))
        differences = []
        for _ in range(30 * runs):  # pairs: a drift of the machine hits both of a pair
            pair = []
            for args in (base, [*base, "-p", "no:zitadel_mock"]):
                began = time.perf_counter()
                sh(args)
                pair.append((time.perf_counter() - began) * 1000)
            differences.append(pair[0] - pair[1])
        idle = statistics.median(differences)
        spread = statistics.quantiles(differences, n=4)
        importtime = subprocess.run(
            [PY, "-X", "importtime", "-c", "import pytest, zitadel_mock_pytest.plugin"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        own = sum(
            int(line.split("|")[0].split(":")[1])
            for line in importtime.splitlines()
            if "zitadel_mock_pytest" in line
        )
        cost = fixture_overhead(folder, max(runs, 1))
    finally:
        shutil.rmtree(folder)
    rows: list[Row] = [
        (
            "plugin installed, not enabled: extra time of a pytest run (median of "
            f"{len(differences)} paired runs; quartiles {spread[0]:.1f} to {spread[2]:.1f} ms)",
            f"{idle:.1f} ms",
            "< 5 ms",
            idle < 5,
        ),
        ("plugin module's own import time", f"{own / 1000:.2f} ms", "", None),
        (
            "zitadel_mock fixture per test (reset included), 100 users, after a test without it",
            f"{cost.first:.3f} ms",
            "< 0.2 ms",
            cost.first < 0.2,
        ),
        ("the same, after a test with it", f"{cost.again:.3f} ms", "< 0.2 ms", cost.again < 0.2),
        (
            "a test without it after one with it (ZITADEL_MOCK_URL restored)",
            f"{cost.after:.3f} ms",
            "",
            None,
        ),
        (
            "an empty fixture of no argument (pytest's own cost of a fixture)",
            f"{cost.floor:.3f} ms",
            "",
            None,
        ),
    ]
    return rows, []


def _other_plugins() -> list[str]:
    """The names of the other plugins installed for pytest (its ``pytest11`` entry points)."""
    from importlib.metadata import entry_points

    return sorted(e.name for e in entry_points(group="pytest11") if e.name != "zitadel_mock")


FIXTURE_SUITE_HEAD = """
import pytest

@pytest.fixture
def bare():
    return None
"""
# Interleaved, so that a drift of the machine's speed affects every kind alike. "with" follows a
# test without the mock (it sets ZITADEL_MOCK_URL), "again" follows one with it, "after" is the
# first test without it again (ZITADEL_MOCK_URL is restored before it).
FIXTURE_SUITE_TESTS = """
def test_with_{i}(zitadel_mock):
    pass

def test_again_{i}(zitadel_mock):
    pass

def test_after_{i}():
    pass

def test_bare_{i}(bare):
    pass

def test_without_{i}():
    pass
"""
DURATIONS = """
import json, os
TIMES = {"with": [], "again": [], "after": [], "bare": [], "without": []}

def pytest_runtest_logreport(report):
    kind = report.nodeid.split("::")[-1].split("_")[1]
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


class FixtureCost(NamedTuple):
    """Per-test costs over a test without the fixture, in ms (medians over the runs)."""

    first: float  # a test with the fixture after one without it
    again: float  # a test with the fixture after one with it
    after: float  # a test without it after one with it
    floor: float  # a test with an empty fixture of no argument: pytest's own cost


def fixture_overhead(folder: Path, runs: int) -> FixtureCost:
    """Per-test costs of the fixture over a test without it.

    One session runs 1,000 tests of each kind, interleaved; each test's setup, call and
    teardown times come from pytest's own reports, and the figures are differences of medians.
    """
    users = "\n".join(
        f"      - {{username: user{i}, auth_factors: [otp, u2f]}}" for i in range(100)
    )
    (folder / "big.yaml").write_text(f"version: 1\norgs:\n  - name: A\n    users:\n{users}\n")
    tests = "".join(FIXTURE_SUITE_TESTS.format(i=i) for i in range(1000))
    (folder / "test_fixture.py").write_text(FIXTURE_SUITE_HEAD + tests)
    (folder / "conftest.py").write_text(DURATIONS)
    out = folder / "durations.json"
    args = [
        PY,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        str(folder / "test_fixture.py"),
        "--zitadel-mock",
        "--zitadel-mock-scenario",
        str(folder / "big.yaml"),
    ]
    kinds = ("with", "again", "after", "bare")
    costs: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        sh(args, env={**os.environ, "DURATIONS_OUT": str(out)})
        totals = json.loads(out.read_text())
        without = statistics.median(totals["without"])
        for kind in kinds:
            costs[kind].append(statistics.median(totals[kind]) - without)
    return FixtureCost(*(statistics.median(costs[kind]) * 1000 for kind in kinds))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    args = parser.parse_args()
    # As an installed package runs: compiled once, from .pyc files afterwards.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sh([PY, "-m", "compileall", "-q", str(ROOT / "zitadel_mock"), str(ROOT / "pytest_plugin")])
    runs = 1 if args.quick else 3
    # Throughput: many short runs in pairs; on a shared machine the median of 7 neighbouring
    # mock / bare pairs moves far less than that of 3 long ones.
    pairs, seconds = (3, 1.0) if args.quick else (7, 2.0)
    print(machine(), flush=True)
    rows: list[Row] = []
    throughput_rows, table = throughput(pairs, seconds)
    print("\n".join(table), flush=True)
    rows += throughput_rows
    rows += startup(max(runs * 2 + 1, 3))
    plugin_rows, _ = plugin(runs)
    rows += plugin_rows
    print("\n| what | measured | target | holds |\n|---|---|---|---|")
    for what, value, target, holds in rows:
        verdict = "" if holds is None else ("yes" if holds else "**no**")
        print(f"| {what} | {value} | {target} | {verdict} |")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    others(HERE / "bench_load.py", args.quick)
    return 0


def machine() -> str:
    """Cores, CPU model, Python, waitress and falcon, the load generator, the machine's load."""
    from importlib.metadata import version

    cpuinfo = Path("/proc/cpuinfo")
    model = (
        re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        if cpuinfo.exists()
        else None
    )
    if shutil.which("wrk"):
        generator = "wrk"
    else:
        generator = (
            "benchmarks/loadgen.py, a Python client in its own process (wrk is not installed: "
            "`sudo apt-get install wrk` on Debian/Ubuntu, `brew install wrk` on macOS)"
        )
    return (
        f"machine: {os.cpu_count()} cores ({model.group(1) if model else 'unknown CPU'}), "
        f"Python {sys.version.split()[0]}, waitress {version('waitress')}, "
        f"falcon {version('falcon')}; load generator: {generator}; load average at the start: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def others(script: Path, quick: bool) -> None:
    """Run another benchmark of this folder if it is there; its failure is reported, not raised."""
    if not script.exists():
        return
    print(f"\n## {script.name}\n", flush=True)
    command = [PY, str(script), *(["--quick"] if quick else [])]
    try:
        done = subprocess.run(command, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        print(f"{script.name}: stopped after 600 s")
        return
    if done.returncode:
        print(f"{script.name}: exit status {done.returncode}")


if __name__ == "__main__":
    sys.exit(main())
