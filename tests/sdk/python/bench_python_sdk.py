"""What a call through zitadel-client costs against the mock, next to the same call by hand.

    .venv/bin/python tests/sdk/python/bench_python_sdk.py [--calls 300]

A MockServer of this folder's scenario on 127.0.0.1; every figure is the median of its runs,
all taken in one run of this script (compare the ratios, not the times, across machines).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import urllib3

from zitadel_mock import MockServer, load_scenario

HERE = Path(__file__).resolve().parent
SIGN_INS = 20  # each builds a client: discovery, then a sign-in at its first call


def median_ms(run: Callable[[], object], times: int) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per figure (default 300)")
    calls = parser.parse_args().calls

    start = time.perf_counter()
    with warnings.catch_warnings():  # authlib's deprecation notice on the SDK's import
        import authlib.deprecate  # its own "always" filter, which ours must follow

        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        from zitadel_client import Zitadel
        from zitadel_client.models import SettingsServiceGetLoginSettingsRequest
    imported_ms = (time.perf_counter() - start) * 1000

    key_file = str(HERE / "keys" / "301234567890123460.json")
    request = SettingsServiceGetLoginSettingsRequest()
    with MockServer(load_scenario(HERE / "scenario.yaml")) as server:
        url = server.url
        pool = urllib3.PoolManager()  # the HTTP client the SDK uses too
        endpoint = f"{url}/zitadel.settings.v2.SettingsService/GetLoginSettings"
        headers = {"Authorization": "Bearer globex-robot-pat", "Content-Type": "application/json"}

        def by_hand() -> object:
            answer = pool.request("POST", endpoint, body=b"{}", headers=headers, timeout=10.0)
            assert answer.status == 200, answer.status
            return answer.json()

        pat = Zitadel.with_access_token(url, "globex-robot-pat")
        secret = Zitadel.with_client_credentials(url, "globex-robot", "globex-robot-secret")
        key = Zitadel.with_private_key(url, key_file)
        rows = [
            ("GetLoginSettings by hand (urllib3, Connect JSON)", median_ms(by_hand, calls)),
            (
                "GetLoginSettings, zitadel-client, PAT",
                median_ms(lambda: pat.settings.get_login_settings(request), calls),
            ),
            (
                "the same, client credentials (token kept)",
                median_ms(lambda: secret.settings.get_login_settings(request), calls),
            ),
            (
                "the same, private-key JWT (token kept)",
                median_ms(lambda: key.settings.get_login_settings(request), calls),
            ),
            (
                "new client and first call, client credentials",
                median_ms(
                    lambda: Zitadel.with_client_credentials(
                        url, "globex-robot", "globex-robot-secret"
                    ).settings.get_login_settings(request),
                    SIGN_INS,
                ),
            ),
            (
                "new client and first call, private-key JWT",
                median_ms(
                    lambda: Zitadel.with_private_key(url, key_file).settings.get_login_settings(
                        request
                    ),
                    SIGN_INS,
                ),
            ),
        ]
    base = rows[0][1]
    print("| call | time | ratio |\n|---|---|---|")
    for name, spent in rows:
        print(f"| {name} | {spent:.2f} ms | {spent / base:.2f} |")
    print(f"| `import zitadel_client`, once per process | {imported_ms:.0f} ms | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
