"""Nothing is signed over events this installation cannot show it signed.

Every transaction that appends events commits with a checkpoint over them, so a ledger as
Amanah left it ends exactly at its newest checkpoint, signed by the installation's key, and
the head row's frontier gives that checkpoint's root. Someone with write access to the
database but not the key can still insert an event, chained and hashed correctly, and move
the head; if the next commit signed a checkpoint over it, the forgery would verify for good.
So before a transaction appends or signs, the head is held to the newest checkpoint, which
must carry a valid signature by the key this process signs with. The cost is bounded: one
signature, one frontier root, and the few rows from the checkpoint on, whatever the
ledger's length.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amanah.custody import checkpoint_log, verifier
from amanah.custody.keys import KeyError_, SigningKey
from amanah.db.models import Checkpoint, CustodyEvent, LedgerHead

#: Beside the checkpoint log in the home: one JSON line per refusal (outside the database,
#: which is what was written to).
REFUSALS_LOG = "ledger-refusals.log"
_BATCH = 200


class LedgerRefused(Exception):
    """The ledger will not take this transaction's events: nothing is recorded or signed,
    and no later transaction can be until the cause is put right (a worker stops)."""

    def __init__(self, message: str, first_bad_seq: int | None) -> None:
        super().__init__(message)
        self.first_bad_seq = first_bad_seq


class UnsignedEvents(LedgerRefused):
    """The ledger holds events (or a head) that no checkpoint of this installation's key
    covers: the transaction is refused, nothing is signed."""


class ClockBehind(LedgerRefused):
    """This machine's clock reads earlier than the ledger's newest event: an event stamped
    before the one it follows would say something false about when it happened."""


def checkpoint_of(cp: Checkpoint) -> dict[str, Any]:
    """A checkpoint row as signed, exported and logged."""
    return {
        "id": cp.id,
        "tree_size": cp.tree_size,
        "root": cp.root_hash,
        "time": cp.signed_at,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


def _signed(cp: Checkpoint, key: SigningKey) -> bool:
    return cp.key_id == key.key_id and verifier.signature_valid(key.public_pem, checkpoint_of(cp))


def _last_signed(session: Session, key: SigningKey, below: int) -> Checkpoint | None:
    """The newest checkpoint before id `below` that this key really signed (only read when
    the newest one is forged, so the refusal can name where the unsigned part starts)."""
    while True:
        rows = (
            session.execute(
                select(Checkpoint)
                .where(Checkpoint.id < below)
                .order_by(Checkpoint.id.desc())
                .limit(_BATCH)
            )
            .scalars()
            .all()
        )
        for cp in rows:
            if cp.key_id != key.key_id:
                return None  # signed under an earlier key: `amanah verify` checks those
            if _signed(cp, key):
                return cp
        if len(rows) < _BATCH:
            return None
        below = rows[-1].id


def _refuse(reason: str, first_bad: int | None) -> UnsignedEvents:
    where = f"custody event #{first_bad}" if first_bad is not None else "the ledger head"
    return UnsignedEvents(
        f"the custody ledger was changed outside Amanah: {where} is not covered by a checkpoint"
        f" signed with this installation's key ({reason}). Nothing was recorded or signed,"
        " so the change stays visible to `amanah verify`; restore the database from a backup"
        " (docs/custody-ledger.md, 'Nothing is signed over unsigned events')",
        first_bad,
    )


def check_head(
    session: Session, head: LedgerHead, frontier: list[tuple[int, bytes]], key: SigningKey
) -> None:
    """Raise UnsignedEvents unless the locked head is exactly where the newest checkpoint,
    signed by `key`, left it."""
    latest = session.execute(
        select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)
    ).scalar_one_or_none()
    last_row = session.execute(select(func.max(CustodyEvent.seq))).scalar_one()
    end = max(head.seq, last_row or 0)
    if latest is None:
        if end:
            raise _refuse("the ledger has events but no signed checkpoint", 1)
        return
    if latest.key_id != key.key_id:
        raise KeyError_(
            f"this process signs with key {key.key_id} but the ledger is signed with key"
            f" {latest.key_id} (the key was rotated or replaced): start the command again"
        )
    if not _signed(latest, key):
        good = _last_signed(session, key, latest.id)
        first = None if good is None else good.tree_size + 1
        raise _refuse(
            f"checkpoint id {latest.id} (size {latest.tree_size}) does not carry a valid"
            f" signature by key {key.key_id}",
            first if first is not None and first <= max(end, latest.tree_size) else None,
        )
    size = latest.tree_size
    if end > size:
        raise _refuse(
            f"the newest signed checkpoint covers {size} events, the ledger has {end}", size + 1
        )
    if head.seq < size or (last_row or 0) != size:
        raise _refuse(
            f"the signed checkpoint covers {size} events, but the head says {head.seq} and"
            f" the last event row is #{last_row} (events deleted or the head rewound)",
            min(head.seq, last_row or 0) + 1,
        )
    if verifier.frontier_root(frontier).hex() != latest.root_hash:
        raise _refuse("the head's Merkle frontier does not give the signed root", None)
    if size:
        row = session.execute(select(CustodyEvent).where(CustodyEvent.seq == size)).scalar_one()
        from amanah.custody.ledger import entry_of

        entry = entry_of(row)
        if verifier.entry_hash(entry) != row.entry_hash or row.entry_hash != head.entry_hash:
            raise _refuse(f"event #{size} or the head's hash was rewritten after signing", size)
        if frontier[-1][0] == 1 and frontier[-1][1] != verifier.leaf_hash(entry):
            raise _refuse(f"event #{size} differs from the event that was signed", size)


def record(session: Session, exc: LedgerRefused) -> None:
    """One line in the home's refusals log, so a refusal is on record outside the database
    (best effort: the refusal itself is what matters)."""
    log = session.info.get(checkpoint_log.CHECKPOINT_LOG)
    if log is None:
        return
    line = {
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "first_bad_seq": exc.first_bad_seq,
        "reason": str(exc),
        "pid": os.getpid(),
    }
    try:
        fd = os.open(
            Path(log).with_name(REFUSALS_LOG), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
        )
        try:
            os.write(fd, verifier.canonical_json(line) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
