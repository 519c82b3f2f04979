"""The custody ledger: append events inside the caller's transaction, checkpoint, prove.

Every appender locks the single ledger_head row first, so the hash chain has one tip even with
many writers (PostgreSQL row lock; SQLite's write lock taken at BEGIN IMMEDIATE). The head also
keeps the Merkle frontier, so a checkpoint costs O(log n) whatever the ledger's length.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from amanah import AGENT
from amanah.custody import checkpoint_log, signed, verifier
from amanah.custody.keys import KeyError_, SigningKey, key_history
from amanah.db.models import Checkpoint, CustodyEvent, LedgerHead, MerkleNode


class EventType(StrEnum):
    """PREMIS event types (id.loc.gov/vocabulary/preservation/eventType), plus ours."""

    INGESTION = "ingestion"
    MESSAGE_DIGEST_CALCULATION = "message digest calculation"
    FIXITY_CHECK = "fixity check"
    FORMAT_IDENTIFICATION = "format identification"
    METADATA_EXTRACTION = "metadata extraction"
    DERIVATION = "derivation"
    ACCESS = "access"
    DOWNLOAD = "download"
    DISCLOSURE = "disclosure"
    RESTRICTION_CHANGE = "restriction change"
    VALIDATION = "validation"
    REPLICATION = "replication"
    KEY_ROTATION = verifier.KEY_ROTATION
    # Ours: an account disabled or enabled, a password reset, a token made or revoked.
    ACCOUNT_CHANGE = "account change"
    # Ours: items sent through extraction again (`amanah reprocess`), with the query used.
    REPROCESSING = "reprocessing"
    # Ours: an entity, a name, a relation or an evidence link added (amanah.entities).
    ENTITY_CHANGE = "entity change"
    # Ours: an analyst's tag or note added to or removed from an item (amanah.analyst).
    ANNOTATION = "annotation"
    # Ours: a cooperation framework's terms or a jurisdiction's record edited (amanah.rfa),
    # naming the fields changed.
    FRAMEWORK_CHANGE = "framework change"
    JURISDICTION_CHANGE = "jurisdiction change"


_TIP = "amanah.ledger_tip"
#: Session.info key under which a workspace puts its SigningKey, so commits can seal.
SIGNING_KEY = "amanah.signing_key"
#: Session.info key: checkpoints signed in this transaction, for the checkpoint log.
NEW_CHECKPOINTS = "amanah.new_checkpoints"
#: Complete subtrees of 2**NODE_MIN_LEVEL (16) leaves and more are stored (merkle_nodes).
NODE_MIN_LEVEL = 4


def utc_now() -> str:
    """RFC 3339 UTC with microseconds: the exact string that is hashed."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_from_ns(ns: int | None) -> str | None:
    """A file time (nanoseconds since the epoch) in the same RFC 3339 UTC form."""
    if ns is None:
        return None
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest:09d}Z"


@dataclass
class _Tip:
    """The locked head of the chain for one transaction, and the events not yet inserted."""

    head: LedgerHead
    frontier: list[tuple[int, bytes]]
    #: The time of the newest event (appended or stored): the next may not be stamped earlier.
    last_time: str | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)


