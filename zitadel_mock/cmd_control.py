"""The CI side of the command line: ``validate``, ``schema``, and serve's control options."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .errors import ScenarioError

if TYPE_CHECKING:
    from .model import Scenario
    from .reload import Reloader
    from .server import MockServer

__all__ = ["ServeExtras", "add_commands", "add_serve_options", "build_server", "whole_number"]

TOKEN_ENV = "ZITADEL_MOCK_CONTROL_TOKEN"
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


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
    from .control import token_problem

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
    from .limits import DEFAULT_CONNECTION_LIMIT, DEFAULT_HEADER_TIMEOUT

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
    from .limits import waitress_limits
    from .namespaces import Namespaces
    from .server import MockServer

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


# -- validate and schema -----------------------------------------------------------------------


def add_commands(commands: Any) -> None:
    """Add the ``validate`` and ``schema`` subcommands to the parser's subparsers."""
    validate = commands.add_parser(
        "validate",
        help="check scenario files (for CI)",
        description="Check scenario files completely, as serve loads them. Prints one line per "
        "file: 'PATH: ok' or the error with its file, line and key path. Exit status 0 when "
        "every file is valid, 1 otherwise. A directory stands for the .yaml, .yml and .json "
        "files under it.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="scenario file or directory")
    validate.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default: text)"
    )
    validate.set_defaults(run=run_validate)
    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of scenario files",
        description="Print the JSON Schema (draft-07) of scenario files, for editors: save it "
        "and start a scenario with '# yaml-language-server: $schema=scenario.schema.json'.",
    )
    schema.set_defaults(run=run_schema)


def _files(paths: list[str]) -> Iterator[str]:
    for path in paths:
        folder = Path(path)
        if not folder.is_dir():
            yield path
            continue
        found = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in SCENARIO_SUFFIXES)
        yield from found or [path]  # an empty folder: its own "is a directory" error


def _check(path: str) -> dict[str, Any]:
    from .scenario import load_scenario

    try:
        load_scenario(path)
    except ScenarioError as exc:
        return {
            "path": path,
            "valid": False,
            "error": str(exc),
            "line": exc.line,
            "key_path": exc.path,
            "message": exc.message,
        }
    return {"path": path, "valid": True}


def run_validate(args: argparse.Namespace, out: TextIO) -> int:
    """Validate every file; 0 if all are valid, 1 otherwise."""
    results = [_check(path) for path in _files(args.paths)]
    valid = all(r["valid"] for r in results)
    if args.format == "json":
        print(json.dumps({"valid": valid, "files": results}, indent=2), file=out)
    else:
        for r in results:
            print(f"{r['path']}: ok" if r["valid"] else r["error"], file=out)
    return 0 if valid else 1


def run_schema(args: argparse.Namespace, out: TextIO) -> int:
    """Print the scenario JSON Schema."""
    from .schema import schema_text

    out.write(schema_text())
    return 0
