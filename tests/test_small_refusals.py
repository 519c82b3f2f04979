"""Small refusals and readable output: a participants count past any meeting is refused, a
collection date in the future is refused as `rfa add --received-on` is, and `rfa show` /
`engagement show` print counts as words, not a Python dict."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import amanah


def test_huge_participant_counts_and_future_collection_dates_are_refused(
    sqlite_home: Path, tmp_path: Path
) -> None:
    add = ("engagement", "add", "meeting", "--on", "2026-11-02", "--participants")
    proc = amanah(sqlite_home, *add, "f:18-59=99999999999999999999")
    assert proc.returncode == 2 and "at most" in proc.stderr, proc.stderr
    amanah(sqlite_home, *add, "f:18-59=6", "--participants", "m:60+=2", check=True)
    shown = amanah(sqlite_home, "engagement", "show", "1", check=True).stdout
    assert "participants: 8 (f:18-59 6, m:60+ 2)" in shown and "{" not in shown, shown
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("a statement\n", encoding="utf-8")
    proc = amanah(
        sqlite_home,
        "ingest",
        str(folder),
        "--collection",
        "c",
        "--provider",
        "P",
        "--collected-on",
        "9999-12-31",
        "--quiet",
    )
    assert proc.returncode == 2 and "in the future" in proc.stderr, proc.stderr
