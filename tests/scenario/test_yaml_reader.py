"""The YAML reader: safe_load's data where their meanings agree, and our own meaning elsewhere."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zitadel_mock.generate.options import Options
from zitadel_mock.generate.writer import render
from zitadel_mock.scenario.yaml_reader import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    DuplicateKey,
    YamlProblem,
    read_yaml,
)

ROOT = Path(__file__).parents[2]
FILES = sorted([*ROOT.glob("fixtures/*.yaml"), *ROOT.glob("tests/broken/*.yaml")])
QUICK = (ROOT / "fixtures" / "quickstart.yaml").read_text()
_FAILS = (YamlProblem, yaml.YAMLError, UnicodeEncodeError)
_LIBYAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the parser the reader uses


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LIBYAML)  # the safe loader, as libyaml parses


def problem(text: str) -> YamlProblem:
    with pytest.raises(YamlProblem) as caught:
        read_yaml(text)
    return caught.value


def check(text: str) -> Any:
    """read_yaml's data, which is safe_load's wherever safe_load means the same; or None.

    Merge keys are left out of the comparison: their meaning in a merge list differs between
    PyYAML releases, and the reader follows the spec (tested on its own below).
    """
    try:
        ours = read_yaml(text)
    except _FAILS:
        return None
    if "<<" not in text:
        expected = safe_load(text)
        assert repr(ours) == repr(expected)  # types too: 1, 1.0 and true differ
    return ours


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixtures_and_broken_files(path: Path) -> None:
    try:
        text = path.read_bytes().decode()
    except UnicodeDecodeError:
        pytest.skip("not UTF-8")
    check(text)


def test_a_generated_file() -> None:
    text = render(Options(orgs=2, users_per_org=40, seed=3, locale="de_DE"), "yaml")
    assert check(text) is not None


def test_every_kind_of_scalar() -> None:
    text = """\
ints: [1, -2, +3, 0x1f, 0o17, 017, 0b101, 1_000, "4", '5', 190:20:30]
floats: [1.5, -.5, 1e3, .inf, -.Inf, 1_0.5, 6.8523015e+5]
words: [yes, No, on, OFF, true, False, y, n, ~, null, Null, "", '', plain text, -a, .a]
times: [2024-01-01, 2024-01-01T10:20:30Z, 2001-12-14 21:59:43.10 -5, 2024-1-1]
tagged: [!!str 1, !!int "2", !!float '3', !!bool "yes", !!null "", ! 7, !!binary aGk=]
blocks:
  literal: |
    two
    lines
  folded: >-
    one
    line
