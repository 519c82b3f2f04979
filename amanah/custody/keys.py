"""The installation's Ed25519 key, which signs ledger checkpoints, and its history.

The private key is a PEM file readable by its owner only, inside the home folder, encrypted
at rest when a passphrase is given (`amanah init --passphrase-stdin` or AMANAH_KEY_PASSPHRASE).
Amanah never makes a new key for a ledger that already has signed history: a missing or
different key stops every command, because every earlier checkpoint would stop verifying.
Keys change only by `amanah custody rotate-key`, a hand-over signed by the outgoing key and
recorded in the ledger, so the history of keys is itself verifiable from the first key.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.custody import verifier
from amanah.custody.verifier import key_id

PASSPHRASE_ENV = "AMANAH_KEY_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)
_ENCRYPTED = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


class KeyError_(Exception):
    """The signing key is missing, unreadable, of the wrong kind, or not the ledger's."""


class SigningKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = key_id(self.public_pem)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._private.sign(message)).decode()

    def private_pem(self, passphrase: bytes | None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


def env_passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode() if value else None


def _write_private(path: Path, pem: bytes, replace: bool = False) -> None:
    """Owner-only, fsynced; never overwrites another key unless `replace` (re-encryption)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    if replace:
        os.replace(tmp, path)
    else:
        os.link(tmp, path)  # fails if another process created it first: never overwrite
        tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_public(path: Path, pem: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pem)
    os.replace(tmp, path)


def create_key(
    private_path: Path, public_path: Path, passphrase: bytes | None = None
) -> SigningKey:
    """Create the key once; an existing key is never replaced."""
    if private_path.exists():
        return load_key(private_path, passphrase)
    signing = SigningKey(Ed25519PrivateKey.generate())
    _write_private(private_path, signing.private_pem(passphrase or env_passphrase()))
    _write_public(public_path, signing.public_pem)
    return signing


def load_key(private_path: Path, passphrase: bytes | None = None) -> SigningKey:
    try:
        data = private_path.read_bytes()
    except OSError as exc:
        raise KeyError_(f"{private_path}: cannot read the ledger signing key: {exc}") from exc
    encrypted = data.lstrip().startswith(_ENCRYPTED)
    password = (passphrase or env_passphrase()) if encrypted else None
    if encrypted and not password:
        raise KeyError_(
            f"{private_path}: the ledger signing key is encrypted; give its passphrase in"
            f" {PASSPHRASE_ENV}"
        )
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise KeyError_(
                f"{private_path}: wrong passphrase for the ledger signing key"
                f" (from {PASSPHRASE_ENV} or --passphrase-stdin)"
            ) from exc
        raise KeyError_(f"{private_path}: cannot read the ledger signing key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{private_path}: not an Ed25519 private key")
    return SigningKey(key)


def is_encrypted(private_path: Path) -> bool:
    return private_path.read_bytes().lstrip().startswith(_ENCRYPTED)


def set_passphrase(private_path: Path, key: SigningKey, passphrase: bytes) -> None:
    """Encrypt the private key at rest with a (new) passphrase."""
    _write_private(private_path, key.private_pem(passphrase), replace=True)


# --- the key history, as the ledger records it ----------------------------------------------


def _rotations(session: Session) -> list[tuple[int, dict[str, Any]]]:
    from amanah.db.models import CustodyEvent

    rows = session.execute(
        select(CustodyEvent.seq, CustodyEvent.details)
        .where(CustodyEvent.event_type == verifier.KEY_ROTATION)
        .order_by(CustodyEvent.seq)
    )
    return [(seq, json.loads(details)) for seq, details in rows]


def ledger_key_id(session: Session) -> str | None:
    """The key the ledger is signed with now (None while nothing is signed): the key of the
    newest checkpoint, since a hand-over commits with a checkpoint under the incoming key."""
    from amanah.db.models import Checkpoint

    return session.execute(
        select(Checkpoint.key_id).order_by(Checkpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def key_history(session: Session, current: SigningKey | bytes) -> dict[str, Any]:
    """Every key the ledger was signed with, from its first, with the signed hand-overs.

    `current` (the key in use, or its public PEM) stands alone while nothing was rotated."""
    rotations = _rotations(session)
    if not rotations:
        pem = current if isinstance(current, bytes) else current.public_pem
        return verifier.key_history_document([(key_id(pem), pem, 0)], [])
    first = rotations[0][1]
    keys = [(first["old_key_id"], first["old_public_key"].encode(), 0)]
    signatures = []
    for seq, d in rotations:
        keys.append((d["new_key_id"], d["public_key"].encode(), seq))
        signatures.append(d["handover_signature"])
    return verifier.key_history_document(keys, signatures)


def root_public_pem(session: Session, current: SigningKey | bytes) -> bytes:
    """The ledger's first key: the one to pin (`amanah custody public-key`)."""
    return str(key_history(session, current)["keys"][0]["public_key"]).encode()


def open_signing_key(
    private_path: Path,
    public_path: Path,
    session: Session,
    initializing: bool = False,
    passphrase: bytes | None = None,
) -> SigningKey:
    """Load the ledger's key, refusing one that is missing or not the ledger's.

    A key is made only for a ledger with no signed history: on `amanah init`, or on the
    first command in a home that has a configuration and nothing else yet."""
    expected = ledger_key_id(session)
    if not private_path.exists():
        if expected is not None:
            raise KeyError_(
                f"{private_path}: the ledger signing key is missing. The ledger is signed with"
                f" key {expected}: restore that key from a backup. Amanah will not make a new"
                " key, since every earlier checkpoint would then fail to verify."
            )
        if public_path.exists() and not initializing:
            raise KeyError_(
                f"{private_path}: the ledger signing key is missing (its public key"
                f" {key_id(public_path.read_bytes())} is still in {public_path}): restore it"
                " from a backup, or run `amanah init` to make a new one for an empty ledger"
            )
        return create_key(private_path, public_path, passphrase)
    key = load_key(private_path, passphrase)
    if expected is not None and key.key_id != expected:
        key = _finish_rotation(private_path, public_path, key, expected)
    if expected is not None and key.key_id != expected:
        raise KeyError_(
            f"{private_path}: this key ({key.key_id}) is not the key the ledger is signed with"
            f" ({expected}); restore the ledger's key from a backup"
        )
    if public_path.exists() and key_id(public_path.read_bytes()) != key.key_id:
        raise KeyError_(
            f"{public_path}: public key {key_id(public_path.read_bytes())} does not match"
            f" the private key {key.key_id} in {private_path}"
        )
    if not public_path.exists():
        _write_public(public_path, key.public_pem)
    return key


def _finish_rotation(
    private_path: Path, public_path: Path, key: SigningKey, expected: str
) -> SigningKey:
    """A rotation that committed but did not get to swap the key files: swap them now."""
    next_path = private_path.with_name(private_path.stem + ".next.pem")
    if not next_path.exists():
        return key
    try:
        new = load_key(next_path)
    except KeyError_:
        return key
    if new.key_id != expected:
        return key
    install_rotated_key(private_path, public_path, new)
    return new


def install_rotated_key(private_path: Path, public_path: Path, new: SigningKey) -> None:
    """After the hand-over committed: the new key becomes the key; the old one is destroyed
    (a retired key kept on disk could only be used to forge)."""
    next_path = private_path.with_name(private_path.stem + ".next.pem")
    os.replace(next_path, private_path)
    _write_public(public_path, new.public_pem)
    dir_fd = os.open(private_path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def prepare_rotation(private_path: Path, passphrase: bytes | None) -> SigningKey:
    """The incoming key, written beside the current one before the hand-over commits."""
    next_path = private_path.with_name(private_path.stem + ".next.pem")
    next_path.unlink(missing_ok=True)
    signing = SigningKey(Ed25519PrivateKey.generate())
    _write_private(next_path, signing.private_pem(passphrase))
    return signing
