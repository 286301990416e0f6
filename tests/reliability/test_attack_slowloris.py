"""Slow and idle clients against ``zitadel-mock serve``'s defaults: hundreds of them cannot starve
a normal client, a request's line and headers have a deadline however slowly they trickle, and
idle keep-alive connections make room when the server is crowded.

Waitress alone serves 100 connections and restarts its idle timer on every byte: 98 slow
clients were enough for every normal request to time out.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from zitadel_mock import MockServer, load_scenario
from zitadel_mock.cli.main import build_parser
from zitadel_mock.cli.serve import build_server

QUICKSTART = str(Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml")
SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"
HEAD = f"POST {SECOND_FACTORS} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer acme-admin-token\r\n"
REQUEST = (HEAD + "Content-Length: 0\r\n\r\n").encode()
SLOW, IDLE, SILENT = 300, 150, 50  # 500 connections: five times what starved waitress


def serve(*options: str) -> MockServer:
    """The server ``zitadel-mock serve`` runs, with these options besides a free port."""
    argv = ["serve", "-s", QUICKSTART, "--port", "0", *options]
    return build_server(build_parser().parse_args(argv), load_scenario(QUICKSTART))


def room_for(descriptors: int) -> None:
    """Let this process open that many descriptors (server and clients), or skip the test."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < descriptors:
        if hard != resource.RLIM_INFINITY and hard < descriptors:
            pytest.skip(f"the open file limit ({hard}) is below {descriptors}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, hard))


def connect(mock: MockServer) -> socket.socket:
    return socket.create_connection((mock.host, mock.port), timeout=10)


def read_answer(sock: socket.socket) -> bytes:
    """One answer with a Content-Length, on a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))[15:]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return data


def read_to_end(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (what it sent first is read and dropped)."""
    sock.setblocking(False)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


@contextlib.contextmanager
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def normal_requests(mock: MockServer, count: int) -> list[float | str]:
    """``count`` requests as a normal client makes them, each on a new connection: the time
    each took, or what went wrong."""
    results: list[float | str] = []
    for _ in range(count):
        started = time.monotonic()
        try:
            answer = requests.post(
                mock.url + SECOND_FACTORS,
                headers={"Authorization": "Bearer acme-admin-token"},
                timeout=5,
            )
        except requests.RequestException as exc:
            results.append(type(exc).__name__)
            break  # one is enough (each would wait its 5 s)
        with answer:
            results.append(time.monotonic() - started if answer.status_code == 200 else "status")
    return results


def test_hundreds_of_slow_and_idle_connections_do_not_starve_a_normal_client() -> None:
    room_for(2 * (SLOW + IDLE + SILENT) + 256)
    # The default settings: the header deadline (10 s) is longer than the test, so no slow
    # client is dropped while the normal one is measured.
    with serve() as mock, sockets() as opened:
        for _ in range(IDLE):  # keep-alive clients, between two requests
            opened.append(sock := connect(mock))
            sock.sendall(REQUEST)
        idle = list(opened)
        for _ in range(SLOW):  # slowloris: the request line and part of the headers
            opened.append(sock := connect(mock))
            sock.sendall(HEAD.encode())
        for _ in range(SILENT):  # connected, nothing sent
            opened.append(connect(mock))
        for position in range(3):  # the slow ones go on trickling meanwhile
            for sock in opened[IDLE : IDLE + SLOW]:
                sock.sendall(b"X-Slow-%d: 1\r\n" % position)
            results = normal_requests(mock, 10)
            slow = [r for r in results if isinstance(r, str) or r >= 2]
            assert not slow, f"{len(opened)} connections open: {slow}"
        for sock in idle:  # each keep-alive client had its answer meanwhile, and is still open
            assert read_answer(sock).startswith(b"HTTP/1.1 200 ")
            assert not closed_by_server(sock)


def test_a_request_head_has_a_deadline_however_slowly_it_trickles() -> None:
    with serve("--header-timeout", "1") as mock, sockets() as opened:
        trickling = [connect(mock) for _ in range(10)]
        silent = [connect(mock) for _ in range(5)]
        opened += trickling + silent
        head = HEAD.encode() * 100  # more than there is time to send
        started = time.monotonic()
        answers: dict[int, bytes] = {}
        position = 0
        while len(answers) < len(trickling) and time.monotonic() - started < 10:
            for index, sock in enumerate(trickling):  # a byte each every 100 ms
                if index in answers:
                    continue
                try:
                    sock.sendall(head[position : position + 1])
                except OSError:  # closed after its answer: read it
                    answers[index] = read_to_end(sock)
                    continue
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    answers[index] = sock.recv(65536) + (
                        sock.setblocking(True) or read_to_end(sock)
                    )
                sock.setblocking(True)
            position += 1
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert len(answers) == len(trickling), f"still open after {elapsed:.1f} s of trickling"
        assert elapsed < 6  # the deadline (1 s) and the maintenance's round (1 s), generously
        for raw in answers.values():
            head_part, _, body = raw.partition(b"\r\n\r\n")
            assert head_part.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), raw[:200]
            assert b"\r\nConnection: close" in head_part
            assert b"\r\nContent-Type: application/json" in head_part
            assert json.loads(body) == {
                "code": 4,
                "message": "request timeout: the request line and headers did not arrive "
                "within 1 s",
            }
        for sock in silent:  # a connection that sends nothing is closed, without an answer
            sock.settimeout(5)
            assert read_to_end(sock) == b""
        with requests.post(
            mock.url + SECOND_FACTORS, headers={"Authorization": "Bearer acme-admin-token"}
        ) as answer:
            assert answer.status_code == 200


def test_a_quick_client_is_not_cut_off_by_the_deadline() -> None:
    """A request whose head comes in parts within the deadline, and keep-alive requests long
    after the connection opened, are served: the deadline runs per request head."""
    with serve("--header-timeout", "1") as mock, connect(mock) as sock:
        for index in range(3):
            if index:
                time.sleep(0.7)  # idle between requests, longer in all than the deadline
            sock.sendall(HEAD.encode())
            time.sleep(0.2)  # well within the deadline, on a busy machine too
            sock.sendall(b"Content-Length: 0\r\n\r\n")
            assert read_answer(sock).startswith(b"HTTP/1.1 200 ")


def test_idle_keep_alive_connections_make_room_when_the_server_is_crowded() -> None:
    options = ("--header-timeout", "1", "--connection-limit", "40")
    with serve(*options) as mock, sockets() as opened:
        for _ in range(10):  # a quarter of the limit: not crowded, idle ones are kept
            opened.append(sock := connect(mock))
            sock.sendall(REQUEST)
            read_answer(sock)
        time.sleep(3)
        assert not any(closed_by_server(sock) for sock in opened)
        for _ in range(20):  # three quarters: crowded, idle ones go after the deadline
            opened.append(sock := connect(mock))
            sock.sendall(REQUEST)
            read_answer(sock)
        deadline = time.monotonic() + 30  # generous: a loaded machine runs the pass late
        while time.monotonic() < deadline and not all(map(closed_by_server, opened)):
            time.sleep(0.2)
        assert all(map(closed_by_server, opened))
        with requests.post(
            mock.url + SECOND_FACTORS, headers={"Authorization": "Bearer acme-admin-token"}
        ) as answer:
            assert answer.status_code == 200