def _push(tip: _Tip, seq: int, leaf: bytes) -> None:
    """verifier.frontier_push, keeping each complete subtree of 16 leaves or more."""
    size, h = 1, leaf
    frontier = tip.frontier
    while frontier and frontier[-1][0] == size:
        left_size, left = frontier.pop()
        size, h = left_size + size, verifier.node_hash(left, h)
        level = size.bit_length() - 1
        if level >= NODE_MIN_LEVEL:
            tip.nodes.append({"level": level, "idx": seq // size - 1, "hash": h.hex()})
    frontier.append((size, h))


def _tip(session: Session) -> _Tip:
    tip = session.info.get(_TIP)
    if tip is None:
        head = session.execute(
            select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
        ).scalar_one()
        frontier = [(int(n), bytes.fromhex(h)) for n, h in json.loads(head.frontier)]
        key = session.info.get(SIGNING_KEY)
        if key is not None:  # without a key nothing can commit (_seal), so nothing is signed
            try:
                signed.check_head(session, head, frontier, key)
            except signed.UnsignedEvents as exc:
                signed.record(session, exc)
                raise
        last = session.execute(  # the newest time of the last events, not the last's time:
            select(func.max(CustodyEvent.occurred_at)).where(  # steps back add up to no more
                CustodyEvent.seq > head.seq - CLOCK_WINDOW
            )
        ).scalar_one_or_none()
        tip = session.info[_TIP] = _Tip(head, frontier, last)
    return tip


#: Seconds this machine's clock may read before the ledger's newest event (workers on several
#: machines, a clock stepped back by time synchronisation); a clock set back further is refused.
CLOCK_SLACK = verifier.CLOCK_SLACK
#: The events whose newest time is the floor: a clock stepped back by less than the slack
#: again and again is held to the newest, as the verifier holds every entry.
CLOCK_WINDOW = 64


def _stamp(session: Session, tip: _Tip) -> str:
    """Now, unless the clock reads earlier than the newest event: the ledger's order is its
    time's order, and an access stamped before the ingestion it follows would be false."""
    now = utc_now()
    last = tip.last_time
    if last is not None and now < last:
        behind = (datetime.fromisoformat(last) - datetime.fromisoformat(now)).total_seconds()
        if behind > CLOCK_SLACK:
            exc = signed.ClockBehind(
                f"this machine's clock reads {now}, {behind:,.0f} s before the custody"
                f" ledger's newest event (number {tip.head.seq}, of {last}): nothing was"
                " recorded; set the clock right (time synchronisation) and run the command again",
                None,
            )
            signed.record(session, exc)
            raise exc
    tip.last_time = now if last is None or now > last else last
    return now


def append(
    session: Session,
    event_type: EventType,
    *,
    actor: str,
    object_type: str,
    object_id: str | int,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    agent: str = AGENT,
) -> dict[str, Any]:
    """Add one event to the ledger in the caller's transaction (commits with the change).

    Events are inserted in bulk when the transaction commits (or on `flush_events`).
    """
    tip = _tip(session)
    head = tip.head
    entry: dict[str, Any] = {
        "seq": head.seq + 1,
        "event_id": str(uuid.uuid4()),
        "type": str(event_type),
        "time": _stamp(session, tip),
        "actor": actor,
        "agent": agent,
        "object_type": object_type,
        "object_id": str(object_id),
        "outcome": outcome,
        "details": details or {},
        "prev": head.entry_hash,
    }
    data = verifier.entry_bytes(entry)
    entry["hash"] = hashlib.sha256(data).hexdigest()
    _push(tip, entry["seq"], hashlib.sha256(b"\x00" + data).digest())
    head.seq = entry["seq"]
    head.entry_hash = entry["hash"]
    tip.pending.append(entry)
    return entry


def next_seq(session: Session) -> int:
    """The sequence number the next event appended in this transaction will get."""
    return _tip(session).head.seq + 1


def flush_events(session: Session) -> None:
    """Insert the transaction's pending events now (they are inserted at commit anyway)."""
    tip = session.info.get(_TIP)
    if tip is None or not tip.pending:
        return
    rows = [
        {
            "seq": e["seq"],
            "event_id": e["event_id"],
            "event_type": e["type"],
            "occurred_at": e["time"],
            "actor": e["actor"],
            "agent": e["agent"],
            "object_type": e["object_type"],
            "object_id": e["object_id"],
            "outcome": e["outcome"],
            "details": verifier.canonical_json(e["details"]).decode(),
            "prev_hash": e["prev"],
            "entry_hash": e["hash"],
        }
        for e in tip.pending
    ]
    session.execute(insert(CustodyEvent.__table__), rows)
    if tip.nodes:
        session.execute(insert(MerkleNode.__table__), tip.nodes)
        tip.nodes.clear()
    tip.head.frontier = json.dumps([[n, h.hex()] for n, h in tip.frontier])
    tip.pending.clear()
    session.flush()


def entry_of(row: Any) -> dict[str, Any]:
    """The ledger entry as exported and hashed."""
    return {
        "seq": row.seq,
        "event_id": row.event_id,
        "type": row.event_type,
        "time": row.occurred_at,
        "actor": row.actor,
        "agent": row.agent,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "outcome": row.outcome,
        "details": json.loads(row.details),
        "prev": row.prev_hash,
        "hash": row.entry_hash,
    }


def iter_entries(session: Session, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """All entries in order, read as plain rows in keyset pages so memory stays bounded."""
    table = CustodyEvent.__table__
    last = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield entry_of(row)
        last = rows[-1].seq


def latest_checkpoint(session: Session) -> Checkpoint | None:
    """The newest signed checkpoint (packages and exports carry it: every recipient is a
    witness)."""
    return session.execute(
        select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def checkpoint(session: Session, key: SigningKey) -> Checkpoint:
    """Sign the current Merkle root, unless the latest checkpoint already covers it with
    this key."""
    tip = _tip(session)
    flush_events(session)
    head = tip.head
    latest = latest_checkpoint(session)
    if latest is not None and latest.tree_size == head.seq and latest.key_id == key.key_id:
        return latest
    if latest is not None and latest.key_id != key.key_id and not _handed_over_to(session, key):
        raise KeyError_(
            f"this process signs with key {key.key_id} but the ledger is signed with key"
            f" {latest.key_id} (the key was rotated or replaced): start the command again"
        )
    fields = {
        "tree_size": head.seq,
        "root": verifier.frontier_root(tip.frontier).hex(),
        "time": utc_now(),
        "key_id": key.key_id,
    }
    cp = Checkpoint(
        tree_size=fields["tree_size"],
        root_hash=fields["root"],
        signed_at=fields["time"],
        key_id=key.key_id,
        signature=key.sign(verifier.checkpoint_statement(fields)),
    )
    session.add(cp)
    session.flush()
    session.info.setdefault(NEW_CHECKPOINTS, []).append(checkpoint_of(cp))
    return cp


def _handed_over_to(session: Session, key: SigningKey) -> bool:
    last = session.execute(
        select(CustodyEvent.details)
        .where(CustodyEvent.event_type == EventType.KEY_ROTATION.value)
        .order_by(CustodyEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return last is not None and json.loads(last).get("new_key_id") == key.key_id


checkpoint_of = signed.checkpoint_of


class _Tree:
    """The RFC 6962 tree over all leaves, built once, so that each audit path costs
    O(log n): complete aligned subtrees come from stored levels, the few ragged right-hand
    ones are remembered."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.size = len(leaves)
        self.levels = [leaves]
        while len(self.levels[-1]) > 1:
            prev = self.levels[-1]
            self.levels.append(
                [verifier.node_hash(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)]
            )
        self._memo: dict[tuple[int, int], bytes] = {}

    def root(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            level = n.bit_length() - 1
            return self.levels[level][lo >> level]
        found = self._memo.get((lo, hi))
        if found is None:
            k = verifier._split(n)
            found = self._memo[(lo, hi)] = verifier.node_hash(
                self.root(lo, lo + k), self.root(lo + k, hi)
            )
        return found

    def path(self, index: int) -> list[bytes]:
        """The same audit path as verifier.inclusion_path, without rehashing subtrees."""
        path: list[bytes] = []
        lo, hi, m = 0, self.size, index
        while hi - lo > 1:
            k = verifier._split(hi - lo)
            if m < k:
                path.append(self.root(lo + k, hi))
                hi = lo + k
            else:
                path.append(self.root(lo, lo + k))
                lo, m = lo + k, m - k
        path.reverse()
        return path


def inclusion_proofs(
    session: Session,
    objects: list[tuple[str, str]],
    public_pem: bytes,
    event_types: frozenset[str] | None = None,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Inclusion proofs of many objects' events against the latest checkpoint, with one pass
    over the ledger. `event_types` keeps only those events (e.g. no reading records)."""
    cp = session.execute(
        select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)
    ).scalar_one_or_none()
    if cp is None:
        raise LookupError("the ledger has no checkpoint yet")
    wanted = set(objects)
    events: dict[tuple[str, str], list[dict[str, Any]]] = {}
    leaves: list[bytes] = []
    for e in iter_entries(session):
        if e["seq"] > cp.tree_size:
            break
        leaves.append(verifier.leaf_hash(e))
        key = (e["object_type"], e["object_id"])
        if key in wanted and (event_types is None or e["type"] in event_types):
            events.setdefault(key, []).append(e)
    tree = _Tree(leaves)
    checkpoint = checkpoint_of(cp)
    history = key_history(session, public_pem)
    proofs = {}
    for key in objects:
        found = events.get(key)
        if not found:
            raise LookupError(f"no custody event for {key[0]} {key[1]}")
        proofs[key] = {
            "format": verifier.FORMAT,
            "object": {"type": key[0], "id": key[1]},
            "checkpoint": checkpoint,
            "public_key": public_pem.decode(),
            "key_history": history,
            "events": [
                {
                    "entry": e,
                    "leaf_index": e["seq"] - 1,
                    "audit_path": [h.hex() for h in tree.path(e["seq"] - 1)],
                }
                for e in found
            ],
        }
    return proofs


def inclusion_proof(
    session: Session, object_type: str, object_id: str | int, public_pem: bytes
) -> dict[str, Any]:
    """Every event about one object, each with its audit path to the latest checkpoint."""
    key = (object_type, str(object_id))
    return inclusion_proofs(session, [key], public_pem)[key]


@event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    """Every transaction that appended events commits with a signed checkpoint over them.

    So no committed event is ever outside a signature, even after a crash mid-intake.
    """
    if session.info.get(_TIP) is None:
        return
    key = session.info.get(SIGNING_KEY)
    if key is None:
        raise RuntimeError("custody events appended in a session without the signing key")
    checkpoint(session, key)


@event.listens_for(Session, "after_commit")
def _log_checkpoints(session: Session) -> None:
    """Checkpoints signed in a committed transaction go to the home's log outside the
    database before the commit returns: a log line always names committed events."""
    signed = session.info.pop(NEW_CHECKPOINTS, None)
    path = session.info.get(checkpoint_log.CHECKPOINT_LOG)
    if signed and path is not None:
        checkpoint_log.append(path, signed)


@event.listens_for(Session, "after_rollback")
def _forget_checkpoints(session: Session) -> None:
    session.info.pop(NEW_CHECKPOINTS, None)
