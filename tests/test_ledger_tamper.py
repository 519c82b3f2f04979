"""Tamper matrix for the standalone ledger verifier (tools/verify_ledger.py).

One export is built per module; each tampering is applied to a copy and the verifier must
print the exact FAIL line and exit with the exact status. Negative controls: the untouched
export verifies (0 pinned, 3 unpinned).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from amanah.custody import ledger, tree, verifier
from amanah.custody.export import export_ledger
from amanah.custody.keys import key_history
from amanah.custody.rotation import rotate_key
from amanah.workspace import open_workspace
from tests.conftest import REPO
from tests.test_witness import append_events

TOOL = REPO / "tools" / "verify_ledger.py"
EVENTS = 40


@dataclass
class Built:
    export: Path
    pub: Path
    key_id: str
    kept: Path  # a checkpoint a witness kept: the newest
    consistency: dict[str, Any]
    sign: Callable[[dict[str, Any]], str]  # the installation's key, to forge a split view


def run_tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, check=False
    )


def build(root: Path, rotate: bool) -> Built:
    home = root / "home"
    ws = open_workspace(home)
    try:
        append_events(ws, EVENTS // 2, per_commit=7)
        if rotate:
            rotated = rotate_key(
                ws.db, ws.key, ws.settings.key_path, ws.settings.public_key_path, "test:admin"
            )
            ws.key = rotated["key"]
        append_events(ws, EVENTS // 2, per_commit=7)
        with ws.db.session() as s:
            ledger.checkpoint(s, ws.key)
        export = root / "export"
        export_ledger(ws.db, ws.key, export, home / "checkpoints.log")
        with ws.db.reader() as s:
            history = key_history(s, ws.key)
            doc = tree.consistency_document(s, history, 14)
        pub = root / "pub.pem"
        pub.write_text(history["keys"][0]["public_key"])
        kept = root / "kept.json"
        shutil.copy(export / "latest_checkpoint.json", kept)
        key = ws.key
    finally:
        ws.close()
    return Built(
        export,
        pub,
        verifier.key_id(pub.read_bytes()),
        kept,
        doc,
        lambda cp: key.sign(verifier.checkpoint_statement(cp)),
    )


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("plain"), rotate=False)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("rotated"), rotate=True)


# --- helpers that edit an export as an attacker would ----------------------------------------


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def write_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def rechain(entries: list[dict[str, Any]]) -> None:
    prev = verifier.GENESIS
    for e in entries:
        e["prev"] = prev
        e["hash"] = prev = verifier.entry_hash(e)


def resign(d: Path, entries: list[dict[str, Any]], key: Ed25519PrivateKey) -> str:
    """Recompute every checkpoint over `entries` and sign it with `key`; ship that key."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = verifier.key_id(pem)
    leaves = [verifier.leaf_hash(e) for e in entries]
    cps = lines(d / "checkpoints.jsonl")
    for cp in cps:
        cp["root"] = verifier.merkle_root(leaves[: cp["tree_size"]]).hex()
        cp["key_id"] = kid
        cp["signature"] = base64.b64encode(key.sign(verifier.checkpoint_statement(cp))).decode()
    write_lines(d / "checkpoints.jsonl", cps)
    write_lines(d / "checkpoint_log.jsonl", cps)
    (d / "latest_checkpoint.json").write_text(json.dumps(cps[-1]))
    (d / "public_key.pem").write_bytes(pem)
    (d / "key_history.json").write_text(
        json.dumps(verifier.key_history_document([(kid, pem, 0)], []))
    )
    return kid


def edit_event(d: Path, b: Built) -> None:
    rows = lines(d / "ledger.jsonl")
    rows[2]["actor"] = "local:someone-else"
    write_lines(d / "ledger.jsonl", rows)


def edit_and_rechain(d: Path, b: Built) -> None:
    rows = lines(d / "ledger.jsonl")
    rows[2]["actor"] = "local:someone-else"
    rechain(rows)
    write_lines(d / "ledger.jsonl", rows)


def delete_last_events(d: Path, b: Built) -> None:
    write_lines(d / "ledger.jsonl", lines(d / "ledger.jsonl")[:-2])


def cut_tail_everywhere(d: Path, b: Built) -> None:
    """Delete the tail and every checkpoint over it, but the export still carries the latest
    checkpoint (as the home's log did)."""
    write_lines(d / "ledger.jsonl", lines(d / "ledger.jsonl")[:20])
    for name in ("checkpoints.jsonl", "checkpoint_log.jsonl"):
        write_lines(d / name, [c for c in lines(d / name) if c["tree_size"] <= 20])


