"""Every command that writes a file writes a new one (cli.util.new_file): an existing file is
never overwritten (`consent letter` once replaced it silently), and a folder, a file in a
missing folder or `-` is refused with one line naming the path and why, exit 2, never a
traceback. Commands that write a folder refuse a file in its place."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import amanah, ingest_cli


def _refused(proc, *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


def test_output_files_are_new_files(sqlite_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("a statement\n", encoding="utf-8")
    ingest_cli(sqlite_home, folder)
    kept = tmp_path / "kept.pdf"
    kept.write_bytes(b"the user's own file")
    missing = tmp_path / "nodir" / "x"
    for args in (
        ("consent letter", "RFA-NONE", "Provider"),
        ("item get", "1"),
        ("custody proof", "1", "--out"),
        ("custody consistency", "0", "--out"),
        ("entity export", "--output"),
    ):
        cmd = [*args[0].split(), *args[1:]]
        _refused(amanah(sqlite_home, *cmd, str(kept)), str(kept), "already exists")
        _refused(amanah(sqlite_home, *cmd, str(tmp_path)), "is a folder")
        _refused(amanah(sqlite_home, *cmd, str(missing)), "does not exist")
        _refused(amanah(sqlite_home, *cmd, "-"), "-:")
    assert kept.read_bytes() == b"the user's own file"
    assert not missing.parent.exists()
    _refused(amanah(sqlite_home, "custody", "export", str(kept)), "is a file")
    assert kept.read_bytes() == b"the user's own file"
    # A new file is written.
    proof = tmp_path / "p.json"
    done = amanah(sqlite_home, "custody", "proof", "1", "--out", str(proof))
    assert done.returncode == 0, done.stderr
    assert proof.read_text("utf-8").startswith("{")
    got = tmp_path / "a-copy.txt"
    done = amanah(sqlite_home, "item", "get", "1", str(got))
    assert done.returncode == 0 and got.read_text("utf-8") == "a statement\n", done.stderr