empty:
? plain key
: and its value
"quoted key": 1
"<<": not a merge
1: a number as a key
"""
    data = check(text)
    assert data["tagged"] == ["1", 2, 3.0, True, None, 7, b"hi"]
    assert data["times"][0] == datetime.date(2024, 1, 1)
    assert data["<<"] == "not a merge"
    assert read_yaml("") is None
    assert read_yaml("just text") == "just text"
    assert read_yaml("--- 7\n...\n") == 7
    assert read_yaml("%YAML 1.1\n---\na: 1\n") == {"a": 1}


def test_null_is_a_key_like_any_scalar() -> None:
    assert check("~: a\n") == {None: "a"}
    assert check("{null: [1], ~: 2}") is None  # given twice
    assert check("a: {~: {~: 1}}\n") == {"a": {None: {None: 1}}}


def test_aliases_share_the_anchored_object() -> None:
    data = read_yaml("a: &x [1, 2]\nb: *x\nc: &s text\nd: *s\n")
    assert data == {"a": [1, 2], "b": [1, 2], "c": "text", "d": "text"}
    assert data["a"] is data["b"]


# -- merge keys: YAML's merge-key spec, whatever the installed PyYAML does ---------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("m: {<<: {a: 1, b: 1}, b: 2}", {"a": 1, "b": 2}),  # explicit keys win
        ("m: {b: 2, <<: {a: 1, b: 1}}", {"a": 1, "b": 2}),  # wherever the << is written
        ("m: {<<: [{a: 1}, {a: 2, b: 2}]}", {"a": 1, "b": 2}),  # the first mapping wins
        ("m: {<<: [{a: 1}, {a: 2, b: 2}], a: 3}", {"a": 3, "b": 2}),
        ("x: &x {a: 1}\ny: &y {a: 2, b: 2}\nm: {<<: [*y, *x], c: 3}", {"a": 2, "b": 2, "c": 3}),
        ("x: &x {a: 1, <<: {b: 1}}\nm: {<<: *x}", {"a": 1, "b": 1}),  # a merged merge
        ("m: {<<: []}", {}),
        ("m: {'<<': 1}", {"<<": 1}),  # quoted: a plain key
    ],
)
def test_merge_keys(text: str, expected: dict[str, Any]) -> None:
    assert read_yaml(text)["m"] == expected


def test_merged_keys_come_first_as_the_safe_loader_orders_them() -> None:
    assert list(read_yaml("m: {c: 3, <<: {a: 1, b: 2}}")["m"]) == ["a", "b", "c"]


def test_a_merged_mapping_is_a_new_mapping() -> None:
    data = read_yaml("a: &a {x: 1}\nb: {<<: *a, y: 2}\n")
    assert data == {"a": {"x": 1}, "b": {"x": 1, "y": 2}}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a:\n  <<: 1\n", 2, "a merge key (<<) takes a mapping or a list of mappings"),
        ("a:\n  <<: [{x: 1}, 2]\n", 2, "a merge key (<<) takes a mapping or a list of mappings"),
        ("a:\n  <<: [[x]]\n", 2, "a merge key (<<) takes a mapping or a list of mappings"),
        ("a:\n  <<: {x: 1}\n  <<: {y: 1}\n", 3, "key '<<' is given twice"),
    ],
)
def test_what_a_merge_key_refuses(text: str, line: int, message: str) -> None:
    found = problem(text)
    assert (found.line, found.message.removeprefix("invalid YAML: ")) == (line, message)


# -- what the reader refuses, with the line ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: *x\n", 1, "invalid YAML: *x refers to no anchor &x before it"),
        (
            "a: !!python/object:os.system x\n",
            1,
            "invalid YAML: the tag !!python/object:os.system is not supported here",
        ),
        (
            "a:\n  b: !include other.yaml\n",
            2,
            "invalid YAML: the tag !include is not supported here",
        ),
        ("a: !!set {x, y}\n", 1, "invalid YAML: the tag !!set is not supported here"),
        ("a: !!omap [{x: 1}]\n", 1, "invalid YAML: the tag !!omap is not supported here"),
        ("a: =\n", 1, "invalid YAML: '=' has no meaning here"),
        (
            "a: 2024-02-30\n",
            1,
            "invalid YAML: '2024-02-30' is not a valid !!timestamp (day is out of range for month)",
        ),
        ("a: !!bool maybe\n", 1, "invalid YAML: 'maybe' is not a valid !!bool ('maybe')"),
        ("? [a]\n: b\n", 1, "a mapping key must be a plain value"),
        ("x: &x [1]\n*x : b\n", 2, "a mapping key must be a plain value"),
        (
            "a: 1\n---\nb: 2\n",
            2,
            "invalid YAML: a second document starts here; a scenario file holds one document",
        ),
        (
            "a:\n  - " + "1" * 5000 + "\n",
            2,
            "an integer of 5,000 digits; at most 4,300 can be read"
            " (write it as a string if it is an id)",
        ),
    ],
)
def test_what_the_reader_refuses(text: str, line: int, message: str) -> None:
    found = problem(text)
    assert (found.line, found.message) == (line, message)


def test_a_key_given_twice() -> None:
    with pytest.raises(DuplicateKey) as caught:
        read_yaml("a:\n  b: 1\n  b: 2\n")
    assert (caught.value.key, caught.value.line) == ("b", 3)
    with pytest.raises(DuplicateKey):
        read_yaml("{1: a, 0x1: b}")  # equal values, written differently


def test_a_recursive_alias_names_its_path() -> None:
    found = problem("version: 1\norgs:\n  - &o\n    name: A\n    users: [{x: [*o]}]\n")
    assert (found.line, found.path) == (5, ("orgs", 0, "users", 0, "x", 0))
    assert found.message == "a recursive alias: *o is used inside the &o it refers to"


def test_as_deep_as_allowed_and_no_deeper() -> None:
    assert check("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    found = problem("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert found.message == f"invalid YAML: nested more than {MAX_DEPTH} levels deep"


def test_depth_counts_through_aliases() -> None:
    # Each alias nests what it refers to one level deeper than it was written: a{i} holds
    # i + 1 lists, inside the top mapping.
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, MAX_DEPTH)]
    found = problem("\n".join(lines))
    assert found.line == MAX_DEPTH
    assert found.message == (
        f"invalid YAML: nested more than {MAX_DEPTH} levels deep (through *a{MAX_DEPTH - 2})"
    )
    assert read_yaml("\n".join(lines[:-1]))  # one level less is read


def test_aliases_bring_in_a_bounded_number_of_values() -> None:
    # Exactly the budget is read; one value more is refused at the alias that passes it.
    size = 999
    anchor = "a: &a [" + ", ".join(["x"] * (size - 1)) + "]\n"
    uses = MAX_ALIAS_VALUES // size
    assert len(read_yaml(anchor + "b: [" + ", ".join(["*a"] * uses) + "]\n")["b"]) == uses
    found = problem(anchor + "b:\n" + "".join(["  - *a\n"] * (uses + 1)))
    assert found.line == uses + 3  # the alias past the budget
    assert found.message == (
        f"invalid YAML: aliases bring in more than {MAX_ALIAS_VALUES:,} values (*a holds 999)"
    )


# -- random text: never another exception, and safe_load's data where meanings agree ----------

EDIT = st.text(alphabet=list(":-[]{},&*!|>'\"#%@`?<= \t\nazAZ09._~\x00\ufeff"), max_size=4)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(st.tuples(st.integers(0, len(QUICK)), st.integers(0, 8), EDIT), min_size=1, max_size=5)
)
def test_a_mutated_file(edits: list[tuple[int, int, str]]) -> None:
    text = QUICK
    for position, cut, insert in edits:
        text = text[:position] + insert + text[position + cut :]
    check(text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("ab1.-:[]{}, \n\"'#&*!<~")), max_size=40))
def test_any_text(text: str) -> None:
    check(text)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    st.booleans(),
)
def test_dumped_data(data: Any, flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    assert repr(read_yaml(text)) == repr(safe_load(text))
