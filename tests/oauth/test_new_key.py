"""``zitadel-mock new-key``: a key pair an SDK and the scenario both take."""

from __future__ import annotations

import io
import json
import os
import stat
import textwrap
import time
from contextlib import redirect_stdout
from pathlib import Path
from urllib.parse import quote

import falcon.testing
import jwt
import pytest

from zitadel_mock import create_app, load_scenario
from zitadel_mock.cli.main import main

SCENARIO = textwrap.dedent(
    """\
    version: 1
    orgs:
      - name: ACME
        users:
          - {username: alice}
          - username: acme-admin
            id: "259242039378444294"
            type: machine
    """
)


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def test_the_key_signs_in(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    (tmp_path / "keys").mkdir()
    status, out = _run(
        "new-key",
        "--user",
        "acme-admin",
        "--scenario",
        str(scenario),
        "--out",
        str(tmp_path / "keys"),
        "--key-id",
        "4242",
    )
    assert status == 0
    key_file = tmp_path / "keys" / "4242.json"
    content = json.loads(key_file.read_text())
    assert list(content) == ["type", "keyId", "key", "expirationDate", "userId"]
    assert content["type"] == "serviceaccount"
    assert content["key"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")  # PKCS#1
    assert content["userId"] == "259242039378444294"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().startswith('{"type":"serviceaccount","keyId":"4242",')
    lines = out.splitlines()
    assert lines[-2:] == [
        "    keys:",
        '      - {id: "4242", public_key_file: "keys/acme-admin-4242.pub.pem"}',
    ]
    # The printed lines, added to the user, make a scenario whose key verifies the key file's.
    scenario.write_text(SCENARIO + "\n".join(f"    {line}" for line in lines[-2:]) + "\n")
    client = falcon.testing.TestClient(create_app(load_scenario(scenario)))
    now = int(time.time())
    claims = {"iss": content["userId"], "sub": content["userId"], "iat": now, "exp": now + 60}
    token = jwt.encode(
        {**claims, "aud": "http://falconframework.org"},
        content["key"],
        algorithm="RS256",
        headers={"kid": content["keyId"]},
    )
    answer = client.simulate_post(
        "/oauth/v2/token",
        body=f"grant_type={quote('urn:ietf:params:oauth:grant-type:jwt-bearer')}"
        f"&assertion={token}&scope=openid",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text


def test_outside_the_scenario_s_folder_the_key_is_printed_inline(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    scenario = tmp_path / "s" / "s.yaml"
    scenario.write_text(SCENARIO)
    status, out = _run(
        "new-key", "-u", "acme-admin", "-s", str(scenario), "-o", str(tmp_path), "--key-id", "7"
    )
    assert status == 0
    assert out.splitlines()[-1].startswith('      - {id: "7", public_key: "-----BEGIN PUBLIC KEY')


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--user", "alice"], "s.yaml: 'alice' is a human user; only machine users have keys"),
        (["--user", "acme-admn"], "s.yaml: no user 'acme-admn' in the scenario; did you mean"),
        (["--user", "acme-admin", "--key-id", "a/b"], "--key-id: 'a/b' is not 1 to 200 ASCII"),
        (["--user", "acme-admin", "--out", "nowhere"], "is not a folder"),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path, capsys, monkeypatch, argv: list[str], error: str
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    monkeypatch.chdir(tmp_path)
    assert main(["new-key", "--scenario", "s.yaml", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert error in err
    assert err.count("\n") == 1


def test_nothing_is_overwritten(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    (tmp_path / "9.json").write_text("mine")
    assert main(["new-key", "-u", "acme-admin", "-s", str(scenario), "--key-id", "9"]) == 2
    assert "exists already; nothing was written" in capsys.readouterr().err
    assert (tmp_path / "9.json").read_text() == "mine"
    assert not (tmp_path / "acme-admin-9.pub.pem").exists()
