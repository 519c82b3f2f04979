"""OCR of tables: pages read with their rules and cell frames erased (`cleanup.unrule`) and
without (the step replaced by one that erases nothing), alternately in one session.

Pages: the register drawn by `tests/test_ocr_rules.py` (its cells' words known), and each
page of the fixtures' `example.pdf` (a table printed to PDF whose text layer is unreadable,
so it is OCR'd; skipped when ../shared/data is absent). For each page and side: CPU seconds
(this process and its Tesseract children), mean word confidence, the variants tried, rows of
ink read / counted, and for the drawn page the share of its cells' words found.

Usage: python -m benchmarks.ocr_tables [--rounds 2] [--pages 1 2 3]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import machine, save


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + time.process_time()


def _pages(wanted: list[int] | None) -> list[tuple[str, Any, list[str] | None]]:
    import pypdfium2 as pdfium

    from amanah.processing import ocr
    from tests.conftest import SHARED_DATA
    from tests.test_ocr_rules import table_page

    example = SHARED_DATA / "ingest_file_fixtures" / "example.pdf"
    page, words = table_page()
    out: list[tuple[str, Any, list[str] | None]] = [("drawn register", page, words)]
    if example.is_file():
        doc = pdfium.PdfDocument(str(example))
        for n in wanted or range(1, len(doc) + 1):
            image = doc[n - 1].render(scale=ocr.RENDER_DPI / 72, grayscale=True).to_pil()
            out.append((f"example.pdf p{n}", image, None))
    else:
        print(f"{example} is absent: the drawn page only")
    return out


def _read(image: Any, words: list[str] | None, erase: bool, work: Path) -> dict[str, Any]:
    from amanah.processing import cleanup, ocr

    unrule = cleanup.unrule
    if not erase:
        cleanup.unrule = lambda grey, height: (grey, 0)  # type: ignore[assignment]
    try:
        start = _cpu()
        page = ocr.ocr_image(image, 1, work, "ara+eng")
        cpu = _cpu() - start
    finally:
        cleanup.unrule = unrule  # type: ignore[assignment]
    row: dict[str, Any] = {
        "cpu_s": round(cpu, 2),
        "confidence": page.confidence,
        "variant": page.variant,
        "tried": len(page.tried),
        "rows": f"{page.rows_read}/{page.rows}",
        "rules_ms": page.steps.get("rules"),
    }
    if words:
        tokens = set(page.text.split())
        row["words_found"] = round(sum(1 for w in words if w in tokens) / len(words), 3)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pages", type=int, nargs="*", help="pages of example.pdf (default all)")
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": machine(), "pages": {}}
    totals = {"frames kept": 0.0, "frames erased": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, image, words in _pages(args.pages):
            rows: dict[str, list[dict[str, Any]]] = {"frames kept": [], "frames erased": []}
            for _ in range(args.rounds):
                for side, erase in (("frames kept", False), ("frames erased", True)):
                    row = _read(image, words, erase, work)
                    rows[side].append(row)
                    totals[side] += row["cpu_s"]
                    print(name, side, row, flush=True)
            result["pages"][name] = rows
    result["cpu_s_total"] = {k: round(v, 1) for k, v in totals.items()}
    print("CPU seconds, all pages and rounds:", result["cpu_s_total"])
    save("ocr_tables", result)


if __name__ == "__main__":
    main()
