"""SIGTERM during a long control operation: the server exits at once, the request is answered."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

pytest.importorskip("faker")

LONG = "version: 1\ngenerate: {orgs: 200, users_per_org: 1000, seed: 1}\n"  # seconds to build


def test_sigterm_during_a_long_put_exits_promptly_and_answers_503(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\norgs: [{name: A}]\n")
    command = [sys.executable, "-m", "zitadel_mock", "serve", "-s", str(path), "-p", "0", "-q"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        outcome: list[object] = []

        def put() -> None:
            try:
                outcome.append(requests.put(url + "/_mock/scenario", data=LONG, timeout=60))
            except requests.ConnectionError as exc:
                outcome.append(exc)

        client = threading.Thread(target=put)
        client.start()
        time.sleep(0.5)  # the PUT is being built
        start = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        took = time.perf_counter() - start
        client.join(timeout=30)
    # Generous: the old code waited for the whole build (several seconds here).
    assert took < 2
    answer = outcome[0]
    assert isinstance(answer, requests.Response), answer
    assert answer.status_code == 503
    assert answer.json() == {"error": "the server is stopping"}
