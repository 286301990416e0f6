"""Every whole scenario shown in the README loads as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zitadel_mock import parse_scenario

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = [
    block
    for block in re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    if re.search(r"^version: 1\b", block, re.M)
]


def test_the_readme_shows_scenarios() -> None:
    assert len(BLOCKS) >= 3
    assert any("generate:" in block for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_a_readme_scenario_loads(block: str) -> None:
    scenario = parse_scenario(block, source="README.md")
    assert scenario.orgs
