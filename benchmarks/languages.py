"""How language detection reads texts of each length: trigrams alone or every model.

    python -m benchmarks.languages [--data ../shared/data]

Texts whose language is known, read in place: XQuAD's Arabic and English paragraphs,
questions and answers (`xquad_ar_en`) and OpenITI's Arabic OCR lines (`openiti_arabic_ocr_gs`).
For each set and length (characters after spaces are folded, as `language.detect` samples),
the share named right by every model (lingua's high accuracy mode), by trigrams alone (its low
accuracy mode) and by `language.detect` (trigrams from TRIGRAMS_FROM characters up, every
model below), and the CPU seconds and resident memory each detector costs to build. Prints
counts and shares only, never a text.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

BINS = ((20, 60), (60, 120), (120, 400), (400, 10**9))

_BUILD = """
import sys, time
from lingua import LanguageDetectorBuilder
from amanah.processing.language import _LANGUAGES
def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
builder = LanguageDetectorBuilder.from_languages(*_LANGUAGES).with_preloaded_language_models()
if sys.argv[1] == "trigrams":
    builder = builder.with_low_accuracy_mode()
before, t = rss(), time.process_time()
builder.build()
print(time.process_time() - t, (rss() - before) >> 10)
"""


def _texts(data: Path) -> dict[tuple[str, str], list[str]]:
    sets: dict[tuple[str, str], list[str]] = defaultdict(list)
    for code in ("ar", "en"):
        xquad = json.loads((data / "xquad_ar_en" / f"xquad.{code}.json").read_text("utf-8"))
        for article in xquad["data"]:
            for paragraph in article["paragraphs"]:
                sets[(code, "paragraph")].append(paragraph["context"])
                for qa in paragraph["qas"]:
                    sets[(code, "question")].append(qa["question"])
                    sets[(code, "answer")].extend(a["text"] for a in qa["answers"])
    for line in sorted((data / "openiti_arabic_ocr_gs").glob("*/*.gt.txt")):
        sets[("ar", "OCR line")].append(line.read_text("utf-8"))
    return sets


def _build(kind: str) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", _BUILD, kind], capture_output=True, text=True, check=True
    ).stdout.split()
    return round(float(out[0]), 2), int(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    if not (args.data / "xquad_ar_en").is_dir():
        sys.exit(f"{args.data}: no xquad_ar_en here (give --data)")
    from amanah.processing import language

    full, trigrams = language._detector(), language._trigrams()

    def top(detector: object, text: str) -> str | None:
        values = detector.compute_language_confidence_values(text)  # type: ignore[attr-defined]
        return language._LANGUAGES[values[0].language] if values else None

    rows = []
    for (code, kind), texts in _texts(args.data).items():
        folded = [" ".join(t.split()) for t in texts]
        for low, high in BINS:
            chosen = [t for t in folded if low <= len(t) < high]
            if not chosen:
                continue
            said = {
                "every model": sum(top(full, t) == code for t in chosen),
                "trigrams": sum(top(trigrams, t) == code for t in chosen),
                "detect": sum(
                    bool(found) and found[0]["language"] == code
                    for found in map(language.detect, chosen)
                ),
            }
            rows.append(
                {
                    "language": code,
                    "texts": kind,
                    "characters": f"{low}-{high if high < 10**9 else ''}",
                    "n": len(chosen),
                    **{k: round(v / len(chosen), 4) for k, v in said.items()},
                }
            )
    built = {
        kind: dict(zip(("cpu_s", "resident_mib_added"), _build(kind), strict=True))
        for kind in ("trigrams", "full")
    }
    print(
        json.dumps(
            {"trigrams_from": language.TRIGRAMS_FROM, "build": built, "rows": rows}, indent=1
        )
    )


if __name__ == "__main__":
    main()
