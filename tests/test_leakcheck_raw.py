"""The leak check's last net, the raw scan of stored bytes: each byte decoded once (the same
overlapping chunks as the inventory's raw readings), and the same names found as those
readings find, including names written across a chunk boundary."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from amanah.sharing.leakcheck import LeakCheck
from amanah.sharing.protected import Matcher
from amanah.text import rawtext
from amanah.workspace import open_workspace
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN

CHUNK, OVERLAP = rawtext.CHUNK, rawtext.OVERLAP


def _noise(size: int) -> bytearray:
    """Binary bytes like an image's or a video's (seeded: the same every run)."""
    return bytearray(np.random.default_rng(14).integers(0, 256, size, dtype=np.uint8).tobytes())


def _planted(size: int) -> bytes:
    data = _noise(size)
    latin = f" {WITNESS_LATIN} ".encode()
    at = CHUNK - len(latin) // 2  # across the end of the first chunk
    data[at : at + len(latin)] = latin
    arabic = f" {WITNESS_AR} ".encode("utf-16-le")
    at = 2 * CHUNK - OVERLAP - len(arabic) // 2  # across the end of the second chunk
    data[at : at + len(arabic)] = arabic
    return bytes(data)


@pytest.fixture
def workspace(sqlite_home: Path):  # type: ignore[no-untyped-def]
    ws = open_workspace(sqlite_home)
    yield ws
    ws.close()


def _matcher() -> Matcher:
    return Matcher.of([("W-1", [WITNESS_LATIN]), ("W-2", [WITNESS_AR])])


def _scan(ws, data: bytes, matcher: Matcher) -> set[str]:  # type: ignore[no-untyped-def]
    sha = ws.blobs.put(io.BytesIO(data)).sha256
    ws.blobs.sync()  # durable, as an item's bytes are before it commits
    with ws.db.reader() as s:
        return LeakCheck(ws, s, matcher).raw(sha)


def test_raw_scan_finds_names_across_chunk_boundaries_as_the_inventory_readings_do(
    workspace, tmp_path: Path
) -> None:
    size = 2 * CHUNK + CHUNK // 2  # three chunks
    data = _planted(size)
    matcher = _matcher()
    found = _scan(workspace, data, matcher)
    assert found == {"W-1", "W-2"}
    # The same findings as the raw readings the inventory stores (its parts).
    (tmp_path / "f").write_bytes(data)
    from_readings: set[str] = set()
    for text in rawtext.of_file(tmp_path / "f").values():
        from_readings |= matcher.find(text)
    assert from_readings == found
    # Negative control: the same noise without the names.
    assert _scan(workspace, bytes(_noise(size)), matcher) == set()


def test_raw_scan_decodes_each_byte_once(workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    size = 2 * CHUNK + CHUNK // 2
    data = _planted(size)
    decoded: list[int] = []
    real = rawtext.chunk_readings

    def counting(chunk: bytes):  # type: ignore[no-untyped-def]
        decoded.append(len(chunk))
        return real(chunk)

    monkeypatch.setattr(rawtext, "chunk_readings", counting)
    assert _scan(workspace, data, _matcher()) == {"W-1", "W-2"}
    # three chunks, overlapping by OVERLAP bytes: nothing decoded twice beyond the overlaps
    assert decoded == [CHUNK, CHUNK, size - 2 * (CHUNK - OVERLAP)], decoded
    assert sum(decoded) == size + 2 * OVERLAP
