"""Bad input is recorded with a clear reason, and never stops or spoils the rest of the run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import amanah


def ingest_json(home: Path, *paths: Path | bytes, extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    proc = amanah(
        home,
        "ingest",
        *[os.fsdecode(p) for p in paths],
        "--collection",
        "c",
        "--provider",
        "P",
        "--json",
        *extra,
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def problems(report: dict) -> dict[str, dict]:
    return {p["path"]: p for p in report["problems"]}


def test_special_files_are_skipped_with_a_reason_and_the_rest_ingested(
    sqlite_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_bytes(b"good")
    os.mkfifo(src / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / "sock"))
    has_device = False
    if os.geteuid() == 0:
        os.mknod(src / "null-device", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        has_device = True
    (src / "empty.txt").write_bytes(b"")
    try:
        code, report = ingest_json(sqlite_home, src)
    finally:
        sock.close()
    assert code == 1  # something was not ingested
    assert report["counts"]["ingested"] == 2
    p = problems(report)
    assert p["src/pipe"]["outcome"] == "skipped" and "fifo" in p["src/pipe"]["reason"]
    assert p["src/sock"]["outcome"] == "skipped" and "socket" in p["src/sock"]["reason"]
    if has_device:
        assert "character device" in p["src/null-device"]["reason"]
    stored = json.loads(amanah(sqlite_home, "intake", "report", "1", "--json", check=True).stdout)
    assert stored["problems"] == report["problems"]
    assert stored["counts"] == report["counts"] and stored["status"] == "complete"
    items = json.loads(amanah(sqlite_home, "items", "--json", check=True).stdout)
    empty = next(i for i in items if i["original_path"] == "src/empty.txt")
    assert empty["status"] == "flagged" and empty["size"] == 0


def test_symlinks_are_recorded_never_followed(sqlite_home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"must not be ingested")
    src = tmp_path / "src"
    src.mkdir()
    (src / "real.txt").write_bytes(b"real")
    (src / "to-outside-file").symlink_to(outside / "secret.txt")
    (src / "to-outside-dir").symlink_to(outside)
    (src / "dangling").symlink_to(tmp_path / "nowhere")
    code, report = ingest_json(sqlite_home, src)
    assert code == 0  # links are recorded, not failures
    assert report["counts"] == {"ingested": 1, "links": 3}
    p = problems(report)
    assert str(outside) in p["src/to-outside-dir"]["reason"]
    assert all(v["outcome"] == "link" for v in p.values())
    items = json.loads(amanah(sqlite_home, "items", "--json", check=True).stdout)
    assert [i["original_path"] for i in items] == ["src/real.txt"]


def test_non_utf8_names_are_kept_byte_exact(sqlite_home: Path, tmp_path: Path) -> None:
    src = os.fsencode(tmp_path / "src")
    os.mkdir(src)
    names = [b"\xff\xfe-latin1-\xe9.txt", "محضر".encode("cp1256") + b".doc"]
    for n in names:
        with open(os.path.join(src, n), "wb") as f:
            f.write(n)
    code, report = ingest_json(sqlite_home, src)
    assert code == 0, report
    items = json.loads(amanah(sqlite_home, "items", "--json", check=True).stdout)
    raw = sorted(bytes.fromhex(i["original_path_hex"]) for i in items)
    assert raw == sorted(b"src/" + n for n in names)


def test_paths_longer_than_path_max_are_ingested(sqlite_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    fd = os.open(src, os.O_RDONLY)
    depth = 0
    try:
        # 20 levels of 250-byte names: about 5,000 bytes, beyond Linux's PATH_MAX of 4,096.
        for depth in range(20):
            name = f"{depth:03d}" + "د" * 123
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        leaf = os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"deep evidence")
        os.close(leaf)
    finally:
        os.close(fd)
    code, report = ingest_json(sqlite_home, src)
    assert code == 0, report
    items = json.loads(amanah(sqlite_home, "items", "--json", check=True).stdout)
    assert len(items) == 1 and len(items[0]["original_path"].encode()) > 4096
    out = tmp_path / "deep-out.txt"
    amanah(sqlite_home, "item", "get", str(items[0]["id"]), str(out), check=True)
    assert out.read_bytes() == b"deep evidence"
    shutil.rmtree(src, ignore_errors=True)


# Root reads everything, so the intake drops to "nobody" after Python has loaded Amanah
# (the interpreter may live under a folder "nobody" cannot enter).
AS_NOBODY = """
import json, os, sys
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.workspace import open_workspace
ws = open_workspace(sys.argv[1])
with ws.db.session(), ws.db.reader():
    pass  # connect before dropping privileges
