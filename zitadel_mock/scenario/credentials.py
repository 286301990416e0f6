"""Read how a machine user signs in: its client secret and the public halves of its keys.

A key is given inline (``public_key``) or as a file (``public_key_file``), relative to the
scenario's folder. A file is read only inside that folder (symbolic links resolved first), only
if it is a regular file, and only up to 64 KiB: a scenario cannot make the mock read anything
the user did not point it at, nor wait on a pipe or a device. ``cryptography`` is imported only
when a scenario has keys.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ..model import Credentials, MachineKey, UserType
from .fields import Invalid, expect_list, expect_mapping, expect_str
from .paths import Path, format_path

__all__ = [
    "CREDENTIAL_KEYS",
    "KEY_KEYS",
    "MAX_KEY_FILE",
    "MIN_KEY_BITS",
    "public_key_pem",
    "read_credentials",
]

CREDENTIAL_KEYS = ("client_secret", "keys")
KEY_KEYS = ("id", "public_key", "public_key_file")
MAX_KEY_FILE = 64 * 1024  # a 4096-bit public key in PEM is under 1 KiB
MAX_KEY_ID = 200
# ZITADEL makes 2048-bit RSA keys; shorter ones are refused rather than half supported.
MIN_KEY_BITS = 2048


def read_credentials(
    spec: Any,
    path: Path,
    user_id: str,
    user_type: UserType,
    folder: str | None,
    key_ids: dict[str, Path],
) -> Credentials | None:
    """Read a user's ``client_secret`` and ``keys``; None if it has neither.

    ``folder`` is the scenario file's folder (None: the scenario is no file, so a
    ``public_key_file`` is refused); ``key_ids`` holds the key ids seen so far in the file.
    """
    present = [key for key in CREDENTIAL_KEYS if key in spec]
    if not present:
        return None
    if user_type is not UserType.MACHINE:
        raise Invalid(
            (*path, present[0]),
            "a human user does not sign in with a client secret or keys; "
            "give the user type: machine",
        )
    secret = None
    if "client_secret" in spec:
        secret = expect_str(spec["client_secret"], (*path, "client_secret"))
    keys: list[MachineKey] = []
    if "keys" in spec:
        raw = expect_list(spec["keys"], (*path, "keys"))
        for i, item in enumerate(raw):
            keys.append(_key(item, (*path, "keys", i), folder, key_ids))
    return Credentials(user_id, secret, tuple(keys))


def _key(item: Any, path: Path, folder: str | None, key_ids: dict[str, Path]) -> MachineKey:
    spec = expect_mapping(item, path, KEY_KEYS, ("id",))
    key_id = expect_str(spec["id"], (*path, "id"), allow_int=True, max_len=MAX_KEY_ID)
    if key_id in key_ids:
        raise Invalid(
            (*path, "id"), f"key id {key_id!r} is already used at {format_path(key_ids[key_id])}"
        )
    given = [k for k in ("public_key", "public_key_file") if k in spec]
    if len(given) != 1:
        problem = "both" if given else "neither"
        raise Invalid(path, f"expected one of public_key and public_key_file, got {problem}")
    if given[0] == "public_key":
        text = expect_str(spec["public_key"], (*path, "public_key"))
        pem = public_key_pem(text.encode("utf-8", "replace"), (*path, "public_key"))
    else:
        fpath = (*path, "public_key_file")
        name = expect_str(spec["public_key_file"], fpath)
        pem = public_key_pem(_read_key_file(name, fpath, folder), fpath)
    key_ids[key_id] = (*path, "id")
    return MachineKey(key_id, pem)


def _read_key_file(name: str, path: Path, folder: str | None) -> bytes:
    if folder is None:
        raise Invalid(
            path,
            f"key file {name!r} cannot be read: this scenario is not read from a file, so "
            "there is no folder to find it in; give the key inline with public_key",
        )
    root = os.path.realpath(folder)
    try:
        target = os.path.realpath(os.path.join(root, name))
        inside = os.path.commonpath([root, target]) == root
    except ValueError:  # a NUL character, or another drive on Windows
        inside = False
        target = name
    if not inside:
        raise Invalid(
            path,
            f"key file {name!r} is outside the scenario's folder {root}; "
            "a key file must be in that folder or below it",
        )
    try:
        # Non-blocking, so that a FIFO named here cannot hold the loader: it is refused below.
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise Invalid(path, f"key file {name!r} does not exist (looked for {target})") from None
    except OSError as exc:
        raise Invalid(path, f"key file {name!r} cannot be read: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Invalid(path, f"key file {name!r} is not a regular file")
        data = os.read(fd, MAX_KEY_FILE + 1)
    except OSError as exc:
        raise Invalid(path, f"key file {name!r} cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_KEY_FILE:
        raise Invalid(
            path,
            f"key file {name!r} is larger than {MAX_KEY_FILE // 1024} KiB; "
            "a public key in PEM is under 1 KiB",
        )
    return data


def _kind(key: object) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519

    kinds = (
        (ec.EllipticCurvePublicKey, "an elliptic-curve (EC) key"),
        (ed25519.Ed25519PublicKey, "an Ed25519 key"),
        (ed448.Ed448PublicKey, "an Ed448 key"),
        (dsa.DSAPublicKey, "a DSA key"),
    )
    return next((name for cls, name in kinds if isinstance(key, cls)), "another kind of key")


def public_key_pem(data: bytes, path: Path) -> str:
    """The RSA public key in ``data`` (PEM) as SubjectPublicKeyInfo PEM text, or Invalid."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        hint = ""
        if b"PRIVATE KEY" in data:
            hint = " (this is a private key: give the public half, never the private one)"
        raise Invalid(path, f"not an RSA public key in PEM{hint}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise Invalid(
            path,
            f"not an RSA public key in PEM: {_kind(key)}; ZITADEL's machine keys are RSA (RS256)",
        )
    if key.key_size < MIN_KEY_BITS:
        raise Invalid(
            path,
            f"not an RSA public key in PEM of {MIN_KEY_BITS} bits or more: {key.key_size} bits "
            "(ZITADEL makes 2048-bit keys)",
        )
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")
