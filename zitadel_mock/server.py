"""``MockServer``: the mock on waitress in a background thread, for scripts and test suites."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from types import TracebackType
from typing import Any

from .app import create_app
from .errors import ServerError
from .model import Scenario
from .state import State

__all__ = ["MockServer"]


class InlineDispatcher:
    """Run each request on the serving thread, right after the poll that received it.

    The mock's handlers never block and take tens of microseconds, so a worker pool only adds
    cost: with waitress's pool, every request crosses threads twice (the loop hands it to a
    worker, the worker wakes the loop through its trigger to send the answer), and on a
    machine with two or more cores those threads fight for the GIL from different cores. With
    several keep-alive connections that hand-off dominates: throughput falls and p99 latency
    grows tenfold. One thread doing poll, parse, answer and write has no hand-off at all.

    Tasks are queued, not run inside ``add_task``: waitress calls it while holding the
    channel's ``requests_lock``, which the task takes again.
    """

    def __init__(self) -> None:
        self.pending: deque[Any] = deque()
        self.started: list[threading.Thread] = []

    def set_thread_count(self, count: int) -> None:
        pass

    def add_task(self, task: Any) -> None:
        self.pending.append(task)

    def run_pending(self) -> None:
        while self.pending:
            task = self.pending.popleft()
            try:
                task.service()
            except Exception:  # waitress's pool logs and goes on; so do we
                logging.getLogger("waitress").exception("Exception when servicing %r", task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        while self.pending:
            self.pending.popleft().cancel()
        return True


def _joining_dispatcher() -> Any:
    from waitress.task import ThreadedTaskDispatcher

    class JoiningDispatcher(ThreadedTaskDispatcher):
        """Waitress's worker pool, keeping its threads so that stop() can join them."""

        def __init__(self) -> None:
            super().__init__()
            self.started: list[threading.Thread] = []

        def start_new_thread(self, target: Any, thread_no: int) -> None:
            thread = threading.Thread(
                target=target, name=f"zitadel-mock-worker-{thread_no}", args=(thread_no,)
            )
            thread.daemon = True
            thread.start()
            self.started.append(thread)

    return JoiningDispatcher()


def bind(host: str, port: int) -> socket.socket:
    """Bind a listening socket now, so that a busy port raises here and leaves nothing open."""
    try:
        # One numeric address: a name that resolves to several would get several sockets.
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        raise ServerError(f"cannot resolve {host!r}: {exc.strerror or exc}") from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise ServerError(f"cannot listen on {address[0]}:{port}: {exc.strerror or exc}") from None
    return listener


def build_waitress(app: Any, listener: socket.socket, threads: int, **options: Any) -> Any:
    """A waitress server on a bound socket: inline (``threads=0``) or with a worker pool."""
    from waitress.server import create_server

    # With a pool, waitress warns of every queued request: noise for a mock under load.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    dispatcher: Any = _joining_dispatcher() if threads else InlineDispatcher()
    try:
        server = create_server(
            app,
            sockets=[listener],
            threads=max(threads, 1),
            _dispatcher=dispatcher,
            clear_untrusted_proxy_headers=True,
            **options,
        )
    except Exception:  # e.g. an unknown waitress option: leave no socket open
        listener.close()
        raise
    dispatcher.set_thread_count(threads)
    return server


def run_waitress(server: Any) -> None:
    """Waitress's loop; inline, it runs the queued requests after each poll."""
    from waitress import wasyncore

    dispatcher = server.task_dispatcher
    if not isinstance(dispatcher, InlineDispatcher):
        server.run()
        return
    poll = wasyncore.poll2 if server.adj.asyncore_use_poll else wasyncore.poll
    timeout, socket_map = server.adj.asyncore_loop_timeout, server._map
    while socket_map:
        poll(timeout, socket_map)
        dispatcher.run_pending()


class MockServer:
    """Serve a scenario on ``host:port`` (a free port by default) from a background thread.

    Use it as a context manager, or call ``start()`` and ``stop()``::

        with MockServer(load_scenario("fixtures/quickstart.yaml")) as mock:
            requests.post(mock.url + "/management/v1/...", headers=...)

    ``threads=0`` (the default) answers every request on the serving thread itself (see
    ``InlineDispatcher``); ``threads=N`` uses waitress's pool of N worker threads instead.
    """

    def __init__(
        self,
        scenario: Scenario | State,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        threads: int = 0,
        **waitress_options: Any,
    ) -> None:
        self.state = scenario if isinstance(scenario, State) else State(scenario)
        self.host = host
        self.port = port
        self.threads = threads
        self._options = waitress_options
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._dispatcher: Any = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:50123`` (the real port once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> MockServer:
        """Bind and start serving; raise ServerError if the address is taken."""
        if self._thread is not None:
            raise ServerError("the server is already running")
        self._server = build_waitress(
            create_app(self.state), self._bind(), self.threads, **self._options
        )
        self._dispatcher = self._server.task_dispatcher
        # The socket is bound and listening: connections queue in the backlog from here on.
        self.port = int(self._server.socket.getsockname()[1])
        self._thread = threading.Thread(
            target=run_waitress, args=(self._server,), name=f"zitadel-mock-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection (keep-alive ones too), then end the loop and worker threads.

        Waitress has no public shutdown: closing it from another thread waits for its loop's
        timeout or hangs on open connections (waitress issues #343 and #372). So every
        dispatcher is closed from inside the loop thread, through its trigger; the loop ends
        when its map is empty.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return

        def close_all() -> None:
            for dispatcher in list(server._map.values()):
                dispatcher.close()

        with contextlib.suppress(OSError):  # a closed trigger: the loop has ended already
            server.trigger.pull_trigger(close_all)
        thread.join()
        self._dispatcher.shutdown(cancel_pending=True, timeout=5)
        self._join_workers()
        self._server = self._thread = None

    def _bind(self) -> socket.socket:
        listener = bind(self.host, self.port)
        self.host = str(listener.getsockname()[0])
        return listener

    def _join_workers(self) -> None:
        for worker in self._dispatcher.started:
            worker.join()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<MockServer {self.url} {state}>"
