"""What a content inventory costs per item, by format (beyond extraction, which it reuses).

    python -m benchmarks.inventory [--repeat 3]

One file of each kind is made here (the same kinds the leak-check tests use), then
`inventory.of_file` reads it `--repeat` times in this process: identification, extraction,
every other place, and OCR where the format has images (a PDF page image, a PNG). The figure
is the median wall time per item. In processing, the body text and OCR are already done by
the analysis, so the inventory adds less than this; a redacted copy at package time costs this.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, save


def make(folder: Path) -> dict[str, Path]:
    from tests.fixtures import zip_of
    from tests.test_leak_check import (
        HTML_COMMENT,
        docx_with,
        name_png,
        pdf_with,
        pdf_with_image,
        pptx_with,
        revised_pdf,
    )

    files = {
        "docx": folder / "a.docx",
        "pptx": folder / "a.pptx",
        "pdf (text, bookmark, note)": folder / "a.pdf",
        "pdf (incremental update)": folder / "r.pdf",
        "pdf (text + image, OCR)": folder / "i.pdf",
        "html": folder / "a.html",
        "eml": folder / "a.eml",
        "png (OCR)": folder / "a.png",
        "zip": folder / "a.zip",
        "xlsx (20,000 rows, formulas)": folder / "a.xlsx",
    }
    docx_with(files["docx"], "Interview", "page 1")
    pptx_with(files["pptx"], "W-1", "notes")
    pdf_with(files["pdf (text, bookmark, note)"], bookmark="Interview", sticky="Call again")
    revised_pdf(files["pdf (incremental update)"], "Statement of the witness", "witness")
    pdf_with_image(files["pdf (text + image, OCR)"], "Archive Office")
    files["html"].write_text(HTML_COMMENT.format("the clerk"))
    files["eml"].write_bytes(
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Minutes\r\n"
        b"X-Mailer: test\r\n\r\nThe minutes of the meeting.\r\n"
    )
    files["png (OCR)"].write_bytes(name_png("Archive Office"))
    files["zip"].write_bytes(zip_of({"a.txt": b"first", "b.txt": b"second"}))
    _sheet(files["xlsx (20,000 rows, formulas)"])
    return files


def _sheet(path: Path) -> None:
    """A register: names, numbers, a sum of each row and a label made by a formula."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Detained", "Released", "Days", "Label"])
    for r in range(2, 20_002):
        sheet.append([f"Person {r}", r % 300, r % 200, f"=C{r}-B{r}", f'=A{r}&" ("&D{r}&" days)"'])
    book.save(path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from amanah.processing import inventory

    tmp = Path(tempfile.mkdtemp(prefix="amanah-inventory-bench-"))
    files = make(tmp)
    inventory.of_file(files["html"], "a.html", tmp / "warm")  # imports, not counted
    figures: dict[str, dict[str, float]] = {}
    for kind, path in files.items():
        times, cpu = [], []
        for n in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            inv = inventory.of_file(path, path.name, tmp / f"w-{n}")
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        figures[kind] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "median_cpu_ms": round(statistics.median(cpu) * 1000, 1),
            "parts": len(inv.parts),
            "complete": inv.complete,
        }
        print(
            f"{kind:30} {figures[kind]['median_ms']:8.1f} ms"
            f" (CPU {figures[kind]['median_cpu_ms']:.1f} ms)  {len(inv.parts)} parts",
            flush=True,
        )
    save("inventory", {"machine": machine(), "repeat": args.repeat, "per_format": figures})


if __name__ == "__main__":
    main()