def cut_tail_and_witnesses(d: Path, b: Built) -> None:
    cut_tail_everywhere(d, b)
    (d / "latest_checkpoint.json").unlink()


def reorder(d: Path, b: Built) -> None:
    rows = lines(d / "ledger.jsonl")
    rows[1], rows[2] = rows[2], rows[1]
    write_lines(d / "ledger.jsonl", rows)


def checkpoint_root(d: Path, b: Built) -> None:
    cps = lines(d / "checkpoints.jsonl")
    cps[1]["root"] = "00" * 32
    write_lines(d / "checkpoints.jsonl", cps)


def checkpoint_size(d: Path, b: Built) -> None:
    cps = lines(d / "checkpoints.jsonl")
    cps[1]["tree_size"] = cps[1]["tree_size"] - 1
    write_lines(d / "checkpoints.jsonl", cps)


def resign_with_another_key(d: Path, b: Built) -> None:
    rows = lines(d / "ledger.jsonl")
    rows[0]["details"]["note"] = "rewritten"
    rechain(rows)
    write_lines(d / "ledger.jsonl", rows)
    resign(d, rows, Ed25519PrivateKey.generate())


def remove_tail_checkpoint(d: Path, b: Built) -> None:
    cps = [c for c in lines(d / "checkpoints.jsonl") if c["tree_size"] < EVENTS]
    write_lines(d / "checkpoints.jsonl", cps)


def drop_public_key(d: Path, b: Built) -> None:
    (d / "public_key.pem").unlink()
    (d / "key_history.json").unlink()


def corrupt_json(d: Path, b: Built) -> None:
    with (d / "ledger.jsonl").open("a") as f:
        f.write('{"seq": 41, "event_id": \n')


def forge_log_line(d: Path, b: Built) -> None:
    log = lines(d / "checkpoint_log.jsonl")
    log.append(dict(log[-1], tree_size=EVENTS + 5))
    write_lines(d / "checkpoint_log.jsonl", log)


def forge_handover(d: Path, b: Built) -> None:
    history = json.loads((d / "key_history.json").read_text())
    history["keys"][1]["handover_signature"] = base64.b64encode(b"\x01" * 64).decode()
    (d / "key_history.json").write_text(json.dumps(history))


def hide_handover(d: Path, b: Built) -> None:
    history = json.loads((d / "key_history.json").read_text())
    history["keys"] = history["keys"][:1]
    (d / "key_history.json").write_text(json.dumps(history))


def first_checkpoint_over(d: Path, size: int) -> dict[str, Any]:
    return next(c for c in lines(d / "checkpoints.jsonl") if c["tree_size"] >= size)


