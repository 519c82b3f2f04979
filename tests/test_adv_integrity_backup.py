"""Restoring a damaged or rewritten backup: refused whole, with one line naming the file.

SHA256SUMS shows damage, not forgery: whoever can change a backup can rewrite it too. A blob
whose bytes were replaced and its SHA256SUMS line recomputed used to be restored under the
digest it no longer has (with `--no-verify` silently, else as a home left in place "NOT
verified"); a SHA256SUMS or manifest.json that is not UTF-8 or not JSON ended in a traceback.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import amanah


@pytest.fixture
def backup(sqlite_home: Path, tmp_path: Path) -> Path:
    handover = tmp_path / "handover"
    handover.mkdir()
    (handover / "statement.txt").write_bytes(b"a statement\n")
    amanah(
        sqlite_home, "ingest", handover, "--collection", "c", "--provider", "P", "--quiet",
        check=True,
    )  # fmt: skip
    out = tmp_path / "backup"
    amanah(sqlite_home, "backup", out, check=True)
    return out


def _resum(backup: Path, rel: str) -> None:
    """SHA256SUMS rewritten to match a changed file, as anyone who changed it would."""
    sums = backup / "SHA256SUMS"
    digest = hashlib.sha256((backup / rel).read_bytes()).hexdigest()
    lines = [
        f"{digest}  {rel}" if line.endswith(f"  {rel}") else line
        for line in sums.read_text("utf-8").splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n", "utf-8")


def _restore(backup: Path, target: Path, *more: str):
    proc = amanah(backup.parent, "restore", backup, target, *more)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


@pytest.mark.parametrize("more", [(), ("--no-verify",)], ids=["verified", "no-verify"])
def test_a_blob_replaced_with_its_sum_rewritten_is_never_restored_under_its_name(
    backup: Path, tmp_path: Path, more: tuple[str, ...]
) -> None:
    rel = next(
        p.relative_to(backup).as_posix() for p in (backup / "blobs").rglob("*") if p.is_file()
    )
    blob = backup / rel
    blob.chmod(0o600)
    blob.write_bytes(b"other bytes\n")
    _resum(backup, rel)
    target = tmp_path / "restored"
    proc = _restore(backup, target, *more)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{blob}: its bytes hash to" in proc.stderr and "nothing is restored" in proc.stderr
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".restored")]


def test_a_damaged_sums_file_is_named_with_its_line(backup: Path, tmp_path: Path) -> None:
    sums = backup / "SHA256SUMS"
    count = len(sums.read_bytes().splitlines())
    with sums.open("ab") as f:
        f.write(b"\xff\xfe damaged\n")
    proc = _restore(backup, tmp_path / "restored")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {sums}: line {count + 1} is not UTF-8 (damaged)"


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"[]", "not a backup manifest (not a JSON object)"),
        (b"{not json", "not a backup manifest (not valid JSON: "),
        (
            b"[" * 100_000 + b"]" * 100_000,
            "not a backup manifest (not valid JSON: nested too deeply)",
        ),
    ],
    ids=["a-list", "not-json", "nested-100000-deep"],
)
def test_a_manifest_no_reader_can_hold_is_named(
    backup: Path, tmp_path: Path, content: bytes, reason: str
) -> None:
    manifest = backup / "manifest.json"
    manifest.chmod(0o600)
    manifest.write_bytes(content)
    _resum(backup, "manifest.json")
    proc = _restore(backup, tmp_path / "restored")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"error: {manifest}: {reason}"), proc.stderr


def test_a_registered_blob_missing_from_the_store_fails_the_backup(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """The backup walked the blob folder, not the register: a registered blob gone from the
    store (a disk fault, a person) left a backup that said nothing and exited 0."""
    handover = tmp_path / "handover"
    handover.mkdir()
    (handover / "statement.txt").write_bytes(b"a statement\n")
    (handover / "other.txt").write_bytes(b"another statement\n")
    amanah(
        sqlite_home, "ingest", handover, "--collection", "c", "--provider", "P", "--quiet",
        check=True,
    )  # fmt: skip
    sha = hashlib.sha256(b"a statement\n").hexdigest()
    (sqlite_home / "blobs" / sha[:2] / sha[2:4] / sha).unlink()
    done = amanah(sqlite_home, "backup", tmp_path / "backup")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"blob {sha}: registered but missing from the blob store" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
