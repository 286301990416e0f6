"""What a real client (requests) sees of each fault over a socket, and that waits block no one.

The exception classes asserted here are the ones the README's fault table lists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.client import BadStatusLine, RemoteDisconnected

import pytest
import requests
from testkit import MAIN, SECOND_FACTORS, scenario

from zitadel_mock import MockServer, State, ZitadelMock
from zitadel_mock._waitress.loop import HandOff

HEADERS = {"Authorization": "Bearer acme-admin"}


@pytest.fixture(params=[0, 2], ids=["inline", "pool"])
def mock(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    with MockServer(State(scenario(MAIN)), threads=request.param) as server:
        yield server


def post(mock: MockServer, timeout: float = 5, session: requests.Session | None = None) -> int:
    """POST to the second factors route; return the status (the answer is closed)."""
    with (session or requests).post(
        mock.url + SECOND_FACTORS, headers=HEADERS, timeout=timeout
    ) as answer:
        return answer.status_code


def cause(error: requests.RequestException) -> BaseException:
    """The socket-level reason urllib3 wraps: ``ProtocolError('Connection aborted.', reason)``."""
    protocol_error = error.args[0]
    return protocol_error.args[1]  # type: ignore[no-any-return]


# -- what the client sees ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "underneath"),
    [
        ("connection_reset", ConnectionResetError),
        ("empty_response", RemoteDisconnected),
        ("random_data_then_close", BadStatusLine),
    ],
)
def test_a_dropped_connection(mock: MockServer, fault: str, underneath: type) -> None:
    mock.state.add_error(fault=fault, times=1)
    with pytest.raises(requests.ConnectionError) as raised:
        post(mock)
    assert type(raised.value) is requests.exceptions.ConnectionError
    assert type(cause(raised.value)) is underneath
    assert post(mock) == 200  # the server goes on


def test_random_data_is_the_same_for_a_seed() -> None:
    def noise() -> bytes:
        state = State(scenario(MAIN + "seed: 9\nerrors: [{fault: random_data_then_close}]\n"))
        with MockServer(state) as server, pytest.raises(requests.ConnectionError) as raised:
            post(server)
        return str(cause(raised.value)).encode("latin-1")

    assert noise() == noise()


def test_malformed_body(mock: MockServer) -> None:
    mock.state.add_error(fault="malformed_body", times=1)
    with requests.post(mock.url + SECOND_FACTORS, headers=HEADERS, timeout=5) as answer:
        assert answer.status_code == 200
        assert answer.headers["Content-Length"] == str(len(answer.content))
        with pytest.raises(requests.JSONDecodeError) as raised:
            answer.json()
    assert type(raised.value) is requests.exceptions.JSONDecodeError
    assert post(mock) == 200


def test_timeout_until_the_client_gives_up(mock: MockServer) -> None:
    mock.state.add_error(fault="timeout", times=1)  # held up to a minute
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout) as raised:
        post(mock, timeout=0.2)
    assert type(raised.value) is requests.exceptions.ReadTimeout
    assert time.monotonic() - started < 1
    assert post(mock) == 200
    assert mock.state.journal.calls()[0].injected is not None
    assert mock.state.journal.calls()[0].injected.fault == "timeout"


def test_timeout_answers_504_once_its_hold_passes(mock: MockServer) -> None:
    mock.state.add_error(fault="timeout", hold=0.2, times=1)
    started = time.monotonic()
    with requests.post(mock.url + SECOND_FACTORS, headers=HEADERS, timeout=5) as answer:
        assert answer.status_code == 504
        assert answer.json() == {"code": 4, "message": "context deadline exceeded"}
    assert time.monotonic() - started >= 0.2


# -- waiting answers hold up no one --------------------------------------------------------------


def test_a_delayed_request_does_not_hold_up_another(mock: MockServer) -> None:
    mock.state.add_error(delay=1, times=1)
    slow: dict[str, float] = {}

    def call_slowly() -> None:
        started = time.monotonic()
        slow["status"] = post(mock)
        slow["took"] = time.monotonic() - started

    thread = threading.Thread(target=call_slowly)
    thread.start()
    time.sleep(0.1)  # the slow call is being held
    started = time.monotonic()
    assert post(mock) == 200
    fast = time.monotonic() - started
    thread.join()
    assert fast < 0.3
    assert slow["status"] == 200
    assert slow["took"] >= 1


def test_keep_alive_goes_on_after_a_delayed_answer() -> None:
    state = State(scenario(MAIN + "latency: 0.05\n"))
    with MockServer(state) as server, requests.Session() as session:
        started = time.monotonic()
        assert [post(server, session=session) for _ in range(4)] == [200] * 4
        assert time.monotonic() - started < 0.8  # no loop wake-up missed (it would cost 1 s)


@pytest.mark.parametrize("threads", [0, 2], ids=["inline", "pool"])
def test_stop_is_prompt_while_requests_wait(threads: int) -> None:
    before = set(threading.enumerate())
    errors: list[BaseException] = []
    server = MockServer(State(scenario(MAIN)), threads=threads).start()
    server.state.add_error(delay=30, times=1)
    server.state.add_error(fault="timeout", hold=30, times=1)

    def call() -> None:
        try:
            post(server, timeout=10)
        except requests.RequestException as exc:
            errors.append(exc)

    clients = [threading.Thread(target=call) for _ in range(2)]
    for thread in clients:
        thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 0.5
    for thread in clients:
        thread.join()
    assert [type(e) for e in errors] == [requests.exceptions.ConnectionError] * 2
    assert set(threading.enumerate()) == before


def test_requests_stay_on_the_serving_thread_without_waits() -> None:
    with MockServer(State(scenario(MAIN))) as server:
        server.state.add_error(code="UNAVAILABLE", times=1)
        assert [post(server) for _ in range(3)] == [503, 200, 200]
        assert server._dispatcher.started == []  # no worker thread was needed
        server.state.add_error(delay=0.01, times=1)
        assert post(server) == 200
        assert len(server._dispatcher.started) == 1
        server.state.reset()
        assert not server.state.serving.slow  # back on the serving thread


# -- steering over HTTP and through the fixture's handle -----------------------------------------


def test_faults_through_the_control_api(mock: MockServer) -> None:
    with requests.post(
        mock.url + "/_mock/errors",
        json={"fault": "connection_reset", "times": 1, "then": {"delay": 0.05, "times": 1}},
        timeout=5,
    ) as added:
        assert added.status_code == 201
        assert added.json()["remaining"] == 2
    with pytest.raises(requests.ConnectionError):
        post(mock)
    assert [post(mock), post(mock)] == [200, 200]
    with requests.get(mock.url + "/_mock/journal", timeout=5) as journal:
        calls = journal.json()["calls"]
    assert [(c["status"], c["forced"]) for c in calls] == [(0, True), (200, False), (200, False)]
    assert [c["injected"] and c["injected"]["fault"] for c in calls] == [
        "connection_reset",
        None,
        None,
    ]
    assert calls[1]["injected"]["delay"] == 0.05


def get_with_retries(url: str, attempts: int = 3) -> requests.Response:
    """A consumer's retry loop: retry on connection errors and 503, up to ``attempts``."""
    for attempt in range(attempts):
        try:
            answer = requests.post(url, headers=HEADERS, timeout=0.5)
        except requests.ConnectionError:
            continue
        if answer.status_code != 503 or attempt == attempts - 1:
            return answer
        answer.close()
    raise RuntimeError("gave up")


