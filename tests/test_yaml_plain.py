"""Plain YAML built from the parser's events: the safe loader's data, or left to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zitadel_mock.generate import Options
from zitadel_mock.render import render
from zitadel_mock.source import MAX_DEPTH, _Loader
from zitadel_mock.yaml_plain import NOT_PLAIN, load_plain

ROOT = Path(__file__).parent.parent
FILES = sorted([*ROOT.glob("fixtures/*.yaml"), *ROOT.glob("tests/broken/*.yaml")])
QUICK = (ROOT / "fixtures" / "quickstart.yaml").read_text()


def safe(text: str) -> Any:
    """What the safe loader makes of ``text``, or the type of what it raises."""
    try:
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except Exception as exc:
        return type(exc)


def check(text: str) -> Any:
    """load_plain gives the safe loader's data, or NOT_PLAIN; NOT_PLAIN at each error."""
    plain = load_plain(text, _Loader, MAX_DEPTH)
    if plain is not NOT_PLAIN:
        expected = safe(text)
        assert not (isinstance(expected, type) and issubclass(expected, Exception)), expected
        assert repr(plain) == repr(expected)  # types too: 1, 1.0 and true differ
    return plain


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixtures_and_broken_files(path: Path) -> None:
    try:
        text = path.read_bytes().decode()
    except UnicodeDecodeError:
        pytest.skip("not UTF-8")
    check(text)


def test_the_fixtures_are_plain() -> None:
    for path in ROOT.glob("fixtures/*.yaml"):
        assert check(path.read_text()) is not NOT_PLAIN, path.name


def test_a_generated_file_is_plain() -> None:
    text = render(Options(orgs=2, users_per_org=40, seed=3, locale="de_DE"), "yaml")
    assert check(text) is not NOT_PLAIN


def test_every_kind_of_scalar() -> None:
    text = """\
ints: [1, -2, +3, 0x1f, 0o17, 017, 0b101, 1_000, "4", '5', 190:20:30]
floats: [1.5, -.5, 1e3, .inf, -.Inf, .nan, 1_0.5, 6.8523015e+5]
words: [yes, No, on, OFF, true, False, y, n, ~, null, Null, "", '', plain text, -a, .a]
times: [2024-01-01, 2024-01-01T10:20:30Z, 2001-12-14 21:59:43.10 -5, 2024-1-1]
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
"""
    assert check(text) is not NOT_PLAIN
    assert check("") is NOT_PLAIN  # no document: the safe loader's None
    assert check("just text") == "just text"
    assert check("--- 7\n...\n") == 7


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # an anchor and an alias
        "a: !!str 1\n",  # a tag
        "a: ! 1\n",  # the non-specific tag
        "base: {x: 1}\nb: {<<: {x: 2}, y: 3}\n",  # a merge key
        "a: 1\na: 2\n",  # a key given twice
        "1: a\n",  # a key that is not text
        "? [a]\n: b\n",  # a collection as a key
        "a: =\n",  # the value tag, which the safe loader refuses
        "%YAML 1.1\n---\na: 1\n",  # a directive
        "a: 1\n---\nb: 2\n",  # a second document
        "a: 2024-02-30\n",  # a date that is not one
        "a: [1, 2\n",  # a syntax error
        "a: \ud800\n",  # a lone surrogate
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),  # too deep
    ],
)
def test_what_is_left_to_the_safe_loader(text: str) -> None:
    assert check(text) is NOT_PLAIN


def test_as_deep_as_allowed() -> None:
    assert check("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not NOT_PLAIN


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
    assert check(text) is not NOT_PLAIN or "&" in text
