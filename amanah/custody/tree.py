"""The ledger's Merkle tree read from storage: any subtree root, consistency proofs.

Complete subtrees of 16 leaves and more are kept in merkle_nodes as events are appended
(custody/ledger.py), so the root of any range is a handful of stored nodes plus, at a ragged
end, at most one 16-entry block of the ledger re-hashed. A consistency proof between any two
sizes therefore costs a few indexed reads whatever the ledger's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.custody import verifier
from amanah.custody.ledger import NODE_MIN_LEVEL, checkpoint_of, entry_of
from amanah.db.models import Checkpoint, CustodyEvent, MerkleNode

BLOCK = 1 << NODE_MIN_LEVEL
#: leaves(lo, hi) -> the leaf hashes of entries lo+1 .. hi (0-based leaves lo .. hi-1).
LeafSource = Callable[[int, int], list[bytes]]


def entry_leaves(session: Session) -> LeafSource:
    table = CustodyEvent.__table__

    def leaves(lo: int, hi: int) -> list[bytes]:
        rows = session.execute(
            select(table).where(table.c.seq > lo, table.c.seq <= hi).order_by(table.c.seq)
        ).all()
        if len(rows) != hi - lo:
            raise LookupError(f"the ledger lacks entries between {lo + 1} and {hi}")
        return [verifier.leaf_hash(entry_of(r)) for r in rows]

    return leaves


class StoredTree:
    """MTH(D[lo:hi]) for ranges of the first `size` leaves, from stored nodes and blocks."""

    def __init__(self, session: Session, size: int, leaves: LeafSource | None = None) -> None:
        self.session = session
        self.size = size
        self.leaves = leaves or entry_leaves(session)
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.blocks: dict[int, list[bytes]] = {}
        self.memo: dict[tuple[int, int], bytes] = {}

    def _plan(self, lo: int, hi: int, nodes: set[tuple[int, int]], blocks: set[int]) -> None:
        n = hi - lo
        if n >= BLOCK and n & (n - 1) == 0 and lo % n == 0:
            nodes.add((n.bit_length() - 1, lo // n))
        elif lo // BLOCK == (hi - 1) // BLOCK:
            blocks.add(lo // BLOCK)
        else:
            k = verifier._split(n)
            self._plan(lo, lo + k, nodes, blocks)
            self._plan(lo + k, hi, nodes, blocks)

    def prefetch(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Read every stored node and block the ranges need, in few queries."""
        nodes: set[tuple[int, int]] = set()
        blocks: set[int] = set()
        for lo, hi in ranges:
            if not 0 <= lo < hi <= self.size:
                raise ValueError(f"range {lo}..{hi} is outside a tree of {self.size}")
            self._plan(lo, hi, nodes, blocks)
        wanted = sorted(nodes - self.nodes.keys())
        by_level: dict[int, list[int]] = {}
        for level, idx in wanted:
            by_level.setdefault(level, []).append(idx)
        # One indexed lookup per level: a row-value IN over (level, idx) is not answered
        # from the primary key by SQLite, and would scan every stored node.
        for level, ids in by_level.items():
            rows = self.session.execute(
                select(MerkleNode.idx, MerkleNode.hash).where(
                    MerkleNode.level == level, MerkleNode.idx.in_(ids)
                )
            )
            for idx, h in rows:
                self.nodes[(level, idx)] = bytes.fromhex(h)
        missing = [n for n in wanted if n not in self.nodes]
        if missing:
            level, idx = missing[0]
            raise LookupError(
                f"the ledger's stored Merkle node (level {level}, index {idx}) is missing"
            )
        for b in sorted(blocks - self.blocks.keys()):
            lo = b * BLOCK
            self.blocks[b] = self.leaves(lo, min(lo + BLOCK, self.size))

    def root(self, lo: int, hi: int) -> bytes:
        found = self.memo.get((lo, hi))
        if found is not None:
            return found
        n = hi - lo
        if n >= BLOCK and n & (n - 1) == 0 and lo % n == 0:
            found = self.nodes[(n.bit_length() - 1, lo // n)]
        elif lo // BLOCK == (hi - 1) // BLOCK:
            block = self.blocks[lo // BLOCK]
            base = (lo // BLOCK) * BLOCK
            found = verifier.merkle_root(block[lo - base : hi - base])
        else:
            k = verifier._split(n)
            found = verifier.node_hash(self.root(lo, lo + k), self.root(lo + k, hi))
        self.memo[(lo, hi)] = found
        return found


def _ranges_of_proof(m: int, n: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []

    def record(lo: int, hi: int) -> bytes:
        ranges.append((lo, hi))
        return b""

    verifier.consistency_proof(m, n, record)
    return ranges


def consistency(
    session: Session, old_size: int, new_size: int, leaves: LeafSource | None = None
) -> list[bytes]:
    """RFC 6962 PROOF(old_size, D[new_size]) from the stored tree."""
    tree = StoredTree(session, new_size, leaves)
    tree.prefetch(_ranges_of_proof(old_size, new_size))
    return verifier.consistency_proof(old_size, new_size, tree.root)


def root_at(session: Session, size: int, leaves: LeafSource | None = None) -> bytes:
    """The Merkle root of the first `size` entries, from the stored tree."""
    if size == 0:
        return verifier.merkle_root([])
    tree = StoredTree(session, size, leaves)
    tree.prefetch([(0, size)])
    return tree.root(0, size)


def _checkpoint_of_size(session: Session, size: int) -> Checkpoint:
    cp = session.execute(
        select(Checkpoint)
        .where(Checkpoint.tree_size == size)
        .order_by(Checkpoint.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if cp is None:
        raise LookupError(
            f"no signed checkpoint covers exactly {size} entries (give the tree_size of a"
            " checkpoint you kept: `amanah custody checkpoint --json` prints the latest)"
        )
    return cp


def consistency_document(
    session: Session, history: dict[str, Any], old_size: int, new_size: int | None = None
) -> dict[str, Any]:
    """A consistency proof between two signed checkpoints, for anyone to check."""
    if new_size is None:
        latest = session.execute(
            select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)
        ).scalar_one_or_none()
        if latest is None:
            raise LookupError("the ledger has no checkpoint yet")
        new = latest
    else:
        new = _checkpoint_of_size(session, new_size)
    if old_size > new.tree_size:
        raise LookupError(
            f"the old size {old_size} is larger than the new checkpoint's {new.tree_size}"
        )
    old = _checkpoint_of_size(session, old_size)
    proof = consistency(session, old.tree_size, new.tree_size)
    return {
        "format": verifier.CONSISTENCY_FORMAT,
        "old": checkpoint_of(old),
        "new": checkpoint_of(new),
        "proof": [h.hex() for h in proof],
        "key_history": history,
    }


def check_nodes(session: Session, leaves: list[bytes], limit: int = 5) -> list[str]:
    """The stored nodes against the ledger's leaves: a wrong or missing node would make the
    installation's consistency proofs fail (the verifiers would reject them, not accept)."""
    expected: dict[tuple[int, int], bytes] = {}
    level_nodes = [
        verifier.merkle_root(leaves[i : i + BLOCK])
        for i in range(0, len(leaves) - len(leaves) % BLOCK, BLOCK)
    ]
    level = NODE_MIN_LEVEL
    while level_nodes:
        expected.update(((level, i), h) for i, h in enumerate(level_nodes))
        level_nodes = [
            verifier.node_hash(level_nodes[i], level_nodes[i + 1])
            for i in range(0, len(level_nodes) - 1, 2)
        ]
        level += 1
    problems: list[str] = []
    stored = session.execute(select(MerkleNode.level, MerkleNode.idx, MerkleNode.hash))
    seen = set()
    for lvl, idx, h in stored:
        seen.add((lvl, idx))
        want = expected.get((lvl, idx))
        if want is None or want.hex() != h:
            problems.append(
                f"stored Merkle node (level {lvl}, index {idx}) does not match the ledger"
                " (consistency proofs from it would fail)"
            )
    problems += [
        f"stored Merkle node (level {lvl}, index {idx}) is missing"
        for lvl, idx in sorted(expected.keys() - seen)
    ]
    return problems[:limit] + (
        [f"… and {len(problems) - limit} more stored Merkle nodes"] if len(problems) > limit else []
    )
