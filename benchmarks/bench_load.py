"""Scale of generated scenarios: generation, load time and peak memory, and per-request cost.

usage: python benchmarks/bench_load.py [--repeat N] [--quick]

Populations of 1k, 10k and 100k users (10, 100 and 1,000 orgs of 100 users), written as YAML
and JSON files by ``zitadel-mock generate`` and loaded in a fresh process each (time, and peak
memory over the process's size before the load), against the same population built by a
``generate:`` block. Then the cost of one request against a scenario of 10 users and one of
100,000 users, measured side by side in one run (rounds alternate, medians compared), and of
the per-test reset. Times are the best of --repeat runs. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zitadel_mock import State, create_app, parse_scenario
from zitadel_mock.answers import Request, handle
from zitadel_mock.generate.options import Options
from zitadel_mock.generate.population import build_population
from zitadel_mock.generate.writer import render
from zitadel_mock.ids import IdGenerator
from zitadel_mock.model import User

PY = sys.executable
SIZES = ((10, 100), (100, 100), (1000, 100))  # orgs x users per org
SECOND = "/management/v1/policies/login/second_factors/_search"
AUTH = "/management/v1/users/{}/auth_factors/_search"

# Loads one scenario file in a fresh process: how long, and how much memory it takes.
CHILD = r"""
import json, sys, time
from zitadel_mock import State, load_scenario
def status(key):  # in bytes; VmHWM is the peak of this process, not of its parent
    with open("/proc/self/status") as file:
        line = next(line for line in file if line.startswith(key + ":"))
    return int(line.split()[1]) * 1024
base = status("VmRSS")
start = time.perf_counter()
scenario = load_scenario(sys.argv[1])
loaded = time.perf_counter()
state = State(scenario)
done = time.perf_counter()
print(json.dumps({"load": loaded - start, "state": done - loaded,
                  "peak": status("VmHWM") - base, "held": status("VmRSS") - base,
                  "faker": "faker" in sys.modules}))
"""


def best(runs: int, fn: Any) -> float:
    """The shortest of ``runs`` timings of ``fn()``, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def child(path: Path, runs: int) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [PY, "-c", CHILD, str(path)], capture_output=True, text=True, check=True, timeout=600
        ).stdout
        results.append(json.loads(out))
    fastest = min(results, key=lambda r: r["load"])
    return {**fastest, "peak": max(r["peak"] for r in results)}


