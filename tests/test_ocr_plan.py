"""The OCR plan: a long scan's page jobs start before its analysis ends, on another worker,
and join into the same text as the one-job path; hostile PDFs plan nothing, or a capped
number of page jobs, with the reason recorded."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymupdf
import pytest
from sqlalchemy import select

from amanah import queue
from amanah.db.models import Derivative, Item, Job, OcrPart
from amanah.processing import ocr, ocrplan, pagejobs, pipeline
from amanah.processing.sandbox import Sandbox
from amanah.workspace import open_workspace
from tests.conftest import amanah, ingest_cli, without_semantic
from tests.fixtures import scanned_book, write
from tests.test_processing import ingest_folder

MEMO = [
    "إدارة المخابرات العامة - الفرع 285",
    "يتم نقل الموقوفين إلى سجن صيدنايا العسكري",
]
CLI = (sys.executable, "-m", "amanah.cli")
#: The smallest scan that is split (ocr.SPLIT_FROM pages): four page jobs of two pages.
PAGES = ocr.SPLIT_FROM

needs_font = pytest.mark.needs("arabic-font")


def _book(pages: int = PAGES) -> bytes:
    return scanned_book([[f"الصفحة {n}", MEMO[n % len(MEMO)]] for n in range(1, pages + 1)])


def raw_pdf(pages: int, count: int | None = None) -> bytes:
    """A PDF of `pages` empty pages whose page tree says it has `count` (a lie, if given)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {count or pages} >>".encode())
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _encrypted(pdf: bytes) -> bytes:
    doc = pymupdf.open(stream=pdf, filetype="pdf")
    out = io.BytesIO()
    doc.save(out, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u-secret", owner_pw="o-secr")
    return out.getvalue()


def _plan(tmp_path: Path, data: bytes) -> dict[str, object]:
    """The plan task in a real (caged) sandbox, as a worker runs it."""
    src = tmp_path / "f.pdf"
    src.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    box = Sandbox(work_dir=tmp_path)
    try:
        return box.analyze(str(src), "f.pdf", str(out), pagejobs.PLAN_LIMITS, task="plan")
    finally:
        box.close()


def _jobs(ws: object) -> dict[str, Job]:
    with ws.db.reader() as s:  # type: ignore[attr-defined]
        return {j.kind: j for j in s.execute(select(Job)).scalars()}


def _ocr_text(ws: object, item_id: int) -> bytes:
    with ws.db.reader() as s:  # type: ignore[attr-defined]
        sha = s.execute(
            select(Derivative.sha256).where(Derivative.item_id == item_id, Derivative.kind == "ocr")
        ).scalar_one()
    with ws.blobs.open(sha) as f:  # type: ignore[attr-defined]
        return bytes(f.read())


@needs_font
@pytest.mark.slow
def test_page_jobs_start_before_the_analysis_ends_and_join_as_the_one_job_path(
    tmp_path: Path,
) -> None:
    from amanah.config import write_default_config

    book = _book()
    write(tmp_path / "in", {"book.pdf": book})
    homes = {}
    for name, split in (("pages", None), ("one", "100000")):
        home = tmp_path / name
        write_default_config(home)
        without_semantic(home)
        ingest_cli(home, tmp_path / "in")
        env = {**os.environ, **({"AMANAH_OCR_SPLIT_FROM": split} if split else {})}
        done = subprocess.run(
            [*CLI, "--home", str(home), "process", "--quiet", "--workers", "2"],
            capture_output=True,
            text=True,
            env=env,
            timeout=1500,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        homes[name] = open_workspace(home)
    split_ws, one_ws = homes["pages"], homes["one"]
    jobs = _jobs(split_ws)
    page_jobs = [j for k, j in jobs.items() if pagejobs.is_page_job(k)]
    with split_ws.db.reader() as s:
        parts = s.execute(select(OcrPart.first_page)).scalars().all()
    assert len(page_jobs) == len(parts) >= 2  # one job per part, spread over the workers
    assert all(j.state == "done" for j in page_jobs) and jobs[pagejobs.JOIN_JOB].state == "done"
    process = jobs["process"]
    # The ordering fact: a page job was claimed while the item's own job was still running
    # (before the plan, page jobs existed only once the item's job had committed).
    assert min(j.locked_at for j in page_jobs) < process.finished_at  # type: ignore[operator]
    # The one-job path really is one job: the setting reached the caged analysis.
    one_jobs = _jobs(one_ws)
    assert not [k for k in one_jobs if pagejobs.is_page_job(k) or k == pagejobs.JOIN_JOB]
    with split_ws.db.reader() as s:
        item_id = s.execute(select(Item.id)).scalar_one()
        assert s.get(Item, item_id).inventory == "complete"  # type: ignore[union-attr]
    with one_ws.db.reader() as s:
        one_id = s.execute(select(Item.id)).scalar_one()
    joined, one = _ocr_text(split_ws, item_id), _ocr_text(one_ws, one_id)
    assert joined == one  # byte for byte
    assert joined.decode().count("\f") == PAGES - 1 and "الصفحة" in joined.decode()
    for w in homes.values():
        w.close()


@needs_font
@pytest.mark.slow
def test_a_page_job_of_a_killed_worker_is_retried_and_the_join_waits_for_it(
    sqlite_home: Path, tmp_path: Path
) -> None:
    write(tmp_path / "in", {"book.pdf": _book()})
    without_semantic(sqlite_home)
    ingest_cli(sqlite_home, tmp_path / "in")
    worker = subprocess.Popen(
        [*CLI, "--home", str(sqlite_home), "process", "--quiet", "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its sandbox goes with it
    )
    ws = open_workspace(sqlite_home)
    killed = None
    try:
        deadline = time.monotonic() + 900
        while killed is None and time.monotonic() < deadline:
            running = [
                k for k, j in _jobs(ws).items() if pagejobs.is_page_job(k) and j.state == "running"
            ]
            if running:
                os.killpg(worker.pid, signal.SIGKILL)
                killed = running[0]
            time.sleep(0.2)
        worker.wait(timeout=60)
        assert killed is not None, "no page job ever ran"
        assert pagejobs.JOIN_JOB not in _jobs(ws)  # a page is missing: no join yet
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    amanah(sqlite_home, "process", "--quiet", "--workers", "2", check=True)
    jobs = _jobs(ws)
    assert jobs[killed].state == "done" and jobs[killed].attempts == 2
    assert jobs[pagejobs.JOIN_JOB].state == "done"
    with ws.db.reader() as s:
        assert all(s.execute(select(OcrPart.sha256)).scalars())
        item_id = s.execute(select(Item.id)).scalar_one()
    pages = _ocr_text(ws, item_id).decode().split("\f")
    assert len(pages) == PAGES
    assert [f"الصفحة {n}" in " ".join(p.split()) for n, p in enumerate(pages, 1)] == [True] * PAGES
    ws.close()


@needs_font
def test_the_plan_finds_the_scanned_pages_and_their_jobs_start_while_the_item_job_runs(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """One step at a time: the plan's page job is claimable (and runnable) while the item's
    own job is running, and its reading waits for the item's job before any join."""
    write(tmp_path / "in", {"book.pdf": _book()})
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "in", ocr_languages="ara")
    job = queue.claim(ws.db, "worker-a")
    assert job is not None and job.kind == "process"
    with ws.db.reader() as s:
        sha = s.get(Item, job.item_id).sha256  # type: ignore[union-attr]
    planned = pagejobs.plan(ws, job, ws.blobs.path(sha), "ara")
    assert planned >= 2 and len(_jobs(ws)) == 1 + planned  # the item's job and its page jobs
    other = queue.claim(ws.db, "worker-b")
    assert other is not None and pagejobs.is_page_job(other.kind)
    assert _jobs(ws)["process"].state == "running"
    with ws.db.reader() as s:
        spec = s.execute(
            select(OcrPart.pages).where(OcrPart.first_page == int(other.kind[4:]))
        ).scalar_one()
    assert json.loads(spec)["kind"] == "pdf" and json.loads(spec)["pages"][0] == 1
    ws.close()


def test_a_hostile_pdf_plans_nothing_and_says_why(tmp_path: Path) -> None:
    lying = _plan(tmp_path, raw_pdf(3, count=1_000_000))
    assert lying["pages"] == [] and lying["problem"] == (
        "the file says it has 1000000 pages, and page 4 cannot be loaded"
    )
    locked = _plan(tmp_path, _encrypted(raw_pdf(12)))
    assert locked["pages"] == [] and "cannot be opened" in str(locked["problem"])
    assert "password" in str(locked["problem"]).lower()
    # negative control: the same empty pages, honestly counted and not locked, are planned
    honest = _plan(tmp_path, raw_pdf(12))
    assert honest["pages"] == list(range(1, 13)) and honest["problem"] == ""


def test_ten_thousand_empty_pages_give_a_capped_number_of_page_jobs(
    sqlite_home: Path, tmp_path: Path
) -> None:
    found = _plan(tmp_path, raw_pdf(10_000))
    assert found["count"] == 10_000 and found["pages"] == list(range(1, ocr.MAX_PAGES + 1))
    write(tmp_path / "in", {"endless.pdf": raw_pdf(10_000)})
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "in")
    job = queue.claim(ws.db, "worker-a")
    assert job is not None
    with ws.db.reader() as s:
        sha = s.get(Item, job.item_id).sha256  # type: ignore[union-attr]
    assert pagejobs.plan(ws, job, ws.blobs.path(sha), None) == pagejobs.MAX_PAGE_JOBS
    kinds = queue.counts_by_kind(ws.db)
    assert len([k for k in kinds if pagejobs.is_page_job(k)]) == pagejobs.MAX_PAGE_JOBS
    with ws.db.reader() as s:
        specs = [json.loads(p) for p in s.execute(select(OcrPart.pages)).scalars()]
    per = ocr.MAX_PAGES // pagejobs.MAX_PAGE_JOBS
    assert sorted(len(p["pages"]) for p in specs) == [per] * pagejobs.MAX_PAGE_JOBS
    # the item's job gives up: its planned parts go, and their page jobs end doing nothing
    with ws.db.session() as s:
        s.execute(
            Job.__table__.update().where(Job.id == job.id).values(attempts=queue.MAX_ATTEMPTS)
        )
    assert pipeline.record_failure(ws, job, ValueError("given up"))[0] == "failed"
    with ws.db.reader() as s:
        assert s.execute(select(OcrPart.id)).first() is None
    page_job = queue.claim(ws.db, "worker-b")
    assert page_job is not None and pagejobs.is_page_job(page_job.kind)
    pipeline.run_job(ws, page_job)  # no part to read: done at once, no OCR
    assert _jobs(ws)[page_job.kind].state == "done"
    assert pagejobs.JOIN_JOB not in _jobs(ws)
    ws.close()


def test_the_analysis_flags_pages_past_the_ocr_limit(tmp_path: Path) -> None:
    """More pages without text than one item's OCR reads: recorded, whichever path reads."""
    from amanah.processing import analyze

    flags: list[dict[str, str]] = []
    result = analyze.Extraction(pages_without_text=list(range(1, ocr.MAX_PAGES + 7)))
    src = tmp_path / "f.pdf"
    src.write_bytes(raw_pdf(1))
    got = analyze._deferred(src, "application/pdf", result, "ara", 100_000, flags)
    assert got is None  # below the split setting: read in the item's own job
    assert flags == [
        {
            "code": "unpack_limit",
            "message": f"{ocr.MAX_PAGES + 6} pages have no text layer; only the first"
            f" {ocr.MAX_PAGES} were OCR'd (limit against files of endless empty pages)",
        }
    ]


def test_only_pdfs_and_multipage_image_formats_are_worth_a_plan(tmp_path: Path) -> None:
    for name, data, worth in (
        ("a.pdf", raw_pdf(1), True),
        ("b.tif", b"II*\x00" + bytes(100), True),
        ("c.txt", b"%PDF- is mentioned in a text", True),  # the plan then decides
        ("d.txt", b"plain words", False),
        ("e.png", b"\x89PNG\r\n\x1a\n" + bytes(100), False),
    ):
        (tmp_path / name).write_bytes(data)
        assert ocrplan.worth_planning(tmp_path / name) is worth, name


def test_a_lying_or_locked_scan_is_flagged_with_its_reason_and_gets_no_page_jobs(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """End to end through the item's job: the reason is recorded on the item, no page job."""
    write(
        tmp_path / "in",
        {"lying.pdf": raw_pdf(12, count=1_000_000), "locked.pdf": _encrypted(raw_pdf(12))},
    )
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "in")
    while (job := queue.claim(ws.db, "worker-a")) is not None and job.kind == "process":
        pipeline.run_job(ws, job)
    assert not [k for k in queue.counts_by_kind(ws.db) if pagejobs.is_page_job(k)]
    with ws.db.reader() as s:
        items = s.execute(select(Item.original_path_raw, Item.flags)).all()
        assert s.execute(select(OcrPart.id)).first() is None
    flags = {bytes(p).decode().rsplit("/", 1)[-1]: json.loads(f) for p, f in items}
    lied = {"code": "unreadable", "message": "cannot be read: PdfiumError: Failed to load page."}
    assert lied in flags["lying.pdf"]
    assert {"code": "encrypted", "message": "PDF is password-protected"} in flags["locked.pdf"]
    ws.close()


@needs_font
@pytest.mark.slow
@pytest.mark.semantic
def test_a_long_scans_vectors_wait_for_the_join_or_for_a_page_job_that_gave_up(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """Vectors made before the join would be of the text without its OCR, made for nothing
    (and made again after it): the item's job leaves them to the join; a page job that gives
    up (no join will come) queues them for the text the item has."""
    from amanah.db.models import SearchVector

    write(tmp_path / "in", {"book.pdf": _book()})
    ws = open_workspace(sqlite_home)
    assert ws.settings.semantic  # the default configuration makes vectors
    ingest_folder(ws, tmp_path / "in", ocr_languages="ara")
    job = queue.claim(ws.db, "worker-a")
    assert job is not None and job.kind == "process"
    pipeline.run_job(ws, job)
    jobs = _jobs(ws)
    assert [k for k in jobs if pagejobs.is_page_job(k)] and "embed" not in jobs
    # a page job gives up: no join will come, so the item's text gets its vectors now
    page = queue.claim(ws.db, "worker-b")
    assert page is not None and pagejobs.is_page_job(page.kind)
    with ws.db.session() as s:
        s.execute(
            Job.__table__.update().where(Job.id == page.id).values(attempts=queue.MAX_ATTEMPTS)
        )
    assert pipeline.record_failure(ws, page, ValueError("given up"))[0] == "failed"
    assert _jobs(ws)["embed"].state == "queued"
    # the page job read again and joined: the join queues the vectors of the whole text
    with ws.db.session() as s:
        s.execute(Job.__table__.delete().where(Job.kind == "embed"))
        s.execute(Job.__table__.update().where(Job.id == page.id).values(state="queued"))
    while (next_job := queue.claim(ws.db, "worker-a")) is not None and next_job.kind != "embed":
        pipeline.run_job(ws, next_job)
    assert next_job is not None and next_job.kind == "embed"
    assert _jobs(ws)[pagejobs.JOIN_JOB].state == "done"  # the embed came after the join
    pipeline.run_job(ws, next_job)
    with ws.db.reader() as s:
        assert s.execute(select(SearchVector.item_id)).first() is not None
    ws.close()
