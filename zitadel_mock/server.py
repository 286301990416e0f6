"""``MockServer``: the mock on waitress in a background thread, for scripts and test suites."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Any

from ._waitress.handover import handover_channel
from ._waitress.loop import build_waitress, run_waitress, stop_waitress
from .control import http as control_api
from .control.http import ControlDecision, decide_control, token_problem
from .errors import ServerError
from .limits import DEFAULT_HEADER_TIMEOUT
from .model import Scenario
from .namespaces import Namespaces
from .protocols.grpc.native import NativeGrpc
from .protocols.http2 import H2cServer
from .protocols.rest.app import create_app
from .state import State

__all__ = ["MockServer"]


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
        self._h2c: H2cServer | None = None

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
        # HTTP/2 (native gRPC, and anything else a client sends over h2c) on the same port.
        native = NativeGrpc(self.namespaces)
        adj = self._server.adj
        self._h2c = H2cServer(
            app,
            route=native.route,
            early=native.early,
            max_body=adj.max_request_body_size - 1,
            max_connections=adj.connection_limit,
            idle_timeout=adj.channel_timeout,
        )
        self._server.channel_class = handover_channel(self._server.channel_class, self._h2c)
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
        stop_waitress(server, thread)
        if self._h2c is not None:
            self._h2c.stop()
        self._server = self._thread = self._h2c = None

    def _bind(self) -> socket.socket:
        listener = bind(self.host, self.port)
        self.host = str(listener.getsockname()[0])
        return listener

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
