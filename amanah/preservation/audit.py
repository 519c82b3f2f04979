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
from typing import Any

from sqlalchemy import select

from amanah.custody import ledger, tree, verifier, witness
from amanah.custody.checkpoint_log import LOG_NAME
from amanah.db.models import Checkpoint, CustodyEvent, Derivative, Item, LedgerHead
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
    """Each item must agree with the ingestion event that recorded it."""
    with ws.db.reader() as s:
        recorded: dict[str, dict[str, object]] = {}
        events = s.execute(
            select(CustodyEvent.object_id, CustodyEvent.details).where(
                CustodyEvent.object_type == "item", CustodyEvent.event_type == "ingestion"
            )
        )
        for object_id, details in events:
            recorded[object_id] = json.loads(details)
        rows = s.execute(select(Item.id, Item.sha256, Item.size, Item.original_path))
        for item_id, sha256, size, original_path in rows:
            report.items += 1
            event = recorded.get(str(item_id))
            if event is None:
                report.problems.append(f"item {item_id} ({original_path}) has no ingestion event")
                continue
            for name, value in (("sha256", sha256), ("size", size)):
                if event.get(name) != value:
                    report.problems.append(
                        f"item {item_id}: {name} is {value} but its ingestion event recorded"
                        f" {event.get(name)} (item row edited)"
                    )
            if event.get("original_path") != original_path:
                report.problems.append(
                    f"item {item_id}: original path differs from its ingestion event"
                    " (item row edited)"
                )


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
        report.fixity = run_fixity(ws, actor, on_start=on_start, on_result=on_result)
        users = _users_of(ws, [sha for sha, _, _ in report.fixity.problems])
        for sha256, outcome, reason in report.fixity.problems:
            held = f" (held by {users[sha256]})" if sha256 in users else ""
            report.problems.append(f"blob {sha256} {outcome}: {reason}{held}")
    return report
