"""Key paths: how one is written (``orgs[0].users[2]``), and where it was written in the text.

Lines are only looked up when there is an error to report, by walking the parser's events:
events, unlike composed nodes, keep where each alias and merge key was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = [
    "Location",
    "Path",
    "event_line",
    "find_cycle",
    "find_duplicate",
    "format_path",
    "line_of",
    "locate",
]

Path = tuple[str | int, ...]

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "<<"


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


def event_line(event: yaml.Event) -> int:
    """The 1-based line where ``event`` starts (0 if it has no mark)."""
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
            parent.key_line = event_line(event)
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


def find_duplicate(text: str) -> tuple[Path, int, int] | None:
    """The first key written twice in one mapping: its path, line, and the first one's line."""
    try:
        for event, frame, _ in _walk(text):
            if not _is_key(event, frame) or frame is None or frame.path is None:
                continue
            if not isinstance(event, yaml.ScalarEvent) or _is_merge_key(event):
                continue
            line = event_line(event)
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
                    frame.merge_line = event_line(event)
                continue
            if node_path is None or target[: len(node_path)] != node_path:
                continue
            key_line = frame.key_line if frame is not None and frame.mapping else 0
            best, depth = Location(key_line or event_line(event)), len(node_path)
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
