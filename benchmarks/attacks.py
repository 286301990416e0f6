"""Every attack of the reliability suite against `zitadel-mock serve`, with what it costs.

usage: python benchmarks/attacks.py [--only NAME ...]

For each attack, a fresh `zitadel-mock serve` (default settings; the access log on, read for the
log-forging row) serves fixtures/quickstart.yaml, while a normal client calls
ListLoginPolicySecondFactors every 10 ms. Printed per attack: how long it took, the server's RSS
growth (VmRSS after the attack over before it), the latency of the normal calls made during it
(median and max, and how many), and what the attacker got. The slow-client attack has its own,
longer script (benchmarks/attack_slowloris.py), and so do the long PUT and SIGTERM
(benchmarks/attack_bounds.py) and the scenario texts loaded in process (attack_yaml.py).
Prints Markdown. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

from test_attack_yaml import huge_number, rules_each_aliasing_the_previous  # noqa: E402

QUICKSTART = ROOT / "fixtures" / "quickstart.yaml"
SECOND = "/management/v1/policies/login/second_factors/_search"
TOKEN = {"Authorization": "Bearer acme-admin-token"}
ESC = "\x1b"
FORGED = "/x%0A2099-01-01%2000:00:00,000%20POST%20/_mock/reset%20-%20200%0A%1B[31m"


class Server:
    def __init__(self) -> None:
        command = [sys.executable, "-m", "zitadel_mock", "serve", "-s", str(QUICKSTART)]
        # The access log goes to a file: a pipe nobody reads until the end would fill up and
        # block the server's writes.
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            [*command, "-p", "0"], stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def rss(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as file:
            line = next(line for line in file if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def stop(self) -> str:
        self.process.terminate()
        self.process.communicate(timeout=30)
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        return text


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` on a new connection; everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


def status_of(answer: bytes) -> str:
    return " ".join(answer.split(b"\r\n", 1)[0].decode("latin-1").split()[1:2]) or "none"


# Each attack takes the server and returns what the attacker got, in a few words.
def tokens_250k(server: Server) -> str:
    token = "t" * 250_000
    with requests.Session() as session:
        for _ in range(3000):
            answer = session.post(server.url + SECOND, headers={"Authorization": "Bearer " + token})
    return f"3,000 x {answer.status_code}"


def org_headers_100k(server: Server) -> str:
    with requests.Session() as session:
        for i in range(1023):
            headers = {**TOKEN, "x-zitadel-orgid": str(i).rjust(100_000, "9")}
            answer = session.post(server.url + SECOND, headers=headers)
        session.delete(server.url + "/_mock/journal")
    return f"1,023 x {answer.status_code}, then the journal cleared"


def namespaces_50k(server: Server) -> str:
    statuses = []
    for seed, name in enumerate("abcd", 1):
        body = f"version: 1\ngenerate: {{orgs: 50, users_per_org: 1000, seed: {seed}}}\n"
        answer = requests.put(
            server.url + "/_mock/scenario", data=body, headers={"X-Mock-Namespace": name}
        )
        statuses.append(str(answer.status_code))
    return "4 PUTs: " + ", ".join(statuses)


def scenario_1_46_mb(server: Server) -> str:
    users = "".join(f"      - {{username: user-{i:06d}-{'x' * 40}}}\n" for i in range(20_000))
    body = "version: 1\norgs:\n  - name: ACME\n    users:\n" + users
    answer = requests.put(server.url + "/_mock/scenario", data=body.encode())
    return f"{len(body) / 1e6:.2f} MB: {answer.status_code}"


def body_65_mib(server: Server) -> str:
    head = (
        "PUT /_mock/scenario HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {65 * 2**20}\r\nContent-Type: application/yaml\r\n\r\n"
    )
    answer = raw(server.port, head.encode() + b"x" * 65536)
    return f"{status_of(answer)} before the body was read"


def forged_log_line(server: Server) -> str:
    answer = raw(
        server.port,
        f"GET {FORGED} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        timeout=2,
    )
    return status_of(answer)


def smuggled_request(server: Server) -> str:
    hidden = b"POST /_mock/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    chunked = b"0\r\n\r\n" + hidden
    request = (
        b"POST " + SECOND.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n"
        b"Content-Length: " + str(len(chunked)).encode() + b"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunked
    )
    answer = raw(server.port, request)
    return f"{status_of(answer)}, {answer.count(b'HTTP/1.1 ')} answer(s), closed"


def journal_status_digits(server: Server) -> str:
    codes = {
        requests.get(server.url + "/_mock/journal?status=" + value).status_code
        for value in ("9" * 5000, "%C2%B2")
    }
    return "status=9...9 (5,000) and %C2%B2: " + ", ".join(map(str, sorted(codes)))


def put_text(text: str) -> Callable[[Server], str]:
    def attack(server: Server) -> str:
        answer = requests.put(
            server.url + "/_mock/scenario",
            data=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        errors = len(requests.get(server.url + "/_mock/errors").content)
        return f"{answer.status_code}; GET /_mock/errors then {errors} bytes"

    return attack


ATTACKS: dict[str, Callable[[Server], str]] = {
    "3,000 calls with 250 KB tokens": tokens_250k,
    "1,023 x-zitadel-orgid headers of 100 KB, then DELETE /_mock/journal": org_headers_100k,
    "4 PUT /_mock/scenario of 50k users, 4 namespaces": namespaces_50k,
    "PUT /_mock/scenario of 1.46 MB": scenario_1_46_mb,
    "PUT /_mock/scenario announcing 65 MiB": body_65_mib,
    "a path forging log lines": forged_log_line,
    "Content-Length and chunked, a request hidden in the body": smuggled_request,
    "journal filter status of 5,000 digits, or %C2%B2": journal_status_digits,
    "PUT of 300 rules, each then the previous (15 KB)": put_text(
        rules_each_aliasing_the_previous(300)
    ),
    "PUT of a 1,200-deep alias chain (64 KB)": put_text(rules_each_aliasing_the_previous(1200)),
    "PUT with an integer of 5,000 digits": put_text(huge_number(5000)),
}


def probe(url: str, stop: threading.Event, latencies: list[float]) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            began = time.perf_counter()
            session.post(url + SECOND, headers=TOKEN, timeout=30)
            latencies.append(time.perf_counter() - began)
            stop.wait(0.01)


def run(name: str) -> str:
    attack = ATTACKS[name]
    server = Server()
    try:
        requests.post(server.url + SECOND, headers=TOKEN)  # warm
        before = server.rss()
        stop, latencies = threading.Event(), list[float]()
        prober = threading.Thread(target=probe, args=(server.url, stop, latencies))
        prober.start()
        began = time.perf_counter()
        outcome = attack(server)
        took = time.perf_counter() - began
        stop.set()
        prober.join()
        grown = (server.rss() - before) / 2**20
    finally:
        log = server.stop()
    if attack is forged_log_line:
        lines = [line for line in log.splitlines() if "/x" in line]
        escape = "a raw ESC" if ESC in log else "no raw ESC"
        outcome += f"; the log: {len(lines)} line(s) for it, {escape}"
    ms = [1000 * value for value in latencies]
    calls = f"{statistics.median(ms):.1f} / {max(ms):.1f} ms ({len(ms)})" if ms else "-"
    return f"| {name} | {took:.2f} s | {grown:+.1f} MiB | {calls} | {outcome} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="run only attacks whose name contains these")
    args = parser.parse_args()
    print("| attack | time | server RSS | normal calls meanwhile: median / max (n) | outcome |")
    print("|---|---|---|---|---|")
    for name in ATTACKS:
        if args.only and not any(part in name for part in args.only):
            continue
        print(run(name), flush=True)


if __name__ == "__main__":
    main()
