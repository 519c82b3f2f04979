"""The ledger never signs over events its key did not sign (adversary I, A1).

Someone with write access to the database but not the key inserts a custody event, chained
and hashed correctly, and moves the head. The next ordinary command used to sign a checkpoint
over it, and then `amanah verify` passed. Now every command that would sign refuses, names the
first unsigned event, records the refusal outside the database, and `verify` keeps failing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from pathlib import Path

from amanah.custody import ledger, verifier
from amanah.custody.signed import REFUSALS_LOG
from tests.conftest import amanah, ingest_cli


def forge_event(home: Path) -> int:
    """What A1's attacker does, by SQL only: one chained event, the Merkle nodes and the head."""
    db = sqlite3.connect(home / "amanah.db")
    seq, prev, frontier = db.execute(
        "select seq, entry_hash, frontier from ledger_head where id=1"
    ).fetchone()
    entry = {
        "seq": seq + 1,
        "event_id": str(uuid.uuid4()),
        "type": "derivation",
        "time": "2026-12-07T18:00:00.000000Z",
        "actor": "os:root(0)",
        "agent": "amanah/0.1.0",
        "object_type": "item",
        "object_id": "1",
        "outcome": "success",
        "details": {"derivative": "inventory", "page": 0, "sha256": "0" * 64, "size": 1},
        "prev": prev,
    }
    data = verifier.entry_bytes(entry)
    entry["hash"] = hashlib.sha256(data).hexdigest()
    tip = ledger._Tip(None, [(int(n), bytes.fromhex(h)) for n, h in json.loads(frontier)])  # type: ignore[arg-type]
    ledger._push(tip, entry["seq"], hashlib.sha256(b"\x00" + data).digest())
    db.execute(
        "insert into custody_events(seq,event_id,event_type,occurred_at,actor,agent,object_type,"
        "object_id,outcome,details,prev_hash,entry_hash) values (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            entry["seq"], entry["event_id"], entry["type"], entry["time"], entry["actor"],
            entry["agent"], entry["object_type"], entry["object_id"], entry["outcome"],
            verifier.canonical_json(entry["details"]).decode(), entry["prev"], entry["hash"],
        ),
    )  # fmt: skip
    for n in tip.nodes:
        db.execute(
            "insert into merkle_nodes(level,idx,hash) values (?,?,?)",
            (n["level"], n["idx"], n["hash"]),
        )
    db.execute(
        "update ledger_head set seq=?, entry_hash=?, frontier=? where id=1",
        (entry["seq"], entry["hash"], json.dumps([[n, h.hex()] for n, h in tip.frontier])),
    )
    db.commit()
    db.close()
    return int(entry["seq"])


def counts(home: Path) -> tuple[int, int]:
    db = sqlite3.connect(home / "amanah.db")
    try:
        return db.execute(
            "select (select count(*) from custody_events), (select count(*) from checkpoints)"
        ).fetchone()
    finally:
        db.close()


def test_a_forged_event_is_never_signed_by_checkpoint_or_ingest(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    src = tmp_path / "handover"
    src.mkdir()
    (src / "statement.txt").write_text("a statement\n")
    ingest_cli(home, src)
    assert amanah(home, "verify", "--no-fixity").returncode == 0
    forged = forge_event(home)
    before = counts(home)

    for args in (
        ["custody", "checkpoint"],
        ["ingest", str(src), "--collection", "c2", "--provider", "P", "--quiet"],
        ["custody", "checkpoint", "--json"],
    ):
        proc = amanah(home, *args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert f"custody event #{forged} is not covered by a checkpoint" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert counts(home) == before, args  # nothing recorded, nothing signed

    refusals = [json.loads(line) for line in (home / REFUSALS_LOG).read_text().splitlines()]
    assert len(refusals) >= 3  # one a refused transaction (an ingest tries two)
    assert {r["first_bad_seq"] for r in refusals} == {forged}

    for args in (["verify", "--no-fixity"], ["verify"]):
        proc = amanah(home, *args)
        assert proc.returncode == 1, (args, proc.stdout)
        assert f"entries {forged} to {forged} are not covered by a signed checkpoint" in proc.stdout
        assert "Traceback" not in proc.stderr


def test_a_forged_checkpoint_is_not_taken_for_a_signed_one(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """The attacker adds a checkpoint row over the forged event too: its signature fails."""
    home = sqlite_home
    src = tmp_path / "handover"
    src.mkdir()
    (src / "statement.txt").write_text("a statement\n")
    ingest_cli(home, src)
    forged = forge_event(home)
    db = sqlite3.connect(home / "amanah.db")
    last = db.execute(
        "select key_id, signature from checkpoints order by id desc limit 1"
    ).fetchone()
    root = verifier.frontier_root(
        [
            (int(n), bytes.fromhex(h))
            for n, h in json.loads(db.execute("select frontier from ledger_head").fetchone()[0])
        ]
    ).hex()
    db.execute(
        "insert into checkpoints(tree_size, root_hash, signed_at, key_id, signature)"
        " values (?,?,?,?,?)",
        (forged, root, "2026-12-07T18:00:01.000000Z", *last),  # an old signature, replayed
    )
    db.commit()
    db.close()
    proc = amanah(home, "custody", "checkpoint")
    assert proc.returncode == 1
    assert f"custody event #{forged} is not covered" in proc.stderr
    assert "does not carry a valid signature" in proc.stderr


def test_an_untouched_ledger_goes_on_signing(sqlite_home: Path, tmp_path: Path) -> None:
    """The negative control: ordinary commits, one after another, are not refused."""
    home = sqlite_home
    src = tmp_path / "handover"
    src.mkdir()
    for n in range(3):
        (src / f"s{n}.txt").write_text(f"statement {n}\n")
        ingest_cli(home, src, f"c{n}")
        assert amanah(home, "custody", "checkpoint").returncode == 0
    assert amanah(home, "verify").returncode == 0
    assert not (home / REFUSALS_LOG).exists()


def test_processing_stops_and_fails_no_job_when_the_ledger_refuses(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """Every job's result is recorded with events: the runner stops at the first refusal and
    puts the job back, neither retried to permanent failure nor marked failed."""
    home = sqlite_home
    src = tmp_path / "handover"
    src.mkdir()
    (src / "statement.txt").write_text("a statement\n")
    ingest_cli(home, src)
    forged = forge_event(home)
    proc = amanah(home, "process", "--workers", "1", "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"custody event #{forged} is not covered" in proc.stderr
    assert "Traceback" not in proc.stderr
    db = sqlite3.connect(home / "amanah.db")
    try:
        states = db.execute("select state, max(attempts) from jobs group by state").fetchall()
    finally:
        db.close()
    assert states == [("queued", 0)]
