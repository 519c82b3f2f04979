"""The custody ledger is verifiable without Amanah, and any tampering is found and named."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from amanah.custody import verifier
from amanah.db.models import CustodyEvent, Item
from amanah.preservation.audit import verify
from amanah.workspace import Workspace
from tests.conftest import REPO, amanah, ingest_cli
from tests.test_ingest import list_items, make_handover, run

TOOL = REPO / "tools" / "verify_ledger.py"


def tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, check=False
    )


def test_verifier_needs_only_stdlib_and_cryptography() -> None:
    tree = ast.parse(TOOL.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


def test_export_verifies_and_any_edit_is_rejected(sqlite_home: Path, tmp_path: Path) -> None:
    make_handover(tmp_path)
    ingest_cli(sqlite_home, tmp_path / "handover")
    export = tmp_path / "export"
    amanah(sqlite_home, "custody", "export", str(export), check=True)
    pub = tmp_path / "pub.pem"
    pub.write_text(amanah(sqlite_home, "custody", "public-key", check=True).stdout)
    proc = subprocess.run(
        [sys.executable, str(export / "verify_ledger.py"), str(export), "--public-key", str(pub)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    assert "verified against the pinned key" in proc.stdout

    lines = (export / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[2])
    entry["actor"] = "someone-else"
    edited = [*lines[:2], json.dumps(entry), *lines[3:]]
    (export / "ledger.jsonl").write_text("\n".join(edited) + "\n", encoding="utf-8")
    proc = tool(export)
    assert proc.returncode == 1
    assert "ledger entry 3: content does not match its hash" in proc.stdout

    # Rewriting the whole chain consistently still breaks the signed checkpoint.
    entries = [json.loads(x) for x in lines]
    entries[0]["details"]["size"] = 1
    prev = verifier.GENESIS
    for e in entries:
        e["prev"] = prev
        e["hash"] = prev = verifier.entry_hash(e)
    (export / "ledger.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8"
    )
    proc = tool(export)
    assert proc.returncode == 1
    assert "Merkle root does not match" in proc.stdout

    (export / "ledger.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    proc = tool(export)
    assert "entries were deleted" in proc.stdout


def test_inclusion_proof_verifies_and_rejects_a_forgery(sqlite_home: Path, tmp_path: Path) -> None:
    make_handover(tmp_path)
    ingest_cli(sqlite_home, tmp_path / "handover")
    proof_file = tmp_path / "proof.json"
    amanah(sqlite_home, "custody", "proof", "3", "--out", str(proof_file), check=True)
    pub = tmp_path / "pub.pem"
    pub.write_text(amanah(sqlite_home, "custody", "public-key", check=True).stdout)
    proc = tool("--proof", proof_file, "--public-key", pub)
    assert proc.returncode == 0, proc.stdout
    proof = json.loads(proof_file.read_text())
    assert [e["entry"]["type"] for e in proof["events"]] == [
        "ingestion",
        "message digest calculation",
    ]
    proof["events"][0]["entry"]["details"]["sha256"] = "0" * 64
    proof["events"][0]["entry"]["hash"] = verifier.entry_hash(proof["events"][0]["entry"])
    proof_file.write_text(json.dumps(proof))
    proc = tool("--proof", proof_file, "--public-key", pub)
    assert proc.returncode == 1
    assert "not included in the signed checkpoint" in proc.stdout
    # A proof signed by another installation's key is refused when the trusted key is given.
    other = tmp_path / "other-home"
    amanah(other, "init", check=True)
    other_pub = tmp_path / "other.pem"
    other_pub.write_text(amanah(other, "custody", "public-key", check=True).stdout)
    proc = tool("--proof", proof_file, "--public-key", other_pub)
    assert proc.returncode == 1 and "not by" in proc.stdout


def _problems(ws: Workspace) -> list[str]:
    return verify(ws, "test:auditor").problems


def test_verify_names_an_altered_blob(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    assert _problems(ws) == []
    target = next(i for i in list_items(ws) if i["original_path"].endswith("notes.txt"))
    data = bytearray(ws.blobs.open(target["sha256"]).read())
    data[0] ^= 0x01
    store = ws.blobs
    if hasattr(store, "path"):
        path = store.path(target["sha256"])
        os.chmod(path, 0o644)
        path.write_bytes(bytes(data))
    else:
        store.client.put_object(
            Bucket=store.bucket, Key=store.key(target["sha256"]), Body=bytes(data)
        )
    problems = _problems(ws)
    assert len(problems) == 1
    assert problems[0].startswith(f"blob {target['sha256']} altered")


def test_verify_names_a_missing_blob(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    target = list_items(ws)[0]
    store = ws.blobs
    if hasattr(store, "path"):
        store.path(target["sha256"]).unlink()
    else:
        store.client.delete_object(Bucket=store.bucket, Key=store.key(target["sha256"]))
    assert _problems(ws) == [
        f"blob {target['sha256']} missing: blob is missing from the store"
        f" (held by item {target['id']})"
    ]


def _middle_seq(ws: Workspace) -> int:
    """A sequence number from the middle of the ledger (neither its first nor its last)."""
    with ws.db.reader() as s:
        seqs = list(s.execute(select(CustodyEvent.seq).order_by(CustodyEvent.seq)).scalars())
    assert len(seqs) >= 3, seqs
    return seqs[len(seqs) // 2]


def test_verify_names_an_edited_ledger_row(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    mid = _middle_seq(ws)
    with ws.db.session() as s:
        s.execute(update(CustodyEvent).where(CustodyEvent.seq == mid).values(actor="intruder"))
    problems = _problems(ws)
    assert f"ledger entry {mid}: content does not match its hash (edited)" in problems


def test_verify_names_a_deleted_ledger_row(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    mid = _middle_seq(ws)
    with ws.db.session() as s:
        s.execute(delete(CustodyEvent).where(CustodyEvent.seq == mid))
    problems = _problems(ws)
    after = f"ledger entry {mid + 1}"
    assert any(f"{after}: expected sequence number {mid}" in p for p in problems), problems
    assert any(f"{after}: link to previous entry is broken" in p for p in problems), problems


def test_verify_names_the_last_row_deleted(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    with ws.db.session() as s:
        last = (
            s.execute(select(CustodyEvent.seq).order_by(CustodyEvent.seq.desc())).scalars().first()
        )
        s.execute(delete(CustodyEvent).where(CustodyEvent.seq == last))
    problems = _problems(ws)
    assert any("entries were deleted" in p for p in problems)


def test_verify_names_an_edited_item_row(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    victim = list_items(ws)[1]
    other = list_items(ws)[2]
    with ws.db.session() as s:
        s.execute(update(Item).where(Item.id == victim["id"]).values(sha256=other["sha256"]))
    problems = _problems(ws)
    assert any(p.startswith(f"item {victim['id']}: sha256 is") for p in problems)


def test_verify_names_a_forged_checkpoint_signature(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    with ws.db.session() as s:
        s.execute(text("UPDATE checkpoints SET signature = :sig"), {"sig": "AAAA" * 22})
    problems = _problems(ws)
    assert any("signature is not valid" in p for p in problems)


def test_cli_verify_exit_status(sqlite_home: Path, tmp_path: Path) -> None:
    make_handover(tmp_path)
    ingest_cli(sqlite_home, tmp_path / "handover")
    ok = amanah(sqlite_home, "verify", "--quiet")
    assert ok.returncode == 0 and "verified" in ok.stdout
    blob_dir = sqlite_home / "blobs"
    victim = next(p for p in blob_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts)
    victim.chmod(0o644)
    victim.write_bytes(b"forged")
    bad = amanah(sqlite_home, "verify", "--quiet")
    assert bad.returncode == 1
    assert f"FAIL blob {victim.name} altered" in bad.stdout


@pytest.mark.parametrize("sample", [None, 0.5])
def test_fixity_records_one_event_per_blob(
    ws: Workspace, tmp_path: Path, sample: float | None
) -> None:
    from amanah.preservation.fixity import run_fixity

    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    report = run_fixity(ws, "test:auditor", sample=sample, workers=2, seed=1)
    assert report.ok and report.checked == (4 if sample is None else 2)
    with ws.db.reader() as s:
        events = (
            s.execute(
                select(CustodyEvent).where(
                    CustodyEvent.event_type == "fixity check", CustodyEvent.object_type == "blob"
                )
            )
            .scalars()
            .all()
        )
    assert len(events) == report.checked
    assert all(e.outcome == "success" for e in events)
