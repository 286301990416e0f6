"""What ``zitadel-mock serve``'s access log costs the REST routes, next to a bare falcon app.

usage: python benchmarks/bench_log.py [--quick] [--rounds N] [--seconds S] [--loadgen]
                                     [--checkout PATH]
       python benchmarks/bench_log.py --instructions N [--checkout PATH]

Four servers are up at once, all on the same waitress code path, answering on the serving
thread (serve's default):

- ``log to file``: ``zitadel-mock serve``, its access log on (the default), stderr to a file;
- ``log to pipe``: the same, stderr to a pipe that this script reads as fast as it comes;
- ``quiet``: ``zitadel-mock serve -q``;
- ``bare``: a bare falcon app on waitress answering a fixed body (benchmarks/targets.py).

They are loaded in turns by benchmarks/loadgen.py (a second process; wrk when installed), the
order rotated each round so that a drift of the machine's load falls on every server alike;
each ratio is of neighbouring runs of one round, and the figures printed are medians. At the
end the lines each logging server wrote are counted against the requests it answered, and any
"access-log lines dropped" line is shown. Traffic goes to 127.0.0.1 only.

``--instructions N`` counts instead, under callgrind, the instructions N requests cost each
server process (a figure the machine's load does not move); ``--checkout`` runs serve from
another checkout, to compare two commits.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import AUTH, PY, SECOND, load, machine  # noqa: E402

QUICKSTART = HERE.parent / "fixtures" / "quickstart.yaml"
KINDS = ("log to file", "log to pipe", "quiet", "bare")
ROUTES = {"second factors": SECOND, "auth factors": AUTH}


class Target:
    """One server in its own process, with its URL; ``lines`` counts what it logged."""

    def __init__(self, kind: str, folder: Path, checkout: Path | None = None) -> None:
        self.kind = kind
        self.log_file: IO[bytes] | None = None
        self.read_bytes = b""
        self.reader: threading.Thread | None = None
        serve = [PY, "-m", "zitadel_mock", "serve", "-s", str(QUICKSTART), "--port", "0"]
        stderr: Any = subprocess.DEVNULL
        if kind == "bare":
            command = [PY, str(HERE / "targets.py"), "bare", "0"]
        elif kind == "quiet":
            command = [*serve, "-q"]
        elif kind == "log to file":
            command = serve
            self.log_file = stderr = open(folder / "access.log", "w+b")  # noqa: SIM115
        else:
            command = serve
            stderr = subprocess.PIPE
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            **from_checkout(checkout if kind != "bare" else None),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        self.url = line.split()[-1]
        if kind == "log to pipe":
            self.reader = threading.Thread(target=self._read, daemon=True)
            self.reader.start()

    def cpu(self) -> float:
        """Seconds of CPU the server process has used (user and system), from /proc."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _read(self) -> None:
        """Read the pipe as it fills; keep only the last lines and the dropped notices."""
        assert self.process.stderr is not None
        kept: list[bytes] = []
        self.pipe_lines = 0
        tail = b""
        while chunk := os.read(self.process.stderr.fileno(), 1 << 16):
            self.pipe_lines += chunk.count(b"\n")
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            kept.extend(line for line in data[:cut].splitlines() if b"dropped" in line)
            tail = data[cut:]
        self.read_bytes = b"\n".join(kept)

    def stop(self) -> str:
        """Stop the server; what its log said: lines written and any dropped-lines notice."""
        if self.kind == "bare":
            self.process.stdin.close()  # type: ignore[union-attr]
        else:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        if self.reader is not None:
            self.reader.join(timeout=30)
            notes = self.read_bytes.decode()
            return f"{self.pipe_lines:,} lines read from the pipe" + (f"; {notes}" if notes else "")
        if self.log_file is not None:
            self.log_file.seek(0)
            text = self.log_file.read().decode()
            self.log_file.close()
            notes = "; ".join(re.findall(r".*access-log lines dropped.*", text))
            return f"{text.count(chr(10)):,} lines in the file" + (f"; {notes}" if notes else "")
        return ""


