"""The names key: the secret under which protected persons' names are kept as digests.

32 random bytes, hex in ``keys/names-hmac.key`` (0600, folder 0700) beside the ledger's signing
key, never in the database: a copy of the database without this file reveals no name. Back it
up with the database; without it the stored digests match nothing (and Amanah says so).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from amanah.sharing import SharingError

KEY_FILE = "names-hmac.key"
#: Where the names key is put in a database session's info (set by the workspace).
SESSION_KEY = "amanah.names_key"


def key_path(home: Path) -> Path:
    return Path(home) / "keys" / KEY_FILE


def load_or_create_key(path: Path) -> bytes:
    """The names key (32 random bytes, hex in a 0600 file); made on first use. Two processes
    starting at once end with the same key: the file is linked into place, never overwritten."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError) as exc:
        raise SharingError(f"{path}: not a names key (64 hex digits expected)") from exc
    if len(key) != 32:
        raise SharingError(f"{path}: not a names key (64 hex digits expected)")
    return key


def key_id(key: bytes) -> str:
    """A short public fingerprint of the key, stored beside the digests it made."""
    return hashlib.sha256(b"amanah names key id|" + key).hexdigest()[:16]
