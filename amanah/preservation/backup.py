"""Backup and restore: a consistent, self-checking copy of one installation.

A backup is a folder:

    manifest.json      what was copied, from where, when, and any problem met
    SHA256SUMS         `sha256sum -c` format: every other file of the backup
    home/…             every file of the home (configuration, keys, checkpoint log, uploads,
                       packages…) except temporary folders, the database and the blob folder
    database/amanah.db      SQLite: a snapshot taken with SQLite's online backup API
    database/amanah.pgdump  PostgreSQL: `pg_dump --format=custom`
    blobs/ab/cd/abcd…  every blob of the store (folder or S3), re-hashed while copied

Order makes it consistent without stopping the installation: small files of the home first
(so the checkpoint log is never ahead of the database), then the database snapshot, then the
blobs (written once and before any row names them, so every blob the snapshot names is
already there). The backup is written into a temporary folder, flushed, and renamed into place:
it exists whole or not at all.

Restore refuses to overwrite anything, checks every file against SHA256SUMS, rebuilds a home
in a temporary folder (database into it, or into the PostgreSQL database given; blobs into a
folder store, or the S3 store given) and renames it into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.engine import make_url

from amanah import __version__, partials
from amanah.blobs import BlobError, FilesystemStore, StorageError, open_store
from amanah.blobs.base import CHUNK, BlobAltered, check_sha256
from amanah.blobs.durable import fsync_fd, fsync_path, storage_error, write_all, write_file
from amanah.config import CONFIG_NAME, load_settings
from amanah.custody import verifier
from amanah.db.models import Blob
from amanah.system import private_files
from amanah.workspace import Workspace, sqlite_file

FORMAT = "amanah-backup 1"
SUMS = "SHA256SUMS"
MANIFEST = "manifest.json"
#: Folders that hold only work in progress, never evidence or its record: anywhere, and at the
#: top of the home.
TEMPORARY = frozenset({".tmp"})
TEMPORARY_IN_HOME = frozenset({"work"})


class BackupError(Exception):
    """The backup or restore cannot be made as asked; the message says what is needed."""


@dataclass
class BackupReport:
    path: Path
    files: int = 0
    bytes: int = 0
    blobs: int = 0
    database: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _copy(src: BinaryIO, dest: Path, mode: int = 0o600) -> tuple[str, int]:
    """Stream `src` to a new file `dest`, every write checked and flushed: (sha256, size)."""
    h = hashlib.sha256()
    size = 0
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise storage_error(exc, dest) from exc
    try:
        while data := src.read(CHUNK):
            h.update(data)
            size += write_all(fd, data, dest)
        fsync_fd(fd, dest)
    finally:
        os.close(fd)
    return h.hexdigest(), size


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(CHUNK):
            h.update(data)
    return h.hexdigest()


def _fsync_tree(root: Path) -> None:
    for folder, _, _ in os.walk(root):
        fsync_path(Path(folder))


def _blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


class _Writer:
    """Files written into the backup folder, each hashed as written, for SHA256SUMS."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sums: dict[str, str] = {}
        self.bytes = 0

    def add(self, rel: str, src: BinaryIO, mode: int = 0o600) -> str:
        dest = self.root / rel
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        sha256, size = _copy(src, dest, mode)
        self.sums[rel] = sha256
        self.bytes += size
        return sha256

    def add_file(self, rel: str, path: Path) -> None:
        with open(path, "rb") as f:
            self.add(rel, f)


def _home_files(home: Path, skip: set[Path]) -> Iterator[Path]:
    """Every regular file of the home except temporary folders and what `skip` names."""
    for folder, dirs, files in os.walk(home):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in TEMPORARY
            and not (here == home and d in TEMPORARY_IN_HOME)
            and ".partial-" not in d
            and here / d not in skip
        )
        for name in sorted(files):
            path = here / name
            if path in skip or name.endswith(".tmp") or not path.is_file() or path.is_symlink():
                continue
            yield path


def _db_files(settings_db: Path | None) -> set[Path]:
    if settings_db is None:
        return set()
    return {settings_db.with_name(settings_db.name + s) for s in ("", "-wal", "-shm", "-journal")}


