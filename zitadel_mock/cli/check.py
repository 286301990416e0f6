"""``validate`` and ``schema``: the CI side of the command line, checking scenario files."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ..errors import ScenarioError

__all__ = ["add_commands", "run_schema", "run_validate"]

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


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
    from ..scenario.read import load_scenario

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
    from ..scenario.schema import schema_text

    out.write(schema_text())
    return 0
