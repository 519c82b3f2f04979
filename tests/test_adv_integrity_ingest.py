"""A re-run intake must not take new bytes for old ones.

Re-running the same intake is idempotent: a file already preserved from the same path is
not read again. It used to be recognised by its size and modification time only, both of
which a file keeps when a tool edits it and puts the time back (`touch -r`, `exiftool -P`):
the changed file was reported `already present` and its new bytes were never preserved.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from tests.conftest import amanah


def _items(home: Path) -> list[dict]:
    proc = amanah(home, "items", "--json", check=True)
    return json.loads(proc.stdout)


def test_a_file_changed_with_its_size_and_time_kept_is_preserved_again(
    sqlite_home: Path, tmp_path: Path
) -> None:
    handover = tmp_path / "handover"
    handover.mkdir()
    statement = handover / "statement.txt"
    statement.write_bytes(b"the first version of the statement\n")
    amanah(
        sqlite_home, "ingest", handover, "--collection", "c", "--provider", "P", "--quiet",
        check=True,
    )  # fmt: skip
    st = statement.stat()
    with statement.open("r+b") as f:  # same size, other bytes
        f.write(b"THE")
    os.utime(statement, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed = hashlib.sha256(statement.read_bytes()).hexdigest()
    assert statement.stat().st_size == st.st_size and statement.stat().st_mtime_ns == st.st_mtime_ns

    again = amanah(sqlite_home, "ingest", handover, "--collection", "c", "--quiet", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert changed in {row["sha256"] for row in _items(sqlite_home)}, again.stdout


def test_the_same_files_run_again_are_already_present(sqlite_home: Path, tmp_path: Path) -> None:
    """Negative control: nothing changed, nothing is read again or added."""
    handover = tmp_path / "handover"
    handover.mkdir()
    (handover / "a.txt").write_bytes(b"a\n")
    args = ("ingest", handover, "--collection", "c", "--provider", "P", "--quiet")
    amanah(sqlite_home, *args, check=True)
    again = amanah(sqlite_home, *args, check=True)
    assert "0 ingested, 1 already present" in again.stdout
    assert len(_items(sqlite_home)) == 1