# (name, tampering, export-fixture, pinned, expected status, expected lines)
EXPORT_CASES: list[tuple[str, Callable[[Path, Built], None], str, bool, int, list[str]]] = [
    (
        "edit an event",
        edit_event,
        "plain",
        True,
        1,
        [
            "FAIL ledger entry 3: content does not match its hash (edited)",
            "FAIL checkpoint 1 (size 7): Merkle root does not match the ledger (history rewritten)",
        ],
    ),
    (
        "edit an event and rebuild the chain",
        edit_and_rechain,
        "plain",
        True,
        1,
        ["FAIL checkpoint 1 (size 7): Merkle root does not match the ledger (history rewritten)"],
    ),
    (
        "delete the last events",
        delete_last_events,
        "plain",
        True,
        1,
        [
            f"FAIL checkpoint {{cp}} (size {EVENTS}): covers {EVENTS} entries but the ledger has"
            f" {EVENTS - 2} (entries were deleted)"
        ],
    ),
    (
        "cut the tail and its checkpoints",
        cut_tail_everywhere,
        "plain",
        True,
        1,
        [
            f"FAIL latest_checkpoint.json (size {EVENTS}): the ledger has only 20 entries,"
            " fewer than a"
            " signed checkpoint someone kept (entries were deleted or an older copy was restored)"
        ],
    ),
    (
        "cut the tail, its checkpoints and the latest",
        cut_tail_and_witnesses,
        "plain",
        True,
        1,
        [
            f"FAIL witnessed checkpoint {{kept}} (size {EVENTS}): the ledger has only 20"
            " entries, fewer"
            " than a signed checkpoint someone kept (entries were deleted or an older copy was"
            " restored)"
        ],
    ),
    (
        "reorder two events",
        reorder,
        "plain",
        True,
        1,
        ["FAIL ledger entry 3: expected sequence number 2 (an entry was deleted or inserted)"],
    ),
    (
        "change a checkpoint's root",
        checkpoint_root,
        "plain",
        True,
        1,
        [
            "FAIL checkpoint 2 (size 14): signature is not valid",
            "FAIL checkpoint 2 (size 14): Merkle root does not match the ledger"
            " (history rewritten)",
        ],
    ),
    (
        "change a checkpoint's size",
        checkpoint_size,
        "plain",
        True,
        1,
        ["FAIL checkpoint 2 (size 13): signature is not valid"],
    ),
    (
        "re-sign with another key",
        resign_with_another_key,
        "plain",
        True,
        1,
        [
            "FAIL the ledger's first key is {attacker}, not the pinned key {key_id}",
            "FAIL checkpoint 1 (size 7): signed by key {attacker}, not by {key_id}",
        ],
    ),
    (
        "re-sign with another key, nothing pinned",
        resign_with_another_key,
        "plain",
        False,
        3,
        ["ledger export {export}: integrity checked, origin not established"],
    ),
    (
        "remove the checkpoint covering the tail",
        remove_tail_checkpoint,
        "plain",
        True,
        1,
        [f"FAIL entries 35 to {EVENTS} are not covered by a signed checkpoint"],
    ),
    (
        "drop the public key, pinned",
        drop_public_key,
        "plain",
        True,
        0,
        ["ledger export {export}: verified against the pinned key {key_id}"],
    ),
    (
        "forge a checkpoint log line",
        forge_log_line,
        "plain",
        True,
        1,
        [f"FAIL checkpoint log entry {{log_n}} (size {EVENTS + 5}): signature is not valid"],
    ),
    (
        "forge the hand-over",
        forge_handover,
        "rotated",
        True,
        1,
        [
            "FAIL key history: the hand-over to key {new_key} at size 21 is not signed by key"
            " {key_id}",
            "FAIL checkpoint {first_new} (size 21): signed by key {new_key}, not by {key_id}",
        ],
    ),
    (
        "hide the hand-over from the key history",
        hide_handover,
        "rotated",
        True,
        1,
        [
            "FAIL ledger entry 21: hands over to key {new_key}, which the key history does not list"
            " from that size"
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "tamper", "which", "pinned", "status", "expected"),
    EXPORT_CASES,
    ids=[c[0] for c in EXPORT_CASES],
)
def test_export_tampering_is_named(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    name: str,
    tamper: Callable[[Path, Built], None],
    which: str,
    pinned: bool,
    status: int,
    expected: list[str],
) -> None:
    b: Built = request.getfixturevalue(which)
    d = tmp_path / "export"
    shutil.copytree(b.export, d)
    history = json.loads((b.export / "key_history.json").read_text())
    tamper(d, b)
    args: list[str | Path] = [d]
    if pinned:
        args += ["--public-key", b.pub]
    if tamper is cut_tail_and_witnesses:
        args += ["--witness", b.kept]
    proc = run_tool(*args)
    values = {
        "export": d,
        "key_id": b.key_id,
        "kept": b.kept,
        "cp": len(lines(b.export / "checkpoints.jsonl")),
        "log_n": len(lines(d / "checkpoint_log.jsonl"))
        if (d / "checkpoint_log.jsonl").exists()
        else 0,
    }
    if (d / "public_key.pem").exists():
        values["attacker"] = verifier.key_id((d / "public_key.pem").read_bytes())
    if len(history["keys"]) > 1:
        values["new_key"] = history["keys"][1]["key_id"]
        values["first_new"] = next(
            c["id"]
            for c in lines(b.export / "checkpoints.jsonl")
            if c["key_id"] == values["new_key"]
        )
    got = proc.stdout.splitlines()
    for line in expected:
        assert line.format(**values) in got, (name, proc.stdout, proc.stderr)
    assert proc.returncode == status, (name, proc.stdout, proc.stderr)


@pytest.mark.parametrize("which", ["plain", "rotated"])
def test_untouched_exports_verify(request: pytest.FixtureRequest, which: str) -> None:
    b: Built = request.getfixturevalue(which)
    pinned = run_tool(b.export, "--public-key", b.pub, "--witness", b.kept)
    assert pinned.returncode == 0, pinned.stdout
    assert pinned.stdout.splitlines() == [
        f"ledger export {b.export}: verified against the pinned key {b.key_id}"
    ]
    by_id = run_tool(b.export, "--key-id", b.key_id)
    assert by_id.returncode == 0, by_id.stdout
    unpinned = run_tool(b.export)
    assert unpinned.returncode == 3
    assert unpinned.stdout.splitlines()[-1] == (
        f"ledger export {b.export}: integrity checked, origin not established"
    )


def test_wrong_key_id_is_refused(plain: Built) -> None:
    proc = run_tool(plain.export, "--key-id", "0123456789abcdef")
    assert proc.returncode == 1
    assert (
        f"FAIL the ledger's first key is {plain.key_id}, not the pinned key 0123456789abcdef"
        in (proc.stdout.splitlines())
    )


def test_unreadable_inputs_exit_2(plain: Built, tmp_path: Path) -> None:
    d = tmp_path / "export"
    shutil.copytree(plain.export, d)
    corrupt_json(d, plain)
    proc = run_tool(d, "--public-key", plain.pub)
    assert proc.returncode == 2
    assert (
        proc.stderr == f"cannot read input: {d / 'ledger.jsonl'}:{EVENTS + 1}: not valid JSON:"
        " Expecting value\n"
    )
    d = tmp_path / "export2"
    shutil.copytree(plain.export, d)
    drop_public_key(d, plain)
    proc = run_tool(d)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"cannot read input: {d / 'public_key.pem'}: missing; give the installation's key with"
        " --public-key\n"
    )


