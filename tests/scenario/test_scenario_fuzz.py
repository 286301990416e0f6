"""Random edits of a valid scenario, and random text: a Scenario or one ScenarioError line."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scenario_errors import failure

QUICKSTART = Path(__file__).parents[2] / "fixtures" / "quickstart.yaml"


# -- mutated files ------------------------------------------------------------------------------

QUICK = QUICKSTART.read_text()
EDIT = st.text(alphabet=list(":-[]{},&*!|>'\"#%@`?<= \t\nazAZ09._~\x00\ufeff"), max_size=4)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(st.tuples(st.integers(0, len(QUICK)), st.integers(0, 8), EDIT), min_size=1, max_size=5)
)
def test_a_mutated_file_loads_or_gives_one_line(edits: list[tuple[int, int, str]]) -> None:
    text = QUICK
    for position, cut, insert in edits:
        text = text[:position] + insert + text[position + cut :]
    error = failure(text, "q.yaml")
    if error is not None:
        assert "\n" not in str(error)
        assert str(error).startswith("q.yaml")
        assert error.line is None or 1 <= error.line <= text.count("\n") + 1


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_gives_one_line(text: str) -> None:
    error = failure(text)
    assert error is None or "\n" not in str(error)
