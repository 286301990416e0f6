"""Read scenario text (YAML or JSON) into plain data, and find the line of a key path.

Valid files take the fastest safe path: libyaml's C parser with the safe constructor (or
``json.loads``), with the garbage collector paused during the parse. Lines are only looked up
when there is an error to report, by composing the document again.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import yaml

from .errors import ScenarioError

__all__ = ["Path", "format_path", "line_of", "parse_text"]

Path = tuple[str | int, ...]

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int, path: Path) -> None:
        self.key, self.line, self.path = key, line, path


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, but a key given twice in one mapping is an error, not a silent win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if key in mapping:
                raise _DuplicateKey(key, key_node.start_mark.line + 1, ())
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


@contextmanager
def _gc_paused() -> Iterator[None]:
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
    with _gc_paused():
        if fmt == "json":
            return _parse_json(text, source)
        return _parse_yaml(text, source)


def _parse_json(text: str, source: str | None) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ScenarioError(f"key {key!r} is given twice", source=source)
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None


def _parse_yaml(text: str, source: str | None) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except _DuplicateKey as dup:
        raise ScenarioError(
            f"key {dup.key!r} is given twice", source=source, line=dup.line
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(
            f"invalid YAML: {_yaml_problem(exc, text)}",
            source=source,
            line=exc.problem_mark.line + 1 if exc.problem_mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"invalid YAML: {exc}", source=source) from None
    except RecursionError:
        raise ScenarioError("invalid YAML: nested too deeply", source=source) from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> str:
    problem = exc.problem or exc.context or "not valid YAML"
    mark = exc.problem_mark
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return "a tab character; YAML is indented with spaces"
    context = exc.context_mark
    if exc.context and context is not None and (mark is None or context.line != mark.line):
        problem += f" ({exc.context} started on line {context.line + 1})"
    return problem


def line_of(text: str, path: Sequence[str | int]) -> int | None:
    """Return the 1-based line of the deepest node of ``path`` found in ``text`` (YAML or JSON)."""
    try:
        node = yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in path:
        found = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(step):
                    line = key_node.start_mark.line + 1
                    found = value_node
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(step, int)
            and 0 <= step < len(node.value)
        ):
            found = node.value[step]
            line = found.start_mark.line + 1
        if found is None:
            break
        node = found
    return line


def format_path(path: Sequence[str | int]) -> str:
    """Render a key path as ``orgs[0].users[2].auth_factors[0].type``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out