os.setgroups([]); os.setgid(65534); os.setuid(65534)
req = IntakeRequest(sources=[sys.argv[2]], collection="c", provider="P", actor="test")
print(json.dumps(ingest(ws, req).as_dict()))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make files unreadable to the intake")
def test_unreadable_files_and_folders_fail_with_a_reason() -> None:
    # Not under pytest's temp folder, which only root may enter.
    base = Path(tempfile.mkdtemp(prefix="amanah-unreadable-"))
    src = base / "src"
    src.mkdir()
    (src / "ok.txt").write_bytes(b"ok")
    (src / "locked.txt").write_bytes(b"locked")
    (src / "locked.txt").chmod(0)
    (src / "closed-dir").mkdir()
    (src / "closed-dir" / "inside.txt").write_bytes(b"x")
    (src / "closed-dir").chmod(0)
    home = base / "home"
    amanah(home, "init", check=True)
    for p in (base, src):
        p.chmod(0o755)
    subprocess.run(["chown", "-R", "nobody", str(home)], check=True)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", AS_NOBODY, str(home), str(src)],
            capture_output=True,
            text=True,
            check=False,
            cwd=base,
        )
        assert proc.returncode == 0 and proc.stdout, proc.stderr
        report = json.loads(proc.stdout)
        p = problems(report)
        assert p["src/locked.txt"]["outcome"] == "failed"
        assert "Permission denied" in p["src/locked.txt"]["reason"]
        assert p["src/closed-dir"]["outcome"] == "failed"
        assert report["counts"]["ingested"] == 1
    finally:
        subprocess.run(["chmod", "-R", "u+rwx", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)


def test_a_file_that_changes_while_read_is_not_accepted(sqlite_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    growing = src / "growing.bin"
    growing.write_bytes(os.urandom(64 << 20))
    (src / "stable.txt").write_bytes(b"stable")
    stop = threading.Event()

    def writer() -> None:
        with open(growing, "ab") as f:
            while not stop.is_set():
                f.write(b"more")
                f.flush()
                time.sleep(0.001)

    t = threading.Thread(target=writer)
    t.start()
    try:
        code, report = ingest_json(sqlite_home, src)
    finally:
        stop.set()
        t.join()
    assert code == 1
    p = problems(report)
    assert p["src/growing.bin"]["outcome"] == "failed"
    assert "changed while being read" in p["src/growing.bin"]["reason"]
    assert report["counts"]["ingested"] == 1
    # Once the file is stable, the same command completes the intake.
    code, report = ingest_json(sqlite_home, src)
    assert code == 0 and report["counts"] == {"ingested": 1, "already_present": 1}


def test_malformed_hash_list_is_refused_naming_the_line(sqlite_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    listing = tmp_path / "SUMS"
    listing.write_text("d41d8cd98f00b204e9800998ecf8427e  a.txt\nthis is not a hash line\n")
    proc = amanah(
        sqlite_home,
        "ingest",
        str(src),
        "--collection",
        "c",
        "--provider",
        "P",
        "--hash-list",
        str(listing),
    )
    assert proc.returncode == 2
    assert f"{listing}:2" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("ingest", "/definitely/not/here", "--collection", "c", "--provider", "P"),
            "no such file or folder",
        ),
        (("ingest", ".", "--collection", "new-one"), "name its provider with --provider"),
        (
            ("ingest", ".", "--collection", "c", "--provider", "P", "--collected-on", "July"),
            "expected a date as YYYY-MM-DD",
        ),
        (
            ("ingest", ".", "--collection", "c", "--provider", "P", "--framework", "99"),
            "no cooperation framework with id 99",
        ),
        (
            ("ingest", ".", "--collection", "c", "--provider", "P", "--ocr-languages", "kur"),
            "Tesseract has no data for kur (install with: apt-get install tesseract-ocr-kur)",
        ),
        (
            ("ingest", ".", "--collection", "c", "--provider", "P", "--ocr-languages", "Arabic"),
            "expected Tesseract codes joined by +",
        ),
        (("item", "show", "12345"), "no item with id 12345"),
        (("custody", "proof", "12345"), "no custody event for item 12345"),
        (("fixity", "--sample", "3"), "--sample must be a fraction"),
    ],
)
def test_wrong_requests_get_a_clear_error_and_exit_2(
    sqlite_home: Path, args: tuple[str, ...], message: str
) -> None:
    amanah(sqlite_home, "custody", "checkpoint", check=True)
    proc = amanah(sqlite_home, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_names_that_look_like_terminal_markup_are_printed_as_they_are(
    sqlite_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "[bold]report.txt").write_bytes(b"text")  # markup would swallow "[bold]"
    os.mkfifo(src / "[red]broken.fifo")
    proc = amanah(
        sqlite_home, "ingest", str(src), "--collection", "c", "--provider", "P", "--quiet"
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "src/[red]broken.fifo: a fifo is not a regular file" in proc.stdout
    listing = amanah(sqlite_home, "items", check=True).stdout
    assert "[bold]report.txt" in listing
