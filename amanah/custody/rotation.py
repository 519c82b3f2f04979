"""Rotate the ledger's signing key: a hand-over signed by the outgoing key, in the ledger.

The order survives a crash at any point: the incoming key is written (fsynced) beside the
current one first; the hand-over event and a checkpoint under each key commit in one
transaction; only then does the incoming key replace the outgoing one on disk. A crash after
the commit is finished by the next command (custody/keys.py, _finish_rotation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amanah.custody import ledger, verifier
from amanah.custody.keys import (
    SigningKey,
    env_passphrase,
    install_rotated_key,
    is_encrypted,
    prepare_rotation,
)
from amanah.db import Database


class RotationRefused(Exception):
    """The key cannot be rotated now (workers hold the current key)."""


def rotate_key(
    db: Database,
    old: SigningKey,
    private_path: Path,
    public_path: Path,
    actor: str,
    reason: str = "",
    passphrase: bytes | None = None,
) -> dict[str, Any]:
    """Hand the ledger over from `old` to a new key; return what was recorded. Refused while
    a processing worker runs: it holds the outgoing key, and its jobs' events would fail to
    sign once the key is gone."""
    from amanah import queue

    if busy := queue.live_workers(db):
        raise RotationRefused(
            f"processing workers are running ({', '.join(busy[:5])}): stop them (or let"
            " `amanah process` finish) before rotating the signing key"
        )
    if passphrase is None and is_encrypted(private_path):
        passphrase = env_passphrase()
    new = prepare_rotation(private_path, passphrase)
    with db.session() as s:
        ledger.checkpoint(s, old)  # the outgoing key signs everything before the hand-over
        size = ledger.next_seq(s)
        statement = verifier.handover_statement(size, old.key_id, new.public_pem)
        entry = ledger.append(
            s,
            ledger.EventType.KEY_ROTATION,
            actor=actor,
            object_type="ledger",
            object_id="signing-key",
            details={
                "old_key_id": old.key_id,
                "old_public_key": old.public_pem.decode(),
                "new_key_id": new.key_id,
                "public_key": new.public_pem.decode(),
                "handover_signature": old.sign(statement),
                "reason": reason,
            },
        )
        ledger.checkpoint(s, old)  # the outgoing key signs the hand-over itself ...
        s.info[ledger.SIGNING_KEY] = new
        ledger.checkpoint(s, new)  # ... and the incoming key signs the same tree
    install_rotated_key(private_path, public_path, new)
    db.session_info[ledger.SIGNING_KEY] = new
    return {"seq": entry["seq"], "old_key_id": old.key_id, "new_key_id": new.key_id, "key": new}
