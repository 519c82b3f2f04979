"""Consistency proofs at ledger scale: `python -m benchmarks.consistency --leaves 10000000`.

Builds a ledger's stored Merkle tree (merkle_nodes, 16-leaf subtrees upward) over N synthetic
custody events in a real SQLite database, inserts as real rows the events of the 256-entry
blocks the chosen proofs must re-hash, and times `custody.tree.consistency` from a fresh
session for random and edge-case size pairs. Every proof is checked with the standalone
verifier's RFC 9162 algorithm against roots computed from the same store.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from amanah.custody import tree, verifier
from amanah.custody.ledger import NODE_MIN_LEVEL
from amanah.db import Database
from amanah.db.models import CustodyEvent, MerkleNode
from benchmarks.common import OUT, machine

BLOCK = 1 << NODE_MIN_LEVEL


def entry(seq: int) -> dict[str, Any]:
    """A synthetic custody event: the size and shape of a fixity check."""
    return {
        "seq": seq,
        "event_id": f"00000000-0000-4000-8000-{seq:012d}",
        "type": "fixity check",
        "time": "2026-12-01T00:00:00.000000Z",
        "actor": "local:bench",
        "agent": "amanah 0.1",
        "object_type": "blob",
        "object_id": f"{seq:064x}",
        "outcome": "success",
        "details": {"algorithm": "sha256", "size": seq * 7},
        "prev": f"{seq - 1:064x}",
    }


_TEMPLATE = (
    '{{"actor":"local:bench","agent":"amanah 0.1","details":{{"algorithm":"sha256","size":{size}}},'
    '"event_id":"00000000-0000-4000-8000-{seq:012d}","object_id":"{obj}","object_type":"blob",'
    '"outcome":"success","prev":"{prev}","seq":{seq},"time":"2026-12-01T00:00:00.000000Z",'
    '"type":"fixity check"}}'
)


def fast_leaf(seq: int) -> bytes:
    """leaf_hash(entry(seq)) without building the dict (checked against it in main)."""
    data = _TEMPLATE.format(
        seq=seq,
        size=seq * 7,
        obj=f"{seq:064x}",
        prev=f"{seq - 1:064x}",
    ).encode()
    return hashlib.sha256(b"\x00" + data).digest()


def build_nodes(db: Database, leaves: int) -> float:
    """Every stored node over `leaves` synthetic events; returns seconds taken."""
    start = time.perf_counter()
    level_nodes: list[bytes] = []
    rows: list[dict[str, Any]] = []
    with db.session() as s:
        for b in range(leaves // BLOCK):
            hashes = [fast_leaf(i + 1) for i in range(b * BLOCK, (b + 1) * BLOCK)]
            root = verifier.merkle_root(hashes)
            level_nodes.append(root)
            rows.append({"level": NODE_MIN_LEVEL, "idx": b, "hash": root.hex()})
            if len(rows) >= 20000:
                s.execute(insert(MerkleNode), rows)
                rows = []
        level = NODE_MIN_LEVEL
        while len(level_nodes) > 1:
            level += 1
            level_nodes = [
                verifier.node_hash(level_nodes[i], level_nodes[i + 1])
                for i in range(0, len(level_nodes) - 1, 2)
            ]
            rows += [{"level": level, "idx": i, "hash": h.hex()} for i, h in enumerate(level_nodes)]
        s.execute(insert(MerkleNode), rows)
    return time.perf_counter() - start


def insert_blocks(db: Database, blocks: set[int], leaves: int) -> None:
    rows = []
    for b in sorted(blocks):
        for seq in range(b * BLOCK + 1, min((b + 1) * BLOCK, leaves) + 1):
            e = entry(seq)
            rows.append(
                {
                    "seq": seq,
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
                    "entry_hash": verifier.entry_hash(e),
                }
            )
    with db.session() as s:
        s.execute(insert(CustodyEvent), rows)


def pairs(leaves: int, count: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    chosen = [(1, leaves), (leaves - 1, leaves), (leaves // 2 + 3, leaves), (BLOCK + 1, leaves)]
    while len(chosen) < count:
        n = rng.randint(2, leaves)
        chosen.append((rng.randint(1, n - 1), n))
    return chosen


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    for seq in (1, 17, 123_457):
        assert fast_leaf(seq) == verifier.leaf_hash(entry(seq))
    leaves = args.leaves - args.leaves % BLOCK  # whole blocks are stored; the tail is ragged
    tail = args.leaves - leaves
    with tempfile.TemporaryDirectory(prefix="amanah-bench-consistency-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        db.upgrade()
        build_seconds = build_nodes(db, leaves)
        size = leaves + tail
        chosen = [(m, n) for m, n in pairs(size, args.proofs, args.seed)]
        blocks: set[int] = set()
        for m, n in chosen:
            st = tree.StoredTree(None, n)  # type: ignore[arg-type]
            nodes: set[tuple[int, int]] = set()
            for lo, hi in [*tree._ranges_of_proof(m, n), (0, m), (0, n)]:
                st._plan(lo, hi, nodes, blocks)
        insert_blocks(db, blocks, size)
        times = []
        cpu = []
        lengths = []
        with db.reader() as s:
            tree.consistency(s, *chosen[-1])  # SQLAlchemy compiles its statements once
        for m, n in chosen:
            with db.reader() as s:
                start, start_cpu = time.perf_counter(), time.process_time()
                proof = tree.consistency(s, m, n)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            with db.reader() as s:
                verifier.check_consistency(m, n, tree.root_at(s, m), tree.root_at(s, n), proof)
            lengths.append(len(proof))
        db.dispose()
        db_size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    result = {
        "machine": machine(),
        "leaves": size,
        "proofs": len(chosen),
        "build_nodes_seconds": round(build_seconds, 1),
        "proof_ms_median": round(statistics.median(times), 2),
        "proof_ms_p95": round(sorted(times)[int(len(times) * 0.95) - 1], 2),
        "proof_ms_max": round(max(times), 2),
        "proof_cpu_ms_median": round(statistics.median(cpu), 2),
        "proof_cpu_ms_max": round(max(cpu), 2),
        "database_mib": round(db_size / 2**20, 1),
        "proof_nodes_max": max(lengths),
        "blocks_rehashed": len(blocks),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "consistency.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
