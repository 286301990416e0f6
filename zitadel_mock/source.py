"""Read scenario text (YAML or JSON) into plain data; a syntax error names its line.

Valid files take the fastest safe path, with the garbage collector paused during the parse:
``json.loads``, or for plain YAML (no anchors, tags or merge keys: every generated file) the
data built straight from libyaml's events (:mod:`zitadel_mock.yaml_plain`), else libyaml's C
parser with the safe constructor. Lines are only looked up when there is an error to report
(:mod:`zitadel_mock.paths`).
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from .errors import ScenarioError
from .paths import Path, event_line, find_cycle, find_duplicate, format_path, line_of, locate
from .yaml_plain import NOT_PLAIN, load_plain

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

# A scenario nests 7 levels deep (orgs[0].users[0].auth_factors[0].type). libyaml's composer
# recurses on the C stack and crashes the interpreter on a few ten thousand levels, so deeper
# text is refused before it gets there.
MAX_DEPTH = 64

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int | None) -> None:
        self.key, self.line = key, line


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, but a key given twice in one mapping is an error, not a silent win.

    Keys brought in by a merge (``<<: *base``) may be overridden, as YAML intends.
    """

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        # Flattening puts the merged pairs first and drops the ``<<`` keys, and a node may be
        # flattened as another's merge source before it is constructed itself: so count its
        # own pairs the first time it is seen.
        own = self.__dict__.setdefault("_own_pairs", {})
        own.setdefault(id(node), sum(1 for k, _ in node.value if k.tag != _MERGE_TAG))
        super().flatten_mapping(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        first_own = len(node.value) - self.__dict__["_own_pairs"][id(node)]
        mapping: dict[Any, Any] = {}
        own: set[Any] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if index >= first_own:
                if key in own:
                    raise _DuplicateKey(key, key_node.start_mark.line + 1)
                own.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


@contextmanager
def gc_paused() -> Iterator[None]:
    # Parsing allocates millions of small containers; the collector's passes over them cost
    # far more than the parse itself for large files.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
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

    try:
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        line = _existing_line(text, exc.lineno)
        raise ScenarioError(f"invalid JSON: {exc.msg}", source=source, line=line) from None
    except _DuplicateKey as dup:
        raise _duplicate_error(text, source, dup) from None
    except RecursionError:
        raise ScenarioError("invalid JSON: nested too deeply", source=source) from None


def _parse_yaml(text: str, source: str | None) -> Any:
    data = load_plain(text, _Loader, MAX_DEPTH)
    if data is not NOT_PLAIN:
        return data
    try:
        _check_depth(text)
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _TooDeep as deep:
        raise ScenarioError(
            f"invalid YAML: nested more than {MAX_DEPTH} levels deep", source=source, line=deep.line
        ) from None
    except _DuplicateKey as dup:
        raise _duplicate_error(text, source, dup) from None
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
    except RecursionError:
        raise ScenarioError("invalid YAML: nested too deeply", source=source) from None


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
    if exc.context == "expected a single document in the stream":
        return "a second document starts here; a scenario file holds one document"
    context = exc.context_mark
    context_line = _existing_line(text, context.line + 1) if context is not None else line
    if exc.context and context_line != line:
        problem += f" ({exc.context} started on line {context_line})"
    return _one_line(problem)


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _check_depth(text: str) -> None:
    """Raise _TooDeep if ``text`` nests deeper than MAX_DEPTH, without composing it.

    Each level costs a flow bracket, a block indicator (``-``, ``?``) or more indentation, so
    counting them bounds the depth: only text that might be deep is walked, with the parser's
    events, which libyaml makes without recursion.
    """
    indicators = text.count("[") + text.count("{") + 2 * (text.count("-") + text.count("?"))
    if indicators + math.isqrt(2 * len(text)) + 2 <= MAX_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooDeep(event_line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _duplicate_error(text: str, source: str | None, dup: _DuplicateKey) -> ScenarioError:
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
