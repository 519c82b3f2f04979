"""Page jobs sized by what their pages cost: the plan reads each page's pixels, and a long
scan's parts shrink as its pages are given out, so forty light pages are a few jobs (each job
pays a sandbox child, the file's opening and a transaction), and the workers end together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from amanah import queue
from amanah.db.models import Item, OcrPart
from amanah.processing import ocr, ocrplan, pagejobs
from amanah.workspace import open_workspace
from tests.fixtures import write
from tests.test_ocr_plan import _book, _plan, needs_font, raw_pdf
from tests.test_processing import ingest_folder

LIGHT = 1700 * 900  # the pixels of one light page of tests.fixtures.scanned_book
A4_300 = int(595 * 842 * (ocr.RENDER_DPI / 72) ** 2)


def _sizes(deferred: dict[str, object]) -> list[int]:
    parts = pagejobs.chunks(deferred)
    pages = [json.loads(spec)["pages"] for _, spec in parts]
    assert [first for first, _ in parts] == [p[0] for p in pages]
    # every page exactly once, in page order
    assert [n for p in pages for n in p] == sorted(set(deferred["pages"]))  # type: ignore[arg-type]
    return [len(p) for p in pages]


def test_forty_light_pages_are_a_few_jobs_large_first_small_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pagejobs, "WORKERS", 2)
    pages = list(range(1, 41))
    sizes = _sizes({"pages": pages, "pixels": [LIGHT] * 40})
    assert sizes == [10, 8, 6, 4, 3, 3, 2, 2, 2]
    # negative control: without the pages' costs, two pages a job as before the plan had them
    assert _sizes({"pages": pages}) == [ocr.PAGES_PER_JOB] * (40 // ocr.PAGES_PER_JOB)
    # more workers: smaller parts from the start, so that every worker has some
    monkeypatch.setattr(pagejobs, "WORKERS", 8)
    eight = _sizes({"pages": pages, "pixels": [LIGHT] * 40})
    assert len(eight) > len(sizes) and max(eight) < 10


def test_a_part_holds_pixels_not_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large pages (A4 at 300 dpi) are parts of one page once the share left is below one
    page; light pages are grouped; a page in a part of its own is never grouped."""
    monkeypatch.setattr(pagejobs, "WORKERS", 2)
    pages = list(range(1, 21))
    big = _sizes({"pages": pages, "pixels": [A4_300] * 20})
    light = _sizes({"pages": pages, "pixels": [LIGHT] * 20})
    assert len(big) > len(light) and big[-4:] == [1, 1, 1, 1]
    # one huge page among light ones: the part that reaches it ends with it
    mixed = [LIGHT] * 20
    mixed[4] = ocrplan.MAX_PAGE_PIXELS
    parts = [json.loads(s)["pages"] for _, s in pagejobs.chunks({"pages": pages, "pixels": mixed})]
    assert parts[0] == [1, 2, 3, 4, 5]


def test_a_hostile_plan_cannot_make_more_jobs_or_break_the_sizing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plan ran on hostile bytes: costs that are not positive integers, one per page, are
    ignored (two pages a job); huge costs still give at most MAX_PAGE_JOBS parts."""
    monkeypatch.setattr(pagejobs, "WORKERS", 2)
    pages = list(range(1, 41))
    uniform = [ocr.PAGES_PER_JOB] * (40 // ocr.PAGES_PER_JOB)
    huge = [10**400] * 40  # past any float: sizing must not overflow
    for bad in ([LIGHT] * 39, [-1] * 40, [True] * 40, ["9" * 30] * 40, [0] * 40, huge, "x", None):
        assert _sizes({"pages": pages, "pixels": bad}) == uniform, bad
    many = list(range(1, ocr.MAX_PAGES + 1))
    sizes = _sizes({"pages": many, "pixels": [ocrplan.MAX_PAGE_PIXELS] * len(many)})
    assert len(sizes) == pagejobs.MAX_PAGE_JOBS
    tiny = _sizes({"pages": many, "pixels": [1] * len(many)})
    assert len(tiny) <= pagejobs.MAX_PAGE_JOBS and max(tiny) <= pagejobs.MAX_JOB_PAGES


def test_a_set_pages_per_job_still_sizes_every_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "PAGES_PER_JOB", 1)
    monkeypatch.setattr(ocr, "PAGES_PER_JOB_SET", True)
    assert _sizes({"pages": list(range(1, 9)), "pixels": [LIGHT] * 8}) == [1] * 8


@needs_font
def test_the_plan_reads_each_pages_pixels_without_decoding_it(tmp_path: Path) -> None:
    found = _plan(tmp_path, _book(3))
    assert found["pages"] == [1, 2, 3] and found["pixels"] == [LIGHT] * 3  # the scans' own
    empty = _plan(tmp_path, raw_pdf(2))  # no image: the page rendered at 300 dpi
    assert empty["pixels"] == [A4_300] * 2
    frames = [Image.new("L", (1000, 700 + 10 * n), 255) for n in range(3)]
    tiff = tmp_path / "scan.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    images = _plan(tmp_path, tiff.read_bytes())
    assert images["kind"] == "image" and images["pixels"] == [700_000, 710_000, 720_000]


@needs_font
def test_the_item_job_keeps_the_planned_parts_however_they_were_sized(
    sqlite_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The analysis defers the same pages without their costs: the plan's parts (and a page
    job's reading already kept) stay; other pages deferred: the parts are made again."""
    monkeypatch.setattr(pagejobs, "WORKERS", 1)
    write(tmp_path / "in", {"book.pdf": _book(12)})
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "in", ocr_languages="ara")
    job = queue.claim(ws.db, "worker-a")
    assert job is not None and job.kind == "process"
    with ws.db.reader() as s:
        sha = s.get(Item, job.item_id).sha256  # type: ignore[union-attr]
    planned = pagejobs.plan(ws, job, ws.blobs.path(sha), "ara")

    def parts() -> list[tuple[int, str, str | None]]:
        with ws.db.reader() as s:
            rows = s.execute(
                select(OcrPart.first_page, OcrPart.pages, OcrPart.sha256).order_by(
                    OcrPart.first_page
                )
            ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    before = parts()
    sizes = [len(json.loads(spec)["pages"]) for _, spec, _ in before]
    assert len(before) == planned and sizes[0] > ocr.PAGES_PER_JOB  # sized by cost
    with ws.db.session() as s:  # a page job read the first part meanwhile
        s.execute(OcrPart.__table__.update().where(OcrPart.first_page == 1).values(sha256="ab"))
    deferred = {"pages": list(range(1, 13)), "kind": "pdf", "languages": "ara"}
    with ws.db.session() as s:
        assert pagejobs.reconcile(s, job.item_id, deferred) == planned
    after = parts()
    assert [(f, spec) for f, spec, _ in after] == [(f, spec) for f, spec, _ in before]
    assert after[0][2] == "ab"  # the reading is kept, not started again
    # negative control: the analysis found other pages to OCR: parts made again, unread
    with ws.db.session() as s:
        again = pagejobs.reconcile(s, job.item_id, {**deferred, "pages": list(range(1, 12))})
    assert again == len(pagejobs.chunks({**deferred, "pages": list(range(1, 12))}))
    assert all(sha is None for _, _, sha in parts())
    ws.close()
