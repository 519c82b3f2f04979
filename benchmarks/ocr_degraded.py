"""OCR clean-up measured per variant on every degradation (issue 14, part 2).

For each level of `tests.fixtures.DEGRADATIONS`, the faint photocopy (`faint_scan`) and the
boxed line (`boxed_line_scan`: a seventh line in a heavy drawn box, which Tesseract drops), one page
each (the six-line memo of `tests/test_ocr_degraded.py`):

- every clean-up variant of `ocr.VARIANTS` read alone: CER, Tesseract's mean confidence,
  rows of ink its reading left without a word, milliseconds of clean-up and seconds of
  Tesseract;
- the whole reading as `ocr.ocr_image` does it (first variant, then the others when its
  confidence is poor or a row of ink is unread): CER, variant kept, variants tried, rows of
  ink and rows read, seconds (wall, and CPU of this process and its Tesseract children), and
  the shared steps' ms;
- plain `tesseract IMAGE - -l ara` on the same image, and the reading's time against it;
- the denoisers of `cleanup.DENOISERS` before the second variant's global threshold, and
  that variant's Gaussian at several sigmas (`--skip denoise` leaves this out).

Each page is read `--repeat` times (default 1) and the fastest time kept; the load average
is printed at the start and the end. `--seeds 11 12` adds the faint photocopy and the severe
level made with other specks and grain (the choice must hold beyond one page). Tesseract is
CPU-heavy: keep this to a few pages.

Usage: python -m benchmarks.ocr_degraded [--repeat N] [--levels clean faint ...]
       [--seeds N ...] [--skip denoise]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import machine

ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _norm(t: str) -> str:
    return " ".join(t.replace("\u200e", "").replace("\u200f", "").split())


#: The boxed line of `boxed` pages and where it stands among the memo's lines.
BOXED, BOXED_AT = "رقم الملف 4471", 4
LEVELS = ("faint", "boxed")


def _images(levels: list[str], seeds: list[int]) -> dict[str, tuple[Any, list[str]]]:
    """Each page to read, with its ground truth (the memo's lines, the boxed line added)."""
    from tests.fixtures import DEGRADATIONS, boxed_line_scan, degraded_scan, faint_scan
    from tests.test_ocr_degraded import MEMO

    boxed = [*MEMO[:BOXED_AT], BOXED, *MEMO[BOXED_AT:]]
    out = {}
    for level in levels:
        if level == "faint":
            out[level] = (faint_scan(MEMO), MEMO)
        elif level == "boxed":
            out[level] = (boxed_line_scan(MEMO, BOXED, BOXED_AT, frame=6), boxed)
        elif level in DEGRADATIONS:
            out[level] = (degraded_scan(MEMO, level), MEMO)
        else:
            raise SystemExit(f"unknown level {level!r}: one of {[*DEGRADATIONS, *LEVELS]}")
    for seed in seeds:
        out[f"faint seed {seed}"] = (faint_scan(MEMO, seed, seed + 100), MEMO)
        out[f"severe seed {seed}"] = (degraded_scan(MEMO, "severe", seed), MEMO)
    return out


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (Tesseract)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _cer_of(truth: str) -> Any:
    from rapidfuzz.distance import Levenshtein

    return lambda text: round(Levenshtein.distance(truth, _norm(text)) / len(truth), 4)


def _unread(ink: Any, words: list[dict[str, Any]], prep: Any) -> int | None:
    """Rows of ink of a variant's image that its reading alone left without a word (None
    with the code before the row check)."""
    try:
        from amanah.processing import inkrows
    except ImportError:
        return None
    if not prep.text_height:
        return None
    found = inkrows.find(ink, prep.text_height * prep.scale)
    inkrows.mark_read(found, words)
    return found.count - found.read_count


def measure(images: dict[str, Any], repeat: int, work: Path) -> dict[str, Any]:
    from amanah.processing import cleanup, ocr

    rows: dict[str, Any] = {}
    for level, (image, truth) in images.items():
        cer = _cer_of(_norm(" ".join(truth)))
        png = work / f"{level.replace(' ', '-')}.png"
        image.save(png)
        cli_s, cli_cpu, plain = float("inf"), float("inf"), ""
        for _ in range(repeat):
            t, c = time.perf_counter(), _cpu()
            plain = subprocess.run(
                ["tesseract", str(png), "-", "-l", "ara"], capture_output=True, env=ENV, check=True
            ).stdout.decode("utf-8")
            cli_s = min(cli_s, time.perf_counter() - t)
            cli_cpu = min(cli_cpu, _cpu() - c)
        prep = cleanup.prepare(ocr._to_grey(image))
        variants: dict[str, Any] = {}
        for name, variant in ocr.VARIANTS:
            t = time.perf_counter()
            ink = variant(prep)
            ms = (time.perf_counter() - t) * 1e3
            t = time.perf_counter()
            text, conf, words = ocr.tesseract(ink, work, "ara", False, ocr.PSM[prep.layout])
            variants[name] = {
                "cer": cer(text),
                "confidence": conf,
                "rows_unread": _unread(ink, words, prep),
                "cleanup_ms": round(ms),
                "tesseract_s": round(time.perf_counter() - t, 2),
            }
        whole_s, cpu_s, page = float("inf"), float("inf"), None
        for _ in range(repeat):
            t, c = time.perf_counter(), _cpu()
            page = ocr.ocr_image(image, 1, work, "ara")
            whole_s = min(whole_s, time.perf_counter() - t)
            cpu_s = min(cpu_s, _cpu() - c)
        assert page is not None
        rows[level] = {
            "size": list(image.size),
            "cer_cli": cer(plain),
            "cer": cer(page.text),
            "variant": page.variant,
            "tried": page.tried,
            # before the row check a page had no such fields
            "rows": getattr(page, "rows", None),
            "rows_read": getattr(page, "rows_read", None),
            "seconds": round(whole_s, 2),
            "cpu_seconds": round(cpu_s, 2),
            "seconds_cli": round(cli_s, 2),
            "time_vs_cli": round(whole_s / cli_s, 2),
            # CPU seconds: what a loaded, shared machine does not blur
            "cpu_seconds_cli": round(cli_cpu, 2),
            "cpu_vs_cli": round(cpu_s / cli_cpu, 2),
            "shared_steps_ms": {
                k: v
                for k, v in page.steps.items()
                if k in ("rescale", "flatten", "deskew", "rows") or k.startswith("reread")
            },
            "variants_alone": variants,
        }
        print(level, json.dumps(rows[level], ensure_ascii=False), file=sys.stderr)
    return rows


def denoisers(images: dict[str, Any], work: Path) -> dict[str, Any]:
    """The second variant (denoise, then Otsu) with each denoiser, and with its Gaussian at
    other sigmas: CER / confidence / milliseconds of clean-up per page."""
    from amanah.processing import cleanup, ocr
    from tests.test_ocr_degraded import MEMO

    cer = _cer_of(_norm(" ".join(MEMO)))
    preps = {
        level: cleanup.prepare(ocr._to_grey(im))
        for level, (im, truth) in images.items()
        if truth is MEMO
    }
    sigma = cleanup.GRAIN_SIGMA
    runs: list[tuple[str, str, float]] = [(n, n, sigma) for n in cleanup.DENOISERS]
    runs += [(f"gaussian sigma {s}", "gaussian", s) for s in (0.7, 1.2, 1.5) if s != sigma]
    rows: dict[str, Any] = {}
    try:
        for label, name, s in runs:
            cleanup.GRAIN_SIGMA = s
            row = {}
            for level, prep in preps.items():
                t = time.perf_counter()
                ink = cleanup.denoised_otsu(prep, name)
                ms = (time.perf_counter() - t) * 1e3
                text, conf, _ = ocr.tesseract(ink, work, "ara", False, ocr.PSM[prep.layout])
                row[level] = f"{cer(text):.3f} / {conf} / {ms:.0f} ms"
            rows[label] = row
            print(label, json.dumps(row, ensure_ascii=False), file=sys.stderr)
    finally:
        cleanup.GRAIN_SIGMA = sigma
    return rows


def main() -> None:
    from tests.fixtures import DEGRADATIONS

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--levels", nargs="*", default=[*DEGRADATIONS, *LEVELS])
    ap.add_argument("--seeds", nargs="*", type=int, default=[])
    ap.add_argument("--skip", nargs="*", default=[], choices=["levels", "denoise"])
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": machine(), "load_start": os.getloadavg()}
    images = _images(args.levels, args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        if "levels" not in args.skip:
            result["levels"] = measure(images, args.repeat, Path(tmp))
        if "denoise" not in args.skip:
            result["denoise"] = denoisers(images, Path(tmp))
    result["load_end"] = os.getloadavg()
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
