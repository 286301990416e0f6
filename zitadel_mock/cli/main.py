"""The ``zitadel-mock`` command: its parser and ``main``, which runs one subcommand."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from .. import __version__
from ..errors import ZitadelMockError
from ..limits import DEFAULT_MAX_BODY_SIZE
from . import generate as generate_command
from . import new_key as new_key_command
from .check import add_commands
from .serve import add_serve_options, run_serve, whole_number

__all__ = ["console_main", "main"]

ServeFn = Callable[[argparse.Namespace, TextIO], int]

_EPILOG = """\
examples:
  zitadel-mock serve --scenario fixtures/quickstart.yaml
  zitadel-mock serve --scenario my.yaml --port 0          # a free port; the URL is printed
  zitadel-mock serve --scenario my.yaml --host 0.0.0.0    # listen beyond this machine
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line on stderr and exit status 2, like every other user mistake.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


_threads = whole_number(0, "a number of threads (0 or more)")
_size = whole_number(0, "a number of bytes (0 or more)", "a number of bytes")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="zitadel-mock",
        description="A faithful mock of ZITADEL's Management API MFA routes, driven by scenarios.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve a scenario over HTTP (waitress)",
        description=(
            "Serve ListLoginPolicySecondFactors and ListHumanAuthFactors for a scenario file. "
            "Prints 'Serving on http://HOST:PORT' once listening, then one access-log line per "
            "request on stderr. Stops cleanly on Ctrl-C or SIGTERM."
        ),
    )
    serve.add_argument(
        "--scenario", "-s", required=True, metavar="PATH", help="scenario file (YAML or JSON)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument(
        "--port", "-p", type=_port, default=8080, help="port (default: 8080; 0: a free one)"
    )
    serve.add_argument(
        "--threads",
        type=_threads,
        default=0,
        help="worker threads; 0 (the default, and the fastest) answers on the serving thread",
    )
    serve.add_argument(
        "--max-body-size",
        type=_size,
        default=DEFAULT_MAX_BODY_SIZE,
        metavar="BYTES",
        help="the largest request body accepted outside the control API (which takes up to "
        "64 MiB); a larger one is answered 413 without being read "
        f"(default: {DEFAULT_MAX_BODY_SIZE})",
    )
    serve.add_argument("--quiet", "-q", action="store_true", help="no access log")
    add_serve_options(serve)
    add_commands(commands)
    generate_command.add_parser(commands)
    new_key_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, serve: ServeFn = run_serve) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args, sys.stdout)
        if hasattr(args, "run"):  # validate, schema, generate, new-key
            return int(args.run(args, sys.stdout))
    except ZitadelMockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before serving began, e.g. while a large file loads
        return 130
    return 2


def console_main() -> NoReturn:
    """The ``zitadel-mock`` command as a process of its own: ``main``, then the exit.

    The process ends next, with nothing left that needs collecting; yet the interpreter's last
    pass of the collector would walk every object still alive, a large scenario's (or one half
    built by a PUT that a signal cut short) included: over half a second for 60,000 users, and
    seconds on a loaded machine. They are frozen out of its reach first (``gc.freeze``). Not in
    ``main``, which tests and other programs call in a process that goes on.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    console_main()
