"""`amanah verify`: does everything still hold that the installation has promised?

Checks, each naming what it finds wrong: the ledger's hash chain and its head, every signed
checkpoint against the ledger under the key history, the home's checkpoint log and any
witnessed checkpoint (the ledger must extend each), the stored Merkle nodes, every item
against its ingestion event (an edited item row shows here), every item has its ingestion
event, every derivative against the derivation event that names its blob (a row pointed at
another blob shows here), and the fixity of every blob (a blob whose bytes differ from its
name, or that is missing, is named with its items).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.custody import ledger, tree, verifier, witness
from amanah.custody.checkpoint_log import LOG_NAME
from amanah.custody.signed import LedgerRefused
from amanah.db.models import (
    Blob,
    Checkpoint,
    Collection,
    CustodyEvent,
    Derivative,
    Item,
    LedgerHead,
    Provider,
)
from amanah.preservation import derivatives
from amanah.preservation.fixity import FixityReport, run_fixity
from amanah.workspace import Workspace


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    ledger_entries: int = 0
    checkpoints: int = 0
    items: int = 0
    derivatives: int = 0
    fixity: FixityReport | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_ledger(
    ws: Workspace, report: VerifyReport, kept: Sequence[tuple[str, dict[str, Any]]] = ()
) -> None:
    """The chain, the checkpoints under the key history, and the witnesses: the home's
    checkpoint log and the checkpoints someone kept (`kept`)."""
    with ws.db.reader() as s:
        problems, leaves = verifier.check_chain(ledger.iter_entries(s))
        report.ledger_entries = len(leaves)
        checkpoints = [
            ledger.checkpoint_of(c)
            for c in s.execute(select(Checkpoint).order_by(Checkpoint.id)).scalars()
        ]
        report.checkpoints = len(checkpoints)
        ring, key_problems = witness.key_ring(s, ws.key)
        problems += key_problems
        problems += verifier.check_checkpoints(checkpoints, leaves, ring)
        problems += witness.check_witnesses(leaves, checkpoints, ring, ws.home / LOG_NAME, kept)
        problems += tree.check_nodes(s, leaves)
        head = s.get(LedgerHead, 1)
        if head is None:
            problems.append("the ledger head row is missing")
        elif head.seq != len(leaves):
            problems.append(
                f"the ledger holds {len(leaves)} entries but its head records {head.seq}"
                " (entries deleted or added outside Amanah)"
            )
        elif leaves and verifier.frontier_root(
            [(int(n), bytes.fromhex(h)) for n, h in json.loads(head.frontier)]
        ) != verifier.merkle_root(leaves):
            problems.append("the ledger head's Merkle frontier does not match the ledger")
    report.problems += problems


def check_items(ws: Workspace, report: VerifyReport) -> None:
    """Each item must agree with the ingestion event that recorded it (its bytes, path,
    collection and provider, file times, the item it came from, who took it in and when),
    every item an ingestion event recorded must still be there, and its blob must be in the
    blob register (the fixity check walks the register: a blob row deleted with its bytes
    would otherwise go unnoticed)."""
    with ws.db.reader() as s:
        recorded = _ingestions(s, None)
        registered = set(s.execute(select(Blob.sha256)).scalars())
        seen: set[str] = set()
        for item, collection, provider in _rows(s, None):
            report.items += 1
            seen.add(str(item.id))
            report.problems += _against(item, collection, provider, recorded)
            if item.sha256 not in registered:
                report.problems.append(
                    f"item {item.id}: its blob {item.sha256} is not in the blob register"
                    " (the register's row was deleted)"
                )
        for object_id in sorted(recorded.keys() - seen, key=lambda x: (len(x), x)):
            report.problems.append(
                f"item {object_id}, recorded by its ingestion event, is not in the database"
                " (its row was deleted)"
            )


def edited_items(s: Session, item_ids: Sequence[int]) -> dict[int, list[str]]:
    """The items of `item_ids` whose row differs from their ingestion event, with what
    differs: what a package seals of an item (its date received, file time, provider) must be
    what the ledger recorded, not a row edited since."""
    out: dict[int, list[str]] = {}
    ids = sorted(set(item_ids))
    for i in range(0, len(ids), 900):
        part = ids[i : i + 900]
        recorded = _ingestions(s, part)
        for item, collection, provider in _rows(s, part):
            problems = _against(item, collection, provider, recorded)
            if problems:
                out[item.id] = problems
    return out


def _ingestions(
    s: Session, item_ids: Sequence[int] | None
) -> dict[str, tuple[dict[str, Any], str, str]]:
    query = select(
        CustodyEvent.object_id, CustodyEvent.details, CustodyEvent.actor, CustodyEvent.occurred_at
    ).where(CustodyEvent.object_type == "item", CustodyEvent.event_type == "ingestion")
    if item_ids is not None:
        query = query.where(CustodyEvent.object_id.in_([str(x) for x in item_ids]))
    return {
        object_id: (json.loads(details), actor, at)
        for object_id, details, actor, at in s.execute(query)
    }


def _rows(s: Session, item_ids: Sequence[int] | None) -> Sequence[Any]:
    query = (
        select(Item, Collection.name, Provider.name)
        .join(Collection, Collection.id == Item.collection_id)
        .join(Provider, Provider.id == Collection.provider_id)
    )
    if item_ids is not None:
        query = query.where(Item.id.in_(item_ids))
    return s.execute(query).all()


def _against(
    item: Item,
    collection: str,
    provider: str,
    recorded: dict[str, tuple[dict[str, Any], str, str]],
) -> list[str]:
    found = recorded.get(str(item.id))
    if found is None:
        return [f"item {item.id} ({item.original_path}) has no ingestion event"]
    return _differences(item, collection, provider, *found)


def _differences(
    item: Item, collection: str, provider: str, event: dict[str, Any], actor: str, at: str
) -> list[str]:
    """What of an item row differs from its ingestion event (each a problem naming it)."""
    out: list[str] = []
    times = event.get("file_times") or {}
    expected = {
        "sha256": (item.sha256, event.get("sha256")),
        "size": (item.size, event.get("size")),
        "original path": (item.original_path, event.get("original_path")),
        "collection": (collection, event.get("collection", collection)),
        "provider": (provider, event.get("provider", provider)),
        "the item it came from": (item.parent_id, event.get("parent")),
        "intake actor": (item.intake_actor, actor),
        "file time modified": (ledger.iso_from_ns(item.mtime_ns), times.get("modified")),
        "file time accessed": (ledger.iso_from_ns(item.atime_ns), times.get("accessed")),
        "file time changed": (ledger.iso_from_ns(item.ctime_ns), times.get("changed")),
    }
    for name, (value, said) in expected.items():
        if name.startswith("file time") and "file_times" not in event:
            continue
        if value != said:
            shown = "differs from" if name in ("original path",) else f"is {value} but"
            out.append(
                f"item {item.id}: {name} {shown} its ingestion event"
                + ("" if name in ("original path",) else f" recorded {said}")
                + " (item row edited)"
            )
    intake = item.intake_at if item.intake_at.tzinfo else item.intake_at.replace(tzinfo=UTC)
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is not None and abs((intake - when).total_seconds()) > INTAKE_SLACK:
        out.append(
            f"item {item.id}: taken in at {intake.isoformat()} but its ingestion event is of"
            f" {at} (item row edited)"
        )
    return out


#: Seconds an item's intake time may lie from its ingestion event's: one batch's transaction
#: (a batch of many thousand files appends its events for minutes); a rewritten date is off
#: by far more.
INTAKE_SLACK = 3_600


def check_derivatives(ws: Workspace, report: VerifyReport) -> None:
    """Each derivative must be the blob its derivation event names (rule 9)."""
    report.derivatives, problems = derivatives.check_all(ws)
    report.problems += problems


def _users_of(ws: Workspace, shas: list[str]) -> dict[str, str]:
    """For each blob, the items and derivatives that hold it: what a damaged blob costs."""
    users: dict[str, list[str]] = {}
    with ws.db.reader() as s:
        for start in range(0, len(shas), 500):
            chunk = shas[start : start + 500]
            for item_id, sha in s.execute(
                select(Item.id, Item.sha256).where(Item.sha256.in_(chunk)).order_by(Item.id)
            ):
                users.setdefault(sha, []).append(f"item {item_id}")
            for item_id, kind, sha in s.execute(
                select(Derivative.item_id, Derivative.kind, Derivative.sha256)
                .where(Derivative.sha256.in_(chunk))
                .order_by(Derivative.id)
            ):
                users.setdefault(sha, []).append(f"{kind} of item {item_id}")
    return {
        sha: ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
        for sha, names in users.items()
    }


def verify(
    ws: Workspace,
    actor: str,
    fixity: bool = True,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[int], None] | None = None,
    witnesses: Sequence[tuple[str, dict[str, Any]]] = (),
) -> VerifyReport:
    report = VerifyReport()
    check_ledger(ws, report, witnesses)
    check_items(ws, report)
    check_derivatives(ws, report)
    from amanah.search.index import check_index

    report.problems += check_index(ws)  # the derived search index, against the database
    if fixity:
        try:
            report.fixity = run_fixity(ws, actor, on_start=on_start, on_result=on_result)
        except LedgerRefused as exc:  # its events cannot be signed: the ledger is the problem
            report.problems.append(f"fixity not checked: {exc}")
            return report
        users = _users_of(ws, [sha for sha, _, _ in report.fixity.problems])
        for sha256, outcome, reason in report.fixity.problems:
            held = f" (held by {users[sha256]})" if sha256 in users else ""
            report.problems.append(f"blob {sha256} {outcome}: {reason}{held}")
    return report
