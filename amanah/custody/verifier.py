#!/usr/bin/env python3
"""Verify an Amanah custody ledger export, an inclusion proof or a consistency proof.

This one file needs only the Python standard library and `cryptography`, so a court's expert
or a recipient can check the record of custody on their own machine. Amanah itself uses the
same functions, so there is one definition of what a valid ledger is.

    python3 verify_ledger.py EXPORT_DIR --public-key KEY.pem     # whole ledger export
    python3 verify_ledger.py --proof PROOF.json --key-id ID       # one item's inclusion proof
    python3 verify_ledger.py --consistency C.json --public-key KEY.pem   # ledger only grew
    python3 verify_ledger.py EXPORT_DIR --public-key KEY.pem --witness KEPT.json

The key you pin (--public-key FILE or --key-id ID, obtained from the installation by another
channel) is the first key of the ledger's key history; later keys are trusted only through a
hand-over signed by the key before them. Without a pinned key the key shipped with the input
is used, which proves integrity but not origin.

Exit status: 0 everything holds against the pinned key; 1 a check failed (each problem is
printed); 2 the input cannot be read; 3 integrity checked, origin not established (no key
pinned). The format is described in docs/custody-ledger.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

FORMAT = "amanah-custody-ledger/1"
CONSISTENCY_FORMAT = "amanah-consistency-proof/1"
KEY_HISTORY_FORMAT = "amanah-key-history/1"
KEY_ROTATION = "key rotation"
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


def _subproof(
    m: int, lo: int, hi: int, whole: bool, root: Callable[[int, int], bytes]
) -> list[bytes]:
    """RFC 6962 SUBPROOF(m, D[lo:hi], b), with subtree roots asked of `root`."""
    n = hi - lo
    if m == n:
        return [] if whole else [root(lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, lo, lo + k, whole, root), root(lo + k, hi)]
    return [*_subproof(m - k, lo + k, hi, False, root), root(lo, lo + k)]


def consistency_proof(m: int, n: int, root: Callable[[int, int], bytes]) -> list[bytes]:
    """RFC 6962 PROOF(m, D[n]): the subtree roots showing the first m leaves are unchanged.

    `root(lo, hi)` gives MTH(D[lo:hi]); Amanah answers it from stored interior nodes.
    """
    if not 0 <= m <= n:
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    if m in (0, n):
        return []
    return _subproof(m, 0, n, True, root)


def consistency_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) from the leaves themselves (the reference; slow for large trees)."""
    return consistency_proof(m, len(leaves), lambda lo, hi: merkle_root(leaves[lo:hi]))


