"""A blob swapped in the folder store before processing (an adversary's, stop 54): someone
with write access to the blob folder only overwrote a blob with same-size bytes before
`amanah process` and put the original back after. Processing read the swapped bytes (the
folder store handed over its own path, unhashed), the leak check saw clean derivatives, and
the original, naming a protected witness, shipped. Processing now hashes the copy it gives the
sandbox: a mismatch fails the job as a fixity failure of the blob, nothing derived; the web
download refuses bytes that are not the item's."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from amanah import items
from amanah.access.core import local_administrator
from amanah.blobs.base import CHUNK, BlobAltered, CheckedReader
from amanah.workspace import open_workspace
from tests.conftest import amanah, ingest_cli

TEXT = b"Statement 9: at the checkpoint the officer was Salim al-Hourani, who saw it.\n"
FAKE = b"Statement 9: at the checkpoint the officer was XXXXX XX-XXXXXXX, who saw it.\n"


def _home(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "home"
    amanah(home, "init", check=True)
    toml = home / "amanah.toml"
    toml.write_text(toml.read_text().replace("semantic = true", "semantic = false"))
    folder = tmp_path / "handover"
    folder.mkdir()
    (folder / "s9.txt").write_bytes(TEXT)
    ingest_cli(home, folder, "c")
    sha = hashlib.sha256(TEXT).hexdigest()
    return home, home / "blobs" / sha[:2] / sha[2:4] / sha


def _overwrite(blob: Path, data: bytes) -> None:
    os.chmod(blob, stat.S_IRUSR | stat.S_IWUSR)
    blob.write_bytes(data)
    os.chmod(blob, stat.S_IRUSR)


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(home / "amanah.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_a_blob_swapped_before_processing_fails_its_job_as_a_fixity_failure(
    tmp_path: Path,
) -> None:
    home, blob = _home(tmp_path)
    assert len(FAKE) == len(TEXT)
    _overwrite(blob, FAKE)
    amanah(home, "process", "--quiet")
    _overwrite(blob, TEXT)  # put back: the leak check must not rest on the forged bytes

    assert _rows(home, "select count(*) from derivatives") == [(0,)]
    ((flags, processing),) = _rows(home, "select flags, processing from items")
    assert processing == "failed"
    assert [f["code"] for f in json.loads(str(flags))] == ["fixity_failed"]
    events = _rows(
        home,
        "select outcome, details from custody_events where event_type='fixity check'",
    )
    assert [e[0] for e in events] == ["failure"]
    assert hashlib.sha256(FAKE).hexdigest() in str(events[0][1])
    assert _rows(home, "select state from jobs where kind='process'") == [("failed",)]


def test_derivation_events_name_the_bytes_they_were_made_from(tmp_path: Path) -> None:
    home, blob = _home(tmp_path)
    amanah(home, "process", "--quiet", check=True)
    details = _rows(home, "select details from custody_events where event_type='derivation'")
    assert details
    for (d,) in details:
        assert json.loads(str(d))["source_sha256"] == blob.name


def test_the_web_download_refuses_bytes_that_are_not_the_items(tmp_path: Path) -> None:
    home, blob = _home(tmp_path)
    ws = open_workspace(home)
    try:
        who = local_administrator(ws, "tester")
        _, stream = items.open_original(ws, who, 1)
        with stream:
            assert stream.read() == TEXT  # the control
        _overwrite(blob, FAKE)
        with pytest.raises(items.ItemError, match="do not match its SHA-256"):
            items.open_original(ws, who, 1)
    finally:
        ws.close()


def test_a_long_stream_withholds_its_last_chunk_until_checked(tmp_path: Path) -> None:
    real = os.urandom(CHUNK * 2 + 5)
    forged = tmp_path / "forged"
    forged.write_bytes(real[:-1] + bytes([real[-1] ^ 1]))
    got = b""
    reader = CheckedReader(forged.open("rb"), hashlib.sha256(real).hexdigest())
    with pytest.raises(BlobAltered), reader as r:
        while data := r.read():
            got += data
    assert len(got) < len(real)
    good = tmp_path / "good"
    good.write_bytes(real)
    with CheckedReader(good.open("rb"), hashlib.sha256(real).hexdigest()) as r:
        assert b"".join(iter(r.read, b"")) == real
