"""Credentials in a scenario: read, and every mistake one precise line; the schema agrees."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from zitadel_mock import ScenarioError, load_scenario, parse_scenario
from zitadel_mock.oauth_keys import KeyPair
from zitadel_mock.scenario.schema import scenario_schema

VALIDATOR = jsonschema.Draft7Validator(scenario_schema())


def _write(folder: Path, user: str) -> Path:
    text = textwrap.dedent(
        """\
        version: 1
        orgs:
          - name: ACME
            users:
              - {username: alice}
        """
    ) + textwrap.indent(textwrap.dedent(user), "      ")
    path = folder / "s.yaml"
    path.write_text(text)
    return path


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


@pytest.fixture
def folder(tmp_path: Path, key_pair: KeyPair) -> Path:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "admin.pub.pem").write_text(key_pair.public_pem)
    return tmp_path


def test_credentials_are_read(folder: Path, key_pair: KeyPair) -> None:
    inline = key_pair.public_pem.replace("\n", "\\n")
    path = _write(
        folder,
        f"""\
        - username: acme-admin
          type: machine
          client_secret: s3cret
          keys:
            - {{id: "1", public_key_file: keys/admin.pub.pem}}
            - {{id: 2, public_key: "{inline}"}}
        """,
    )
    scenario = load_scenario(path)
    (credentials,) = scenario.credentials
    assert credentials.user_id == scenario.user("acme-admin").id
    assert credentials.client_secret == "s3cret"
    assert [k.id for k in credentials.keys] == ["1", "2"]
    assert credentials.keys[0].public_key == key_pair.public_pem
    assert VALIDATOR.is_valid(yaml.safe_load(path.read_text()))


def test_an_absolute_path_inside_the_folder_is_taken(folder: Path) -> None:
    path = _write(
        folder,
        f"""\
        - username: bot
          type: machine
          keys: [{{id: "1", public_key_file: "{folder / "keys" / "admin.pub.pem"}"}}]
        """,
    )
    assert load_scenario(path).credentials[0].keys[0].id == "1"


MACHINE = "- username: bot\n  type: machine\n"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (
            "- {username: bob, client_secret: x}\n",
            "s.yaml:6: orgs[0].users[1].client_secret: a human user does not sign in with a "
            "client secret or keys; give the user type: machine",
        ),
        (
            "- {username: bob, type: human, keys: []}\n",
            "s.yaml:6: orgs[0].users[1].keys: a human user does not sign in with a client "
            "secret or keys; give the user type: machine",
        ),
        (
            MACHINE + "  client_secret: ''\n",
            "s.yaml:8: orgs[0].users[1].client_secret: expected a non-empty string",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_key: 'not a key'}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0].public_key: not an RSA public key in PEM",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_key_file: keys/missing.pem}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0].public_key_file: key file 'keys/missing.pem' "
            "does not exist (looked for {folder}/keys/missing.pem)",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_key_file: ../outside.pem}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0].public_key_file: key file '../outside.pem' is "
            "outside the scenario's folder {folder}; a key file must be in that folder or below it",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_key_file: /etc/passwd}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0].public_key_file: key file '/etc/passwd' is "
            "outside the scenario's folder {folder}; a key file must be in that folder or below it",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_key_file: big.pem}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0].public_key_file: key file 'big.pem' is larger "
            "than 64 KiB; a public key in PEM is under 1 KiB",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_key_file: keys}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0].public_key_file: key file 'keys' is not a "
            "regular file",
        ),
        (
            MACHINE + "  keys:\n    - {id: '1', public_key_file: keys/admin.pub.pem}\n"
            "    - {id: '1', public_key_file: keys/admin.pub.pem}\n",
            "s.yaml:10: orgs[0].users[1].keys[1].id: key id '1' is already used at "
            "orgs[0].users[1].keys[0].id",
        ),
        (
            MACHINE + "  keys: [{id: '1'}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0]: expected one of public_key and "
            "public_key_file, got neither",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_key: x, public_key_file: y}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0]: expected one of public_key and "
            "public_key_file, got both",
        ),
        (
            MACHINE + "  keys: [{id: '1', public_kye: x}]\n",
            "s.yaml:8: orgs[0].users[1].keys[0].public_kye: unknown key (did you mean "
            "'public_key'?); expected one of: id, public_key, public_key_file",
        ),
    ],
)
def test_each_mistake_is_one_precise_line(folder: Path, user: str, expected: str) -> None:
    (folder / "big.pem").write_bytes(b"x" * (64 * 1024 + 1))
    path = _write(folder, user)
    real = os.path.realpath(folder)
    assert _error(path) == str(folder / expected.format(folder=real))
    if "not exist" in expected or "outside" in expected or "larger" in expected:
        return  # what only the loader can tell (schema.LOADER_ONLY "key")
    if "already used" in expected or "regular file" in expected or "RSA" in expected:
        return
    assert not VALIDATOR.is_valid(yaml.safe_load(path.read_text()))


def test_a_private_key_is_named(folder: Path, key_pair: KeyPair) -> None:
    inline = key_pair.private_pem.replace("\n", "\\n")
    path = _write(folder, MACHINE + f'  keys: [{{id: "1", public_key: "{inline}"}}]\n')
    assert _error(path).endswith(
        "not an RSA public key in PEM (this is a private key: give the public half, never the "
        "private one)"
    )


def test_a_short_or_non_rsa_key_is_refused(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    for key, problem in (
        (ec.generate_private_key(ec.SECP256R1()), "an elliptic-curve (EC) key"),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), "1024 bits"),
    ):
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        inline = pem.decode().replace("\n", "\\n")
        path = _write(folder, MACHINE + f'  keys: [{{id: "1", public_key: "{inline}"}}]\n')
        assert problem in _error(path)


def test_a_fifo_does_not_hold_the_loader(folder: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(folder / "pipe.pem")
    path = _write(folder, MACHINE + "  keys: [{id: '1', public_key_file: pipe.pem}]\n")
    assert _error(path).endswith("key file 'pipe.pem' is not a regular file")


def test_a_symlink_out_of_the_folder_is_refused(folder: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "k.pem"
    outside.write_text("x")
    (folder / "link.pem").symlink_to(outside)
    path = _write(folder, MACHINE + "  keys: [{id: '1', public_key_file: link.pem}]\n")
    assert "is outside the scenario's folder" in _error(path)


def test_text_that_is_no_file_takes_no_key_file() -> None:
    # PUT /_mock/scenario's body, for one: nothing the mock exposes reads files it names.
    text = (
        "version: 1\norgs: [{name: A, users: [{username: b, type: machine, "
        "keys: [{id: '1', public_key_file: /etc/hostname}]}]}]\n"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="request body")
    assert str(caught.value) == (
        "request body:2: orgs[0].users[0].keys[0].public_key_file: key file '/etc/hostname' "
        "cannot be read: this scenario is not read from a file, so there is no folder to find "
        "it in; give the key inline with public_key"
    )


def test_the_control_api_refuses_key_files(tmp_path: Path) -> None:
    import falcon.testing

    from zitadel_mock import create_app

    app = create_app(parse_scenario("version: 1\norgs: [{name: A}]\n"), control=True)
    client = falcon.testing.TestClient(app)
    body = (
        "version: 1\norgs: [{name: A, users: [{username: b, type: machine, "
        "keys: [{id: '1', public_key_file: /etc/hostname}]}]}]\n"
    )
    answer = client.simulate_put("/_mock/scenario", body=body)
    assert answer.status_code == 422
    assert "there is no folder to find it in" in answer.json["error"]
