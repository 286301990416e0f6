"""``MockServer``: the mock on waitress in a background thread, for scripts and test suites."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .control import http as control_api
from .control.http import ControlDecision, decide_control, token_problem
from .errors import ServerError
from .limits import (
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_HEADER_TIMEOUT,
    Guard,
    escape_waitress_log,
    fd_bounded_connection_limit,
    mock_channel_class,
    waitress_limits,
)
from .model import Scenario
from .namespaces import Namespaces
from .protocols.rest.app import create_app
from .protocols.rest.connection import HandOff, fault_channel
from .serving import Serving
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

    While some answer may wait (``serving.slow``: a delay, a timeout fault, a latency), each
    request is handed to a worker thread instead, so that a waiting answer holds up no other.
    So is every control request (``/_mock/``): one may take seconds (a scenario replaced),
    during which the routes go on answering.
    """

    def __init__(self, serving: Serving | None = None) -> None:
        self.pending: deque[Any] = deque()
        self.started: list[threading.Thread] = []
        self.serving = serving
        self.handoff: HandOff | None = None

    def set_thread_count(self, count: int) -> None:
        pass

    def add_task(self, task: Any) -> None:
        self.pending.append(task)

    def run_pending(self) -> None:
        while self.pending:
            task = self.pending.popleft()
            if self.handoff is not None and (
                (self.serving is not None and self.serving.slow) or _is_control(task)
            ):
                self.handoff.submit(task)
                continue
            try:
                task.service()
            except Exception:  # waitress's pool logs and goes on; so do we
                logging.getLogger("waitress").exception("Exception when servicing %r", task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        if self.handoff is not None:
            self.handoff.stop()
            self.pending.extend(self.handoff.drain())
        while self.pending:
            self.pending.popleft().cancel()
        return True


def _is_control(task: Any) -> bool:
    """Whether a channel's next request is a control request (``/_mock/...``)."""
    requests: Any = getattr(task, "requests", None)
    return bool(requests) and str(getattr(requests[0], "path", "")).startswith("/_mock")


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


def _pool_channel() -> Any:
    from waitress.channel import HTTPChannel

    class PoolChannel(HTTPChannel):
        """Waitress's channel, not offered to ``select`` while a worker is writing its answer.

        Waitress's own ``writable()`` is true from the first byte a worker queues. The worker
        then sends it itself (``send_bytes`` is 1) holding the output lock, so the loop's
        ``select`` returns at once, ``handle_write`` cannot take the lock and does nothing, and
        the loop spins, retaking the GIL the worker needs to finish: on two cores, tens of
        ``select`` calls and ~1 ms of loop CPU per request. The worker wakes the loop when it
        is done; past the high watermark (the worker waits for the loop) it is offered again.
        """

        def writable(self) -> bool:
            if self.will_close or self.close_when_flushed:
                return True
            if self.requests:
                return bool(self.total_outbufs_len > self.adj.outbuf_high_watermark)
            return bool(self.total_outbufs_len)

    return PoolChannel


def _no_wake_up() -> None:
    """Inline, waitress's wake-up after each answer would only wake the loop that sent it."""


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


def build_waitress(
    app: Any,
    listener: socket.socket,
    threads: int,
    serving: Serving | None = None,
    now_ns: Callable[[], int] | None = None,
    *,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    control_max_body: int | None = None,
    **options: Any,
) -> Any:
    """A waitress server on a bound socket: inline (``threads=0``) or with a worker pool.

    ``serving`` tells whether answers may wait; while they may, inline requests go to worker
    threads. ``server.stopping`` set wakes every waiting answer at once. Waitress's own error
    answers (a body or headers over the limits, a malformed request) are ZITADEL's envelope,
    their ``Expires`` from ``now_ns``; ``options`` may set other limits (``limits``).
    ``header_timeout``: seconds for a request line and headers to arrive (``limits.Guard``);
    ``control_max_body``: the control API's body limit, if it is served.
    """
    from waitress.adjustments import asbool
    from waitress.server import create_server

    # poll has no bound on descriptor numbers; select stops at 1024 (and ~512 on Windows).
    options.setdefault("asyncore_use_poll", hasattr(select, "poll"))
    options["connection_limit"] = fd_bounded_connection_limit(
        options.get("connection_limit", DEFAULT_CONNECTION_LIMIT),
        asbool(options["asyncore_use_poll"]),
    )
    # The deadlines are checked in waitress's maintenance, every cleanup_interval seconds.
    options.setdefault("cleanup_interval", 1)
    # With a pool, waitress warns of every queued request: noise for a mock under load.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    escape_waitress_log()
    dispatcher: Any = _joining_dispatcher() if threads else InlineDispatcher(serving)
    try:
        server: Any = create_server(
            app,
            sockets=[listener],
            threads=max(threads, 1),
            _dispatcher=dispatcher,
            clear_untrusted_proxy_headers=True,
            **{**waitress_limits(), **options},
        )
    except Exception:  # e.g. an unknown waitress option: leave no socket open
        listener.close()
        raise
    if threads:
        server.channel_class = _pool_channel()
    else:
        # Each answer ends with a wake-up of the loop (a pipe write, a poll round, a read);
        # inline, the answer was written by the loop itself, which polls again anyway.
        server.pull_trigger = _no_wake_up
        # Past the high watermark waitress makes the writer wait for the loop to drain the
        # output: inline, the writer is the loop, which would wait for itself forever. Never
        # wait; past ``outbuf_overflow`` the output spills to a temporary file anyway.
        server.adj.outbuf_high_watermark = 1 << 62
        dispatcher.handoff = HandOff(_waker(server))
        dispatcher.started = dispatcher.handoff.started
    server.channel_class = mock_channel_class(
        server.channel_class, now_ns, server.adj, control_max_body
    )
    # Waitress's maintenance, run by its loop, also enforces the mock's deadlines.
    server.maintenance = Guard(server, header_timeout).maintenance
    # Requests carry a Wire to their connection: faults and interruptible waits (netfaults).
    # Last, so that it extends whichever channel class was chosen above.
    server.stopping = threading.Event()
    server.channel_class = fault_channel(server.channel_class, server.stopping)
    dispatcher.set_thread_count(threads)
    return server


def _waker(server: Any) -> Any:
    """Wake the loop after a worker's answer, so that it sends what is left and reads on."""

    def wake() -> None:
        with contextlib.suppress(OSError):  # the loop has ended
            server.trigger.pull_trigger()

    return wake


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

    The control API (``/_mock/``) is served on a loopback address, or anywhere with a
    ``control_token`` (then required); ``control=False`` turns it off. ``self.control`` tells
    what was decided once started. ``self.state`` is the default namespace's state.

    ``header_timeout``: seconds for a request line and headers to arrive (a late one is
    answered 408 and closed). Other keyword arguments are waitress's options; the connection
    limit defaults to 1000 (``limits.DEFAULT_CONNECTION_LIMIT``) within the open file limit.
    """

    def __init__(
        self,
        scenario: Scenario | State | Namespaces,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        threads: int = 0,
        control: bool = True,
        control_token: str | None = None,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        **waitress_options: Any,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ServerError(f"the port must be a number from 0 to 65535, not {port!r}")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
            raise ServerError(f"threads must be a whole number, 0 or more, not {threads!r}")
        if (
            isinstance(header_timeout, bool)
            or not isinstance(header_timeout, (int, float))
            or not 0 < header_timeout < float("inf")
        ):
            raise ServerError(
                f"header_timeout must be a number of seconds above 0, not {header_timeout!r}"
            )
        if control_token is not None:
            problem = token_problem(control_token)
            if problem is not None:
                raise ServerError(f"control_token: {problem}")
        self.namespaces = scenario if isinstance(scenario, Namespaces) else Namespaces(scenario)
        self.state = self.namespaces.default
        self._control = (control, control_token)
        self.control: ControlDecision | None = None
        self.host = host
        self.port = port
        self.threads = threads
        self.header_timeout = float(header_timeout)
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
        listener = self._bind()
        try:
            enabled, token = self._control
            self.control = decide_control(self.host, enabled=enabled, token=token)
            app = create_app(self.namespaces, control=self.control.options or False)
        except BaseException:  # nothing half-open: the socket goes with the failed start
            listener.close()
            raise
        self._server = build_waitress(
            app,
            listener,
            self.threads,
            self.state.serving,
            self.state.now_ns,
            header_timeout=self.header_timeout,
            # Read now, not at import: the limit is the control module's (tests lower it).
            control_max_body=control_api.MAX_BODY if self.control.enabled else None,
            **self._options,
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
        server.stopping.set()  # delayed and held answers give up at once
        handoff = getattr(self._dispatcher, "handoff", None)
        if handoff is not None:  # done before the loop closes: no worker writes to a closed fd
            handoff.stop()

        def close_all() -> None:
            for dispatcher in list(server._map.values()):
                dispatcher.close()

        with contextlib.suppress(OSError):  # a closed trigger: the loop has ended already
            server.trigger.pull_trigger(close_all)
        thread.join()
        close_all()  # anything a loop that ended on its own left open; none otherwise
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
