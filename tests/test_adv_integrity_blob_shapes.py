"""A blob in the folder store replaced by something that is not a file of its own (an
adversary's, stop 54): a FIFO hung `amanah verify`; a symbolic link or a hard link to a file
outside the store verified, though whoever holds that file can rewrite the evidence. The store
opens blobs only as regular files, not through links, with one link; anything else is a fixity
failure naming what stands there."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import amanah, ingest_cli

TEXT = b"a synthetic statement held in the store\n"
SHA = hashlib.sha256(TEXT).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("blob-shapes")
    home = root / "home"
    amanah(home, "init", check=True)
    folder = root / "handover"
    folder.mkdir()
    (folder / "s.txt").write_bytes(TEXT)
    ingest_cli(home, folder, "c")
    return home


SHAPES = {
    "symlink": "is a symbolic link, not a file of the store",
    "hardlink": "has 2 hard links: its bytes are shared with a file outside the store",
    "fifo": "is a FIFO, not a regular file",
    "folder": "is a folder, not a regular file",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_blob_that_is_not_a_file_of_its_own_fails_verify(
    base: Path, tmp_path: Path, shape: str
) -> None:
    home = tmp_path / "home"
    shutil.copytree(base, home)
    blob = home / "blobs" / SHA[:2] / SHA[2:4] / SHA
    outside = tmp_path / "outside"
    outside.write_bytes(TEXT)  # the same bytes: they hash right, but are not the store's
    blob.unlink()
    if shape == "symlink":
        blob.symlink_to(outside)
    elif shape == "hardlink":
        os.link(outside, blob)
    elif shape == "fifo":
        os.mkfifo(blob)
    else:
        blob.mkdir()
    cmd = [sys.executable, "-m", "amanah.cli", "--home", str(home), "verify", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"FAIL blob {SHA} not a file: {SHAPES[shape]}" in done.stdout
    assert "Traceback" not in done.stderr
    # a backup names it among its problems (it crashed on the first such blob)
    backup = [sys.executable, "-m", "amanah.cli", "--home", str(home), "backup"]
    done = subprocess.run(
        [*backup, str(tmp_path / "backup")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"blob {SHA}: cannot be read: blob {SHA}: {SHAPES[shape]}" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert outside.read_bytes() == TEXT
