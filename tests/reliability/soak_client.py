"""The soak's load, in a process of its own so that it takes no time from the server's thread.

``python soak_client.py HOST PORT CLIENTS REQUESTS SECONDS IDS``: CLIENTS threads, each on one
keep-alive connection, send a mix of requests (both routes, a bad token, a wrong method, an
unknown path) until REQUESTS are answered in all, or SECONDS have passed (0: no such bound).
``IDS`` maps usernames to ids (JSON). Prints ``{"requests", "statuses", "problems"}`` (JSON).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

# (method, path, token, the statuses it may get; the steering forces 503 on one route and 500
# on any, which a wrong method or an unknown path never gets: they are no rpc)
REQUESTS = [
    ("POST", "/management/v1/policies/login/second_factors/_search", "admin-token", {200, 500}),
    ("POST", "/management/v1/users/{alice}/auth_factors/_search", "admin-token", {200, 500, 503}),
    ("POST", "/management/v1/users/{bob}/auth_factors/_search", "admin-token", {200, 500, 503}),
    ("POST", "/management/v1/policies/login/second_factors/_search", "wrong", {401, 500}),
    ("GET", "/management/v1/policies/login/second_factors/_search", "admin-token", {405}),
    ("POST", "/management/v1/nothing", "admin-token", {404}),
]


def exchange(sock: socket.socket, request: bytes) -> tuple[int, bytes]:
    """Send one request on a keep-alive connection; return the status and body of its answer."""
    sock.sendall(request)
    data = b""
    while (end := data.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before an answer")
        data += chunk
    head = data[:end].lower()
    start = head.index(b"content-length: ") + len(b"content-length: ")
    length = int(head[start : head.index(b"\r\n", start)])
    while len(data) < end + 4 + length:
        data += sock.recv(65536)
    return int(data[9:12]), data[end + 4 :]


class Load:
    def __init__(self, requests: int, seconds: float) -> None:
        self.limit = requests or 1 << 62
        self.deadline = time.monotonic() + seconds if seconds else float("inf")
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.problems: list[str] = []
        self.lock = threading.Lock()

    def take(self) -> bool:
        """Claim the next request; False once the load is done."""
        with self.lock:
            if self.requests >= self.limit or time.monotonic() >= self.deadline:
                return False
            self.requests += 1
            return True

    def count(self, status: int, problem: str | None) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if problem is not None and len(self.problems) < 10:
                self.problems.append(problem)


def client(address: tuple[str, int], ids: dict[str, str], load: Load) -> None:
    requests = [
        (
            f"{method} {path.format(**ids)} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer "
            f"{token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}".encode(),
            f"{method} {path}",
            statuses,
        )
        for method, path, token, statuses in REQUESTS
    ]
    with socket.create_connection(address, timeout=30) as sock:
        index = 0
        while load.take():
            request, name, statuses = requests[index % len(requests)]
            index += 1
            try:
                status, body = exchange(sock, request)
                answer = json.loads(body)
            except (OSError, ValueError) as exc:
                load.count(0, f"{name}: {exc!r}")
                return
            wrong = status not in statuses or not isinstance(answer, dict)
            load.count(status, f"{name}: {status} {body[:200]!r}" if wrong else None)


def main(argv: list[str]) -> None:
    host, port, clients, requests, seconds, ids = argv
    load = Load(int(requests), float(seconds))
    address = (host, int(port))
    threads = [
        threading.Thread(target=client, args=(address, json.loads(ids), load))
        for _ in range(int(clients))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answered = sum(load.statuses.values())
    print(json.dumps({"requests": answered, "statuses": load.statuses, "problems": load.problems}))


if __name__ == "__main__":
    main(sys.argv[1:])
