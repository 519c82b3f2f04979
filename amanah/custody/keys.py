"""The installation's Ed25519 key, which signs ledger checkpoints.

The private key is a PEM file readable by its owner only, inside the home folder. Anyone given
the public key can check a checkpoint without Amanah (custody/verifier.py).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from amanah.custody.verifier import key_id


class KeyError_(Exception):
    """The signing key is missing, unreadable or of the wrong kind."""


class SigningKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = key_id(self.public_pem)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._private.sign(message)).decode()


def create_key(private_path: Path, public_path: Path) -> SigningKey:
    """Create the key once; an existing key is never replaced."""
    if private_path.exists():
        return load_key(private_path)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(private_path.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = private_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    os.link(tmp, private_path)  # fails if another process created it first: never overwrite
    tmp.unlink()
    signing = SigningKey(key)
    public_path.write_bytes(signing.public_pem)
    return signing


def load_key(private_path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KeyError_(f"{private_path}: cannot read the ledger signing key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{private_path}: not an Ed25519 private key")
    return SigningKey(key)