# --- consistency proofs ----------------------------------------------------------------------


def consistency_case(
    b: Built, tmp_path: Path, doc: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    f = tmp_path / "c.json"
    f.write_text(json.dumps(doc))
    return run_tool("--consistency", f, "--public-key", b.pub)


def test_consistency_proof_verifies(plain: Built, tmp_path: Path) -> None:
    proc = consistency_case(plain, tmp_path, plain.consistency)
    assert proc.returncode == 0, proc.stdout


def test_a_split_view_does_not_extend(plain: Built, tmp_path: Path) -> None:
    """The installation's own key signed a checkpoint of another history (a fork shown to
    one witness): the proof to the real ledger fails."""
    doc = json.loads(json.dumps(plain.consistency))
    fork = dict(doc["old"], root=hashlib_hex(b"fork"))
    fork["signature"] = plain.sign(fork)
    doc["old"] = fork
    proc = consistency_case(plain, tmp_path, doc)
    assert proc.returncode == 1
    assert (
        f"FAIL the ledger of size {doc['new']['tree_size']} does not extend the checkpoint of"
        f" size 14: the proof does not lead to the old root"
    ) in proc.stdout.splitlines()


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            lambda d: d["proof"].__setitem__(0, "00" * 32),
            "does not extend the checkpoint of size 14",
        ),
        (lambda d: d["proof"].pop(), "the proof is shorter than the sizes need"),
        (lambda d: d["proof"].append("00" * 32), "the proof is longer than the sizes allow"),
        (
            lambda d: d["old"].__setitem__("tree_size", 13),
            "FAIL old checkpoint (size 13): signature is not valid",
        ),
        (lambda d: d["new"].__setitem__("root", "11" * 32), "signature is not valid"),
    ],
    ids=["flipped node", "cut short", "too long", "old size changed", "new root changed"],
)
def test_consistency_tampering_fails(
    plain: Built, tmp_path: Path, change: Callable[[dict[str, Any]], None], line: str
) -> None:
    doc = json.loads(json.dumps(plain.consistency))
    change(doc)
    proc = consistency_case(plain, tmp_path, doc)
    assert proc.returncode == 1, proc.stdout
    assert any(line in x and x.startswith("FAIL ") for x in proc.stdout.splitlines()), proc.stdout


def test_consistency_unpinned_exits_3(plain: Built, tmp_path: Path) -> None:
    f = tmp_path / "c.json"
    f.write_text(json.dumps(plain.consistency))
    proc = run_tool("--consistency", f)
    assert proc.returncode == 3
    assert (
        proc.stdout.splitlines()[-1]
        == f"consistency proof {f}: integrity checked, origin not established"
    )


def hashlib_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
