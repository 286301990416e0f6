"""The README's zitadel-client snippets ("From any SDK", "Python: zitadel-client") run as written.

Each ```python block of that part is run by this interpreter (where the dev extra installs
zitadel-client) from the repository's folder, so the key file's path is read as written; only
the URL is pointed at a MockServer of the scenario the part names. What a block prints must be
what its ``# → `` lines say. The blocks run one after the other in one child process, each in
a namespace of its own: importing the SDK takes seconds, once is enough.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zitadel_mock import MockServer, load_scenario

ROOT = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8080"
RUN_TIMEOUT = 120.0
# Runs the JSON list of snippets on stdin; prints, as JSON, what each printed or its traceback.
RUNNER = """
import contextlib, io, json, sys, traceback
results = []
for number, code in enumerate(json.load(sys.stdin)):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"<README snippet {number}>", "exec"), {"__name__": "__main__"})
        results.append({"stdout": out.getvalue(), "error": None})
    except BaseException:
        results.append({"stdout": out.getvalue(), "error": traceback.format_exc()})
print(json.dumps(results))
"""
SIGN_INS = ("with_access_token", "with_client_credentials", "with_private_key")


def part(text: str, heading: str) -> str:
    """The text under a heading, up to the next heading of any level."""
    start = text.index(f"\n{heading}\n")
    end = re.compile(r"^#{2,3} ", re.M).search(text, start + len(heading) + 2)
    return text[start : end.start() if end else len(text)]


PART = part((ROOT / "README.md").read_text(encoding="utf-8"), "### Python: zitadel-client")
SNIPPETS = re.findall(r"^```python\n(.*?)^```", PART, re.S | re.M)
SCENARIO = re.search(r"zitadel-mock serve --scenario (\S+?)`", PART)


def printed(snippet: str) -> str:
    """What the snippet says it prints: its ``# → `` lines."""
    return "\n".join(re.findall(r"^# → (.*)$", snippet, re.M))


def sign_in(snippet: str) -> str:
    found = [name for name in SIGN_INS if f"Zitadel.{name}(" in snippet]
    return found[0] if len(found) == 1 else f"{len(found)}-sign-ins"


def ids() -> list[str]:
    names = [sign_in(s) + ("-refused" if "except " in s else "") for s in SNIPPETS]
    return names


@pytest.fixture(scope="module")
def runs() -> list[dict[str, str | None]]:
    """What each snippet printed (and its traceback, if it raised), run against the mock."""
    assert SCENARIO is not None, "the part names no scenario to serve"
    with MockServer(load_scenario(ROOT / SCENARIO.group(1))) as server:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER],
            input=json.dumps([s.replace(README_URL, server.url) for s in SNIPPETS]),
            cwd=ROOT,  # the key file's path is relative to the repository's folder
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, str | None]] = json.loads(done.stdout)
    assert len(results) == len(SNIPPETS)
    return results


def test_the_part_shows_a_snippet_per_sign_in_and_one_refusal() -> None:
    assert ids() == [*SIGN_INS, "with_access_token-refused"]
    for snippet in SNIPPETS:
        assert snippet.count(README_URL) == 1, snippet
        assert printed(snippet), f"the snippet says nothing of what it prints:\n{snippet}"


@pytest.mark.parametrize("number", range(len(SNIPPETS)), ids=ids())
def test_a_readme_python_snippet_runs_as_written(
    runs: list[dict[str, str | None]], number: int
) -> None:
    run = runs[number]
    assert run["error"] is None, run["error"]
    assert str(run["stdout"]).strip() == printed(SNIPPETS[number])