def test_the_readme_retry_example(mock: MockServer) -> None:
    handle = ZitadelMock(mock)
    handle.fail(
        "ListLoginPolicySecondFactors",
        code="UNAVAILABLE",
        times=1,
        then={"fault": "connection_reset", "times": 1},
    )
    with get_with_retries(mock.url + SECOND_FACTORS) as answer:
        assert answer.status_code == 200
    assert [call.status for call in handle.requests] == [503, 0, 200]
    handle.reset()
    handle.fail(code="UNAVAILABLE", after=1)  # the first call passes, then an outage
    with get_with_retries(mock.url + SECOND_FACTORS) as answer:
        assert answer.status_code == 200
    with get_with_retries(mock.url + SECOND_FACTORS) as answer:
        assert answer.status_code == 503
    handle.assert_called("ListLoginPolicySecondFactors", times=4)


def test_a_delay_in_one_namespace_holds_up_no_other() -> None:
    with MockServer(State(scenario(MAIN))) as server:
        space = {"X-Mock-Namespace": "slow-job"}
        with requests.post(
            server.url + "/_mock/errors", json={"delay": 1, "times": 1}, headers=space, timeout=5
        ) as added:
            assert added.status_code == 201
        assert server.namespaces.get("slow-job").serving is server.state.serving
        assert server.state.serving.slow
        took: list[float] = []

        def call_slowly() -> None:
            started = time.monotonic()
            with requests.post(
                server.url + SECOND_FACTORS, headers={**HEADERS, **space}, timeout=5
            ) as answer:
                assert answer.status_code == 200
            took.append(time.monotonic() - started)

        thread = threading.Thread(target=call_slowly)
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
        assert post(server) == 200  # the default namespace, meanwhile
        assert time.monotonic() - started < 0.3
        thread.join()
        assert took[0] >= 1


class SlowTask:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.done = threading.Event()

    def service(self) -> None:
        time.sleep(self.seconds)
        self.done.set()


def test_hand_off_never_queues_a_request_behind_a_waiting_one() -> None:
    handoff = HandOff(wake=lambda: None, limit=8)
    first = SlowTask(0)
    handoff.submit(first)
    assert first.done.wait(5)
    time.sleep(0.05)  # the worker is idle again
    slow, fast = SlowTask(1), SlowTask(0)
    handoff.submit(slow)  # two requests from one poll: the idle worker takes only one
    handoff.submit(fast)
    assert fast.done.wait(0.5)
    assert len(handoff.started) == 2
    handoff.stop()
    assert slow.done.is_set()
    assert handoff.drain() == []


def test_hand_off_is_bounded() -> None:
    handoff = HandOff(wake=lambda: None, limit=2)
    tasks = [SlowTask(0.2) for _ in range(4)]
    for task in tasks:
        handoff.submit(task)
    assert len(handoff.started) == 2
    assert all(task.done.wait(5) for task in tasks)
    handoff.stop()
