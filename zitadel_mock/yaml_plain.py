"""Plain YAML built straight from libyaml's events: the fast way to read a big scenario file.

The safe loader has libyaml compose a tree of nodes, every one with its marks, then walks it in
Python to construct the data, resolving each plain scalar on the way; for a big file the nodes
take more time and memory than the data. Most scenario files, and every generated one, use
none of what needs the tree: anchors, aliases, merge keys, tags, keys that are not plain text
or are given twice. For those, :func:`load_plain` builds the same data from the parser's events
in one loop, resolving plain scalars with the safe loader's own resolvers and constructors. At
anything else, and at any error, it gives up and returns NOT_PLAIN: the safe loader then reads
the text from the start, and reports what is wrong as it always has.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["NOT_PLAIN", "load_plain"]

NOT_PLAIN: Any = object()
_STR = "tag:yaml.org,2002:str"
# The scalars the safe constructor makes from a plain scalar's resolved tag, with its methods.
_CONSTRUCTORS = {
    "tag:yaml.org,2002:" + name: getattr(yaml.constructor.SafeConstructor, f"construct_yaml_{name}")
    for name in ("null", "bool", "int", "float", "timestamp")
}


class _GiveUp(Exception):
    """Not plain YAML, or not YAML at all: the safe loader decides."""


def load_plain(text: str, loader: type[yaml.SafeLoader], max_depth: int) -> Any:
    """The data in ``text``, as ``loader`` would construct it, or NOT_PLAIN.

    ``loader`` is libyaml's safe loader (or a subclass of it); nothing deeper than
    ``max_depth`` collections is read.
    """
    libyaml = getattr(yaml, "CSafeLoader", None)
    if libyaml is None or not issubclass(loader, libyaml):
        return NOT_PLAIN
    try:
        parser = loader(text)
    except UnicodeError:  # a lone surrogate: the safe loader names it
        return NOT_PLAIN
    try:
        return _build(parser, _Scalars(parser), max_depth)
    except (_GiveUp, yaml.YAMLError, UnicodeError):
        return NOT_PLAIN
    finally:
        parser.dispose()


class _Scalars:
    """Plain scalars as the safe loader resolves and constructs them."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = type(
            loader
        ).yaml_implicit_resolvers
        if None in self.resolvers or loader.yaml_path_resolvers:  # none by default
            raise _GiveUp
        self.text: set[str] = set()  # plain scalars seen to be text, the most common kind

    def __call__(self, value: str) -> Any:
        """The value of a plain scalar whose text is ``value``."""
        tag = _STR
        for candidate, regexp in self.resolvers.get(value[:1], ()):
            if regexp.match(value):
                tag = candidate
                break
        if tag == _STR:
            self.text.add(value)
            return value
        construct = _CONSTRUCTORS.get(tag)
        if construct is None:  # a merge key, or "=": left to the safe loader
            raise _GiveUp
        try:
            return construct(self.loader, yaml.ScalarNode(tag, value))
        except Exception:  # what the safe loader would do about it, it does itself
            raise _GiveUp from None


def _build(parser: Any, plain: _Scalars, max_depth: int) -> Any:
    get, text = parser.get_event, plain.text
    scalar_event, mapping_start, sequence_start = (
        yaml.ScalarEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
    )
    end_events = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    if type(get()) is not yaml.StreamStartEvent:
        raise _GiveUp
    start = get()
    if type(start) is not yaml.DocumentStartEvent or start.version or start.tags:
        raise _GiveUp  # no document (an empty file), or directives: left to the safe loader
    # The collection being built (None before the first), whether it is a mapping, and then
    # the key whose value comes next (None while a key is expected); the outer ones, stacked.
    top: Any = None
    in_mapping = False
    key: Any = None
    outer: list[tuple[Any, bool, Any]] = []
    while True:
        event = get()
        kind = type(event)
        if kind is scalar_event:
            if event.anchor is not None or event.tag is not None:
                raise _GiveUp
            value = event.value
            if event.implicit[0] and value not in text:  # a plain scalar, not known as text
                value = plain(value)
            if in_mapping:
                if key is None:
                    if type(value) is not str or value in top:  # not text, or given twice
                        raise _GiveUp
                    key = value
                else:
                    top[key] = value
                    key = None
            elif top is not None:
                top.append(value)
            else:  # the document is one scalar
                _end(get)
                return value
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None or len(outer) >= max_depth:
                raise _GiveUp
            collection: Any = {} if kind is mapping_start else []
            if in_mapping:
                if key is None:  # a collection as a key
                    raise _GiveUp
                top[key] = collection
            elif top is not None:
                top.append(collection)
            outer.append((top, in_mapping, None))
            top, in_mapping, key = collection, kind is mapping_start, None
        elif kind in end_events:
            finished = top
            top, in_mapping, key = outer.pop()
            if top is None:
                _end(get)
                return finished
        else:  # an alias, or the end of the document
            raise _GiveUp


def _end(get: Any) -> None:
    """After the one document: the end of the stream, not a second document."""
    if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
        raise _GiveUp  # left to the safe loader, which names the problem
