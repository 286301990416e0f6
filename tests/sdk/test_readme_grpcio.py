"""The README's grpcio snippet ("From any SDK") runs as written against the mock."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from zitadel_mock import MockServer, load_scenario

ROOT = Path(__file__).resolve().parents[2]


def grpcio_snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## From any SDK\n")
    section = text[start : text.index("\n## ", start + 1)]
    (snippet,) = [
        s
        for s in re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
        if "import grpc\n" in s
    ]
    return str(snippet)


def test_the_grpcio_snippet_prints_what_it_says() -> None:
    snippet = grpcio_snippet()
    assert snippet.count("127.0.0.1:8080") == 1
    expected = re.findall(r"^# → (.*)$", snippet, re.M)
    with MockServer(load_scenario(ROOT / "fixtures" / "quickstart.yaml")) as server:
        code = snippet.replace("127.0.0.1:8080", server.url.removeprefix("http://"))
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected
