"""``new-key``: a new key pair for a machine user of a scenario, as ZITADEL hands one out.

The private half is written as ZITADEL's key file (what an SDK reads to sign its JWT-profile
assertions), the public half as a PEM file for the scenario; the lines to add to the scenario
are printed. Nothing is overwritten, and the key file is readable by its owner only.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from typing import Any, TextIO

from ..errors import ScenarioError, ZitadelMockError
from ..ids import EPOCH, sonyflake
from ..journal import did_you_mean, shown
from ..model import UserType

__all__ = ["EXPIRATION", "add_parser", "key_file", "run_new_key"]

# What ZITADEL writes for a key made without an expiration date.
EXPIRATION = "9999-12-31T23:59:59Z"


def add_parser(commands: Any) -> None:
    """Add the ``new-key`` subcommand to the parser's subparsers."""
    parser = commands.add_parser(
        "new-key",
        help="write a new key pair for a machine user (JWT profile sign-in)",
        description="Write a new RSA key pair for a machine user of a scenario: the private "
        "half as ZITADEL's key file (KEYID.json, for an SDK), the public half as "
        "USER-KEYID.pub.pem (for the scenario), and print the lines to add to the user in the "
        "scenario. Existing files are never overwritten.",
    )
    parser.add_argument("--user", "-u", required=True, help="the machine user: username or id")
    parser.add_argument("--scenario", "-s", required=True, metavar="PATH", help="the scenario file")
    parser.add_argument(
        "--out",
        "-o",
        metavar="DIR",
        help="where to write both files (default: the scenario's folder)",
    )
    parser.add_argument(
        "--key-id", metavar="ID", help="the key id (default: a new ZITADEL-style id)"
    )
    parser.set_defaults(run=run_new_key)


def key_file(key_id: str, private_pem: str, user_id: str) -> str:
    """ZITADEL's key file: type, keyId, key, expirationDate, userId, in that order."""
    content = {
        "type": "serviceaccount",
        "keyId": key_id,
        "key": private_pem,
        "expirationDate": EXPIRATION,
        "userId": user_id,
    }
    return json.dumps(content, separators=(",", ":")) + "\n"


def _new_id() -> str:
    units = int((time.time() - EPOCH.timestamp()) * 100)
    return sonyflake(units, secrets.randbelow(256), secrets.randbelow(65536))


def _write(path: str, text: str, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise ZitadelMockError(f"{path} exists already; nothing was written") from None
    except OSError as exc:
        raise ZitadelMockError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text)


def run_new_key(args: argparse.Namespace, out: TextIO) -> int:
    from ..oauth_keys import new_key_pair
    from ..scenario.read import load_scenario

    scenario = load_scenario(args.scenario)
    user = scenario.user(args.user)
    if user is None:
        names = [u.username for u in scenario.users]
        raise ScenarioError(
            f"no user {shown(args.user)} in the scenario{did_you_mean(args.user, names)}",
            source=args.scenario,
        )
    if user.type is not UserType.MACHINE:
        raise ScenarioError(
            f"{user.username!r} is a human user; only machine users have keys",
            source=args.scenario,
        )
    key_id = args.key_id or _new_id()
    if not key_id.isascii() or not key_id.isalnum() or len(key_id) > 200:
        raise ZitadelMockError(f"--key-id: {shown(key_id)} is not 1 to 200 ASCII letters or digits")
    taken = {k.id for c in scenario.credentials for k in c.keys}
    if key_id in taken:
        raise ZitadelMockError(f"--key-id: {key_id} is already a key id in {args.scenario}")
    folder = os.path.dirname(os.path.abspath(args.scenario))
    target = os.path.abspath(args.out) if args.out else folder
    if not os.path.isdir(target):
        raise ZitadelMockError(f"--out: {target} is not a folder")
    pair = new_key_pair()
    private_path = os.path.join(target, f"{key_id}.json")
    public_path = os.path.join(target, f"{user.username}-{key_id}.pub.pem")
    if os.path.exists(public_path):  # checked before the key file is written
        raise ZitadelMockError(f"{public_path} exists already; nothing was written")
    _write(private_path, key_file(key_id, pair.private_pem, user.id), 0o600)
    _write(public_path, pair.public_pem, 0o644)
    print(f"wrote {private_path} (the key file, for the SDK: keep it secret)", file=out)
    print(f"wrote {public_path} (the public half, for the scenario)", file=out)
    print(f"add to the user {user.username} in {args.scenario}:", file=out)
    real_folder = os.path.realpath(folder)
    relative = os.path.relpath(os.path.realpath(public_path), real_folder)
    print("    keys:", file=out)
    if relative.startswith(os.pardir):  # outside the scenario's folder: the loader refuses it
        pem = "\\n".join(pair.public_pem.rstrip("\n").split("\n"))
        print(f'      - {{id: "{key_id}", public_key: "{pem}\\n"}}', file=out)
    else:
        shown_path = relative.replace(os.sep, "/")
        print(f'      - {{id: "{key_id}", public_key_file: {json.dumps(shown_path)}}}', file=out)
    return 0
