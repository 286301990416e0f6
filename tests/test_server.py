"""MockServer over real sockets: start, stop, busy ports, keep-alive, threads."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from support import ALICE, MAIN, SECOND_FACTORS, auth_factors, bearer, checked, scenario

from zitadel_mock import MockServer, ServerError, State


def threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(scenario(MAIN)) as mock:
        yield mock


def test_url_has_the_real_port(server: MockServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0
    assert server.running


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


def test_busy_port_raises_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        mock = MockServer(scenario(MAIN), port=port)
        with pytest.raises(ServerError, match=f"cannot listen on 127.0.0.1:{port}"):
            mock.start()
        assert not mock.running


def test_stop_with_keep_alive_connections_leaves_nothing_behind() -> None:
    before = threads()
    mock = MockServer(scenario(MAIN)).start()
    sessions = [requests.Session() for _ in range(5)]
    for session in sessions:
        assert session.post(mock.url + SECOND_FACTORS, headers=bearer("acme-admin")).ok
    port = mock.port
    mock.stop()  # the sessions' connections are still open
    for session in sessions:
        session.close()
    assert threads() == before
    with socket.socket() as again:  # nothing listens there any more
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_restart_on_the_same_port() -> None:
    mock = MockServer(scenario(MAIN)).start()
    port = mock.port
    mock.stop()
    mock.stop()  # stopping twice is harmless
    with MockServer(scenario(MAIN), port=port) as again:
        assert requests.post(again.url + SECOND_FACTORS, headers=bearer("acme-admin")).ok


def test_start_twice_is_an_error(server: MockServer) -> None:
    with pytest.raises(ServerError, match="already running"):
        server.start()


def test_concurrent_requests_while_the_state_changes() -> None:
    state = State(scenario(MAIN))
    # Every answer is one whole state, before or after a change.
    answers = [
        ["SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_U2F"],
        ["SECOND_FACTOR_TYPE_OTP"],
    ]
    errors: list[str] = []
    sent = 0
    lock = threading.Lock()

    with MockServer(state, threads=4) as mock:

        def client() -> None:
            nonlocal sent
            with requests.Session() as session:
                for _ in range(40):
                    answer = session.post(mock.url + SECOND_FACTORS, headers=bearer("acme-admin"))
                    result = answer.json().get("result")
                    total = answer.json().get("details", {}).get("totalResult")
                    if result not in answers or total != str(len(result)):
                        errors.append(f"{answer.status_code} {answer.text}")
                    with lock:
                        sent += 1

        def changer() -> None:
            for i in range(60):
                state.set_second_factors("ACME", ["otp"] if i % 2 else ["otp_email", "u2f"])

        workers = [threading.Thread(target=client) for _ in range(6)]
        workers.append(threading.Thread(target=changer))
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert errors == []
    assert len(state.journal) == sent == 240
