"""Arabic read from PDF text layers: word recall per producer, before and after, and speed.

    python -m benchmarks.pdf_arabic [--copies 5] [--pages 2]

One Arabic text (tests/arabic_corpus.py: lam-alef words, lines mixing Arabic, Latin and
digits) is printed to PDF by each producer installed (chromium, WeasyPrint, LibreOffice from
.docx and .odt, Tesseract's OCR'd PDF), `--pages` pages long. Recall is the share of the
text's distinct words whose search term (the analyzer's exact form) is among the terms of the
text read: by pdfium (Amanah's extraction before), poppler's `pdftotext`, MuPDF's plain
`get_text`, and `extract.pdf` now. Speed: each producer's file copied `--copies` times, read
by `extract.pdf` in this process and by `pdftotext FILE -` (a process per file, as a reader
is run), files per second each; target: ours at least 0.7x pdftotext's.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, save


def _terms(text: str) -> set[str]:
    from amanah.text.analyzer import analyze

    return set(analyze(text).exact)


def _recall(source: list[str], text: str) -> float:
    words = list(dict.fromkeys(source))
    have = _terms(text)
    return sum(1 for w in words if set(_terms(w)) <= have) / len(words)


def _readers(pdf: Path) -> dict[str, str]:
    import pymupdf
    import pypdfium2 as pdfium

    from amanah.processing import extract

    doc = pdfium.PdfDocument(str(pdf))
    before = []
    for page in doc:
        tp = page.get_textpage()
        before.append(tp.get_text_bounded())
        tp.close()
    doc.close()
    with pymupdf.open(pdf) as m:
        mupdf = "\n".join(p.get_text() for p in m)
    poppler = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8", "replace")
    return {
        "pdfium (before)": "\n".join(before),
        "pdftotext": poppler,
        "pymupdf get_text": mupdf,
        "extract.pdf (after)": "\n".join(extract.pdf(pdf).pages),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--pages", type=int, default=2)
    args = parser.parse_args()
    from amanah.processing import extract
    from tests import arabic_corpus as corpus

    lines = corpus.LINES * (args.pages * 5)  # about 35 lines fill a page at 14 pt
    result: dict[str, object] = {"machine": machine(), "pages": args.pages}
    recall: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made: dict[str, Path] = {}
        for name, producer in corpus.PRODUCERS.items():
            pdf = producer(lines, folder / f"{name}.pdf")
            if pdf is None:
                print(f"{name}: not installed, skipped")
                continue
            made[name] = pdf
            texts = _readers(pdf)
            recall[name] = {k: round(_recall(corpus.words(), t), 3) for k, t in texts.items()}
            print(name, recall[name])
        files = [
            shutil.copy(pdf, folder / f"{name}-{n}.pdf")
            for name, pdf in made.items()
            for n in range(args.copies)
        ]
        start = time.perf_counter()
        for f in files:
            subprocess.run(["pdftotext", "-enc", "UTF-8", str(f), "-"], capture_output=True)
        poppler = len(files) / (time.perf_counter() - start)
        start = time.perf_counter()
        for f in files:
            extract.pdf(Path(f))
        ours = len(files) / (time.perf_counter() - start)
    result["recall"] = recall
    result["files"] = len(files)
    result["files_per_second"] = {"pdftotext": round(poppler, 1), "extract.pdf": round(ours, 1)}
    result["ratio"] = round(ours / poppler, 2)
    print(f"{len(files)} files: pdftotext {poppler:.1f}/s, extract.pdf {ours:.1f}/s", end="")
    print(f" ({ours / poppler:.2f}x)")
    save("pdf_arabic", result)


if __name__ == "__main__":
    main()
