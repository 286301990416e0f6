"""Waitress's server, dispatcher and loop: built, run on one thread, and stopped without hanging.

See the package's docstring for every waitress attribute used here.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ..limits import (
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_HEADER_TIMEOUT,
    escape_waitress_log,
    fd_bounded_connection_limit,
    waitress_limits,
)
from ..serving import Serving
from .channel import Guard, fault_channel, mock_channel_class

__all__ = ["HandOff", "InlineDispatcher", "build_waitress", "run_waitress", "stop_waitress"]


class HandOff:
    """Worker threads, started on demand up to ``limit``, that serve requests which may wait.

    ``wake`` is called after each request, so that the serving loop sends what was written.
    """

    def __init__(self, wake: Callable[[], None], limit: int = 64) -> None:
        self.wake = wake
        self.limit = limit
        self.started: list[threading.Thread] = []
        self._queue: deque[Any] = deque()
        self._idle = 0
        self._stopping = False
        self._ready = threading.Condition()

    def submit(self, task: Any) -> None:
        with self._ready:
            self._queue.append(task)
            if self._stopping:
                return  # left for drain()
            if self._idle:  # claimed here: a second request must not count on the same worker
                self._idle -= 1
                self._ready.notify()
            elif len(self.started) < self.limit:
                thread = threading.Thread(
                    target=self._run, name=f"zitadel-mock-wait-{len(self.started)}", daemon=True
                )
                self.started.append(thread)
                thread.start()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._idle += 1  # submit() takes it back when it wakes this worker
                    self._ready.wait()
                if self._stopping:
                    return
                task = self._queue.popleft()
            try:
                task.service()
            except Exception:  # as waitress's own pool: log and go on
                logging.getLogger("waitress").exception("Exception when servicing %r", task)
            self.wake()

    def stop(self) -> None:
        """End the workers once the request each is serving is done."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        for thread in self.started:
            thread.join()

    def drain(self) -> list[Any]:
        """Return the requests no worker started (after ``stop``)."""
        with self._ready:
            left = list(self._queue)
            self._queue.clear()
        return left


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
            requests = task.requests  # a channel; a control request's head says so
            if self.handoff is not None and (
                (self.serving is not None and self.serving.slow)
                or (requests and requests[0].control_path)
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
    # Requests carry a Wire to their connection: faults and interruptible waits
    # (protocols.rest.connection).
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


def stop_waitress(server: Any, thread: threading.Thread) -> None:
    """Close every connection (keep-alive ones too), then end the loop and worker threads.

    Waitress has no public shutdown: closing it from another thread waits for its loop's
    timeout or hangs on open connections (waitress issues #343 and #372). So every
    dispatcher is closed from inside the loop thread, through its trigger; the loop ends
    when its map is empty.
    """
    server.stopping.set()  # delayed and held answers give up at once
    dispatcher = server.task_dispatcher
    handoff = getattr(dispatcher, "handoff", None)
    if handoff is not None:  # done before the loop closes: no worker writes to a closed fd
        handoff.stop()

    def close_all() -> None:
        for channel in list(server._map.values()):
            channel.close()

    with contextlib.suppress(OSError):  # a closed trigger: the loop has ended already
        server.trigger.pull_trigger(close_all)
    thread.join()
    close_all()  # anything a loop that ended on its own left open; none otherwise
    dispatcher.shutdown(cancel_pending=True, timeout=5)
    for worker in dispatcher.started:
        worker.join()
