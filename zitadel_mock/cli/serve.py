"""``zitadel-mock serve``: its options, the server it builds, and running it until a signal."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from ..scenario.read import load_scenario
from .access_log import access_json, access_line, log_requests  # importable from here too

if TYPE_CHECKING:
    from ..model import Scenario
    from ..server import MockServer
    from .reload import Reloader

__all__ = [
    "ServeExtras",
    "access_json",
    "access_line",
    "add_serve_options",
    "build_server",
    "log_requests",
    "run_serve",
    "whole_number",
]

TOKEN_ENV = "ZITADEL_MOCK_CONTROL_TOKEN"


def whole_number(
    minimum: int, too_small: str, not_a_number: str = "a whole number"
) -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` up, each mistake said in one line."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not {not_a_number}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{number} is not {too_small}")
        return number

    return parse


_positive = whole_number(1, "a positive number")


def _token(value: str) -> str:
    from ..control.http import token_problem

    problem = token_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{value} is not a number of seconds above 0")
    return seconds


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """Add ``--reload``, the control API options and the bounds to ``serve``."""
    from ..limits import DEFAULT_CONNECTION_LIMIT, DEFAULT_HEADER_TIMEOUT

    serve.add_argument(
        "--reload",
        action="store_true",
        help="watch the scenario file and serve each valid edit; an invalid one is logged "
        "and the last good scenario kept",
    )
    control = serve.add_mutually_exclusive_group()
    control.add_argument(
        "--control-token",
        metavar="TOKEN",
        type=_token,
        default=os.environ.get(TOKEN_ENV) or None,
        help="serve the control API (/_mock/) on any address, requiring this token "
        f"(Authorization: Bearer TOKEN or X-Mock-Token); default: ${TOKEN_ENV}. "
        "Without it the control API is served on a loopback address only",
    )
    control.add_argument(
        "--no-control", action="store_true", help="do not serve the control API at all"
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="the access log on stderr: a line people read, or one JSON object per line for "
        "log collectors (default: text)",
    )
    serve.add_argument(
        "--journal-size",
        type=_positive,
        default=10_000,
        metavar="N",
        help="calls kept in each namespace's journal; the oldest are dropped (default: 10000)",
    )
    serve.add_argument(
        "--max-namespaces",
        type=_positive,
        default=1000,
        metavar="N",
        help="namespaces kept besides the default one; the least recently used is "
        "forgotten beyond (default: 1000)",
    )
    serve.add_argument(
        "--header-timeout",
        type=_seconds,
        default=DEFAULT_HEADER_TIMEOUT,
        metavar="SECONDS",
        help="seconds for a request line and headers to arrive, from their first byte (from "
        "the connection, for its first request); a late one is answered 408 and the "
        f"connection closed (default: {DEFAULT_HEADER_TIMEOUT:g})",
    )
    serve.add_argument(
        "--connection-limit",
        type=_positive,
        default=DEFAULT_CONNECTION_LIMIT,
        metavar="N",
        help="connections served at once; more wait until one closes. Within the open file "
        f"limit, which is raised if needed (default: {DEFAULT_CONNECTION_LIMIT})",
    )


def build_server(args: argparse.Namespace, scenario: Scenario) -> MockServer:
    """The MockServer that ``serve`` runs, with its namespaces, bounds and control options."""
    from ..limits import waitress_limits
    from ..namespaces import Namespaces
    from ..server import MockServer

    namespaces = Namespaces(
        scenario, journal_size=args.journal_size, max_namespaces=args.max_namespaces
    )
    return MockServer(
        namespaces,
        host=args.host,
        port=args.port,
        threads=args.threads,
        control=not args.no_control,
        control_token=args.control_token,
        header_timeout=args.header_timeout,
        connection_limit=args.connection_limit,
        **waitress_limits(args.max_body_size),
    )


def _stderr_logger(name: str) -> logging.Logger:
    log = logging.getLogger(name)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


class ServeExtras:
    """What ``serve`` runs besides the server: the control API notice and the reloader.

    Made before the scenario is loaded: with ``--reload``, the file's state is noted first, so
    that an edit made while the server starts is seen (at worst loaded twice), never missed.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.reloader: Reloader | None = None
        if args.reload:
            from .reload import Reloader

            self.reloader = Reloader(args.scenario)

    def start(self, server: MockServer, out: TextIO) -> None:
        """Say whether the control API is served (on ``out``, after the URL); start --reload.

        On stdout, not stderr: stderr carries the access log, one line per request.
        """
        decision = server.control
        if decision is not None:
            where = f" at {server.url}/_mock/" if decision.enabled else ""
            print(f"{decision.reason}{where}", file=out, flush=True)
        if self.reloader is not None:
            _stderr_logger("zitadel_mock.reload")
            self.reloader.namespaces = server.namespaces
            self.reloader.start()

    def stop(self) -> None:
        if self.reloader is not None:
            self.reloader.stop()


def run_serve(args: argparse.Namespace, out: TextIO) -> int:
    """Serve ``args.scenario`` until SIGINT or SIGTERM; return the exit status."""
    extras = ServeExtras(args)  # with --reload, notes the file's state before it is loaded
    scenario = load_scenario(args.scenario)
    server = build_server(args, scenario)
    access = None if args.quiet else log_requests(server, json_lines=args.log_format == "json")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        print(f"Serving on {server.url}", file=out, flush=True)
        extras.start(server, out)
        stop.wait()
    finally:
        extras.stop()
        server.stop()
        if access is not None:
            access.close()  # the lines still queued, within about a second
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
