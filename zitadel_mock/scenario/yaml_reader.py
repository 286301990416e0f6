"""YAML text to plain data, built from the parser's events: the one way YAML is read.

The data is what ``yaml.safe_load`` makes of a scenario, with the meaning of every construct
decided here rather than inherited from PyYAML's private constructor hooks, so the same file
loads the same on every supported PyYAML:

- plain scalars are resolved with the safe loader's resolvers and constructors (public API);
  quoted scalars are text; explicit scalar tags are the safe schema's (``!!str``, ``!!int``,
  ``!!float``, ``!!bool``, ``!!null``, ``!!timestamp``, ``!!binary``); on collections only
  ``!!map`` and ``!!seq``; any other tag is an error;
- a key given twice in one mapping is an error; a collection as a key is an error;
- merge keys follow YAML's merge-key spec: ``<<`` takes a mapping or a list of mappings;
  keys written in the mapping win over merged ones, and in a list the first mapping that has a
  key wins;
- an alias is the object its anchor made (shared, as the safe loader shares it); an alias to a
  collection that is still open (a recursive alias) is an error;
- what aliases can expand to is bounded: each alias counts as many values as the node it
  refers to holds, expanded, and the nesting depth counts through aliases, so an alias bomb or
  a chain of aliases is a precise error at once instead of work that grows without bound.

Every problem raises :class:`YamlProblem` with the message, the line and, where it helps, the
key path; syntax errors are PyYAML's own ``YAMLError``, which the caller words.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..bigints import is_digit_limit, too_long_message

__all__ = ["MAX_ALIAS_VALUES", "MAX_DEPTH", "DuplicateKey", "YamlProblem", "read_yaml"]

# A scenario nests 7 levels deep (orgs[0].users[0].auth_factors[0].type).
MAX_DEPTH = 64
# All aliases of one file together may bring in this many values (each counted as expanded).
MAX_ALIAS_VALUES = 1_000_000

_Parser: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_ORG = "tag:yaml.org,2002:"
_STR = _YAML_ORG + "str"
_MERGE_TAG = _YAML_ORG + "merge"
_COLLECTION_TAGS = (None, "!", _YAML_ORG + "map", _YAML_ORG + "seq")
_SCALAR_TAGS = frozenset(
    _YAML_ORG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)
_MERGE: Any = type("_MergeKey", (), {"__repr__": lambda self: "'<<'"})()
_OPEN: Any = object()  # the anchor of a collection still being read
_NO_KEY: Any = object()  # in a mapping, while a key is expected (None is a key: ``~: x``)


class YamlProblem(Exception):
    """What is wrong with a YAML text, where (1-based line) and at which key path."""

    def __init__(self, message: str, line: int, path: tuple[str | int, ...] | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.path = message, line, path


def _short(tag: str) -> str:
    return "!!" + tag[len(_YAML_ORG) :] if tag.startswith(_YAML_ORG) else tag


def _line(event: Any) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 0


class _AnyStart(frozenset[str]):
    def __contains__(self, item: object) -> bool:
        return True


_ANY_START = _AnyStart()


class _Scalars:
    """Scalars as the safe loader resolves and constructs them."""

    def __init__(self) -> None:
        self.loader: Any = yaml.SafeLoader("")  # its resolver and constructors, public API
        self.constructors = yaml.SafeLoader.yaml_constructors
        self.text: set[str] = set()  # plain scalars seen to be text, the most common kind
        # The first characters that an implicit type (number, bool, null...) can start with;
        # the empty string stands for every character when a resolver takes any start.
        resolvers = yaml.SafeLoader.yaml_implicit_resolvers
        self.starts = frozenset(resolvers) if None not in resolvers else _ANY_START

    def plain(self, value: str, line: int) -> Any:
        if value[:1] not in self.starts:  # no implicit type starts so: text (most names)
            self.text.add(value)
            return value
        tag = self.loader.resolve(yaml.ScalarNode, value, (True, False))
        if tag == _STR:
            self.text.add(value)
            return value
        if tag == _MERGE_TAG:
            return _MERGE
        return self.construct(tag, value, line)

    def tagged(self, tag: str, value: str, line: int) -> Any:
        if tag not in _SCALAR_TAGS:
            raise YamlProblem(f"invalid YAML: the tag {_short(tag)} is not supported here", line)
        return self.construct(tag, value, line)

    def construct(self, tag: str, value: str, line: int) -> Any:
        construct = self.constructors.get(tag)
        if construct is None or tag not in _SCALAR_TAGS:
            raise YamlProblem(f"invalid YAML: {value!r} has no meaning here", line)
        try:
            return construct(self.loader, yaml.ScalarNode(tag, value))
        except yaml.YAMLError as exc:
            raise YamlProblem(f"invalid YAML: {_one_line(str(exc))}", line) from None
        except Exception as exc:  # each constructor fails its own way: ValueError, KeyError...
            if is_digit_limit(exc):
                raise TooLong(sum(c.isdigit() for c in value), line) from None
            raise YamlProblem(
                f"invalid YAML: {value!r} is not a valid {_short(tag)} ({exc})", line
            ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_yaml(
    text: str, max_depth: int = MAX_DEPTH, max_alias_values: int = MAX_ALIAS_VALUES
) -> Any:
    """The data of the one YAML document in ``text`` (None for an empty text).

    Raises YamlProblem for what the scenario format refuses, ``yaml.YAMLError`` for a syntax
    error, ``UnicodeEncodeError`` for a lone surrogate.
    """
    parser = _Parser(text)
    try:
        return _build(parser.get_event, _Scalars(), max_depth, max_alias_values)
    finally:
        parser.dispose()


def _path(
    outer: list[tuple[Any, bool, Any, Any]], top: Any, in_mapping: bool, key: Any
) -> tuple[str | int, ...] | None:
    """The key path of the node at hand, from the collections open around it."""
    steps: list[str | int] = []
    # Each outer frame holds a collection, and the key or index its open child is under.
    frames = [(parent, mapping, step, 1) for parent, mapping, step, _ in outer[1:]]
    for parent, mapping, step, placed in [*frames, (top, in_mapping, key, 0)]:
        if not mapping:
            steps.append(len(parent) - placed)
        elif step is _MERGE:
            steps.append("<<")
        elif isinstance(step, (str, int)):
            steps.append(step)
        else:  # inside a key, or under a key that is no name: no path to give
            return None
    return tuple(steps)


def _build(get: Any, scalars: _Scalars, max_depth: int, max_alias_values: int) -> Any:
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    end_events = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    text_scalars, plain = scalars.text, scalars.plain
    if type(get()) is not yaml.StreamStartEvent:  # pragma: no cover - the parser's contract
        raise YamlProblem("invalid YAML: no stream", 1)
    start = get()
    if type(start) is yaml.StreamEndEvent:
        return None  # no document at all
    # The collection being built (None before the first), whether it is a mapping, and the key
    # whose value comes next (_NO_KEY while a key is expected); the outer ones stacked with the
    # anchor bookkeeping of the collection they hold (None when it has no anchor).
    top: Any = None
    in_mapping = False
    key: Any = _NO_KEY
    outer: list[tuple[Any, bool, Any, Any]] = []
    anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, values, height)
    count = 0  # values read so far, aliases counted as expanded
    brought = 0  # values brought in by aliases
    peak = 0  # the deepest nesting seen, through aliases, since the innermost anchor opened
    merges = False  # whether a merge key was seen: only then are mappings looked at for one
    value: Any
    while True:
        event = get()
        kind = type(event)
        if kind is scalar_event:
            count += 1
            value = event.value
            tag = event.tag
            try:
                if tag is not None and tag != "!":  # "!": the non-specific tag, resolved as none
                    value = scalars.tagged(tag, value, _line(event))
                elif event.implicit[0] and value not in text_scalars:  # plain, not known as text
                    value = plain(value, _line(event))
            except TooLong as long:
                long.path = _path(outer, top, in_mapping, key)
                raise
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1, 0)
        elif kind is alias_event:
            found = anchors.get(event.anchor)
            if found is None:
                raise YamlProblem(
                    f"invalid YAML: *{event.anchor} refers to no anchor &{event.anchor} before it",
                    _line(event),
                )
            value, size, height = found
            if value is _OPEN:
                raise YamlProblem(
                    f"a recursive alias: *{event.anchor} is used inside the &{event.anchor}"
                    " it refers to",
                    _line(event),
                    _path(outer, top, in_mapping, key),
                )
            depth = len(outer) + height
            if depth > max_depth:
                raise YamlProblem(
                    f"invalid YAML: nested more than {max_depth} levels deep"
                    f" (through *{event.anchor})",
                    _line(event),
                )
            if depth > peak:
                peak = depth
            count += size
            brought += size
            if brought > max_alias_values:
                raise YamlProblem(
                    f"invalid YAML: aliases bring in more than {max_alias_values:,} values"
                    f" (*{event.anchor} holds {size:,})",
                    _line(event),
                )
        elif kind is mapping_start or kind is sequence_start:
            count += 1
            if event.tag not in _COLLECTION_TAGS:
                raise YamlProblem(
                    f"invalid YAML: the tag {_short(event.tag)} is not supported here",
                    _line(event),
                )
            if len(outer) >= max_depth:
                raise YamlProblem(
                    f"invalid YAML: nested more than {max_depth} levels deep", _line(event)
                )
            collection: Any = {} if kind is mapping_start else []
            if in_mapping:
                if key is _NO_KEY:
                    raise YamlProblem("a mapping key must be a plain value", _line(event))
                if key is not _MERGE:
                    top[key] = collection
            elif top is not None:
                top.append(collection)
            anchor = None
            if event.anchor is not None:
                anchor = (event.anchor, count, len(outer), peak)
                anchors[event.anchor] = (_OPEN, 0, 0)
                peak = 0
            outer.append((top, in_mapping, key, anchor))
            top, in_mapping, key = collection, kind is mapping_start, _NO_KEY
            if len(outer) > peak:
                peak = len(outer)
            continue
        elif kind in end_events:
            value = top
            if merges and in_mapping and _MERGE in value:
                _merge(value)
            top, in_mapping, key, anchor = outer.pop()
            if anchor is not None:
                name, count_at_start, depth_at_start, outer_peak = anchor
                anchors[name] = (value, count - count_at_start + 1, peak - depth_at_start)
                peak = max(peak, outer_peak)
            if top is None:
                _end(get)
                return value
            if in_mapping:
                if key is _MERGE:
                    top[_MERGE] = _merge_sources(value, _line(event))
                key = _NO_KEY
            continue
        else:  # the end of the document
            if top is None:  # an empty document: the safe loader's None
                _end(get, event)
                return None
            raise YamlProblem("invalid YAML: the document ends early", _line(event))
        # A scalar or an alias: a key, a value, an item or the whole document.
        if in_mapping:
            if key is _NO_KEY:
                if value is _MERGE:
                    if _MERGE in top:
                        raise YamlProblem("key '<<' is given twice", _line(event))
                    key = _MERGE
                    merges = True
                    continue
                try:
                    given_twice = value in top
                except TypeError:
                    raise YamlProblem("a mapping key must be a plain value", _line(event)) from None
                if given_twice:
                    raise DuplicateKey(value, _line(event))
                key = value
            else:
                if key is _MERGE:
                    top[_MERGE] = _merge_sources(value, _line(event))
                else:
                    top[key] = value
                key = _NO_KEY
        elif top is not None:
            top.append(value)
        else:
            _end(get)
            return value


class TooLong(YamlProblem):
    """An integer of more digits than Python reads; the reader adds where it was."""

    def __init__(self, digits: int, line: int) -> None:
        super().__init__(too_long_message(digits), line)


class DuplicateKey(YamlProblem):
    """A key written twice in one mapping; the caller finds its path and both lines."""

    def __init__(self, key: object, line: int) -> None:
        super().__init__(f"key {key!r} is given twice", line)
        self.key = key


def _merge_sources(value: Any, line: int) -> list[dict[Any, Any]]:
    if type(value) is dict:
        return [value]
    if type(value) is list and all(type(item) is dict for item in value):
        return value
    raise YamlProblem("invalid YAML: a merge key (<<) takes a mapping or a list of mappings", line)


def _merge(mapping: dict[Any, Any]) -> None:
    """Apply the merge key of ``mapping`` in place: its own keys win, then the first source."""
    sources = mapping.pop(_MERGE)
    own = dict(mapping)
    mapping.clear()
    for source in sources:
        for key, value in source.items():
            mapping.setdefault(key, value)
    mapping.update(own)


def _end(get: Any, document_end: Any = None) -> None:
    """After the one document: the end of the stream, not a second document."""
    event = document_end or get()
    if type(event) is not yaml.DocumentEndEvent:  # pragma: no cover - the parser's contract
        raise YamlProblem("invalid YAML: the document does not end", _line(event))
    event = get()
    if type(event) is yaml.DocumentStartEvent:
        raise YamlProblem(
            "invalid YAML: a second document starts here; a scenario file holds one document",
            _line(event),
        )