def size(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB" if value >= 2**20 else f"{value / 1024:,.0f} KiB"


def generation(runs: int) -> list[str]:
    lines = [
        "| users | build the population | `generate:` block, loaded | render YAML | render JSON |",
        "|---:|---:|---:|---:|---:|",
    ]
    for orgs, per_org in SIZES:
        options = Options(orgs=orgs, users_per_org=per_org, seed=1)
        text = f"version: 1\nseed: 1\ngenerate: {{orgs: {orgs}, users_per_org: {per_org}}}\n"
        build = best(runs, lambda o=options: build_population(o, IdGenerator(o.seed)))
        block = best(runs, lambda t=text: parse_scenario(t))
        as_yaml = best(runs, lambda o=options: render(o, "yaml"))
        as_json = best(runs, lambda o=options: render(o, "json"))
        lines.append(
            f"| {orgs * per_org:,} | {build:.2f} s | {block:.2f} s | {as_yaml:.2f} s "
            f"| {as_json:.2f} s |"
        )
    return lines


def loading(runs: int, quick: bool) -> list[str]:
    lines = [
        "| users | source | file size | load | + State | peak memory | held | peak per user |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for orgs, per_org in SIZES:
            options = Options(orgs=orgs, users_per_org=per_org, seed=1)
            users = orgs * per_org
            block = Path(folder, f"block-{users}.yaml")
            block.write_text(
                f"version: 1\nseed: 1\ngenerate: {{orgs: {orgs}, users_per_org: {per_org}}}\n"
            )
            sources = [("`generate:` block", block)]
            for fmt in ("json", "yaml"):
                path = Path(folder, f"generated-{users}.{fmt}")
                path.write_text(render(options, fmt), encoding="utf-8")
                sources.append((f"{fmt.upper()} file", path))
            for name, path in sources:
                if quick and users > 10_000 and name == "YAML file":
                    continue
                # A 100k-user YAML file takes long to load: it is loaded once.
                count = 1 if users > 10_000 and name == "YAML file" else runs
                r = child(path, count)
                per_user = size(r["peak"] / users)
                lines.append(
                    f"| {users:,} | {name} | {size(path.stat().st_size)} | {r['load']:.2f} s "
                    f"| {r['state']:.2f} s | {size(r['peak'])} | {size(r['held'])} | {per_user} |"
                )
    return lines


def calls_for(state: State, users: list[User]) -> list[Request]:
    """For each user, both routes, by the admin of the user's org (so every call is a 200)."""
    scenario = state.scenario
    admin = {
        state.view.users.get(t.user_id).org_id: f"Bearer {t.token}" for t in scenario.tokens or ()
    }
    calls = []
    for user in users:
        token = admin[user.org_id]
        calls.append(Request("ListHumanAuthFactors", "POST", "/", token, user.org_id, user.id))
        calls.append(Request("ListLoginPolicySecondFactors", "POST", SECOND, token, user.org_id))
    return calls


def side_by_side(
    small: Callable[[], float], big: Callable[[], float], rounds: int
) -> tuple[float, float]:
    """Median time of ``small()`` and ``big()``, measured in alternating rounds."""
    small(), big()  # warm up: first calls fill caches and allocate the journal
    small_times: list[float] = []
    big_times: list[float] = []
    for n in range(rounds):
        pair = ((small, small_times), (big, big_times))
        for fn, times in pair if n % 2 == 0 else reversed(pair):
            times.append(fn())
    return statistics.median(small_times), statistics.median(big_times)


def direct(state: State, calls: list[Request], count: int = 4000) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for i in range(count):
            handle(state, calls[i % len(calls)])
        return (time.perf_counter() - start) / count

    return run


def over_wsgi(state: State, calls: list[Request], count: int = 400) -> Callable[[], float]:
    import falcon.testing

    client = falcon.testing.TestClient(create_app(state))

    def run() -> float:
        start = time.perf_counter()
        for i in range(count):
            call = calls[i % len(calls)]
            path = SECOND if call.user_id is None else AUTH.format(call.user_id)
            headers = {
                "Authorization": call.authorization or "",
                "x-zitadel-orgid": call.org_header or "",
            }
            assert client.simulate_post(path, headers=headers).status_code == 200
        return (time.perf_counter() - start) / count

    return run


def reset(state: State) -> Callable[[], float]:
    user = state.scenario.users[0].id

    def run() -> float:
        start = time.perf_counter()
        for _ in range(1000):
            state.add_factor(user, "otp")
            state.reset()
        return (time.perf_counter() - start) / 1000

    return run


def per_request(rounds: int) -> list[str]:
    # The same ten users: alone, and next to 100,000 generated users. Same calls, same answers:
    # only the size of the scenario differs.
    ten = render(Options(orgs=1, users_per_org=10, seed=1))
    small = State(parse_scenario(ten))
    big = State(parse_scenario(ten + "generate: {orgs: 1000, users_per_org: 100, seed: 2}\n"))
    assert len(big.scenario.users) == 100_010
    same = calls_for(small, list(small.scenario.users))
    # A thousand users spread over 10,000 and over 100,000: their answers are rendered for
    # each call (the cache of rendered answers holds 256), and their data is far apart.
    mid = State(parse_scenario("version: 1\ngenerate: {orgs: 100, users_per_org: 100, seed: 2}\n"))
    spread_mid = calls_for(mid, list(mid.scenario.users[::10]))
    spread_big = calls_for(big, list(big.scenario.users[10::100]))
    lines = ["| measure | smaller | larger | ratio |", "|---|---:|---:|---:|"]
    rows: list[tuple[str, Callable[[], float], Callable[[], float]]] = [
        (
            "`answers.handle`, 10 users vs 100,010 (the same calls)",
            direct(small, same),
            direct(big, same),
        ),
        (
            "WSGI app (`falcon.testing`), 10 users vs 100,010 (the same calls)",
            over_wsgi(small, same),
            over_wsgi(big, same),
        ),
        ("a change and the per-test reset, 10 users vs 100,010", reset(small), reset(big)),
        (
            "`answers.handle`, 1,000 users spread over 10,000 vs over 100,010",
            direct(mid, spread_mid),
            direct(big, spread_big),
        ),
    ]
    for name, low_fn, high_fn in rows:
        low, high = side_by_side(low_fn, high_fn, rounds)
        lines.append(f"| {name} | {low * 1e6:.1f} µs | {high * 1e6:.1f} µs | {high / low:.3f} |")
    return lines


def import_cost() -> list[str]:
    code = (
        "import sys, time; t = time.perf_counter(); import zitadel_mock; a = time.perf_counter();"
        "assert 'faker' not in sys.modules; import faker; b = time.perf_counter();"
        "faker.Faker('en_US', use_weighting=False).seed_instance(1); c = time.perf_counter();"
        "print(a - t, b - a, c - b)"
    )
    runs = [
        list(
            map(
                float,
                subprocess.run(
                    [PY, "-c", code], capture_output=True, text=True, check=True, timeout=120
                ).stdout.split(),
            )
        )
        for _ in range(3)
    ]
    package, module, construct = (min(r[i] for r in runs) for i in range(3))
    return [
        f"- `import zitadel_mock`: {package * 1000:.0f} ms, without importing Faker",
        f"- `import faker`: {module * 1000:.0f} ms, and `Faker(locale)`: "
        f"{construct * 1000:.0f} ms; paid only when generating",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (default: 3)")
    parser.add_argument("--quick", action="store_true", help="skip the 100k-user YAML file")
    args = parser.parse_args()
    start = time.perf_counter()
    sum(range(10**7))
    calibration = time.perf_counter() - start
    print(f"Python {sys.version.split()[0]}; `sum(range(10**7))` takes {calibration:.2f} s here.\n")
    print("Generating (in process):\n")
    print("\n".join(generation(args.repeat)), "\n", flush=True)
    print("Loading (a fresh process per load):\n")
    print("\n".join(loading(args.repeat, args.quick)), "\n", flush=True)
    print("Per-request cost (side by side, medians of alternating rounds):\n")
    print("\n".join(per_request(max(15, args.repeat * 5))), "\n", flush=True)
    print("Import cost:\n")
    print("\n".join(import_cost()))


if __name__ == "__main__":
    main()
