"""Why waitress's worker pool collapses on two cores, and that the mock's serving does not.

usage: python benchmarks/collapse.py [--quick] [--runs N] [--seconds S]

Serves a bare falcon app (a fixed JSON body) from a child process in four ways and loads it
from another process (wrk, else benchmarks/loadgen.py) at 1, 4 and 16 keep-alive connections:

- ``pool``: stock waitress, 4 worker threads (``waitress.create_server(app, threads=4)``);
- ``pool, one core``: the same, the process pinned to one core (``sched_setaffinity``);
- ``pool, fixed``: zitadel-mock's pool (``threads=4``), whose channels are not offered to
  ``select`` while a worker writes their answer;
- ``inline``: zitadel-mock's default (``threads=0``), every request answered on the loop thread.

For each it reports, per request: ``select`` calls of the loop; the wake-ups where ``select``
returned nothing but channels whose answer a worker was still writing (work for nobody); CPU
of the loop thread and of the workers, and the workers' voluntary context switches (each one a
wait, mostly for the GIL), read from /proc (Linux; blank elsewhere). Medians of several runs,
and the worst run: the collapse comes and goes from one run to the next.
Traffic goes to 127.0.0.1 only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PATH = "/management/v1/policies/login/second_factors/_search"
BODY = (
    b'{"details":{"totalResult":"2","viewTimestamp":"2025-08-28T10:46:22.123456Z"},'
    b'"result":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"]}'
)
SETUPS = ("pool", "pool, one core", "pool, fixed", "inline")
CONNECTIONS = (1, 4, 16)


# -- the child: a served app with its select loop counted ----------------------------------------


def serve(setup: str) -> None:
    """Serve until stdin closes, then print the counters as one JSON line."""
    import logging

    import falcon
    import waitress.wasyncore
    from waitress.channel import HTTPChannel

    counts = {"requests": 0, "selects": 0, "idle": 0}

    class Fixed:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            counts["requests"] += 1
            resp.content_type = "application/json"
            resp.data = BODY

        on_get = on_post

    app: Any = falcon.App()
    app.add_route(PATH, Fixed())
    # Stock waitress logs "Task queue depth" at every queued request: keep that out of the figures.
    logging.getLogger("waitress.queue").disabled = True
    if setup == "pool, one core":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # threads inherit it
    if setup.startswith("pool") and setup != "pool, fixed":
        from waitress.server import create_server

        server: Any = create_server(app, host="127.0.0.1", port=0, threads=4)
        run = server.run
    else:
        sys.path.insert(0, str(HERE.parent))
        from zitadel_mock._waitress.loop import build_waitress, run_waitress
        from zitadel_mock.server import bind

        server = build_waitress(app, bind("127.0.0.1", 0), 4 if setup == "pool, fixed" else 0)

        def run() -> None:
            run_waitress(server)

    wasyncore: Any = waitress.wasyncore
    real_select = wasyncore.select.select
    socket_map = server._map

    def counted_select(r: Any, w: Any, e: Any, timeout: Any) -> Any:
        ready = real_select(r, w, e, timeout)
        counts["selects"] += 1
        if ready[1] and not ready[0]:
            channels = [socket_map.get(fd) for fd in ready[1]]
            if all(isinstance(c, HTTPChannel) and c.requests for c in channels):
                counts["idle"] += 1
        return ready

    class Select:  # wasyncore reads select.select, select.error and the POLL* flags
        def __getattr__(self, name: str) -> Any:
            return getattr(wasyncore_select, name)

        select = staticmethod(counted_select)

    wasyncore_select = wasyncore.select
    wasyncore.select = Select()

    def until_stdin_closes() -> None:
        sys.stdin.read()
        print(json.dumps(counts), flush=True)
        os._exit(0)  # a measuring child: nothing to clean up

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    print(f"http://127.0.0.1:{server.socket.getsockname()[1]}", flush=True)
    run()


# -- the parent: load, /proc, table -----------------------------------------------------------


def thread_stats(pid: int) -> dict[int, tuple[float, int]]:
    """CPU seconds and voluntary context switches of each thread of a process."""
    stats: dict[int, tuple[float, int]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return stats
    for tid in tids:
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except OSError:
            continue
        switches = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
        stats[int(tid)] = ((int(fields[11]) + int(fields[12])) / tick, switches)
    return stats


def load(url: str, connections: int, seconds: float) -> tuple[float, float]:
    """Requests per second and p99 in ms, from wrk or, without it, loadgen.py."""
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url + PATH],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        number, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()  # type: ignore[union-attr]
        return rps, float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    out = subprocess.run(
        [sys.executable, str(HERE / "loadgen.py"), url, PATH, str(connections), str(seconds), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    figures = json.loads(out)
    return float(figures["rps"]), float(figures["p99_ms"])


def measure(setup: str, connections: int, seconds: float) -> dict[str, float]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", setup],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        url = child.stdout.readline().strip()
        before = thread_stats(child.pid)
        rps, p99 = load(url, connections, seconds)
        after = thread_stats(child.pid)
        child.stdin.close()
        counts = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait(timeout=30)
    requests = max(counts["requests"], 1)
    figures = {
        "rps": rps,
        "p99": p99,
        "selects": counts["selects"] / requests,
        "idle": counts["idle"] / requests,
    }
    if after:
        loop = child.pid  # the child serves on its main thread
        workers = [tid for tid in after if tid != loop and tid in before]
        figures["loop_cpu"] = (after[loop][0] - before[loop][0]) * 1000 / requests
        figures["worker_cpu"] = sum(after[t][0] - before[t][0] for t in workers) * 1000 / requests
        figures["waits"] = sum(after[t][1] - before[t][1] for t in workers) / requests
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one run of 2 s per figure")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; quick: 1)")
    parser.add_argument("--seconds", type=float, help="seconds per run (default 3; quick: 2)")
    parser.add_argument("--serve", choices=SETUPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    runs = args.runs or (1 if args.quick else 3)
    seconds = args.seconds or (2.0 if args.quick else 3.0)
    print(f"load generator: {'wrk' if shutil.which('wrk') else 'benchmarks/loadgen.py'}")
    print(
        "| setup | conns | req/s | worst req/s | p99 ms | worst p99 ms "
        "| select calls /req | idle wake-ups /req "
        "| loop CPU ms /req | worker CPU ms /req | worker waits /req |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for setup in SETUPS:
        for connections in CONNECTIONS:
            samples = [measure(setup, connections, seconds) for _ in range(runs)]
            median = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
            worst_rps = min(s["rps"] for s in samples)
            worst_p99 = max(s["p99"] for s in samples)
            cells = [f"{median['rps']:,.0f}", f"{worst_rps:,.0f}"]
            cells += [f"{median['p99']:.2f}", f"{worst_p99:.2f}"]
            cells += [f"{median['selects']:.1f}", f"{median['idle']:.1f}"]
            if "loop_cpu" in median:
                cells += [f"{median['loop_cpu']:.3f}", f"{median['worker_cpu']:.3f}"]
                cells.append(f"{median['waits']:.1f}" if setup.startswith("pool") else "-")
            else:
                cells += ["", "", ""]
            print(f"| {setup} | {connections} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