def _pg_tool(name: str) -> str | None:
    """The newest pg_dump / pg_restore: a dump needs a client at least as new as the server."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_version_key)
    if found:
        return str(found[-1])
    return shutil.which(name)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as a libpq one, the password moved to the environment (not argv)."""
    u = make_url(url)
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _snapshot_database(ws: Workspace, out: _Writer, report: BackupReport) -> None:
    url = ws.settings.database_url
    db_file = sqlite_file(url)
    if db_file is not None:
        import sqlite3

        dest = out.root / "database" / "amanah.db"
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        src = sqlite3.connect(db_file)
        try:
            copy = sqlite3.connect(dest)
            try:
                src.backup(copy)  # a consistent snapshot, however busy the database is
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise BackupError(f"{db_file}: cannot take a snapshot: {exc}") from exc
        finally:
            src.close()
        fd = os.open(dest, os.O_RDONLY)
        try:
            fsync_fd(fd, dest)
        finally:
            os.close(fd)
        out.sums["database/amanah.db"] = _hash_file(dest)
        out.bytes += dest.stat().st_size
        report.database = "sqlite"
        return
    if url.startswith("postgresql"):
        pg_dump = _pg_tool("pg_dump")
        if pg_dump is None:
            raise BackupError(
                "the database is PostgreSQL and pg_dump is not installed: install the"
                " PostgreSQL client (Debian: postgresql-client) at least as new as the server"
            )
        dest = out.root / "database" / "amanah.pgdump"
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        conninfo, env = _libpq(url)
        done = subprocess.run(
            [pg_dump, "--format=custom", "--no-owner", "--file", str(dest), "--dbname", conninfo],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[-500:]}")
        fsync_path(dest)
        out.sums["database/amanah.pgdump"] = _hash_file(dest)
        out.bytes += dest.stat().st_size
        report.database = "postgresql"
        return
    raise BackupError(f"database {url.split(':', 1)[0]}: backup supports SQLite and PostgreSQL")


def _registered(ws: Workspace) -> set[bytes]:
    """The blob register's SHA-256s (as 32 bytes each: a million blobs hold ~70 MB)."""
    with ws.db.reader() as s:
        return {bytes.fromhex(h) for h in s.execute(select(Blob.sha256)).scalars()}


def _copy_blobs(
    ws: Workspace, out: _Writer, report: BackupReport, registered: set[bytes] | None = None
) -> None:
    """Every blob, re-hashed while copied: a damaged one is named, never copied under its name.
    The store's folder is walked (its blobs registered later are copied too); every blob in
    `registered` (the register read before the database snapshot, whose bytes were durable
    before their row committed) must be met on the walk, or the backup names it missing."""
    missing = set(registered or ())
    for sha256 in ws.blobs.iter_sha256():
        try:
            check_sha256(sha256)
        except BlobError:
            continue  # not a blob (a stray file in the store's folder)
        missing.discard(bytes.fromhex(sha256))
        rel = f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"
        try:
            with ws.blobs.open(sha256) as f:
                actual = out.add(rel, f, mode=0o400)
        except StorageError:
            raise
        except (BlobError, BlobAltered, OSError) as exc:  # a link or a FIFO in its place too
            report.problems.append(f"blob {sha256}: cannot be read: {exc}")
            continue
        if actual != sha256:
            (out.root / rel).unlink()
            del out.sums[rel]
            report.problems.append(
                f"blob {sha256}: its bytes hash to {actual}; not copied (run `amanah fixity`)"
            )
            continue
        report.blobs += 1
    for raw in sorted(missing):
        report.problems.append(
            f"blob {raw.hex()}: registered but missing from the blob store; not in the backup"
            " (run `amanah verify`)"
        )


def backup(
    ws: Workspace, target: Path, on_step: Callable[[str], None] | None = None
) -> BackupReport:
    """Write a backup of `ws` to the new folder `target` (refused if it exists)."""
    with private_files():
        return _backup(ws, target, on_step)