def from_checkout(checkout: Path | None) -> dict[str, Any]:
    """Popen's arguments to run ``python -m zitadel_mock`` from another checkout."""
    if checkout is None:
        return {}
    return {"cwd": checkout, "env": {**os.environ, "PYTHONPATH": str(checkout)}}


# -- instructions per request (callgrind) ------------------------------------------------------

INSTRUCTION_KINDS = {
    "bare": ["bare"],
    "quiet": ["-q"],
    "text log": [],
    "json log": ["--log-format", "json"],
}
HEADERS = {"Authorization": "Bearer acme-admin-token", "Content-Length": "0"}


def instructions(count: int, checkout: Path | None) -> None:
    """Instructions a request costs the server process, its threads together, under callgrind.

    Counted from just before ``count`` requests (one keep-alive connection, after 200 to warm
    up) to one second after them, so that the writer has written their lines; its wake-ups,
    20 a second, are in the count too (more of them than usual, as callgrind runs slowly).
    """
    if not shutil.which("valgrind"):
        print("valgrind is not installed (sudo apt-get install valgrind): no instruction counts")
        return
    print(f"\nInstructions per request (callgrind, {count:,} requests on one connection):\n")
    print("| server | second factors | / bare |\n|---|---|---|")
    counted: dict[str, float] = {}
    serve = [PY, "-m", "zitadel_mock", "serve", "-s", str(QUICKSTART), "--port", "0"]
    with tempfile.TemporaryDirectory() as folder:
        for kind, options in INSTRUCTION_KINDS.items():
            report = Path(folder) / f"{kind}.txt"
            command = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--log-file={report}",
                f"--callgrind-out-file={Path(folder) / 'callgrind.out'}",
            ]
            if kind == "bare":
                command += [PY, str(HERE / "targets.py"), "bare", "0"]
            else:
                command += [*serve, *options]
            with open(Path(folder) / "stderr", "wb") as stderr:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    **from_checkout(checkout if kind != "bare" else None),
                )
                assert process.stdout is not None
                port = int(process.stdout.readline().decode().rsplit(":", 1)[1])
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                for _ in range(200):
                    conn.request("POST", SECOND, headers=HEADERS)
                    conn.getresponse().read()
                time.sleep(0.5)
                subprocess.run(
                    ["callgrind_control", "-i", "on", str(process.pid)],
                    check=True,
                    capture_output=True,
                )
                for _ in range(count):
                    conn.request("POST", SECOND, headers=HEADERS)
                    conn.getresponse().read()
                time.sleep(1)
                subprocess.run(
                    ["callgrind_control", "-i", "off", str(process.pid)],
                    check=True,
                    capture_output=True,
                )
                conn.close()
                if kind == "bare":
                    process.stdin.close()  # type: ignore[union-attr]
                else:
                    process.send_signal(signal.SIGTERM)
                process.wait(timeout=300)
            found = re.search(r"Collected : (\d+)", report.read_text())
            assert found, report.read_text()
            counted[kind] = int(found.group(1)) / count
            ratio = counted[kind] / counted["bare"]
            print(f"| {kind} | {counted[kind]:,.0f} | {ratio:.3f} |", flush=True)
    print(
        f"\nthe text log costs {counted['text log'] - counted['quiet']:,.0f} instructions a "
        f"request, the JSON log {counted['json log'] - counted['quiet']:,.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds of 1 s, 4 connections")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per point (default 10)")
    parser.add_argument("--seconds", type=float, default=None, help="per run (default 1)")
    parser.add_argument(
        "--loadgen",
        action="store_true",
        help="load with benchmarks/loadgen.py (a Python client) even when wrk is installed",
    )
    parser.add_argument(
        "--instructions",
        type=int,
        metavar="N",
        help="instead: count the instructions of N requests under callgrind (valgrind)",
    )
    parser.add_argument(
        "--checkout",
        type=Path,
        help="run zitadel-mock serve from this checkout (e.g. a git worktree of another commit)",
    )
    args = parser.parse_args()
    if args.instructions:
        instructions(args.instructions, args.checkout)
        return 0
    rounds = args.rounds or (3 if args.quick else 10)
    seconds = args.seconds or 1.0
    connections_list = (4,) if args.quick else (1, 4, 16)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print(
        machine() + ("; --loadgen: benchmarks/loadgen.py loads" if args.loadgen else ""), flush=True
    )
    samples: dict[tuple[str, str, int], list[float]] = {}
    ratios: dict[tuple[str, str, int], list[float]] = {}
    requests: dict[str, float] = {}
    cpu: dict[tuple[str, str], float] = {}
    answered: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as folder:
        targets = {kind: Target(kind, Path(folder), args.checkout) for kind in KINDS}
        notes: dict[str, str] = {}
        try:
            for kind, target in targets.items():
                requests[kind] = load(target.url, SECOND, 4, 1)["rps"]  # warm up
            for route, path in ROUTES.items():
                for connections in connections_list:
                    for run in range(rounds):
                        order = KINDS[run % len(KINDS) :] + KINDS[: run % len(KINDS)]
                        got = {}
                        for kind in order:
                            began = targets[kind].cpu()
                            figures = load(
                                targets[kind].url, path, connections, seconds, wrk=not args.loadgen
                            )
                            got[kind] = figures["rps"]
                            requests[kind] = requests.get(kind, 0) + figures["requests"]
                            cpu[(kind, route)] = cpu.get((kind, route), 0) + (
                                targets[kind].cpu() - began
                            )
                            answered[(kind, route)] = (
                                answered.get((kind, route), 0) + figures["requests"]
                            )
                        for kind in KINDS:
                            samples.setdefault((kind, route, connections), []).append(got[kind])
                            ratios.setdefault((kind, route, connections), []).append(
                                got[kind] / got["bare"]
                            )
        finally:
            for kind, target in targets.items():
                notes[kind] = target.stop()
    print(
        "\n| route | connections | bare req/s | log to file / bare | log to pipe / bare "
        "| quiet / bare | log to file / quiet |\n|---|---|---|---|---|---|---|"
    )
    for route in ROUTES:
        for connections in connections_list:
            bare = statistics.median(samples[("bare", route, connections)])
            shown = [
                f"{statistics.median(ratios[(kind, route, connections)]):.2f}" for kind in KINDS[:3]
            ]
            against_quiet = statistics.median(
                f / q
                for f, q in zip(
                    samples[("log to file", route, connections)],
                    samples[("quiet", route, connections)],
                    strict=True,
                )
            )
            print(
                f"| {route} | {connections} | {bare:,.0f} | {' | '.join(shown)} "
                f"| {against_quiet:.2f} |"
            )
    print(
        "\nCPU time of the server process per request, all runs (from /proc; the log writer's "
        "thread included):\n\n| route | " + " | ".join(KINDS) + " |\n|---|" + "---|" * len(KINDS)
    )
    for route in ROUTES:
        micros = [cpu[(kind, route)] / answered[(kind, route)] * 1e6 for kind in KINDS]
        print(f"| {route} | " + " | ".join(f"{m:.0f} us" for m in micros) + " |")
    print(
        "\nThe same as a ratio, bare / each (what the throughput ratios would be were the server "
        "the only bound):\n\n| route | " + " | ".join(KINDS[:3]) + " |\n|---|" + "---|" * 3
    )
    for route in ROUTES:
        bare_cpu = cpu[("bare", route)] / answered[("bare", route)]
        shown = [
            f"{bare_cpu / (cpu[(kind, route)] / answered[(kind, route)]):.2f}" for kind in KINDS[:3]
        ]
        print(f"| {route} | " + " | ".join(shown) + " |")
    print()
    for kind in ("log to file", "log to pipe"):
        print(f"{kind}: about {requests[kind]:,.0f} requests answered; {notes[kind]}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
