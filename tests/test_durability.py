"""No byte lost, verified derivatives, attributable actors, a private home, a backup drill.

The full-disk tests mount a real tmpfs of a few MiB (root only; skipped otherwise): short
writes and ENOSPC come from the kernel, not from mocks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text

from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, Derivative, Item
from amanah.preservation.backup import check_backup
from amanah.workspace import open_workspace
from tests.conftest import (
    amanah,
    amanah_here,
    ingest_cli,
    make_home,
    migrated_postgres,
    migrated_postgres_template,
    migrated_sqlite,
    set_setting,
)
from tests.servers import Postgres
from tests.webfixtures import BLUE, Site, copy_site

MB = 1 << 20
OS_ACTOR = f"os:{pwd.getpwuid(os.getuid()).pw_name}({os.getuid()})"


# -- helpers --------------------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of `size` at `where`, always unmounted; skips when it cannot be mounted."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root (full-disk tests run as root)")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)


def random_file(path: Path, size: int, seed: int) -> bytes:
    data = hashlib.sha256(b"%d" % seed).digest() + os.urandom(size - 32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def blob_files(home: Path, root: Path | None = None) -> list[Path]:
    root = root or home / "blobs"
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def assert_blobs_whole(home: Path, root: Path | None = None) -> None:
    """Every file under a digest name holds exactly the bytes of that digest; no temp left."""
    root = root or home / "blobs"
    for p in blob_files(home, root):
        assert hashlib.sha256(p.read_bytes()).hexdigest() == p.name, f"{p} is not whole"
    assert not list((root / ".tmp").glob("*")), "a partial write was left behind"


def ingest_here(home: Path, folder: Path) -> None:
    """`ingest_cli` run in this process, for tests whose subject comes after the ingest (a
    damaged blob, a backup): each real `python -m amanah.cli` costs seconds of imports. The
    tests whose subject is what the real process leaves on disk keep `ingest_cli`."""
    amanah_here(home, "ingest", str(folder), "--collection", "c", "--provider", "P", "--quiet",
                check=True)  # fmt: skip


def items(home: Path) -> list[dict[str, object]]:
    got = amanah_here(home, "items", "--json", check=True)
    return json.loads(got.stdout)


def assert_items_equal_sources(home: Path, sources: dict[str, bytes], tmp: Path) -> None:
    rows = items(home)
    assert sorted(Path(str(r["original_path"])).name for r in rows) == sorted(sources)
    for r in rows:
        out = tmp / f"got-{r['id']}"
        amanah_here(home, "item", "get", str(r["id"]), str(out), check=True)
        assert out.read_bytes() == sources[Path(str(r["original_path"])).name]
        assert r["status"] != "failed"


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


# -- no byte lost ---------------------------------------------------------------------------


def kept_said(message: str) -> int:
    """How many files a failed ingest's line says it kept (the re-run starts from there)."""
    if "; no file of this run could be recorded: free space" in message:
        return 0
    said = re.search(r"; the (\d+) files? recorded before it stopped (?:is|are) kept: ", message)
    assert said, message
    return int(said.group(1))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_blob_store_full_mid_ingest_names_the_file_and_a_rerun_completes(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    """Only the blob store is on the small disk, so the file it could not take is known."""
    src = tmp_path / "handover"
    sources = {
        "one.bin": random_file(src / "one.bin", 1_500_000, 1),
        "two.bin": random_file(src / "two.bin", 1_500_000, 2),
        "three.bin": random_file(src / "three.bin", 700_000, 3),
        "note.txt": random_file(src / "note.txt", 4_000, 4),
    }
    with tmpfs(tmp_path / "disk", "3m") as disk:
        home = tmp_path / "home"
        db_url = migrated_postgres(request) if database == "postgresql" else None
        write_default_config(home, db_url, f"file:{disk / 'blobs'}")
        if database == "sqlite":
            migrated_sqlite(request, home)
        first = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert first.returncode == 1, first.stdout + first.stderr
        no_traceback(first)
        message = first.stderr.strip()
        assert message.count("\n") == 0, message  # one line
        assert message.startswith("error: ") and "no space left on device" in message, message
        # 1.5 + 1.5 MB do not fit in 3 MB with the rest: the file it stopped on is named.
        named = [name for name in sources if str(src / name) in message]
        assert len(named) == 1 and named[0].endswith(".bin"), message
        assert_blobs_whole(home, disk / "blobs")
        kept = items(home)
        assert all(r["status"] != "failed" for r in kept)  # whatever was recorded is whole
        assert named[0] not in {Path(str(r["original_path"])).name for r in kept}
        assert kept_said(message) == len(kept)

        remount(disk, "64m")  # space comes back
        again = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert again.returncode == 0, again.stdout + again.stderr
        assert_blobs_whole(home, disk / "blobs")
        assert_items_equal_sources(home, sources, tmp_path)
        verified = amanah(home, "verify", "--quiet")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_blob_store_out_of_inodes_says_so_and_a_rerun_completes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A file system can refuse a new file with free blocks left (every inode used, as on a
    disk of many small files): `df` shows space, so the message says what ran out."""
    src = tmp_path / "handover"
    sources = {f"f{i:02d}.txt": random_file(src / f"f{i:02d}.txt", 200, i) for i in range(60)}
    with tmpfs(tmp_path / "disk", "8m") as disk:
        subprocess.run(["mount", "-o", "remount,nr_inodes=40", str(disk)], check=True)
        home = tmp_path / "home"
        write_default_config(home, None, f"file:{disk / 'blobs'}")
        migrated_sqlite(request, home)
        first = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert first.returncode == 1, first.stdout + first.stderr
        no_traceback(first)
        message = first.stderr.strip()
        assert message.count("\n") == 0, message
        assert f"error: {src}/f" in message and ": not preserved: " in message, message
        assert "no free inodes" in message, message
        assert_blobs_whole(home, disk / "blobs")
        assert len(items(home)) < len(sources)
        assert kept_said(message) == len(items(home))

        subprocess.run(["mount", "-o", "remount,nr_inodes=4000", str(disk)], check=True)
        again = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert again.returncode == 0, again.stdout + again.stderr
        assert_blobs_whole(home, disk / "blobs")
        assert_items_equal_sources(home, sources, tmp_path)


@contextlib.contextmanager
def database_on_tmpfs(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> Iterator[tuple[str, Path]]:
    """A new database at the newest migration whose files alone are on a tmpfs: its URL and
    the mount point. PostgreSQL's go there through a tablespace of their own."""
    if database == "sqlite":
        with tmpfs(tmp_path / "disk", "16m") as disk:
            migrated_sqlite(request, disk)
            yield f"sqlite:///{disk / 'amanah.db'}", disk
        return
    server: Postgres = request.getfixturevalue("postgres")
    template = migrated_postgres_template(request)
    tag = uuid.uuid4().hex[:12]
    # The server runs as the postgres user, which cannot enter pytest's private temp folder.
    with tmpfs(server.data.parent / f"space-{tag}", "64m") as disk:
        shutil.chown(disk, "postgres", "postgres")
        disk.chmod(0o700)
        admin = server.base_url.replace("+psycopg", "") + "postgres"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"CREATE TABLESPACE small_{tag} LOCATION '{disk}'")
            c.execute(f'CREATE DATABASE "full_{tag}" TEMPLATE "{template}" TABLESPACE small_{tag}')
        try:
            yield f"{server.base_url}full_{tag}", disk
        finally:
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "full_{tag}" WITH (FORCE)')
                c.execute(f"DROP TABLESPACE IF EXISTS small_{tag}")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_database_full_mid_ingest_names_the_database_and_a_rerun_completes(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    """Only the database is on the small disk: the run stops on its first failed commit,
    names the database, keeps what it committed, and a re-run completes."""
    src = tmp_path / "handover"
    # Long paths make large rows (the item and its custody event each carry the path), so
    # a thousand tiny files fill the database's slack in seconds.
    deep = src / ("d" * 250) / ("e" * 250) / ("f" * 250)
    deep.mkdir(parents=True)
    sources = {}
    for i in range(1000):
        name = f"{i:04d}-" + "n" * 240
        sources[name] = random_file(deep / name, 96, 1000 + i)
    with database_on_tmpfs(request, tmp_path, database) as (url, disk):
        home = tmp_path / "home"
        write_default_config(home, url)
        # Room to connect and start (PostgreSQL writes a cache file on the first connection),
        # not for a thousand items.
        remount(disk, str(shutil.disk_usage(disk).used + 512 * 1024))
        first = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert first.returncode == 1, first.stdout + first.stderr
        no_traceback(first)
        message = first.stderr.strip()
        assert message.count("\n") == 0, message
        shown = str(disk / "amanah.db") if database == "sqlite" else url.rsplit("/", 1)[1]
        assert message.startswith("error: database ") and shown in message, message
        assert "no space left on device" in message and "run the same command" in message
        assert_blobs_whole(home)
        kept = items(home)
        assert len(kept) < len(sources)
        assert all(r["status"] != "failed" for r in kept)
        assert kept_said(message) == len(kept)

        remount(disk, "64m")
        again = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert again.returncode == 0, again.stdout + again.stderr
        assert_blobs_whole(home)
        assert len(items(home)) == len(sources)
        verified = amanah(home, "verify", "--quiet")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_short_write_never_leaves_a_truncated_blob(tmp_path: Path) -> None:
    """The last chunk of a file only partly fits: the kernel stores some bytes and says so.

    Before, the count was ignored and the partial file renamed under the full hash."""
    src = tmp_path / "handover"
    big = random_file(src / "big.bin", 1_500_000, 7)
    with tmpfs(tmp_path / "disk", "4m") as disk:
        home = disk / "home"
        amanah(home, "init", check=True)
        filler = disk / "filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        # Leave room for the first 1 MiB chunk and part of the second, so the second write
        # is short (the kernel stores what fits and returns its count).
        with filler.open("wb") as f:
            f.write(b"\0" * max(0, free - 1_200_000))
        first = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert first.returncode == 1, first.stdout + first.stderr
        no_traceback(first)
        assert "no space left on device" in first.stderr and str(src / "big.bin") in first.stderr
        assert blob_files(home) == []
        assert_blobs_whole(home)
        assert items(home) == []
        assert kept_said(first.stderr) == 0

        filler.unlink()
        again = amanah(home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet")
        assert again.returncode == 0, again.stdout + again.stderr
        assert_items_equal_sources(home, {"big.bin": big}, tmp_path)
        assert amanah(home, "verify", "--quiet").returncode == 0


def _damage_blob(ws_home: Path, sha256: str, data: bytes) -> None:
    """Replace a stored blob's bytes behind Amanah's back (folder or S3)."""
    ws = open_workspace(ws_home, create=False)
    try:
        store = ws.blobs
        if hasattr(store, "path"):
            path = store.path(sha256)
            os.chmod(path, 0o600)
            path.write_bytes(data)
        else:
            store.client.put_object(Bucket=store.bucket, Key=store.key(sha256), Body=data)
    finally:
        ws.close()


def _remove_blob(ws_home: Path, sha256: str) -> None:
    """Delete a stored blob behind Amanah's back (folder or S3)."""
    ws = open_workspace(ws_home, create=False)
    try:
        store = ws.blobs
        if hasattr(store, "path"):
            store.path(sha256).unlink()
        else:
            store.client.delete_object(Bucket=store.bucket, Key=store.key(sha256))
    finally:
        ws.close()


def test_truncated_or_changed_blob_is_named_and_rewritten_by_a_later_put(
    home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "handover"
    victim = random_file(src / "victim.bin", 300_000, 11)
    other = random_file(src / "other.bin", 20_000, 12)
    ingest_here(home, src)
    sha = hashlib.sha256(victim).hexdigest()
    item_id = next(r["id"] for r in items(home) if str(r["original_path"]).endswith("victim.bin"))

    _damage_blob(home, sha, victim[:100_000])  # truncated
    fixity = amanah(home, "fixity", "--quiet")
    assert fixity.returncode == 1
    assert f"blob {sha}" in fixity.stdout and "altered" in fixity.stdout
    assert hashlib.sha256(other).hexdigest() not in fixity.stdout  # the sound blob is not named
    verify = amanah(home, "verify", "--quiet")
    assert verify.returncode == 1
    assert f"blob {sha} altered" in verify.stdout and f"item {item_id}" in verify.stdout

    # A later put of the same bytes must not trust the damaged copy: it is rewritten.
    again = amanah(
        home, "ingest", str(src), "--collection", "c", "--provider", "P", "--rehash", "--quiet"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert amanah(home, "fixity", "--quiet").returncode == 0
    assert amanah(home, "verify", "--quiet").returncode == 0
    ws = open_workspace(home, create=False)
    try:
        with ws.blobs.open(sha) as f:
            assert f.read() == victim
        with ws.db.reader() as s:
            repairs = [
                json.loads(d)
                for d in s.execute(
                    select(CustodyEvent.details).where(
                        CustodyEvent.object_type == "blob",
                        CustodyEvent.object_id == sha,
                        CustodyEvent.outcome == "failure",
                    )
                ).scalars()
            ]
    finally:
        ws.close()
    assert any(r.get("result") == "replaced" for r in repairs), repairs

    # Same size, one byte changed: named, and a later put checks the bytes, not the size.
    changed = bytearray(victim)
    changed[5] ^= 0xFF
    _damage_blob(home, sha, bytes(changed))
    verify = amanah(home, "verify", "--quiet")
    assert verify.returncode == 1 and f"blob {sha} altered" in verify.stdout
    again = amanah(
        home, "ingest", str(src), "--collection", "c", "--provider", "P", "--rehash", "--quiet"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert amanah(home, "verify", "--quiet").returncode == 0

    # Then gone altogether.
    _remove_blob(home, sha)
    verify = amanah(home, "verify", "--quiet")
    assert verify.returncode == 1 and f"blob {sha} missing" in verify.stdout


def test_missing_blob_is_named(sqlite_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "handover"
    data = random_file(src / "gone.bin", 5_000, 21)
    ingest_here(sqlite_home, src)
    sha = hashlib.sha256(data).hexdigest()
    path = sqlite_home / "blobs" / sha[:2] / sha[2:4] / sha
    path.unlink()
    fixity = amanah(sqlite_home, "fixity", "--quiet")
    assert fixity.returncode == 1 and "missing" in fixity.stdout and sha in fixity.stdout
    verify = amanah(sqlite_home, "verify", "--quiet")
    assert verify.returncode == 1 and f"blob {sha} missing" in verify.stdout


# -- verified derivatives -------------------------------------------------------------------


def test_swapped_derivative_fails_verify_naming_it(home: Path, tmp_path: Path) -> None:
    """The attack: an item's redacted row pointed at the original blob (database access only)."""
    import io

    from amanah.blobs.base import PutResult
    from amanah.preservation.derivatives import check_derivative
    from amanah.processing.pipeline import put_derivative

    src = tmp_path / "handover"
    random_file(src / "statement.bin", 40_000, 31)
    ingest_here(home, src)
    ws = open_workspace(home, create=False)
    try:
        with ws.db.reader() as s:
            item = s.execute(select(Item)).scalars().one()
            item_id, original = item.id, item.sha256
        put: PutResult = ws.blobs.put(io.BytesIO(b"REDACTED statement " * 100))
        ws.blobs.sync()
        with ws.db.session() as s:
            put_derivative(s, item_id, "redacted", put, "application/octet-stream", {})
        assert amanah(home, "verify", "--quiet").returncode == 0  # negative control
        with ws.db.reader() as s:
            d = s.execute(select(Derivative)).scalars().one()
            assert check_derivative(s, ws, d) is None

        with ws.db.session() as s:
            s.execute(
                text("UPDATE derivatives SET sha256 = :o, size = :n WHERE kind = 'redacted'"),
                {"o": original, "n": 40_000},
            )
        verify = amanah(home, "verify", "--quiet")
        assert verify.returncode == 1
        assert f"derivative 'redacted' of item {item_id}" in verify.stdout
        assert f"points at blob {original}" in verify.stdout
        with ws.db.reader() as s:
            d = s.execute(select(Derivative)).scalars().one()
            reason = check_derivative(s, ws, d)
        assert reason is not None and f"derivative 'redacted' of item {item_id}" in reason
    finally:
        ws.close()


@pytest.mark.parametrize("blobs", ["file", "s3"])
def test_derivative_bytes_changed_or_gone_are_caught_before_a_package_copies_them(
    request: pytest.FixtureRequest, tmp_path: Path, blobs: str
) -> None:
    import io

    from amanah.preservation.derivatives import check_derivative
    from amanah.processing.pipeline import put_derivative

    home = make_home(request, tmp_path, f"sqlite-{blobs}")
    src = tmp_path / "handover"
    random_file(src / "a.bin", 10_000, 41)
    ingest_here(home, src)
    ws = open_workspace(home, create=False)
    try:
        with ws.db.reader() as s:
            item_id = s.execute(select(Item.id)).scalar_one()
        put = ws.blobs.put(io.BytesIO(b"page text " * 50))
        ws.blobs.sync()
        with ws.db.session() as s:
            put_derivative(s, item_id, "text", put, "text/plain", {})
        _damage_blob(home, put.sha256, b"page TEXT " * 50)
        with ws.db.reader() as s:
            d = s.execute(select(Derivative)).scalars().one()
            reason = check_derivative(s, ws, d)
        assert reason is not None and "'text' of item" in reason and "hash to" in reason
        _remove_blob(home, put.sha256)
        with ws.db.reader() as s:
            reason = check_derivative(s, ws, d)
        assert reason is not None and f"blob {put.sha256} is missing from the store" in reason
    finally:
        ws.close()


def test_derivative_row_without_any_derivation_event_fails(
    sqlite_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "handover"
    data = random_file(src / "b.bin", 10_000, 51)
    ingest_here(sqlite_home, src)
    sha = hashlib.sha256(data).hexdigest()
    ws = open_workspace(sqlite_home, create=False)
    try:
        with ws.db.session() as s:
            item_id = s.execute(select(Item.id)).scalar_one()
            s.execute(
                text(
                    "INSERT INTO derivatives (item_id, kind, page, sha256, size, media_type,"
                    " details, created_at) VALUES (:i, 'redacted', 0, :h, 10000, 'x', '{}',"
                    " CURRENT_TIMESTAMP)"
                ),
                {"i": item_id, "h": sha},
            )
    finally:
        ws.close()
    verify = amanah(sqlite_home, "verify", "--quiet")
    assert verify.returncode == 1
    assert f"derivative 'redacted' of item {item_id}" in verify.stdout
    assert "no derivation event names its blob" in verify.stdout


# -- attributable custody -------------------------------------------------------------------


def _as_judge(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line with the login variables claiming someone else."""
    spoof = {"LOGNAME": "judge.smith", "USER": "judge.smith", "USERNAME": "judge.smith"}
    return subprocess.run(
        [sys.executable, "-m", "amanah.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **spoof},
        check=False,
    )


def test_spoofed_logname_is_not_recorded(sqlite_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "handover"
    random_file(src / "c.bin", 3_000, 61)
    done = _as_judge(sqlite_home, "ingest", str(src), "--collection", "c", "--provider", "P")
    assert done.returncode == 0, done.stderr
    random_file(src / "d.bin", 3_000, 62)
    done = _as_judge(sqlite_home, "ingest", str(src), "--collection", "c", "--actor", "demo-legal")
    assert done.returncode == 0, done.stderr
    ws = open_workspace(sqlite_home, create=False)
    try:
        with ws.db.reader() as s:
            actors = set(s.execute(select(CustodyEvent.actor)).scalars())
            intake = set(s.execute(select(Item.intake_actor)).scalars())
    finally:
        ws.close()
    assert actors == {OS_ACTOR, f"{OS_ACTOR} as amanah:demo-legal"}, actors
    assert intake == actors
    export = tmp_path / "export"
    assert _as_judge(sqlite_home, "custody", "export", str(export)).returncode == 0
    assert "judge" not in (export / "ledger.jsonl").read_text()


# -- a private home -------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_home_is_private_from_the_start(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    src = tmp_path / "handover"
    random_file(src / "e.bin", 3_000, 71)
    amanah(home, "init", check=True)  # only init makes a home (a mistyped --home makes none)
    ingest_cli(home, src)
    assert _mode(home) == 0o700
    assert _mode(home / "amanah.toml") == 0o600
    assert _mode(home / "amanah.db") == 0o600
    assert _mode(home / "keys") == 0o700
    for key in (home / "keys").iterdir():
        assert _mode(key) == 0o600, key
    blobs = blob_files(home)
    assert blobs
    for blob in blobs:
        assert _mode(blob) == 0o400, blob
        assert _mode(blob.parent) == 0o700 and _mode(blob.parent.parent) == 0o700
    assert _mode(home / "blobs") == 0o700 and _mode(home / "blobs" / ".tmp") == 0o700
    # While the database is open, its WAL and shared-memory files are private too.
    ws = open_workspace(home, create=False)
    try:
        with ws.db.session() as s:
            s.execute(text("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)"))
        for suffix in ("-wal", "-shm"):
            side = home / f"amanah.db{suffix}"
            if side.exists():
                assert _mode(side) == 0o600, side
    finally:
        ws.close()


def test_an_older_world_readable_home_is_tightened(tmp_path: Path) -> None:
    home = tmp_path / "old"
    src = tmp_path / "handover"
    random_file(src / "f.bin", 3_000, 81)
    amanah(home, "init", check=True)
    ingest_here(home, src)
    # As an older version left it: 0755 folders, 0644 files, 0444 blobs.
    blobs = set(blob_files(home))
    for path in [home, *home.rglob("*")]:
        wide = 0o755 if path.is_dir() else 0o444 if path in blobs else 0o644
        os.chmod(path, wide)
    assert amanah(home, "fixity", "--quiet").returncode == 0
    assert _mode(home) == 0o700
    assert _mode(home / "amanah.db") == 0o600
    assert _mode(home / "amanah.toml") == 0o600
    for key in (home / "keys").iterdir():
        assert _mode(key) == 0o600
    for blob in blob_files(home):
        assert _mode(blob) == 0o400 and _mode(blob.parent) == 0o700


# -- backup and restore ---------------------------------------------------------------------


def _restore_args(request: pytest.FixtureRequest, home: Path) -> list[str]:
    text_ = (home / "amanah.toml").read_text()
    if 'database_url = "postgresql' in text_:
        return ["--database-url", request.getfixturevalue("postgres").create_database()]
    return []


def test_backup_restore_into_a_fresh_folder_verifies(
    request: pytest.FixtureRequest, home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "handover"
    sources = {
        "g.bin": random_file(src / "g.bin", 200_000, 91),
        "h.txt": random_file(src / "h.txt", 2_000, 92),
    }
    ingest_here(home, src)
    backup = tmp_path / "backup"
    made = amanah(home, "backup", str(backup))
    assert made.returncode == 0, made.stdout + made.stderr
    sums = (backup / "SHA256SUMS").read_text().splitlines()
    listed = {line.split("  ", 1)[1] for line in sums}
    assert "home/amanah.toml" in listed and "manifest.json" in listed
    assert any(rel.startswith("home/keys/") for rel in listed)
    for name, data in sources.items():
        sha = hashlib.sha256(data).hexdigest()
        assert f"blobs/{sha[:2]}/{sha[2:4]}/{sha}" in listed, name
    assert not list(tmp_path.glob(".backup.partial-*"))

    restored = tmp_path / "restored"
    args = _restore_args(request, home)
    done = amanah(home, "restore", str(backup), str(restored), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert amanah(restored, "verify", "--quiet").returncode == 0
    assert_items_equal_sources(restored, sources, tmp_path)
    assert _mode(restored) == 0o700
    # Never over an existing home.
    again = amanah(home, "restore", str(backup), str(restored), *args)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_restore_refuses_a_tampered_backup(sqlite_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "handover"
    data = random_file(src / "k.bin", 50_000, 101)
    ingest_here(sqlite_home, src)
    backup = tmp_path / "backup"
    amanah(sqlite_home, "backup", str(backup), check=True)
    sha = hashlib.sha256(data).hexdigest()
    blob = backup / "blobs" / sha[:2] / sha[2:4] / sha
    os.chmod(blob, 0o600)
    blob.write_bytes(data[:-1] + b"X")
    refused = amanah(sqlite_home, "restore", str(backup), str(tmp_path / "r1"))
    assert refused.returncode == 2 and str(blob) in refused.stderr
    assert not (tmp_path / "r1").exists()
    blob.write_bytes(data)
    (backup / "home" / "extra.txt").write_text("slipped in")
    refused = amanah(sqlite_home, "restore", str(backup), str(tmp_path / "r2"))
    assert (
        refused.returncode == 2 and "extra.txt" in refused.stderr and "not listed" in refused.stderr
    )
    (backup / "home" / "extra.txt").unlink()
    assert amanah(sqlite_home, "restore", str(backup), str(tmp_path / "r3")).returncode == 0


def _pages(size: int) -> int:
    return -(-size // 4096)


@pytest.mark.parametrize("fills_at", ["a blob", "the manifest"])
def test_a_backup_onto_a_full_disk_names_the_file_and_leaves_nothing(
    sqlite_home: Path, tmp_path: Path, fills_at: str
) -> None:
    """A backup drive that fills (at a blob, or exactly at the manifest after every copy
    fitted) stops with the file it could not write, leaves no partial folder that could pass
    for a backup, and a backup once space is back is whole."""
    src = tmp_path / "handover"
    random_file(src / "a.bin", 900_000, 1)
    random_file(src / "b.bin", 900_000, 2)
    ingest_here(sqlite_home, src)
    if fills_at == "a blob":
        size = "1m"
    else:  # the pages of a backup but its two last files (tmpfs counts whole pages)
        sizer = tmp_path / "sizer"
        assert amanah(sqlite_home, "backup", str(sizer)).returncode == 0
        pages = 0
        for f in sizer.rglob("*"):
            if f.is_file() and f.name not in ("manifest.json", "SHA256SUMS"):
                # Each backup appends one checkpoint (~265 bytes) to the log it copies.
                grows = 1024 if f.name == "checkpoints.log" else 0
                pages += _pages(f.stat().st_size + grows)
        size = str(pages * 4096)
    with tmpfs(tmp_path / "drive", size) as drive:
        made = amanah(sqlite_home, "backup", str(drive / "backup"))
        assert made.returncode == 1, made.stdout + made.stderr
        no_traceback(made)
        last = made.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: {drive}/.backup.partial-"), last
        assert last.endswith(": no space left on device; no backup was written"), last
        written = last.split(": ")[1]
        if fills_at == "a blob":
            assert "/blobs/" in written, last
        else:
            assert written.endswith("/manifest.json"), last
        assert list(drive.iterdir()) == []  # nothing left that could pass for a backup
        assert amanah(sqlite_home, "verify", "--quiet").returncode == 0

        remount(drive, "16m")
        again = amanah(sqlite_home, "backup", str(drive / "backup"))
        assert again.returncode == 0, again.stdout + again.stderr
        listed = check_backup(drive / "backup")
        assert {rel.split("/")[0] for rel in listed} >= {"blobs", "database", "home"}


def test_backup_does_not_copy_a_damaged_blob_under_its_name(
    sqlite_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "handover"
    data = random_file(src / "m.bin", 8_000, 111)
    ingest_here(sqlite_home, src)
    sha = hashlib.sha256(data).hexdigest()
    _damage_blob(sqlite_home, sha, data[:10])
    backup = tmp_path / "backup"
    made = amanah(sqlite_home, "backup", str(backup))
    assert made.returncode == 1 and f"blob {sha}" in made.stdout
    assert not (backup / "blobs" / sha[:2] / sha[2:4] / sha).exists()


def test_restored_older_backup_fails_a_later_witnessed_checkpoint(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """Rolling a home back to an older backup is caught by a checkpoint someone kept."""
    ingest_here(sqlite_home, _folder(tmp_path, "one"))
    backup = tmp_path / "backup"
    amanah(sqlite_home, "backup", str(backup), check=True)
    ingest_here(sqlite_home, _folder(tmp_path, "two"))
    kept = tmp_path / "kept-checkpoint.json"
    cp = amanah(sqlite_home, "custody", "checkpoint", "--json", check=True)
    kept.write_text(cp.stdout)
    restored = tmp_path / "restored"
    amanah(sqlite_home, "restore", str(backup), str(restored), "--no-verify", check=True)
    assert amanah(restored, "verify", "--quiet").returncode == 0  # consistent in itself
    witnessed = amanah(restored, "verify", "--quiet", "--witness", str(kept))
    assert witnessed.returncode == 1, witnessed.stdout + witnessed.stderr


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / f"handover-{name}"
    random_file(folder / f"{name}.bin", 5_000, sum(name.encode()))
    return folder


def test_a_web_upload_on_a_full_disk_answers_507_and_resumes_whole(
    site: Site, tmp_path: Path
) -> None:
    """The upload spool fills mid-upload: the client gets 507 with no server path, what
    arrived whole is kept, and once space is back the upload resumes to a whole item."""
    data = random_file(tmp_path / "upload.bin", 1_800_000, 7)
    api = site.api("intake")
    spool = site.ws.home / "uploads"
    spool.mkdir(exist_ok=True)
    with tmpfs(spool, "1m") as disk:
        up = api.post(
            f"/api/v1/collections/{BLUE}/uploads", json={"filename": "big.bin", "size": len(data)}
        ).json()
        uid, part = up["upload_id"], 600_000
        r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=data[:part])
        assert r.status_code == 200 and r.json()["received"] == part
        r = api.put(f"/api/v1/uploads/{uid}?offset={part}", content=data[part : 2 * part])
        assert r.status_code == 507, r.text
        said = r.json()["error"]
        assert "space" in said and str(site.ws.home) not in said and "/" not in said, said
        received = api.get(f"/api/v1/uploads/{uid}").json()["received"]
        assert part <= received < 2 * part
        with (disk / uid).open("rb") as f:
            assert f.read() == data[:received]  # what is kept is the upload's own bytes
        remount(disk, "8m")  # space comes back
        r = api.put(f"/api/v1/uploads/{uid}?offset={received}", content=data[received:])
        assert r.status_code == 200, r.text
        receipt = r.json()
        assert receipt["complete"] and receipt["sha256"] == hashlib.sha256(data).hexdigest()
    with site.ws.blobs.open(receipt["sha256"]) as f:
        assert f.read() == data
    item = site.api("admin").get(f"/api/v1/items/{receipt['item_id']}").json()
    assert item["sha256"] == receipt["sha256"] and item["original_path"] == "big.bin"


def test_a_web_upload_when_the_database_is_full_answers_507_and_completes_later(
    site_template: Path, tmp_path: Path
) -> None:
    """Every byte arrived and the blob is stored, but the database cannot take the item: the
    client gets 507 naming no server path, and an empty resume once space is back completes
    the upload to a whole item."""
    data = random_file(tmp_path / "upload.bin", 300_000, 8)
    with tmpfs(tmp_path / "disk", "64m") as disk:

        def database_on_disk(home: Path) -> None:
            for f in home.glob("amanah.db*"):
                shutil.move(f, disk / f.name)
            set_setting(home, "database_url", f"sqlite:///{disk}/amanah.db")

        site = copy_site(site_template, tmp_path, database_on_disk)
        try:
            api = site.api("intake")
            offer = {"filename": "big.bin", "size": len(data)}
            uid = api.post(f"/api/v1/collections/{BLUE}/uploads", json=offer).json()["upload_id"]
            remount(disk, str(shutil.disk_usage(disk).used + 4096))  # no room for the item
            r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=data)
            assert r.status_code == 507, r.text
            said = r.json()["error"]
            assert said.startswith("big.bin: ") and "no space left on device" in said, said
            assert "/" not in said and str(disk) not in said, said
            got = api.get(f"/api/v1/uploads/{uid}").json()
            assert got["received"] == len(data) and not got["complete"]

            remount(disk, "64m")
            r = api.put(f"/api/v1/uploads/{uid}?offset={len(data)}", content=b"")
            assert r.status_code == 200, r.text
            receipt = r.json()
            assert receipt["complete"] and receipt["sha256"] == hashlib.sha256(data).hexdigest()
            item = site.api("admin").get(f"/api/v1/items/{receipt['item_id']}").json()
            assert item["sha256"] == receipt["sha256"] and item["original_path"] == "big.bin"
            with site.ws.blobs.open(receipt["sha256"]) as f:
                assert f.read() == data
        finally:
            site.app.state.sandboxes.close()  # type: ignore[attr-defined]
            site.ws.close()