def check_consistency(
    m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2: raise ValueError unless the tree of size n extends size m."""
    if not 0 <= m <= n:
        raise ValueError(f"the old size {m} is larger than the new size {n}")
    if m == n:
        if proof:
            raise ValueError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ValueError("the two roots of the same size differ")
        return
    if m == 0:
        if proof:
            raise ValueError("a proof from the empty tree must be empty")
        return
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ValueError("the proof is empty")
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ValueError("the proof is longer than the sizes allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not (fn & 1 or fn == 0):
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the proof is shorter than the sizes need")
    if fr != old_root:
        raise ValueError("the proof does not lead to the old root")
    if sr != new_root:
        raise ValueError("the proof does not lead to the new root")


# --- signatures and keys -------------------------------------------------------------------


def checkpoint_statement(checkpoint: dict[str, Any]) -> bytes:
    """The exact bytes the installation key signs for one checkpoint."""
    return (
        "amanah-ledger-checkpoint/1\n"
        f"size={int(checkpoint['tree_size'])}\n"
        f"root={checkpoint['root']}\n"
        f"time={checkpoint['time']}\n"
        f"key={checkpoint['key_id']}\n"
    ).encode()


def _raw_public(public_key_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_key_pem)
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key_pem: bytes) -> str:
    """First 16 hex digits of SHA-256 over the raw Ed25519 public key."""
    return hashlib.sha256(_raw_public(public_key_pem)).hexdigest()[:16]


def handover_statement(size: int, old_key_id: str, new_public_pem: bytes) -> bytes:
    """The exact bytes an outgoing key signs to hand the ledger over to its successor from
    tree size `size` (the sequence number of the hand-over event) on."""
    raw = base64.b64encode(_raw_public(new_public_pem)).decode()
    return (
        "amanah-key-handover/1\n"
        f"size={int(size)}\n"
        f"old={old_key_id}\n"
        f"new={key_id(new_public_pem)}\n"
        f"public={raw}\n"
    ).encode()


def _signature_ok(public_key_pem: bytes, signature: str, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except ValueError:
        return False
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def signature_valid(public_key_pem: bytes, checkpoint: dict[str, Any]) -> bool:
    return _signature_ok(
        public_key_pem, str(checkpoint.get("signature", "")), checkpoint_statement(checkpoint)
    )


class KeyRing:
    """The keys a ledger may be signed with, each for a range of tree sizes.

    Key i signs checkpoints of sizes from_size(i) to from_size(i+1) inclusive: at a hand-over
    both the outgoing and the incoming key sign the same size.
    """

    def __init__(self, keys: list[tuple[str, bytes, int]]) -> None:
        self.keys = keys  # (key id, public key PEM, first tree size), oldest first

    @classmethod
    def single(cls, public_key_pem: bytes) -> KeyRing:
        return cls([(key_id(public_key_pem), public_key_pem, 0)])

    @property
    def root_id(self) -> str:
        return self.keys[0][0]

    def span(self, index: int) -> tuple[int, int | None]:
        upto = self.keys[index + 1][2] if index + 1 < len(self.keys) else None
        return self.keys[index][2], upto

    def problem(self, cp: dict[str, Any]) -> str | None:
        """Why this checkpoint is not validly signed by the ring, or None."""
        kid, size = cp.get("key_id"), int(cp["tree_size"])
        for index, (known, pem, _) in enumerate(self.keys):
            if kid != known:
                continue
            lo, hi = self.span(index)
            if size < lo or (hi is not None and size > hi):
                upto = "on" if hi is None else f"to {hi}"
                return f"signed by key {kid}, which signs only sizes {lo} {upto}"
            return None if signature_valid(pem, cp) else "signature is not valid"
        trusted = ", ".join(k for k, _, _ in self.keys) or "a trusted key"
        return f"signed by key {kid}, not by {trusted}"

    def history(self, signatures: Sequence[str]) -> dict[str, Any]:
        return key_history_document(self.keys, signatures)


def key_history_document(
    keys: Sequence[tuple[str, bytes, int]], signatures: Sequence[str]
) -> dict[str, Any]:
    """The key history as shipped in exports and proofs (`signatures[i-1]` hands over to i)."""
    rows: list[dict[str, Any]] = []
    for index, (kid, pem, size) in enumerate(keys):
        row: dict[str, Any] = {"key_id": kid, "public_key": pem.decode(), "from_size": size}
        if index:
            row["handover_signature"] = signatures[index - 1]
        rows.append(row)
    return {"format": KEY_HISTORY_FORMAT, "keys": rows}


def read_key_history(document: dict[str, Any]) -> tuple[KeyRing, list[str]]:
    """Check each hand-over in a key history; trust keys only up to the first broken link."""
    problems: list[str] = []
    rows = document.get("keys") or []
    if not rows:
        raise ValueError("the key history lists no key")
    first = rows[0]["public_key"].encode()
    if key_id(first) != rows[0].get("key_id"):
        problems.append(f"key history: key {rows[0].get('key_id')} does not match its public key")
    keys: list[tuple[str, bytes, int]] = [(key_id(first), first, 0)]
    for row in rows[1:]:
        old_id, old_pem, old_size = keys[-1]
        pem = row["public_key"].encode()
        size = int(row["from_size"])
        statement = handover_statement(size, old_id, pem)
        if key_id(pem) != row.get("key_id"):
            problems.append(f"key history: key {row.get('key_id')} does not match its public key")
            break
        if size < old_size or not _signature_ok(
            old_pem, row.get("handover_signature", ""), statement
        ):
            problems.append(
                f"key history: the hand-over to key {row['key_id']} at size {size}"
                f" is not signed by key {old_id}"
            )
            break
        keys.append((row["key_id"], pem, size))
    return KeyRing(keys), problems


def pin(
    ring: KeyRing, pinned_pem: bytes | None, pinned_id: str | None
) -> tuple[KeyRing, list[str]]:
    """Hold a ring to the key the user pinned: its first key should be that key. A later key
    of the (checked) history may be pinned too: trust then starts at that key, and what
    earlier keys signed is not trusted."""
    if pinned_pem is None and pinned_id is None:
        return ring, []
    wanted = key_id(pinned_pem) if pinned_pem is not None else pinned_id
    for index, (kid, _, _) in enumerate(ring.keys):
        if kid == wanted:
            return KeyRing(ring.keys[index:]), []
    problem = f"the ledger's first key is {ring.root_id}, not the pinned key {wanted}"
    if pinned_pem is not None:
        return KeyRing.single(pinned_pem), [problem]
    return KeyRing([]), [problem]


# --- whole-ledger checks -------------------------------------------------------------------


def check_chain(
    entries: Iterable[dict[str, Any]], rotations: list[dict[str, Any]] | None = None
) -> tuple[list[str], list[bytes]]:
    """Check sequence, hash links and entry hashes; return problems and the leaf hashes.

    Key-rotation entries are collected in `rotations` when a list is given."""
    problems: list[str] = []
    leaves: list[bytes] = []
    prev = GENESIS
    expected_seq = 1
    latest = ""
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
        if rotations is not None and entry["type"] == KEY_ROTATION:
            rotations.append(entry)
        behind = _seconds_before(entry["time"], latest)
        if behind is not None and behind > CLOCK_SLACK:
            problems.append(
                f"ledger entry {seq}: stamped {entry['time']}, {behind:,.0f} s before an"
                f" earlier entry ({latest}): the clock ran backwards, its time is not true"
            )
        elif isinstance(entry["time"], str) and entry["time"] > latest:
            latest = entry["time"]
        prev = entry["hash"]
        expected_seq += 1
        leaves.append(leaf_hash(entry))
    return problems, leaves


#: Seconds an entry may be stamped before an earlier one (machines' clocks differ a little);
#: Amanah refuses to record past it, so more means a clock set back or a ledger not Amanah's.
CLOCK_SLACK = 300


def _seconds_before(time: Any, latest: str) -> float | None:
    if not isinstance(time, str) or not latest or time >= latest:
        return None
    try:
        return (
            datetime.fromisoformat(latest.replace("Z", "+00:00"))
            - datetime.fromisoformat(time.replace("Z", "+00:00"))
        ).total_seconds()
    except ValueError:
        return None


def _ring_of(keys: bytes | KeyRing) -> KeyRing:
    return keys if isinstance(keys, KeyRing) else KeyRing.single(keys)


def roots_at(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The Merkle root of the first s leaves for each size s (one pass)."""
    wanted = sorted({s for s in sizes if 0 <= s <= len(leaves)})
    found: dict[int, bytes] = {}
    frontier: list[tuple[int, bytes]] = []
    pushed = 0
    for size in wanted:
        while pushed < size:
            frontier_push(frontier, leaves[pushed])
            pushed += 1
        found[size] = frontier_root(frontier)
    return found


def check_checkpoints(
    checkpoints: Iterable[dict[str, Any]], leaves: Sequence[bytes], keys: bytes | KeyRing
) -> list[str]:
    """Each checkpoint's signature, and its root against the ledger, in one pass over leaves."""
    problems: list[str] = []
    ring = _ring_of(keys)
    ordered = sorted(checkpoints, key=lambda cp: int(cp["tree_size"]))
    roots = roots_at(leaves, (int(cp["tree_size"]) for cp in ordered))
    for count, cp in enumerate(ordered, 1):
        size = int(cp["tree_size"])
        label = f"checkpoint {cp.get('id', count)} (size {size})"
        wrong = ring.problem(cp)
        if wrong:
            problems.append(f"{label}: {wrong}")
        if size > len(leaves):
            problems.append(
                f"{label}: covers {size} entries but the ledger has {len(leaves)}"
                " (entries were deleted)"
            )
            continue
        if roots[size].hex() != cp["root"]:
            problems.append(f"{label}: Merkle root does not match the ledger (history rewritten)")
    if not ordered and leaves:
        problems.append("no signed checkpoint covers the ledger")
    elif ordered and int(ordered[-1]["tree_size"]) < len(leaves):
        problems.append(
            f"entries {int(ordered[-1]['tree_size']) + 1} to {len(leaves)} are not covered by a"
            " signed checkpoint"
        )
    return problems


def check_witness(
    label: str, cp: dict[str, Any], size: int, root_at: Callable[[int], bytes], ring: KeyRing
) -> list[str]:
    """Does a ledger of `size` entries extend a checkpoint someone outside it kept?"""
    try:
        kept = int(cp["tree_size"])
        wrong = ring.problem(cp)
        str(cp["root"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return [f"{label}: not a checkpoint (tree_size, root, time, key_id, signature)"]
    if wrong:
        return [f"{label} (size {kept}): {wrong}"]
    if kept > size:
        return [
            f"{label} (size {kept}): the ledger has only {size} entries, fewer than a signed"
            " checkpoint someone kept (entries were deleted or an older copy was restored)"
        ]
    if root_at(kept).hex() != cp["root"]:
        return [
            f"{label} (size {kept}): the ledger does not extend it (its first {kept} entries"
            " were rewritten)"
        ]
    return []


def check_key_rotations(rotations: Sequence[dict[str, Any]], ring: KeyRing) -> list[str]:
    """Every key-rotation entry in the ledger is a hand-over in the key history, and back."""
    problems: list[str] = []
    handovers = {size: kid for kid, _, size in ring.keys[1:]}
    seen = set()
    for entry in rotations:
        new = entry["details"].get("new_key_id")
        if handovers.get(entry["seq"]) != new:
            problems.append(
                f"ledger entry {entry['seq']}: hands over to key {new}, which the key history"
                " does not list from that size"
            )
        seen.add(entry["seq"])
    for size, kid in handovers.items():
        if size not in seen:
            problems.append(
                f"key history: the hand-over to key {kid} at size {size} is not in the ledger"
            )
    return problems


class StrictJSONError(ValueError):
    """JSON that parses, but not to one meaning: a key given twice, a number no count can
    hold (NaN, Infinity, 1e999), or nesting deeper than any record of Amanah's."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:  # other readers take the first value: no two readings of one record
            raise StrictJSONError(f"the key {key!r} is given twice")
        found[key] = value
    return found


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise StrictJSONError(f"the number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> float:
    raise StrictJSONError(f"{name} is not a number JSON allows")


def loads(data: str | bytes) -> Any:
    """JSON with one meaning only (see StrictJSONError); ValueError when it has none."""
    try:
        return json.loads(
            data,
            object_pairs_hook=_unique_keys,
            parse_float=_finite,
            parse_constant=_no_constant,
        )
    except RecursionError as exc:
        raise StrictJSONError("nested too deeply") from exc


def read_jsonl(path: Path, torn_tail_ok: bool = False) -> list[dict[str, Any]]:
    """JSON Lines; with `torn_tail_ok`, lines that are not JSON (a write cut short by a crash)
    are skipped, since an append-only log loses at most what was being written; a line that
    is JSON of no single meaning is kept as a row naming why, for the reader to refuse."""
    rows = []
    with path.open("rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = loads(line)
                if not isinstance(row, dict):
                    raise StrictJSONError("not a JSON object")
                rows.append(row)
            except StrictJSONError as exc:
                if torn_tail_ok:
                    rows.append({"unreadable": str(exc)})
                    continue
                raise ValueError(f"{path}:{lineno}: not valid JSON: {exc}") from exc
            except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
                if torn_tail_ok:
                    continue
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
                raise ValueError(f"{path}:{lineno}: not valid JSON: {reason}") from exc
    return rows


def read_json(path: Path) -> Any:
    try:
        return loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: not UTF-8") from exc
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc


def export_ring(
    directory: Path, pinned_pem: bytes | None = None, pinned_id: str | None = None
) -> tuple[KeyRing, list[str]]:
    """The export's key history (or its one key), held to the pinned key."""
    history_file = directory / "key_history.json"
    key_file = directory / "public_key.pem"
    problems: list[str] = []
    if history_file.exists():
        ring, problems = read_key_history(read_json(history_file))
        if key_file.exists() and key_id(key_file.read_bytes()) != ring.root_id:
            problems.append("public_key.pem is not the first key of key_history.json")
    elif key_file.exists():
        ring = KeyRing.single(key_file.read_bytes())
    elif pinned_pem is not None:
        ring = KeyRing.single(pinned_pem)
    else:
        raise ValueError(f"{key_file}: missing; give the installation's key with --public-key")
    ring, pin_problems = pin(ring, pinned_pem, pinned_id)
    return ring, pin_problems + problems


def verify_export(
    directory: Path,
    pinned_pem: bytes | None = None,
    pinned_id: str | None = None,
    witnesses: Sequence[tuple[str, dict[str, Any]]] = (),
) -> list[str]:
    """Every problem found in an export folder; an empty list means it verifies."""
    ledger = read_jsonl(directory / "ledger.jsonl")
    checkpoints = read_jsonl(directory / "checkpoints.jsonl")
    ring, problems = export_ring(directory, pinned_pem, pinned_id)
    rotations: list[dict[str, Any]] = []
    chain_problems, leaves = check_chain(ledger, rotations)
    problems += chain_problems
    problems += check_checkpoints(checkpoints, leaves, ring)
    problems += check_key_rotations(rotations, ring)
    kept: list[tuple[str, dict[str, Any]]] = list(witnesses)
    latest = directory / "latest_checkpoint.json"
    if latest.exists():
        kept.append(("latest_checkpoint.json", read_json(latest)))
    log = directory / "checkpoint_log.jsonl"
    if log.exists():
        # A log line equal to a checkpoint of checkpoints.jsonl was checked with it.
        known = {canonical_json({k: v for k, v in cp.items() if k != "id"}) for cp in checkpoints}
        for n, cp in enumerate(read_jsonl(log, torn_tail_ok=True), 1):
            same = isinstance(cp, dict) and (
                canonical_json({k: v for k, v in cp.items() if k != "id"}) in known
            )
            if not same:
                kept.append((f"checkpoint log entry {n}", cp))
    sizes = []
    for _, cp in kept:
        with contextlib.suppress(KeyError, TypeError, ValueError):  # check_witness names it
            sizes.append(int(cp["tree_size"]))
    roots = roots_at(leaves, sizes)
    for label, cp in kept:
        problems += check_witness(label, cp, len(leaves), roots.__getitem__, ring)
    return problems


def proof_ring(
    proof: dict[str, Any], pinned_pem: bytes | None, pinned_id: str | None
) -> tuple[KeyRing, list[str]]:
    """The key history a proof carries (or its one public key), held to the pinned key."""
    if "key_history" in proof:
        ring, problems = read_key_history(proof["key_history"])
    elif "public_key" in proof:
        ring, problems = KeyRing.single(proof["public_key"].encode()), []
    elif pinned_pem is not None:
        ring, problems = KeyRing.single(pinned_pem), []
    else:
        raise ValueError("the proof carries no public key; give --public-key")
    ring, pin_problems = pin(ring, pinned_pem, pinned_id)
    return ring, pin_problems + problems


def verify_proof(
    proof: dict[str, Any], public_key_pem: bytes | None = None, pinned_id: str | None = None
) -> list[str]:
    """Check each event of an inclusion proof against the proof's signed checkpoint."""
    cp = proof["checkpoint"]
    ring, problems = proof_ring(proof, public_key_pem, pinned_id)
    wrong = ring.problem(cp)
    if wrong == "signature is not valid":
        problems.append("checkpoint signature is not valid")
    elif wrong:
        problems.append(f"checkpoint is {wrong}")
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


def verify_consistency(
    proof: dict[str, Any], public_key_pem: bytes | None = None, pinned_id: str | None = None
) -> list[str]:
    """Both checkpoints signed, and the newer tree extends the older one (RFC 9162)."""
    if proof.get("format") != CONSISTENCY_FORMAT:
        raise ValueError(f"not a consistency proof (format {proof.get('format')!r})")
    ring, problems = proof_ring(proof, public_key_pem, pinned_id)
    old, new = proof["old"], proof["new"]
    for name, cp in (("old", old), ("new", new)):
        wrong = ring.problem(cp)
        if wrong:
            problems.append(f"{name} checkpoint (size {int(cp['tree_size'])}): {wrong}")
    m, n = int(old["tree_size"]), int(new["tree_size"])
    try:
        check_consistency(
            m,
            n,
            bytes.fromhex(old["root"]),
            bytes.fromhex(new["root"]),
            [bytes.fromhex(h) for h in proof["proof"]],
        )
    except ValueError as exc:
        problems.append(f"the ledger of size {n} does not extend the checkpoint of size {m}: {exc}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("export", nargs="?", type=Path, help="folder written by custody export")
    parser.add_argument("--proof", type=Path, help="inclusion proof JSON (custody proof)")
    parser.add_argument(
        "--consistency", type=Path, help="consistency proof JSON (custody consistency --json)"
    )
    parser.add_argument(
        "--public-key", type=Path, help="the installation's (first) public key PEM to trust"
    )
    parser.add_argument("--key-id", help="the installation's (first) key id to trust")
    parser.add_argument(
        "--witness",
        type=Path,
        action="append",
        default=[],
        help="a checkpoint you kept earlier (custody checkpoint --json): the export must extend it",
    )
    args = parser.parse_args(argv)
    modes = [x for x in (args.export, args.proof, args.consistency) if x]
    if len(modes) != 1:
        parser.error("give one of: an export folder, --proof FILE, --consistency FILE")
    if args.witness and not args.export:
        parser.error("--witness goes with an export folder")
    try:
        pem = args.public_key.read_bytes() if args.public_key else None
        if pem is not None:
            key_id(pem)
        if args.proof:
            problems = verify_proof(read_json(args.proof), pem, args.key_id)
            what = f"proof {args.proof}"
        elif args.consistency:
            problems = verify_consistency(read_json(args.consistency), pem, args.key_id)
            what = f"consistency proof {args.consistency}"
        else:
            kept = [(f"witnessed checkpoint {w}", read_json(w)) for w in args.witness]
            problems = verify_export(args.export, pem, args.key_id, kept)
            what = f"ledger export {args.export}"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        print(f"{what}: {len(problems)} problem(s)")
        return 1
    if pem is None and args.key_id is None:
        print(
            "WARNING no --public-key or --key-id was given: the key shipped with the input was"
            " trusted, so nothing shows who signed it"
        )
        print(f"{what}: integrity checked, origin not established")
        return 3
    pinned = key_id(pem) if pem is not None else args.key_id
    print(f"{what}: verified against the pinned key {pinned}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
