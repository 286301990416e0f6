"""The command's ``--help`` texts, pinned: a change to any of them shows up here, on purpose.

Pinned at 100 columns. Python 3.13 changed how argparse writes an option with a short and a
long name (``-s, --scenario PATH``), so the texts are compared on the versions that write them
as pinned; after an intended change, rewrite a file with::

    COLUMNS=100 zitadel-mock serve --help > tests/cli/help/serve.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zitadel_mock.cli import main

HELP = Path(__file__).parent / "help"
COMMANDS = ["", "serve", "validate", "schema", "generate", "new-key"]


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="argparse 3.13 writes options otherwise")
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c or "zitadel-mock")
def test_help_text_is_pinned(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("ZITADEL_MOCK_CONTROL_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exited:
        main([*([command] if command else []), "--help"])
    assert exited.value.code == 0
    pinned = (HELP / f"{command or 'zitadel-mock'}.txt").read_text(encoding="utf-8")
    assert capsys.readouterr().out == pinned
