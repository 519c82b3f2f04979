"""Seconds per page of redaction: a PDF with a text layer, and a scanned (image-only) page.

    python -m benchmarks.redaction [--text-pages 20] [--scan-pages 3]

The files are made here: a typed statement naming the witness on every page (once wrapped
across two lines), and a scan of an Arabic statement drawn with real shaping (Pillow + raqm)
on a grey, low-contrast page at 200 dpi. Timed, in this process (the sandbox's fork adds a
constant ~0.5 s per item): finding and removing the names and writing the file anew
(`redact_pdf.redact`), then reading the written file back (`redact_pdf.reread`: text layer,
every object, and OCR of every page with an image, which is most of the cost of a scan).
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from amanah.sharing import redact_pdf
from amanah.sharing.protected import Matcher
from benchmarks.common import machine, save

NAME_AR, NAME_LATIN = "أحمد الخطيب", "Ahmad al-Khatib"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_pdf(path: Path, pages: int) -> None:
    import pymupdf

    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page()
        y = 72
        for line in range(40):
            text = f"Line {line} of page {n + 1}: the detainees were moved at night to the river."
            if line == 10:
                text = f"Statement of {NAME_LATIN} about the checkpoint, given in the presence of"
            if line == 20:
                text = "counsel. The hearing was told by Ahmad"
            if line == 21:
                text = "al-Khatib that the cell was full."
            page.insert_text((72, y), text, fontsize=10)
            y += 17
    doc.save(path)


def scanned_pdf(path: Path, pages: int) -> None:
    import pymupdf
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 34, layout_engine=ImageFont.Layout.RAQM)
    doc = pymupdf.open()
    for _ in range(pages):
        image = Image.new("L", (1654, 2339), 215)
        draw = ImageDraw.Draw(image)
        y = 150
        for line in range(25):
            text = "نقل المعتقلون ليلًا إلى فرع المخابرات الجوية قرب النهر."
            if line % 8 == 3:
                text = f"قال الشاهد {NAME_AR} إنه رأى المعتقلين في الزنزانة."
            draw.text((1500, y), text, font=font, fill=150, anchor="ra", direction="rtl")
            y += 80
        buf = io.BytesIO()
        image.save(buf, "PNG")
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=buf.getvalue())
    doc.save(path)


def measure(path: Path, pages: int, work: Path) -> dict[str, float]:
    matcher = Matcher.of([("Witness A", [NAME_AR, NAME_LATIN])])
    spec = {"languages": "ara+eng", "regions": []}
    target = work / f"{path.stem}.redacted.pdf"
    start = time.perf_counter()
    done = redact_pdf.redact(path, target, work / "ocr", matcher, spec)
    redact_s = time.perf_counter() - start
    start = time.perf_counter()
    _, left = redact_pdf.reread(target, work / "ocr", matcher, "ara+eng")
    reread_s = time.perf_counter() - start
    return {
        "pages": pages,
        "areas": done["regions"],
        "names_left": len(left),
        "redact_s_per_page": round(redact_s / pages, 2),
        "reread_s_per_page": round(reread_s / pages, 2),
        "total_s_per_page": round((redact_s + reread_s) / pages, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--text-pages", type=int, default=20)
    ap.add_argument("--scan-pages", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, object] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="bench-redaction-") as tmp:
        work = Path(tmp)
        text_pdf(work / "typed.pdf", args.text_pages)
        scanned_pdf(work / "scan.pdf", args.scan_pages)
        results["text_layer"] = measure(work / "typed.pdf", args.text_pages, work)
        print("PDF with a text layer:", results["text_layer"], flush=True)
        results["scanned"] = measure(work / "scan.pdf", args.scan_pages, work)
        print("scanned PDF:", results["scanned"], flush=True)
    save("redaction", results)


if __name__ == "__main__":
    main()