def _backup(ws: Workspace, target: Path, on_step: Callable[[str], None] | None) -> BackupReport:
    target = target.absolute()
    if target.exists():
        raise BackupError(f"{target}: already exists; a backup is written to a new folder")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    step = on_step or (lambda _: None)
    partials.sweep(target.parent)  # what a killed backup left here: the keys among it
    work = partials.work_folder(target, "partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    report = BackupReport(path=target)
    try:
        out = _Writer(work)
        home = ws.home
        db_file = sqlite_file(ws.settings.database_url)
        skip = _db_files(db_file)
        store = ws.blobs
        if isinstance(store, FilesystemStore):
            skip.add(store.root)
        step("home files")
        for path in _home_files(home, skip):
            try:
                out.add_file(f"home/{path.relative_to(home).as_posix()}", path)
            except FileNotFoundError:
                continue  # removed while we walked (a finished upload's spool)
        step("database snapshot")
        registered = _registered(ws)  # before the snapshot: each is in it, its bytes stored
        _snapshot_database(ws, out, report)
        step("blobs")
        _copy_blobs(ws, out, report, registered)
        manifest = {
            "format": FORMAT,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "amanah": __version__,
            "source_home": str(home),
            "database": report.database,
            "blob_store": store.url,
            "blobs": report.blobs,
            "files": len(out.sums) + 1,
            "problems": report.problems,
        }
        write_file(work / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
        out.sums[MANIFEST] = _hash_file(work / MANIFEST)
        lines = "".join(f"{sha}  {rel}\n" for rel, sha in sorted(out.sums.items()))
        write_file(work / SUMS, lines.encode())
        _fsync_tree(work)
        if target.exists():
            raise BackupError(f"{target}: appeared while the backup was written; kept it as is")
        os.rename(work, target)
        fsync_path(target.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report.files = len(out.sums) + 1
    report.bytes = out.bytes
    return report


# -- restore ------------------------------------------------------------------------------


def check_backup(source: Path) -> dict[str, str]:
    """Every file listed in SHA256SUMS present with its digest, and no file unlisted."""
    sums_path = source / SUMS
    if not sums_path.is_file():
        raise BackupError(f"{source}: not an Amanah backup (no {SUMS})")
    listed: dict[str, str] = {}
    for n, raw in enumerate(sums_path.read_bytes().splitlines(), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:  # damaged media: named, never a traceback
            raise BackupError(f"{sums_path}: line {n} is not UTF-8 (damaged)") from None
        digest, sep, rel = line.partition("  ")
        if not sep or not re.fullmatch(r"[0-9a-f]{64}", digest) or _unsafe(rel):
            raise BackupError(f"{sums_path}: line {n} is not `SHA256  PATH`")
        listed[rel] = digest
    if MANIFEST not in listed:
        raise BackupError(f"{sums_path}: does not list {MANIFEST}")
    present = {
        p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file() or p.is_symlink()
    } - {SUMS}
    if extra := sorted(present - set(listed)):
        raise BackupError(f"{source / extra[0]}: not listed in {SUMS} (added after the backup)")
    for rel, digest in sorted(listed.items()):
        path = source / rel
        if path.is_symlink() or not path.is_file():
            raise BackupError(f"{path}: listed in {SUMS} but missing")
        actual = _hash_file(path)
        if actual != digest:
            raise BackupError(f"{path}: its SHA-256 is {actual}, {SUMS} says {digest}")
    manifest = read_manifest(source)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST}: format {manifest.get('format')!r} unknown")
    return listed


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest.json, or BackupError naming it and why it cannot be read."""
    path = source / MANIFEST
    try:
        manifest = verifier.loads(path.read_bytes())
    except OSError as exc:
        raise BackupError(f"{path}: cannot be read: {exc.strerror}") from exc
    except ValueError as exc:  # not JSON, not UTF-8, or JSON of no single meaning
        raise BackupError(f"{path}: not a backup manifest (not valid JSON: {exc})") from exc
    if not isinstance(manifest, dict):
        raise BackupError(f"{path}: not a backup manifest (not a JSON object)")
    return manifest


def _unsafe(rel: str) -> bool:
    parts = rel.split("/")
    return not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts)


def _set_config(config: Path, **values: str) -> None:
    """Point the restored configuration at its new database and blob store."""
    text = config.read_text(encoding="utf-8")
    for key, value in values.items():
        line = f"{key} = {json.dumps(value)}"
        pattern = re.compile(rf"^{key}\s*=.*$", re.MULTILINE)
        text = pattern.sub(line, text, count=1) if pattern.search(text) else f"{text}\n{line}\n"
    write_file(config, text.encode("utf-8"))


def restore(
    source: Path,
    home: Path,
    database_url: str | None = None,
    blob_store: str | None = None,
    s3_endpoint: str = "",
) -> dict[str, object]:
    """Rebuild a home from a backup into the new folder `home` (refused if it exists)."""
    with private_files():
        return _restore(source, home, database_url, blob_store, s3_endpoint)


def _restore(
    source: Path, home: Path, database_url: str | None, blob_store: str | None, s3_endpoint: str
) -> dict[str, object]:
    source, home = source.absolute(), home.absolute()
    if home.exists():
        raise BackupError(f"{home}: already exists; restore never overwrites a home")
    if not home.parent.is_dir():
        raise BackupError(f"{home.parent}: no such folder")
    listed = check_backup(source)
    manifest = read_manifest(source)
    pgdump = "database/amanah.pgdump" in listed
    if pgdump and not database_url:
        raise BackupError(
            "this backup holds a PostgreSQL dump: give --database-url of a new, empty"
            " PostgreSQL database to restore it into"
        )
    if database_url and not pgdump:
        raise BackupError("this backup holds a SQLite database; --database-url is not needed")
    partials.sweep(home.parent)
    work = partials.work_folder(home, "restoring")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        for rel in sorted(listed):
            if rel.startswith("home/"):
                dest = work / rel.removeprefix("home/")
                dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                with open(source / rel, "rb") as f:
                    _copy(f, dest)
        config = work / CONFIG_NAME
        if not config.is_file():
            raise BackupError(f"{source}: the backup holds no {CONFIG_NAME}")
        settings: dict[str, str] = {}
        if pgdump:
            _pg_restore(source / "database/amanah.pgdump", str(database_url))
            settings["database_url"] = str(database_url)
        else:
            with open(source / "database/amanah.db", "rb") as f:
                _copy(f, work / "amanah.db")
            settings["database_url"] = "sqlite:///amanah.db"
        blobs = [rel for rel in listed if rel.startswith("blobs/")]
        if blob_store and blob_store.startswith("s3://"):
            store = open_store(blob_store, work, s3_endpoint)
            ensure = getattr(store, "ensure_bucket", None)
            if ensure is not None:
                ensure()
            for rel in sorted(blobs):
                with open(source / rel, "rb") as f:
                    put = store.put(f)
                if put.sha256 != rel.rsplit("/", 1)[-1]:
                    raise BackupError(f"{source / rel}: stored as {put.sha256}")
            settings["blob_store"] = blob_store
            settings["s3_endpoint"] = s3_endpoint
        else:
            folder = work / "blobs"
            FilesystemStore(folder)  # the store's own folders and modes
            for rel in sorted(blobs):
                name = rel.rsplit("/", 1)[-1]
                try:
                    check_sha256(name)
                except BlobError as exc:
                    raise BackupError(f"{source / rel}: not a blob of the backup ({exc})") from exc
                dest = _blob_path(folder, name)
                dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                with open(source / rel, "rb") as f:
                    actual, _ = _copy(f, dest, mode=0o400)
                if actual != name:  # SHA256SUMS rewritten to match: still not this blob's bytes
                    raise BackupError(
                        f"{source / rel}: its bytes hash to {actual}, not the SHA-256 it is"
                        " named by; nothing is restored"
                    )
            settings["blob_store"] = "file:blobs"
        _set_config(config, **settings)
        load_settings(work)  # the configuration still reads
        _fsync_tree(work)
        os.rename(work, home)
        fsync_path(home.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {
        "home": str(home),
        "from": str(source),
        "created": manifest.get("created"),
        "files": len(listed),
        "blobs": len(blobs),
        "database": "postgresql" if pgdump else "sqlite",
    }


def _pg_restore(dump: Path, database_url: str) -> None:
    pg_restore = _pg_tool("pg_restore")
    if pg_restore is None:
        raise BackupError(
            "pg_restore is not installed: install the PostgreSQL client (Debian:"
            " postgresql-client) at least as new as the server of the dump"
        )
    conninfo, env = _libpq(database_url)
    done = subprocess.run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            conninfo,
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(
            f"pg_restore into the database given failed (it must be new and empty):"
            f" {done.stderr.strip()[-500:]}"
        )
