"""The PDF text-layer reader pauses Python's cyclic garbage collector while it reads a page
(issue 14, speed): it must leave the collector as it found it, whether the read succeeds or
fails, and a glyph made by a caller outside the reader still reads by name."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from amanah.processing import pdftext
from tests import arabic_corpus as corpus


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


@pytest.fixture(scope="module")
def arabic_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pdf = corpus.weasyprint(corpus.LINES, tmp_path_factory.mktemp("collector") / "a.pdf")
    assert pdf is not None
    return pdf


@pytest.mark.parametrize("enabled", [True, False])
def test_a_page_read_leaves_the_collector_as_it_was(
    arabic_pdf: Path, enabled: bool, collector_restored: None
) -> None:
    import pymupdf

    (gc.enable if enabled else gc.disable)()
    with pymupdf.open(arabic_pdf) as doc:
        read = pdftext.read_page(doc[0])
    assert read.rebuilt_lines >= len(corpus.LINES)  # the trace and the rebuild really ran
    assert gc.isenabled() is enabled


def test_no_collection_runs_while_a_page_is_read(
    arabic_pdf: Path, collector_restored: None
) -> None:
    """With a threshold of one allocation the collector would run thousands of times over a
    page's glyphs; paused, it runs only on the call's way in (before the pause), a few times."""
    import pymupdf

    runs: list[str] = []

    def count(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(phase)

    thresholds = gc.get_threshold()
    gc.enable()
    with pymupdf.open(arabic_pdf) as doc:
        page = doc[0]
        gc.callbacks.append(count)
        gc.set_threshold(1)
        try:
            pdftext.read_page(page)
            during = len(runs)
            [[] for _ in range(10)]  # the collector runs again once the page is read
        finally:
            gc.set_threshold(*thresholds)
            gc.callbacks.remove(count)
    assert during < 20
    assert len(runs) > 0


def test_a_failed_read_still_turns_the_collector_back_on(collector_restored: None) -> None:
    gc.enable()
    with pytest.raises(AttributeError):
        pdftext.read_page(object())  # no page: MuPDF's layout call fails
    assert gc.isenabled()


def test_a_glyph_made_outside_the_reader_reads_by_name_and_by_place() -> None:
    g = pdftext.Glyph("ب", 10.0, 100.0, 18.0, 110.0, 12.0)
    assert (g.text, g.x0, g.x1, g.cx, g.cy, g.rtl, g.mirrored) == (
        "ب",
        10.0,
        18.0,
        14.0,
        105.0,
        True,
        False,
    )
    g.text += "\u064b"  # a mark joined to its letter
    assert g[pdftext._TEXT] == "ب\u064b"
    words = pdftext._rebuild([g, pdftext.Glyph("ا", 2.0, 100.0, 9.0, 110.0, 12.0)], rtl=True)
    assert [w for w, _ in words] == ["بً" + "ا"]


def test_two_threads_reading_pages_leave_the_collector_on(
    arabic_pdf: Path, collector_restored: None
) -> None:
    """Overlapping reads on two threads: the second finds the collector paused by the first.
    Had each put back what it found, the one ending last would leave it off for good."""
    import threading

    import pymupdf

    gc.enable()
    inside = threading.Barrier(2)
    done: list[bool] = []
    real = pdftext._read_page

    def held(page: object, flags: int | None, boxes: bool) -> pdftext.PageText:
        inside.wait(timeout=30)  # both reads are inside the pause at once
        result = real(page, flags, boxes)
        inside.wait(timeout=30)
        return result

    def read(first_ends: bool) -> None:
        with pymupdf.open(arabic_pdf) as doc:
            pdftext.read_page(doc[0])
        done.append(first_ends)

    pdftext._read_page = held  # type: ignore[assignment]
    try:
        threads = [threading.Thread(target=read, args=(n == 0,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        pdftext._read_page = real  # type: ignore[assignment]
    assert len(done) == 2
    assert gc.isenabled()
