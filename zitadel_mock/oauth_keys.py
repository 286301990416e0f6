"""Keys for service users' sign-in: the mock's own signing key, machine keys, new key pairs.

``cryptography`` and PyJWT are imported here, on first use only: serving a scenario without
credentials never loads them. The mock's signing key (its "instance web key", published at
``/oauth/v2/keys``, signing ID tokens) is made once per process, when first needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = ["KeyPair", "jwks", "new_key_pair", "public_key", "sign"]

ALGORITHM = "RS256"
KEY_BITS = 2048  # what ZITADEL makes (crypto.GenerateKeyPair)
MAX_CACHED_KEYS = 1024  # parsed public keys kept, by PEM text

_lock = threading.Lock()
_signing: tuple[RSAPrivateKey, str] | None = None  # the key and its kid
_public: OrderedDict[str, RSAPublicKey] = OrderedDict()


class KeyPair:
    """A new RSA key pair: the private half as PKCS#1 PEM (ZITADEL's key file), the public
    half as SubjectPublicKeyInfo PEM (a scenario's ``public_key``)."""

    def __init__(self, private_pem: str, public_pem: str) -> None:
        self.private_pem = private_pem
        self.public_pem = public_pem


def new_key_pair() -> KeyPair:
    """Make a 2048-bit RSA key pair, as ZITADEL makes a machine key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1: "BEGIN RSA PRIVATE KEY"
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private.decode("ascii"), public.decode("ascii"))


def public_key(pem: str) -> RSAPublicKey:
    """The key of a scenario's ``public_key`` (checked when the scenario was loaded), cached."""
    with _lock:
        key = _public.get(pem)
        if key is not None:
            _public.move_to_end(pem)
            return key
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    loaded = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(loaded, rsa.RSAPublicKey):  # the loader let only RSA keys through
        raise TypeError("not an RSA public key")
    with _lock:
        _public[pem] = loaded
        while len(_public) > MAX_CACHED_KEYS:
            _public.popitem(last=False)
    return loaded


def _signing_key() -> tuple[RSAPrivateKey, str]:
    global _signing
    with _lock:
        if _signing is None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import rsa
            from cryptography.hazmat.primitives.serialization import (
                Encoding,
                PublicFormat,
            )

            key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
            digest = hashes.Hash(hashes.SHA256())
            digest.update(key.public_key().public_bytes(Encoding.DER, PublicFormat.PKCS1))
            # A kid of ZITADEL's form (decimal digits), from the key itself.
            kid = str(int.from_bytes(digest.finalize()[:7], "big"))
            _signing = (key, kid)
        return _signing


def jwks() -> dict[str, Any]:
    """The JSON Web Key Set of the mock's signing key: ``{"keys": [{use, kty, kid, alg, n,
    e}]}``."""
    from jwt.algorithms import RSAAlgorithm

    key, kid = _signing_key()
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"keys": [{"use": "sig", "kty": "RSA", "kid": kid, "alg": ALGORITHM, **_ne(jwk)}]}


def _ne(jwk: dict[str, Any]) -> dict[str, Any]:
    return {"n": jwk["n"], "e": jwk["e"]}


def sign(claims: dict[str, Any]) -> str:
    """A JWT of ``claims``, signed RS256 with the mock's key (its kid in the header)."""
    import jwt

    key, kid = _signing_key()
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
