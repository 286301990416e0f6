"""Read scenario text (YAML or JSON) into plain data, and find the line of a key path.

Valid files take the fastest safe path: libyaml's C parser with the safe constructor (or
``json.loads``), with the garbage collector paused during the parse. Lines are only looked up
when there is an error to report, by walking the parser's events again: events, unlike
composed nodes, keep where each alias and merge key was written.
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import ScenarioError

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

Path = tuple[str | int, ...]

# A scenario nests 7 levels deep (orgs[0].users[0].auth_factors[0].type). libyaml's composer
# recurses on the C stack and crashes the interpreter on a few ten thousand levels, so deeper
# text is refused before it gets there.
MAX_DEPTH = 64

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "<<"
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
                raise _TooDeep(_line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _duplicate_error(text: str, source: str | None, dup: _DuplicateKey) -> ScenarioError:
    found = _find_duplicate(text)
    if found is None:  # equal values written differently (1 and 0x1): the key's own line
        return ScenarioError(f"key {dup.key!r} is given twice", source=source, line=dup.line)
    path, line, first = found
    return ScenarioError(
        f"key {path[-1]!r} is given twice (first on line {first})",
        source=source,
        line=line,
        path=format_path(path),
    )


# -- walking the parser's events (only when there is an error to report) ----------------------


@dataclass
class _Frame:
    """A collection being walked: where it is, and which key or index comes next."""

    path: Path | None  # None inside a key that is itself a collection: never reported
    mapping: bool
    index: int = 0
    want_key: bool = True
    key: str | None = None
    key_line: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    merge_line: int | None = None


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 0


def _child_path(frame: _Frame | None) -> Path | None:
    if frame is None:
        return ()
    step = frame.index if not frame.mapping else None if frame.want_key else frame.key
    return None if frame.path is None or step is None else (*frame.path, step)


def _node_done(frame: _Frame | None) -> None:
    if frame is None:
        return
    if frame.mapping:
        frame.want_key = not frame.want_key
    else:
        frame.index += 1


def _walk(text: str) -> Iterator[tuple[yaml.Event, _Frame | None, Path | None]]:
    """Yield each node event with its parent frame and key path, and each collection's end.

    A node that is a mapping key has the path None, and its parent's ``want_key`` is true;
    at a value, the parent's ``key_line`` is the line of its key. An end event comes with the
    frame that ends.
    """
    stack: list[_Frame] = []
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.CollectionEndEvent):
            ended = stack.pop()
            yield event, ended, ended.path
            _node_done(stack[-1] if stack else None)
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        parent = stack[-1] if stack else None
        is_key = parent is not None and parent.mapping and parent.want_key
        path = None if is_key else _child_path(parent)
        yield event, parent, path
        if is_key and parent is not None:
            parent.key = event.value if isinstance(event, yaml.ScalarEvent) else None
            parent.key_line = _line(event)
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append(_Frame(path, isinstance(event, yaml.MappingStartEvent)))
        else:
            _node_done(parent)


def _is_key(event: yaml.Event, frame: _Frame | None) -> bool:
    return (
        frame is not None
        and frame.mapping
        and frame.want_key
        and not isinstance(event, yaml.CollectionEndEvent)
    )


def _is_merge_key(event: yaml.Event) -> bool:
    return isinstance(event, yaml.ScalarEvent) and event.value == _MERGE and event.implicit[0]


def _find_duplicate(text: str) -> tuple[Path, int, int] | None:
    """The first key written twice in one mapping: its path, line, and the first one's line."""
    try:
        for event, frame, _ in _walk(text):
            if not _is_key(event, frame) or frame is None or frame.path is None:
                continue
            if not isinstance(event, yaml.ScalarEvent) or _is_merge_key(event):
                continue
            line = _line(event)
            if event.value in frame.seen:
                return (*frame.path, event.value), line, frame.seen[event.value]
            frame.seen[event.value] = line
    except (yaml.YAMLError, UnicodeEncodeError):
        return None
    return None


@dataclass(frozen=True)
class Location:
    """Where a key path was written: ``line``, and ``alias`` if the path runs through one."""

    line: int | None
    alias: str | None = None


def locate(text: str, path: Sequence[str | int]) -> Location:
    """Find the deepest node of ``path`` written in ``text`` (YAML or JSON).

    A path through an alias stops at the alias (``*name``); a key brought in by a merge points
    at the ``<<`` that brought it.
    """
    target = tuple(path)
    best, depth = Location(None), -1

    def deepest(frame: _Frame | None) -> bool:
        return frame is not None and frame.path is not None and frame.path == target[:depth]

    try:
        for event, frame, node_path in _walk(text):
            if isinstance(event, yaml.CollectionEndEvent):
                if deepest(frame) and frame is not None:
                    # The deepest match ended without the next step: a merge brought it in.
                    return Location(frame.merge_line or best.line)
                continue
            if _is_key(event, frame):
                if deepest(frame) and frame is not None and _is_merge_key(event):
                    frame.merge_line = _line(event)
                continue
            if node_path is None or target[: len(node_path)] != node_path:
                continue
            key_line = frame.key_line if frame is not None and frame.mapping else 0
            best, depth = Location(key_line or _line(event)), len(node_path)
            if isinstance(event, yaml.AliasEvent):
                return Location(best.line, event.anchor)
            if depth == len(target):
                return best
    except (yaml.YAMLError, UnicodeEncodeError):
        pass
    return best


def line_of(text: str, path: Sequence[str | int]) -> int | None:
    """Return the 1-based line of the deepest node of ``path`` found in ``text`` (YAML or JSON)."""
    return locate(text, path).line


def find_cycle(data: Any) -> Path | None:
    """The path of the first collection that contains itself (a recursive YAML alias), if any.

    Shared collections (aliases) are walked once, so a "billion laughs" file costs no more
    than its text.
    """
    done: set[int] = set()
    on_path: set[int] = set()
    stack: list[tuple[Any, Path, Iterator[tuple[str | int, Any]] | None]] = [(data, (), None)]
    while stack:
        value, path, children = stack[-1]
        if children is None:
            if not isinstance(value, (dict, list)) or id(value) in done:
                stack.pop()
                continue
            on_path.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            children = iter([(k if isinstance(k, (str, int)) else str(k), v) for k, v in items])
            stack[-1] = (value, path, children)
        step = next(children, None)
        if step is None:
            on_path.discard(id(value))
            done.add(id(value))
            stack.pop()
            continue
        key, child = step
        if id(child) in on_path:
            return (*path, key)
        stack.append((child, (*path, key), None))
    return None


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_<>-]+")


def format_path(path: Sequence[str | int]) -> str:
    """Render a key path as ``orgs[0].users[2].auth_factors[0].type``.

    A key that is not a plain name is quoted (``orgs[0]['a key']``), so the path stays one line.
    """
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif not _PLAIN_KEY.fullmatch(step):
            out += f"[{step!r}]"
        else:
            out += f".{step}" if out else step
    return out
