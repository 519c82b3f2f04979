"""What a killed package build, backup or restore leaves is removed by the next run (adversary
I, C2).

Each builds in a hidden `.NAME.partial-…` / `.NAME.restoring-…` folder beside its target: copies
of evidence and, for backup and restore, the database, the private ledger key and the names
key. A kill -9 runs no clean-up, so the folder stayed for good. Now the next run into the same
parent folder removes those whose process is gone, and says so; `amanah partials` lists them;
a folder whose run is still going is never touched. Each kill here is a real SIGKILL of a
child process at a chosen point.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import amanah, ingest_cli

#: A child that runs one step of Amanah and kills itself (SIGKILL) where `point` is reached.
CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from amanah.preservation import backup as b
    from amanah.sharing import package
    from amanah.workspace import open_workspace
    what, home, target, how = sys.argv[1:5]
    def stop(*_a, **_k):
        if how == "wait":  # a live run: says where it is, then waits to be killed
            Path(target + ".ready").write_text("")
            time.sleep(600)
        os.kill(os.getpid(), signal.SIGKILL)
    if what == "backup":
        b._copy_blobs = stop
        b.backup(open_workspace(home), Path(target))
    elif what == "restore":
        real = b._copy
        def copy(*a, **k):
            real(*a, **k)
            stop()
        b._copy = copy
        b.restore(Path(home), Path(target), None, None, "")
    else:
        from amanah.access import local_administrator
        ws = open_workspace(home)
        real = package._copy
        n = [0]
        def copy(*a, **k):
            real(*a, **k)
            n[0] += 1
            if n[0] == 2:
                stop()
        if how == "kill":
            package._copy = copy
        elif how == "uncommitted":  # everything written, the transaction not yet committed
            advance = package.requests.advance
            def advanced(*a, **k):
                advance(*a, **k)
                stop()
            package.requests.advance = advanced
        else:  # "unplaced": committed, not yet renamed; "placed": renamed
            rename = Path.rename
            def renamed(self, to):
                if ".partial-PKG" in self.name and how == "unplaced":
                    stop()
                done = rename(self, to)
                if ".partial-PKG" in self.name:
                    stop()
                return done
            Path.rename = renamed
        package.build(ws, local_administrator(ws, "test"), "DEMO-RFA-001", Path(target))
    """
)


def child(what: str, home: Path, target: Path, how: str = "kill") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, what, str(home), str(target), how],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def killed(what: str, home: Path, target: Path, how: str = "kill") -> None:
    proc = child(what, home, target, how)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == -9, stderr.decode()


