"""MockServer over real sockets: start, stop, busy ports, keep-alive, restarts, threads."""

from __future__ import annotations

import gc
import os
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import requests
from testkit import ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, checked, scenario

from zitadel_mock import MockServer, ServerError, State

POOLS = pytest.mark.parametrize("pool", [0, 4], ids=["inline", "pool"])


def open_fds() -> set[int]:
    """The process's open sockets, by descriptor (Linux; elsewhere, an empty set).

    Sockets only: a file another test's thread opens for a moment (a reloader reading its
    scenario) is no leak of this server's. The tests compare what is open after with what was
    before, for sockets left open: one that an earlier test's thread closes meanwhile (a
    connection it handed over, a server it stopped) is no concern of theirs.
    """
    if not os.path.isdir("/proc/self/fd"):
        return set()
    fds = set()
    for name in os.listdir("/proc/self/fd"):  # the listing's own descriptor is closed by now
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:"):
            fds.add(int(name))
    return fds


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` any more (closed connections may linger in TIME_WAIT)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
    return True


def stop_within(mock: MockServer, seconds: float = 60) -> None:
    """Stop the server from another thread; fail (instead of hanging) if it never returns."""
    stopper = threading.Thread(target=mock.stop)
    stopper.start()
    stopper.join(seconds)
    assert not stopper.is_alive(), "stop() did not return"


def answer_second_factors(mock: MockServer, session: requests.Session | None = None) -> int:
    post = (session or requests).post
    return post(mock.url + SECOND_FACTORS, headers=bearer("acme-admin")).status_code


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(scenario(MAIN)) as mock:
        yield mock


def test_url_has_the_real_port(server: MockServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.running
    assert repr(server) == f"<MockServer {server.url} running>"


def test_an_ipv6_address_is_bracketed() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        mock = MockServer(scenario(MAIN), host="::1").start()
    except ServerError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        assert mock.url == f"http://[::1]:{mock.port}"
        assert answer_second_factors(mock) == 200
    finally:
        mock.stop()


def test_behaviour_over_a_socket(server: MockServer) -> None:
    with requests.Session() as session:
        ok = session.post(server.url + SECOND_FACTORS, headers=bearer("acme-admin"))
        assert ok.status_code == 200
        assert ok.headers["Content-Type"] == "application/json"
        assert ok.headers["Cache-Control"] == "no-store"
        assert checked(ok)["result"] == [
            "SECOND_FACTOR_TYPE_OTP_EMAIL",
            "SECOND_FACTOR_TYPE_U2F",
        ]
        denied = session.post(server.url + auth_factors(ALICE))
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"] == "auth header missing"
        assert denied.json() == {"code": 16, "message": "auth header missing"}
        wrong = session.get(server.url + SECOND_FACTORS)
        assert (wrong.status_code, wrong.json()["code"]) == (405, 12)
        missing = session.post(server.url + "/nope", data=b"x" * 10_000)
        assert (missing.status_code, missing.json()) == (404, {"code": 5, "message": "Not Found"})


def test_a_state_is_served_as_given() -> None:
    state = State(scenario(MAIN))
    with MockServer(state) as mock:
        assert mock.state is state
        state.set_second_factors("ACME", ["otp"])
        answer = requests.post(mock.url + SECOND_FACTORS, headers=bearer("acme-admin"))
        assert answer.json()["result"] == ["SECOND_FACTOR_TYPE_OTP"]


# -- starting -----------------------------------------------------------------------------------


def test_a_busy_port_raises_at_start_and_leaves_nothing_open() -> None:
    before_threads, before_fds = set(threading.enumerate()), open_fds()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        mock = MockServer(scenario(MAIN), port=port)
        with pytest.raises(ServerError, match=rf"^cannot listen on 127\.0\.0\.1:{port}: "):
            mock.start()
        assert not mock.running
        assert set(threading.enumerate()) == before_threads
        assert open_fds() - before_fds == {taken.fileno()}
    # Once the port is free, the same server starts there.
    with mock:
        assert mock.port == port
        assert answer_second_factors(mock) == 200


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 70000}, "the port must be a number from 0 to 65535, not 70000"),
        ({"port": -1}, "the port must be a number from 0 to 65535, not -1"),
        ({"port": "80"}, "the port must be a number from 0 to 65535, not '80'"),
        ({"threads": -1}, "threads must be a whole number, 0 or more, not -1"),
        ({"header_timeout": 0}, "header_timeout must be a number of seconds above 0, not 0"),
        (
            {"header_timeout": float("nan")},
            "header_timeout must be a number of seconds above 0, not nan",
        ),
        (
            {"header_timeout": "5"},
            "header_timeout must be a number of seconds above 0, not '5'",
        ),
    ],
)
def test_bad_arguments_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ServerError) as raised:
        MockServer(scenario(MAIN), **options)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_an_unknown_host_raises_at_start() -> None:
    before = set(threading.enumerate())
    mock = MockServer(scenario(MAIN), host="no-such-host.invalid")
    with pytest.raises(ServerError, match=r"^cannot resolve 'no-such-host\.invalid': "):
        mock.start()
    assert set(threading.enumerate()) == before


def test_an_unknown_waitress_option_leaves_no_socket() -> None:
    before = open_fds()
    mock = MockServer(scenario(MAIN), no_such_option=1)
    with pytest.raises(ValueError, match="no_such_option"):
        mock.start()
    gc.collect()
    assert not open_fds() - before
    assert not mock.running


def test_start_twice_is_an_error(server: MockServer) -> None:
    with pytest.raises(ServerError, match="already running"):
        server.start()


# -- stopping -----------------------------------------------------------------------------------


def test_start_and_stop_without_the_context_manager() -> None:
    mock = MockServer(scenario(MAIN))
    mock.stop()  # never started: nothing to do
    assert mock.start() is mock
    assert answer_second_factors(mock) == 200
    mock.stop()
    mock.stop()  # stopping twice is harmless
    assert not mock.running
    assert repr(mock) == f"<MockServer {mock.url} stopped>"


def test_the_context_manager_stops_on_an_exception() -> None:
    before = set(threading.enumerate())
    mock = MockServer(scenario(MAIN))

    def fail_inside() -> None:
        with mock:
            assert answer_second_factors(mock) == 200
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert not mock.running
    assert set(threading.enumerate()) == before
    assert port_is_free(mock.port)


@POOLS
def test_stop_with_open_connections_leaves_nothing_behind(pool: int) -> None:
    before_threads, before_fds = set(threading.enumerate()), open_fds()
    mock = MockServer(scenario(MAIN), threads=pool).start()
    sessions = [requests.Session() for _ in range(4)]
    for session in sessions:  # keep-alive connections, idle between requests
        assert answer_second_factors(mock, session) == 200
    idle = socket.create_connection(("127.0.0.1", mock.port))  # connected, no request yet
    partial = socket.create_connection(("127.0.0.1", mock.port))  # a request cut short
    partial.sendall(b"POST " + SECOND_FACTORS.encode() + b" HTTP/1.1\r\nHost: x\r\n")
    # The server has accepted both once it answers a later request on another connection.
    assert answer_second_factors(mock) == 200
    port = mock.port

    stop_within(mock)

    assert not mock.running
    for client in (idle, partial):
        client.settimeout(60)
        assert client.recv(1) == b""  # the server closed its end
        client.close()
    for session in sessions:
        session.close()
    gc.collect()  # a leaked socket would warn now, and warnings are errors
    assert set(threading.enumerate()) == before_threads
    assert not open_fds() - before_fds
    assert port_is_free(port)


@POOLS
def test_restart_on_the_same_port(pool: int) -> None:
    mock = MockServer(scenario(MAIN), threads=pool).start()
    port = mock.port
    mock.stop()
    mock.start()  # the same server again: it keeps its port
    try:
        assert mock.port == port
        assert answer_second_factors(mock) == 200
    finally:
        mock.stop()
    with MockServer(scenario(MAIN), port=port, threads=pool) as again:
        assert answer_second_factors(again) == 200


def hammer(
    url: str, clients: int, requests_each: int, check: Callable[[requests.Response], str | None]
) -> tuple[int, list[str]]:
    """Send ``requests_each`` POSTs to ``url`` from each of ``clients`` keep-alive sessions at
    once; return how many were answered, and what ``check`` found wrong with the answers."""
    problems: list[str] = []
    sent = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal sent
        with requests.Session() as session:
            for _ in range(requests_each):
                answer = session.post(url, headers=bearer("acme-admin"))
                problem = check(answer)
                with lock:
                    sent += 1
                    if problem is not None:
                        problems.append(problem)

    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sent, problems


@POOLS
def test_concurrent_requests_while_the_state_changes(pool: int) -> None:
    state = State(scenario(MAIN))
    # Every answer is one whole state, before or after a change: never a mix of both.
    answers = [
        ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"],
        ["SECOND_FACTOR_TYPE_OTP"],
    ]

    def check(answer: requests.Response) -> str | None:
        body = answer.json()
        result = body.get("result")
        total = body.get("details", {}).get("totalResult")
        whole = result in answers and total == str(len(result))
        return None if whole else f"{answer.status_code} {answer.text}"

    def changer() -> None:
        for i in range(60):
            state.set_second_factors("ACME", ["otp"] if i % 2 else ["otp_email", "u2f"])

    with MockServer(state, threads=pool) as mock:
        changing = threading.Thread(target=changer)
        changing.start()
        sent, problems = hammer(mock.url + SECOND_FACTORS, 5, 30, check)
        changing.join()
    assert problems == []
    assert sent == 150
    assert len(state.journal) == sent


@POOLS
def test_factor_changes_and_journal_reads_under_load(pool: int) -> None:
    state = State(scenario(MAIN))
    # Alice has four READY factors; a fifth comes and goes. Every answer lists four or five,
    # each whole; the journal, read all along, never loses a call.
    problems: list[str] = []
    done = threading.Event()

    def check(answer: requests.Response) -> str | None:
        result = answer.json().get("result", [])
        whole = answer.status_code == 200 and len(result) in (4, 5)
        return None if whole else f"{answer.status_code} {answer.text}"

    def changer() -> None:
        while not done.wait(0.0002):
            factor = state.add_factor(ALICE, {"type": "u2f", "name": "spare"})
            state.remove_factor(ALICE, factor.id)

    def reader() -> None:
        seen = 0
        while not done.wait(0.0002):
            calls = state.journal.calls()
            if len(calls) < seen or any(call.status != 200 for call in calls):
                problems.append(f"journal went from {seen} to {len(calls)} calls")
            seen = len(calls)

    with MockServer(state, threads=pool) as mock:
        others = [threading.Thread(target=changer), threading.Thread(target=reader)]
        for worker in others:
            worker.start()
        sent, wrong = hammer(mock.url + auth_factors(ALICE), 4, 40, check)
        done.set()
        for worker in others:
            worker.join()
    assert wrong == problems == []
    assert sent == 160
    assert len(state.journal) == sent
