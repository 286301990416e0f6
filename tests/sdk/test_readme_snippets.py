"""The README's Node SDK snippets ("From any SDK") run as written against the mock.

Each ```js block of the section is run by ``node`` from tests/sdk/node (where the SDKs are
installed), with only its URL pointed at a MockServer of the quick-start scenario (of
examples/service-users for a block that reads that example's key file, whose path is made
absolute); what it prints must be what the block's ``// → `` lines say.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from zitadel_mock import MockServer, load_scenario

ROOT = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8080"
# A block that reads a file of this example is run against the example's scenario.
SERVICE_USERS = "examples/service-users/"
RUN_TIMEOUT = 60.0


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


SNIPPETS = re.findall(
    r"^```js\n(.*?)^```",
    section((ROOT / "README.md").read_text(encoding="utf-8"), "From any SDK"),
    re.S | re.M,
)


def printed(snippet: str) -> str:
    """What the snippet says it prints: its ``// → `` lines."""
    return "\n".join(re.findall(r"^// → (.*)$", snippet, re.M))


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with MockServer(load_scenario(ROOT / "fixtures" / "quickstart.yaml")) as server:
        yield server.url


@pytest.fixture(scope="module")
def service_users_url() -> Iterator[str]:
    with MockServer(load_scenario(ROOT / SERVICE_USERS / "scenario.yaml")) as server:
        yield server.url


def test_the_section_shows_one_snippet_per_sdk_and_transport() -> None:
    assert [first_import(snippet) for snippet in SNIPPETS] == [
        "@zitadel/node/dist/api/index.js",
        "@zitadel/client/node",
        "@zitadel/client/web",
        "@zitadel/node/dist/credentials/index.js",
        "@zitadel/client/v2",
    ]
    for snippet in SNIPPETS:
        assert snippet.count(README_URL) == 1, snippet
        assert printed(snippet), f"the snippet says nothing of what it prints:\n{snippet}"


def first_import(snippet: str) -> str:
    found = re.search(r'from "([^"]+)"', snippet)
    return found.group(1) if found else "no-import"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[first_import(s) for s in SNIPPETS])
def test_a_readme_snippet_runs_as_written(
    node_sdks: Path, request: pytest.FixtureRequest, snippet: str
) -> None:
    if SERVICE_USERS in snippet:
        url = request.getfixturevalue("service_users_url")
        snippet = snippet.replace(SERVICE_USERS, f"{ROOT.as_posix()}/{SERVICE_USERS}")
    else:
        url = request.getfixturevalue("mock_url")
    done = subprocess.run(
        ["node", "--input-type=module"],
        input=snippet.replace(README_URL, url),
        cwd=node_sdks,  # bare imports resolve from the working folder
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, printed(snippet)), done.stderr
