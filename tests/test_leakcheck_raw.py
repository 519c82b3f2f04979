"""The leak check's last net, the raw scan of stored bytes: each byte decoded once (the same
overlapping chunks as the inventory's raw readings), and the same names found as those
readings find, including names written across a chunk boundary."""

from __future__ import annotations

import base64
import io
import zlib
from pathlib import Path

import numpy as np
import pytest

from amanah.sharing.leakcheck import Findings, LeakCheck
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
        return LeakCheck(ws, s, matcher).raw(sha)[0]


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


def test_raw_scan_of_compressed_data_past_the_budget_leaves_the_item_incomplete(
    workspace,
) -> None:
    """A log of compressed tokens that inflate past what one chunk's readings may inflate,
    then a token naming the witness: the live raw scan (an inventory taken before raw readings
    were stored) does not read the name, and says the item's inventory is not complete, as
    the stored readings do, so the leak check refuses it instead of passing it."""
    rnd = np.random.default_rng(3)
    tokens = b"".join(
        b"t=" + base64.b64encode(zlib.compress(rnd.bytes(64) * 20_000, 9)) + b"\n"
        for _ in range(40)
    )
    named = base64.b64encode(zlib.compress(f"statement of {WITNESS_LATIN}".encode()))
    matcher = _matcher()
    for data, cut in ((tokens + b"t=" + named + b"\n", True), (b"t=" + named + b"\n", False)):
        sha = workspace.blobs.put(io.BytesIO(data)).sha256
        workspace.blobs.sync()
        with workspace.db.reader() as s:
            check = LeakCheck(workspace, s, matcher)
            found, said_cut = check.raw(sha)
            out = Findings()
            check._raw_scan(sha, None, out)
        assert said_cut is cut and ("W-1" in found) is not cut
        assert (out.incomplete == [rawtext.INFLATE_CUT_REASON]) is cut
        assert bool(out.names) is not cut