def hidden(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def small_home(sqlite_home: Path, tmp_path: Path) -> Path:
    src = tmp_path / "handover"
    src.mkdir()
    (src / "statement.txt").write_text("a statement\n")
    (src / "photo.bin").write_bytes(bytes(range(256)) * 64)
    ingest_cli(sqlite_home, src)
    return sqlite_home


def test_a_killed_backup_is_removed_by_the_next_backup_and_said(
    small_home: Path, tmp_path: Path
) -> None:
    drive = tmp_path / "drive"
    drive.mkdir()
    killed("backup", small_home, drive / "b1")
    [left] = hidden(drive)
    assert ".b1.partial-" in left.name
    assert (left / "home" / "keys" / "ledger-ed25519.pem").exists()  # what was at stake
    assert (left / "database" / "amanah.db").exists()

    listed = amanah(small_home, "partials", str(drive))
    assert listed.returncode == 1
    assert listed.stdout.startswith(f"gone      {left}")

    made = amanah(small_home, "backup", str(drive / "b1"))
    assert made.returncode == 0, made.stderr
    assert f"warning: removed {left}, left by a package build or backup run" in made.stderr
    assert hidden(drive) == []
    assert amanah(small_home, "partials", str(drive)).stdout.strip() == "no partial folders"


def test_a_running_backups_folder_is_never_removed(small_home: Path, tmp_path: Path) -> None:
    drive = tmp_path / "drive"
    drive.mkdir()
    live = child("backup", small_home, drive / "b1", how="wait")
    try:
        deadline = time.monotonic() + 120
        while not (drive / "b1.ready").exists():
            assert live.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        [working] = hidden(drive)
        listed = amanah(small_home, "partials", str(drive), "--remove")
        assert listed.returncode == 0
        assert listed.stdout.startswith(f"running   {working}")
        made = amanah(small_home, "backup", str(drive / "b2"))
        assert made.returncode == 0, made.stderr
        assert working.is_dir() and "removed" not in made.stderr
    finally:
        live.kill()
        live.wait()
    # Its run is gone now: `partials --remove` removes it.
    done = amanah(small_home, "partials", str(drive), "--remove")
    assert done.stdout.startswith(f"removed   {working}")
    assert not working.exists()


def test_a_killed_restore_is_removed_by_the_next_restore(small_home: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    assert amanah(small_home, "backup", str(backup)).returncode == 0
    killed("restore", backup, tmp_path / "restored")
    [left] = [p for p in hidden(tmp_path) if ".restored.restoring-" in p.name]
    assert list(left.rglob("*.pem")) or list(left.rglob("*"))  # keys or files were copied

    done = amanah(small_home, "restore", str(backup), str(tmp_path / "restored"), "--no-verify")
    assert done.returncode == 0, done.stderr
    assert f"warning: removed {left}, left by a restore run" in done.stderr
    assert not left.exists()


def test_folders_named_as_older_versions_did_are_listed_not_removed(
    small_home: Path, tmp_path: Path
) -> None:
    """A folder that names no process may be a run still going: a person judges it."""
    old = tmp_path / ".pkg.partial-PKG-20261207-0A1B2C3D"
    old.mkdir()
    backup = tmp_path / ".b1.partial-999999999"  # no host: maybe another program's
    backup.mkdir()
    listed = amanah(small_home, "partials", str(tmp_path), "--remove")
    assert listed.returncode == 1
    assert listed.stdout.splitlines() == [
        f"unknown   {backup}  (process 999999999)",
        f"unknown   {old}  (process None)".replace("process None", "no process named"),
    ]
    assert old.is_dir() and backup.is_dir()


def test_a_killed_package_build_is_removed_by_the_next_build(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    from tests.test_package_tamper import demo_package

    home = tmp_path / "home"
    shutil.copytree(demo_package(tmp_path_factory) / "home", home, symlinks=True)
    out = tmp_path / "out"
    out.mkdir()
    killed("package", home, out / "pkg")
    [left] = hidden(out)
    assert ".pkg.partial-PKG-" in left.name and list((left / "data").iterdir())

    built = amanah(home, "package", "build", "DEMO-RFA-001", str(out / "pkg"))
    assert built.returncode == 0, built.stderr
    assert f"warning: removed {left}" in built.stderr
    assert hidden(out) == [] and (out / "pkg" / "bagit.txt").exists()


def _packages(home: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(home / "amanah.db")
    try:
        return db.execute("select id, path from packages order by created_at").fetchall()
    finally:
        db.close()


def _disclosed(home: Path, package_id: str) -> int:
    db = sqlite3.connect(home / "amanah.db")
    try:
        return db.execute(
            "select count(*) from custody_events where object_type='package' and object_id=?",
            (package_id,),
        ).fetchone()[0]
    finally:
        db.close()


def test_a_package_is_in_place_only_once_it_is_recorded(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """Adversary I, C1: the bag was renamed into place inside the open transaction, so a kill
    there left a whole, verifying package that the ledger never recorded. Now a kill before
    the commit leaves no package (its hidden folder goes with the next build); a kill between
    the commit and the rename is finished by the next build; a kill after leaves both."""
    from tests.test_package_tamper import demo_package

    home = tmp_path / "home"
    shutil.copytree(demo_package(tmp_path_factory) / "home", home, symlinks=True)
    out = tmp_path / "out"
    out.mkdir()
    known = set(_packages(home))

    killed("package", home, out / "a", "uncommitted")
    assert not (out / "a").exists() and set(_packages(home)) == known
    [left] = hidden(out)
    assert (left / "bagit.txt").exists()  # whole, but hidden, and not recorded

    killed("package", home, out / "b", "unplaced")
    [(pkg_b, path_b)] = set(_packages(home)) - known
    assert path_b == str((out / "b").resolve()) and not (out / "b").exists()
    assert _disclosed(home, pkg_b) == 1
    assert not left.exists()  # the build of b removed what the kill before the commit left

    built = amanah(home, "package", "build", "DEMO-RFA-001", str(out / "c"))
    assert built.returncode == 0, built.stderr
    assert f"put package {pkg_b} in place at {path_b}" in built.stderr
    assert hidden(out) == []
    assert sorted(p.name for p in out.iterdir()) == ["b", "c"]
    checked = amanah(home, "package", "verify", str(out / "b"))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    before = set(_packages(home))
    killed("package", home, out / "d", "placed")
    [(pkg_d, _)] = set(_packages(home)) - before
    assert (out / "d" / "bagit.txt").exists() and _disclosed(home, pkg_d) == 1
