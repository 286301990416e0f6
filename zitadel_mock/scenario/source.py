"""Read scenario text (YAML or JSON) into plain data; a syntax error names its line.

JSON is read by ``json.loads``, YAML by :mod:`zitadel_mock.yaml_reader` (the parser's events,
with the meaning of anchors, merge keys and tags decided there), both with the garbage collector
paused. Lines are only looked up when there is an error to report (:mod:`zitadel_mock.paths`).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from ..bigints import MAX_DIGITS, locate_json, too_long_message
from ..errors import ScenarioError
from .paths import Path, find_cycle, find_duplicate, format_path, line_of, locate
from .yaml_reader import MAX_DEPTH, DuplicateKey, YamlProblem, read_yaml

__all__ = [
    "MAX_DEPTH",
    "Path",
    "find_cycle",
    "format_path",
    "gc_paused",
    "line_of",
    "locate",
    "parse_text",
]


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int | None) -> None:
        self.key, self.line = key, line


class _TooLong(Exception):
    """A number of more digits than Python reads, met while parsing JSON."""


@contextmanager
def gc_paused(*, keep: bool = False) -> Iterator[None]:
    """The collector off meanwhile: parsing allocates millions of small containers, and the
    collector's passes over them cost far more than the parse itself for large files.

    ``keep``: what was built is moved out of the collector's reach (``gc.freeze``) before it is
    turned back on. Without it, the first pass after a large scenario walks every object of
    it in one go, holding the GIL: while a server answers, each of its threads then stalls for
    as long (measured: 65 to 145 ms for 60,000 users on an idle machine, over a second on a
    loaded one). Objects frozen so are still freed when nothing refers to them any more.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if keep:
                gc.freeze()
            gc.enable()


def parse_text(text: str, source: str | None, fmt: str) -> Any:
    """Parse ``text`` as ``fmt`` ('yaml' or 'json'); a syntax error becomes a ScenarioError."""
    with gc_paused():
        if fmt == "json":
            return _parse_json(text, source)
        return _parse_yaml(text, source)


def _parse_json(text: str, source: str | None) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) < len(items):  # a key given twice: which one is looked up only now
            keys = [key for key, _ in items]
            raise _DuplicateKey(next(k for n, k in enumerate(keys) if k in keys[:n]), None)
        return out

    def integer(digits: str) -> int:
        if len(digits) > MAX_DIGITS:
            raise _TooLong
        return int(digits)

    try:
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=pairs, parse_int=integer)
    except _TooLong:
        line, path, digits = locate_json(text.removeprefix("\ufeff")) or (None, [], 0)
        raise ScenarioError(
            too_long_message(digits), source=source, line=line, path=format_path(path)
        ) from None
    except json.JSONDecodeError as exc:
        line = _existing_line(text, exc.lineno)
        raise ScenarioError(f"invalid JSON: {exc.msg}", source=source, line=line) from None
    except _DuplicateKey as dup:
        raise _duplicate_error(text, source, dup) from None
    except RecursionError:
        raise ScenarioError("invalid JSON: nested too deeply", source=source) from None


def _parse_yaml(text: str, source: str | None) -> Any:
    try:
        return read_yaml(text)
    except DuplicateKey as dup:
        raise _duplicate_error(text, source, dup) from None
    except YamlProblem as problem:
        line = _existing_line(text, problem.line) if problem.line else None
        path = format_path(problem.path) if problem.path is not None else ""
        raise ScenarioError(problem.message, source=source, line=line, path=path) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = _existing_line(text, mark.line + 1) if mark else None
        raise ScenarioError(
            f"invalid YAML: {_yaml_problem(exc, text, line)}", source=source, line=line
        ) from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts its position in bytes; the reader stops at the first such character.
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ScenarioError(
            f"invalid YAML: the control character U+{ord(char):04X} is not allowed",
            source=source,
            line=_line_at(text, text.find(char)),
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"invalid YAML: {_one_line(str(exc))}", source=source) from None
    except UnicodeEncodeError as exc:  # a lone surrogate: text that no file can hold
        raise ScenarioError(
            f"invalid YAML: U+{ord(text[exc.start]):04X} is not a character",
            source=source,
            line=_line_at(text, exc.start),
        ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


_BREAKS = ("\r\n", "\r", "\n", "\x85", "\u2028", "\u2029")  # YAML's line breaks
_LINE_BREAK = re.compile("|".join(_BREAKS))


def _line_at(text: str, index: int) -> int:
    return len(_LINE_BREAK.findall(text, 0, max(index, 0))) + 1


def _existing_line(text: str, line: int) -> int:
    """A parser at the end of the text names the line after the last one: name the last."""
    breaks = len(_LINE_BREAK.findall(text))
    last = breaks if text.endswith(_BREAKS) else breaks + 1
    return max(1, min(line, last))


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str, line: int | None) -> str:
    problem = exc.problem or exc.context or "not valid YAML"
    mark = exc.problem_mark
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return "a tab character; YAML is indented with spaces"
    if "maximum nesting depth" in problem:  # libyaml 0.2.6 stops at 1,000 levels itself
        return f"nested more than {MAX_DEPTH} levels deep"
    if exc.context == "expected a single document in the stream":
        return "a second document starts here; a scenario file holds one document"
    context = exc.context_mark
    context_line = _existing_line(text, context.line + 1) if context is not None else line
    if exc.context and context_line != line:
        problem += f" ({exc.context} started on line {context_line})"
    return _one_line(problem)


def _duplicate_error(
    text: str, source: str | None, dup: _DuplicateKey | DuplicateKey
) -> ScenarioError:
    found = find_duplicate(text)
    if found is None:  # equal values written differently (1 and 0x1): the key's own line
        return ScenarioError(f"key {dup.key!r} is given twice", source=source, line=dup.line)
    path, line, first = found
    return ScenarioError(
        f"key {path[-1]!r} is given twice (first on line {first})",
        source=source,
        line=line,
        path=format_path(path),
    )
