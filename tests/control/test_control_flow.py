"""The curl-only example flow (examples/ci-flow.sh) runs green, so that it never rots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "ci-flow.sh"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the example needs curl")
def test_the_curl_flow_example_passes() -> None:
    assert os.access(SCRIPT, os.X_OK), "CI runs the example only when it is executable"
    bin_dir = str(Path(sys.executable).parent)  # where the zitadel-mock command is installed
    assert shutil.which("zitadel-mock", path=bin_dir), "install the project: pip install -e ."
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    run = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "ci-flow: all steps passed"
    assert "ok: a forced error (503)" in run.stdout
