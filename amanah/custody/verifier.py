#!/usr/bin/env python3
"""Verify an Amanah custody ledger export or an inclusion proof, without Amanah.

This one file needs only the Python standard library and `cryptography`, so a court's expert
or a recipient can check the record of custody on their own machine. Amanah itself uses the
same functions, so there is one definition of what a valid ledger is.

    python3 verify_ledger.py EXPORT_DIR             # whole ledger export
    python3 verify_ledger.py --proof PROOF.json     # one item's inclusion proof

Exit status: 0 when everything holds, 1 when any check fails (each problem is printed),
2 when the input cannot be read. The format is described in docs/custody-ledger.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FORMAT = "amanah-custody-ledger/1"
GENESIS = "0" * 64
ENTRY_FIELDS = (
    "seq",
    "event_id",
    "type",
    "time",
    "actor",
    "agent",
    "object_type",
    "object_id",
    "outcome",
    "details",
    "prev",
)


# --- hashing -------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_bytes(entry: dict[str, Any]) -> bytes:
    return canonical_json({k: entry[k] for k in ENTRY_FIELDS})


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(entry_bytes(entry)).hexdigest()


def leaf_hash(entry: dict[str, Any]) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry_bytes(entry)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962's k)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def frontier_push(frontier: list[tuple[int, bytes]], leaf: bytes) -> None:
    """Add a leaf to a list of complete subtrees (sizes strictly decreasing)."""
    size, h = 1, leaf
    while frontier and frontier[-1][0] == size:
        left_size, left = frontier.pop()
        size, h = left_size + size, node_hash(left, h)
    frontier.append((size, h))


def frontier_root(frontier: Sequence[tuple[int, bytes]]) -> bytes:
    """Merge complete subtrees right to left: equal to RFC 6962's left-heavy split."""
    if not frontier:
        return hashlib.sha256(b"").digest()
    h = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        h = node_hash(left, h)
    return h


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash over already-hashed leaves, in linear time."""
    frontier: list[tuple[int, bytes]] = []
    for leaf in leaves:
        frontier_push(frontier, leaf)
    return frontier_root(frontier)


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]): the audit path proving leaf `index` is in the tree."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is outside a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(merkle_root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(merkle_root(leaves[lo : lo + k]))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Iterable[bytes]) -> bytes:
    """Recompute the root from a leaf and its audit path (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("audit path is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("audit path is shorter than the tree needs")
    return r


# --- signatures ----------------------------------------------------------------------------


def checkpoint_statement(checkpoint: dict[str, Any]) -> bytes:
    """The exact bytes the installation key signs for one checkpoint."""
    return (
        "amanah-ledger-checkpoint/1\n"
        f"size={int(checkpoint['tree_size'])}\n"
        f"root={checkpoint['root']}\n"
        f"time={checkpoint['time']}\n"
        f"key={checkpoint['key_id']}\n"
    ).encode()


def key_id(public_key_pem: bytes) -> str:
    """First 16 hex digits of SHA-256 over the raw Ed25519 public key."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_key_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signature_valid(public_key_pem: bytes, checkpoint: dict[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(base64.b64decode(checkpoint["signature"]), checkpoint_statement(checkpoint))
    except (InvalidSignature, ValueError):
        return False
    return True


# --- whole-ledger checks -------------------------------------------------------------------


def check_chain(entries: Iterable[dict[str, Any]]) -> tuple[list[str], list[bytes]]:
    """Check sequence, hash links and entry hashes; return problems and the leaf hashes."""
    problems: list[str] = []
    leaves: list[bytes] = []
    prev = GENESIS
    expected_seq = 1
    for entry in entries:
        seq = entry.get("seq")
        missing = [k for k in (*ENTRY_FIELDS, "hash") if k not in entry]
        if missing:
            problems.append(f"ledger entry {seq}: fields missing: {', '.join(missing)}")
            continue
        if seq != expected_seq:
            problems.append(
                f"ledger entry {seq}: expected sequence number {expected_seq}"
                " (an entry was deleted or inserted)"
            )
            expected_seq = seq
        if entry["prev"] != prev:
            problems.append(
                f"ledger entry {seq}: link to previous entry is broken"
                " (the entry before it was edited or deleted)"
            )
        actual = entry_hash(entry)
        if actual != entry["hash"]:
            problems.append(f"ledger entry {seq}: content does not match its hash (edited)")
        prev = entry["hash"]
        expected_seq += 1
        leaves.append(leaf_hash(entry))
    return problems, leaves


def check_checkpoints(
    checkpoints: Iterable[dict[str, Any]], leaves: Sequence[bytes], public_key_pem: bytes
) -> list[str]:
    """Each checkpoint's signature, and its root against the ledger, in one pass over leaves."""
    problems: list[str] = []
    kid = key_id(public_key_pem)
    ordered = sorted(checkpoints, key=lambda cp: int(cp["tree_size"]))
    frontier: list[tuple[int, bytes]] = []
    pushed = 0
    for count, cp in enumerate(ordered, 1):
        size = int(cp["tree_size"])
        label = f"checkpoint {cp.get('id', count)} (size {size})"
        if cp.get("key_id") != kid:
            problems.append(f"{label}: signed by key {cp.get('key_id')}, not by {kid}")
        elif not signature_valid(public_key_pem, cp):
            problems.append(f"{label}: signature is not valid")
        if size > len(leaves):
            problems.append(
                f"{label}: covers {size} entries but the ledger has {len(leaves)}"
                " (entries were deleted)"
            )
            continue
        while pushed < size:
            frontier_push(frontier, leaves[pushed])
            pushed += 1
        if frontier_root(frontier).hex() != cp["root"]:
            problems.append(f"{label}: Merkle root does not match the ledger (history rewritten)")
    if not ordered and leaves:
        problems.append("no signed checkpoint covers the ledger")
    elif ordered and int(ordered[-1]["tree_size"]) < len(leaves):
        problems.append(
            f"entries {int(ordered[-1]['tree_size']) + 1} to {len(leaves)} are not covered by a"
            " signed checkpoint"
        )
    return problems


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open("rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON: {exc.msg}") from exc
    return rows


def verify_export(directory: Path) -> list[str]:
    """Every problem found in an export folder; an empty list means it verifies."""
    ledger = read_jsonl(directory / "ledger.jsonl")
    checkpoints = read_jsonl(directory / "checkpoints.jsonl")
    public_key = (directory / "public_key.pem").read_bytes()
    problems, leaves = check_chain(ledger)
    problems += check_checkpoints(checkpoints, leaves, public_key)
    return problems


def verify_proof(proof: dict[str, Any], public_key_pem: bytes | None = None) -> list[str]:
    """Check each event of an inclusion proof against the proof's signed checkpoint."""
    problems: list[str] = []
    cp = proof["checkpoint"]
    pem = public_key_pem or proof["public_key"].encode()
    if cp.get("key_id") != key_id(pem):
        problems.append(f"checkpoint is signed by key {cp.get('key_id')}, not by {key_id(pem)}")
    elif not signature_valid(pem, cp):
        problems.append("checkpoint signature is not valid")
    root = bytes.fromhex(cp["root"])
    for ev in proof["events"]:
        entry = ev["entry"]
        label = f"event {entry.get('seq')} ({entry.get('type')})"
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"{label}: content does not match its hash")
        try:
            got = root_from_inclusion(
                leaf_hash(entry),
                int(ev["leaf_index"]),
                int(cp["tree_size"]),
                [bytes.fromhex(h) for h in ev["audit_path"]],
            )
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
            continue
        if got != root:
            problems.append(f"{label}: not included in the signed checkpoint")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", nargs="?", type=Path, help="folder written by custody export")
    parser.add_argument("--proof", type=Path, help="inclusion proof JSON (custody proof)")
    parser.add_argument("--public-key", type=Path, help="PEM public key to trust for --proof")
    args = parser.parse_args(argv)
    if not args.export and not args.proof:
        parser.error("give an export folder or --proof FILE")
    try:
        if args.proof:
            proof = json.loads(args.proof.read_text(encoding="utf-8"))
            pem = args.public_key.read_bytes() if args.public_key else None
            problems = verify_proof(proof, pem)
            what = f"proof {args.proof}"
        else:
            problems = verify_export(args.export)
            what = f"ledger export {args.export}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        print(f"{what}: {len(problems)} problem(s)")
        return 1
    print(f"{what}: verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
