"""Hostile scenario text: how long each attack takes to be refused, and the memory it costs.

usage: python benchmarks/attack_yaml.py [--tree PATH] [--timeout S]

Each attack (the texts of tests/reliability/test_attack_yaml.py, and the 100k-user generated
file as a baseline) is loaded with ``parse_scenario`` in a fresh process: wall time, peak RSS
over the process's size before the load, and the first line of the outcome. ``--tree`` loads
the ``zitadel_mock`` package of another checkout instead (for a before and after in one run);
an attack still running after ``--timeout`` seconds is stopped and reported as such. Prints
Markdown.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "reliability"))

from test_attack_yaml import huge_number, merge_bomb, rules_each_aliasing_the_previous  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from zitadel_mock import parse_scenario
def status(key):
    with open("/proc/self/status") as file:
        line = next(line for line in file if line.startswith(key + ":"))
    return int(line.split()[1]) * 1024
text = open(sys.argv[2]).read()
base = status("VmRSS")
start = time.perf_counter()
try:
    parse_scenario(text, source="attack.yaml")
    outcome = "loaded"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
print(json.dumps({"time": time.perf_counter() - start, "peak": status("VmHWM") - base,
                  "outcome": outcome}))
"""


def attacks(work: Path) -> dict[str, str]:
    big = work / "big.yaml"
    generate = ["generate", "--orgs", "1000", "--users-per-org", "100", "-o", str(big)]
    subprocess.run(
        [sys.executable, "-m", "zitadel_mock", *generate], check=True, capture_output=True
    )
    return {
        "300 rules, each `then` the previous (15 KB)": rules_each_aliasing_the_previous(300),
        "1,200-deep alias chain (64 KB)": rules_each_aliasing_the_previous(1200),
        "merge bomb, 22 levels (1.4 KB)": merge_bomb(22),
        "merge bomb, 26 levels (1.6 KB)": merge_bomb(26),
        "an integer of 5,000 digits": huge_number(5000),
        "baseline: 100,000 generated users (13 MB)": big.read_text(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="checkout to load")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    print(f"Tree: {args.tree}\n")
    print("| attack | time | peak RSS | outcome |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, text in attacks(work).items():
            path = work / "attack.yaml"
            path.write_text(text)
            try:
                run = subprocess.run(
                    [sys.executable, "-c", CHILD, str(args.tree), str(path)],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                )
            except subprocess.TimeoutExpired:
                print(f"| {name} | > {args.timeout:.0f} s | - | still running, stopped |")
                continue
            if run.returncode != 0:
                last = (run.stderr.strip().splitlines() or ["?"])[-1][:90]
                print(f"| {name} | - | - | crashed: {last} |")
                continue
            got = json.loads(run.stdout)
            print(
                f"| {name} | {got['time']:.3f} s | {got['peak'] / 2**20:.1f} MiB"
                f" | {got['outcome'].replace('|', '/')} |"
            )


if __name__ == "__main__":
    main()
