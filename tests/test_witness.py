"""A witnessed ledger: consistency proofs, checkpoints kept outside the database, pinned and
rotated keys. Each attack is done as an attacker would (raw SQL on the database file, an
older copy of it put back, another key) and must be named by `verify` or the verifier."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from amanah.cli import command
from amanah.custody import ledger, tree, verifier
from amanah.custody.checkpoint_log import CheckpointLogError
from amanah.workspace import Workspace, open_workspace
from tests.conftest import REPO, make_home

TOOL = REPO / "tools" / "verify_ledger.py"


def tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, check=False
    )


def append_events(ws: Workspace, count: int, per_commit: int) -> None:
    done = 0
    while done < count:
        with ws.db.session() as s:
            for _ in range(min(per_commit, count - done)):
                ledger.append(
                    s,
                    ledger.EventType.VALIDATION,
                    actor="test:auditor",
                    object_type="test",
                    object_id=done,
                )
                done += 1


def all_leaves(ws: Workspace) -> list[bytes]:
    with ws.db.reader() as s:
        return [verifier.leaf_hash(e) for e in ledger.iter_entries(s)]


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def amanah(
    home: Path, *args: str, check: bool = False, input: str | None = None, **env: str
) -> Result:
    """The real command line, run in this process (a subprocess costs seconds here)."""
    argv = ["--home", str(home), *args]
    result = CliRunner().invoke(command(), argv, input=input, env=env or None)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if check and result.exit_code != 0:
        raise AssertionError(f"amanah {args} failed:\n{result.stdout}\n{result.stderr}")
    return Result(result.exit_code, result.stdout, result.stderr)


def grow(home: Path, count: int, per_commit: int = 3) -> None:
    ws = open_workspace(home)
    try:
        append_events(ws, count, per_commit)
    finally:
        ws.close()


def checkpoint_json(home: Path, out: Path) -> dict[str, object]:
    proc = amanah(home, "custody", "checkpoint", "--json", check=True)
    out.write_text(proc.stdout)
    return json.loads(proc.stdout)


def with_passphrase(home: Path, passphrase: str, *args: str) -> Result:
    return amanah(home, *args, AMANAH_KEY_PASSPHRASE=passphrase)


def public_key(home: Path, out: Path, *extra: str) -> Path:
    out.write_text(amanah(home, "custody", "public-key", *extra, check=True).stdout)
    return out


# --- consistency proofs from the stored tree -------------------------------------------------


@pytest.mark.parametrize("engines", ["sqlite-file", "postgresql-file"])
def test_stored_tree_proofs_equal_the_reference_at_every_size(
    request: pytest.FixtureRequest, tmp_path: Path, engines: str
) -> None:
    ws = open_workspace(make_home(request, tmp_path, engines))
    try:
        append_events(ws, 1100, per_commit=97)  # crosses four 256-leaf blocks, ragged ends
        leaves = all_leaves(ws)
        with ws.db.reader() as s:
            for m, n in [(1, 1100), (255, 256), (256, 257), (300, 1024), (513, 1099), (7, 8)]:
                proof = tree.consistency(s, m, n)
                assert proof == verifier.consistency_path(m, leaves[:n])
                verifier.check_consistency(
                    m, n, verifier.merkle_root(leaves[:m]), verifier.merkle_root(leaves[:n]), proof
                )
            for size in (1, 255, 256, 511, 512, 1000, 1100):
                assert tree.root_at(s, size) == verifier.merkle_root(leaves[:size])
    finally:
        ws.close()


def test_consistency_cli_and_standalone_verifier(sqlite_home: Path, tmp_path: Path) -> None:
    grow(sqlite_home, 9)
    old = checkpoint_json(sqlite_home, tmp_path / "old.json")
    grow(sqlite_home, 12)
    proof_file = tmp_path / "c.json"
    amanah(
        sqlite_home,
        "custody",
        "consistency",
        str(old["tree_size"]),
        "--out",
        str(proof_file),
        check=True,
    )
    pub = public_key(sqlite_home, tmp_path / "pub.pem")
    ok = tool("--consistency", proof_file, "--public-key", pub)
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.endswith(
        f"verified against the pinned key {verifier.key_id(pub.read_bytes())}\n"
    )
    unpinned = tool("--consistency", proof_file)
    assert unpinned.returncode == 3
    assert "integrity checked, origin not established" in unpinned.stdout
    doc = json.loads(proof_file.read_text())
    assert doc["old"]["root"] == old["root"] and doc["new"]["tree_size"] > old["tree_size"]
    # The text form shows the two checkpoints and the nodes.
    text = amanah(sqlite_home, "custody", "consistency", str(old["tree_size"]), check=True)
    assert f"old checkpoint {old['id']}: size {old['tree_size']}" in text.stdout
    # A size no checkpoint signed is a request error, said plainly.
    bad = amanah(sqlite_home, "custody", "consistency", "999999")
    assert bad.returncode == 2
    assert "larger than the new checkpoint" in bad.stderr
    unsigned = amanah(sqlite_home, "custody", "consistency", "1")
    assert unsigned.returncode == 2
    assert "error: no signed checkpoint covers exactly 1 entries" in unsigned.stderr


# --- the checkpoint log and witnesses --------------------------------------------------------


def cut_tail(db_file: Path, keep: int) -> None:
    """The attack of issue 13, finding 2: database write access only, no key. Delete the
    last events and the checkpoints over them, and recompute the head so the chain is whole."""
    con = sqlite3.connect(db_file)
    con.execute("DELETE FROM custody_events WHERE seq > ?", (keep,))
    con.execute("DELETE FROM checkpoints WHERE tree_size > ?", (keep,))
    con.execute("DELETE FROM merkle_nodes WHERE (idx + 1) * (1 << level) > ?", (keep,))
    rows = con.execute(
        "SELECT seq, event_id, event_type, occurred_at, actor, agent, object_type, object_id,"
        " outcome, details, prev_hash, entry_hash FROM custody_events ORDER BY seq"
    ).fetchall()
    frontier: list[tuple[int, bytes]] = []
    for r in rows:
        entry = dict(
            zip(
                (*verifier.ENTRY_FIELDS, "hash"),
                r,
                strict=True,
            )
        )
        entry["details"] = json.loads(entry["details"])
        verifier.frontier_push(frontier, verifier.leaf_hash(entry))
    con.execute(
        "UPDATE ledger_head SET seq = ?, entry_hash = ?, frontier = ?",
        (keep, rows[-1][-1], json.dumps([[n, h.hex()] for n, h in frontier])),
    )
    con.commit()
    con.close()


def test_a_cut_tail_is_caught_by_the_log_and_by_a_witness(
    sqlite_home: Path, tmp_path: Path
) -> None:
    grow(sqlite_home, 6)
    early = checkpoint_json(sqlite_home, tmp_path / "early.json")
    grow(sqlite_home, 9)
    late = checkpoint_json(sqlite_home, tmp_path / "late.json")
    ok = amanah(
        sqlite_home,
        "verify",
        "--quiet",
        "--witness",
        str(tmp_path / "early.json"),
        "--witness",
        str(tmp_path / "late.json"),
    )
    assert ok.returncode == 0, ok.stdout
    log = (sqlite_home / "checkpoints.log").read_text().splitlines()
    assert late in [json.loads(line) for line in log]

    keep = int(early["tree_size"])
    cut_tail(sqlite_home / "amanah.db", keep)
    # Without the log and without a witness the cut is invisible: that was the finding.
    (sqlite_home / "checkpoints.log").rename(tmp_path / "saved.log")
    blind = amanah(sqlite_home, "verify", "--quiet", "--no-fixity")
    assert blind.returncode == 0, blind.stdout
    # The witness who kept the later checkpoint sees the ledger is behind.
    caught = amanah(
        sqlite_home, "verify", "--quiet", "--no-fixity", "--witness", str(tmp_path / "late.json")
    )
    assert caught.returncode == 1
    assert (
        f"FAIL witnessed checkpoint {tmp_path / 'late.json'} (size {late['tree_size']}): the"
        f" ledger has only {keep} entries, fewer than a signed checkpoint someone kept"
        " (entries were deleted or an older copy was restored)"
    ) in caught.stdout
    # The earlier witness is still extended: a negative control.
    early_ok = amanah(
        sqlite_home, "verify", "--quiet", "--no-fixity", "--witness", str(tmp_path / "early.json")
    )
    assert early_ok.returncode == 0, early_ok.stdout
    # The home's own checkpoint log catches it with no witness given.
    (tmp_path / "saved.log").rename(sqlite_home / "checkpoints.log")
    logged = amanah(sqlite_home, "verify", "--quiet", "--no-fixity")
    assert logged.returncode == 1
    assert f"ledger has only {keep} entries, fewer than a signed checkpoint" in logged.stdout
    assert "FAIL checkpoints.log entry" in logged.stdout


def test_an_older_database_put_back_is_caught(sqlite_home: Path, tmp_path: Path) -> None:
    grow(sqlite_home, 6)
    saved = tmp_path / "saved-db"
    saved.mkdir()
    for f in sqlite_home.glob("amanah.db*"):
        shutil.copy2(f, saved / f.name)
    grow(sqlite_home, 6)
    for f in sqlite_home.glob("amanah.db*"):
        f.unlink()
    for f in saved.iterdir():
        shutil.copy2(f, sqlite_home / f.name)
    proc = amanah(sqlite_home, "verify", "--quiet", "--no-fixity")
    assert proc.returncode == 1
    assert "FAIL checkpoints.log entry" in proc.stdout
    assert "(entries were deleted or an older copy was restored)" in proc.stdout


def test_a_rewritten_history_does_not_extend_a_witness(sqlite_home: Path, tmp_path: Path) -> None:
    grow(sqlite_home, 6)
    kept = checkpoint_json(sqlite_home, tmp_path / "kept.json")
    # A witness who kept a checkpoint of the same size with another root (a forged copy).
    forged = dict(kept, root="ab" * 32)
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    proc = amanah(
        sqlite_home, "verify", "--quiet", "--no-fixity", "--witness", str(tmp_path / "forged.json")
    )
    assert proc.returncode == 1
    assert (
        f"FAIL witnessed checkpoint {tmp_path / 'forged.json'} (size {kept['tree_size']}):"
        " signature is not valid"
    ) in proc.stdout
    (tmp_path / "junk.json").write_text("{not json")
    junk = amanah(sqlite_home, "verify", "--witness", str(tmp_path / "junk.json"))
    assert junk.returncode == 2
    assert f"{tmp_path / 'junk.json'}: not a checkpoint (not valid JSON)" in junk.stderr


def test_a_line_torn_by_a_crash_does_not_fail_verify(sqlite_home: Path, tmp_path: Path) -> None:
    grow(sqlite_home, 6)
    log = sqlite_home / "checkpoints.log"
    with log.open("ab") as f:
        f.write(b'{"id":99,"key_id":"')  # the write a power cut interrupted
    assert amanah(sqlite_home, "verify", "--quiet", "--no-fixity").returncode == 0
    grow(sqlite_home, 6)
    lines = log.read_bytes().split(b"\n")
    assert lines[-2].startswith(b'{"id":') and json.loads(lines[-2])  # a whole line after it
    proc = amanah(sqlite_home, "verify", "--quiet", "--no-fixity")
    assert proc.returncode == 0, proc.stdout


def test_export_carries_the_latest_checkpoint_and_the_log(
    sqlite_home: Path, tmp_path: Path
) -> None:
    grow(sqlite_home, 6)
    kept = checkpoint_json(sqlite_home, tmp_path / "kept.json")
    grow(sqlite_home, 6)
    export = tmp_path / "export"
    amanah(sqlite_home, "custody", "export", str(export), check=True)
    latest = json.loads((export / "latest_checkpoint.json").read_text())
    log = verifier.read_jsonl(export / "checkpoint_log.jsonl")
    assert latest == log[-1] and latest["tree_size"] > kept["tree_size"]
    pub = public_key(sqlite_home, tmp_path / "pub.pem")
    ok = tool(export, "--public-key", pub, "--witness", tmp_path / "kept.json")
    assert ok.returncode == 0, ok.stdout


# --- keys ------------------------------------------------------------------------------------


def test_a_missing_key_stops_every_command(sqlite_home: Path, tmp_path: Path) -> None:
    grow(sqlite_home, 6)
    key = sqlite_home / "keys" / "ledger-ed25519.pem"
    kid = verifier.key_id((sqlite_home / "keys" / "ledger-ed25519.pub.pem").read_bytes())
    key.rename(tmp_path / "saved.pem")
    for args in (("items",), ("verify", "--quiet"), ("init",), ("custody", "checkpoint")):
        proc = amanah(sqlite_home, *args)
        assert proc.returncode == 2, (args, proc.stdout)
        assert "the ledger signing key is missing" in proc.stderr
        assert f"The ledger is signed with key {kid}" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not key.exists()  # no new key was made
    (tmp_path / "saved.pem").rename(key)
    assert amanah(sqlite_home, "verify", "--quiet").returncode == 0


def test_another_installations_key_is_refused(sqlite_home: Path, tmp_path: Path) -> None:
    grow(sqlite_home, 6)
    other = tmp_path / "other"
    amanah(other, "init", check=True)
    for name in ("ledger-ed25519.pem", "ledger-ed25519.pub.pem"):
        shutil.copy2(other / "keys" / name, sqlite_home / "keys" / name)
    proc = amanah(sqlite_home, "items")
    assert proc.returncode == 2
    assert "is not the key the ledger is signed with" in proc.stderr


def test_passphrase_encrypts_the_key_at_rest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = amanah(home, "init", "--passphrase-stdin", input="correct horse\n", check=True)
    assert "encrypted at rest" in proc.stdout
    key = home / "keys" / "ledger-ed25519.pem"
    assert key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    missing = amanah(home, "items")
    assert missing.returncode == 2
    assert "the ledger signing key is encrypted; give its passphrase in AMANAH_KEY_PASSPHRASE" in (
        missing.stderr
    )
    wrong = with_passphrase(home, "wrong", "items")
    assert wrong.returncode == 2
    assert "wrong passphrase for the ledger signing key" in wrong.stderr
    right = with_passphrase(home, "correct horse", "custody", "checkpoint")
    assert right.returncode == 0, right.stderr
    # A rotated key stays encrypted with the same passphrase.
    rotated = with_passphrase(home, "correct horse", "custody", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    assert key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert with_passphrase(home, "correct horse", "verify", "--quiet").returncode == 0
    assert "wrong passphrase" in with_passphrase(home, "wrong", "items").stderr
    empty = amanah(tmp_path / "home2", "init", "--passphrase-stdin", input="\n")
    assert empty.returncode == 2 and "held no passphrase" in empty.stderr


def test_rotation_keeps_old_checkpoints_verifiable(sqlite_home: Path, tmp_path: Path) -> None:
    grow(sqlite_home, 6)
    before = checkpoint_json(sqlite_home, tmp_path / "before.json")
    root_pub = public_key(sqlite_home, tmp_path / "root.pem")
    rotated = amanah(sqlite_home, "custody", "rotate-key", "--reason", "yearly", check=True)
    new_pub = public_key(sqlite_home, tmp_path / "new.pem", "--current")
    new_id = verifier.key_id(new_pub.read_bytes())
    root_id = verifier.key_id(root_pub.read_bytes())
    assert f"key {root_id} handed the ledger over to key {new_id}" in rotated.stdout
    assert public_key(sqlite_home, tmp_path / "again.pem").read_bytes() == root_pub.read_bytes()
    grow(sqlite_home, 6)
    history = json.loads(amanah(sqlite_home, "custody", "key-history", "--json", check=True).stdout)
    assert [k["key_id"] for k in history["keys"]] == [root_id, new_id]
    ok = amanah(sqlite_home, "verify", "--quiet", "--witness", str(tmp_path / "before.json"))
    assert ok.returncode == 0, ok.stdout
    # Export, inclusion and consistency proofs all verify from the first key.
    export = tmp_path / "export"
    amanah(sqlite_home, "custody", "export", str(export), check=True)
    assert tool(export, "--public-key", root_pub).returncode == 0
    assert tool(export, "--key-id", root_id).returncode == 0
    by_new = tool(export, "--public-key", new_pub)
    assert by_new.returncode == 1
    # Pinning the new key trusts only what it signed: the old key's checkpoints fail.
    assert f"FAIL checkpoint 1 (size 3): signed by key {root_id}, not by {new_id}" in by_new.stdout
    ws = open_workspace(sqlite_home)
    try:
        with ws.db.reader() as s:
            proof = ledger.inclusion_proof(s, "test", 0, ws.key.public_pem)
    finally:
        ws.close()
    (tmp_path / "p.json").write_text(json.dumps(proof))
    assert tool("--proof", tmp_path / "p.json", "--public-key", root_pub).returncode == 0
    # A proof against a checkpoint of the new key also verifies with the new key pinned (a
    # package ships the key signing now).
    assert tool("--proof", tmp_path / "p.json", "--public-key", new_pub).returncode == 0
    amanah(
        sqlite_home,
        "custody",
        "consistency",
        str(before["tree_size"]),
        "--out",
        str(tmp_path / "c.json"),
        check=True,
    )
    proc = tool("--consistency", tmp_path / "c.json", "--public-key", root_pub)
    assert proc.returncode == 0, proc.stdout
    # The outgoing key may not sign past the hand-over.
    doc = json.loads((tmp_path / "c.json").read_text())
    doc["new"]["key_id"] = root_id
    (tmp_path / "c2.json").write_text(json.dumps(doc))
    late = tool("--consistency", tmp_path / "c2.json", "--public-key", root_pub)
    assert late.returncode == 1
    assert f"signed by key {root_id}, which signs only sizes 0 to" in late.stdout
    # The old private key is gone; the new one is in place and matches its public key.
    ledger_keys = (sqlite_home / "keys").glob("ledger-*")  # the names key sits beside them
    assert sorted(p.name for p in ledger_keys) == ["ledger-ed25519.pem", "ledger-ed25519.pub.pem"]


def test_a_checkpoint_log_that_cannot_be_written_is_said_plainly(
    sqlite_home: Path, tmp_path: Path
) -> None:
    grow(sqlite_home, 3)
    log = sqlite_home / "checkpoints.log"
    log.rename(tmp_path / "saved.log")
    log.mkdir()  # not writable as a file: the append fails after the commit
    ws = open_workspace(sqlite_home)
    try:
        with pytest.raises(CheckpointLogError, match="cannot append the signed checkpoint"):
            append_events(ws, 1, per_commit=1)
    finally:
        ws.close()
    log.rmdir()
    (tmp_path / "saved.log").rename(log)
    # The change itself committed; the log is only missing that line, which verify tolerates.
    proc = amanah(sqlite_home, "verify", "--quiet", "--no-fixity")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("4 ledger entries")


def test_verify_names_a_wrong_stored_merkle_node(sqlite_home: Path) -> None:
    grow(sqlite_home, 40, per_commit=9)
    assert amanah(sqlite_home, "verify", "--quiet", "--no-fixity").returncode == 0
    con = sqlite3.connect(sqlite_home / "amanah.db")
    con.execute("UPDATE merkle_nodes SET hash = ? WHERE level = 4 AND idx = 1", ("00" * 32,))
    con.commit()
    con.close()
    proc = amanah(sqlite_home, "verify", "--quiet", "--no-fixity")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == (
        "FAIL stored Merkle node (level 4, index 1) does not match the ledger"
        " (consistency proofs from it would fail)"
    )
