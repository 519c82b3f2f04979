"""OCR of degraded Arabic scans and of long scans in page jobs (issue 14, parts 2 and 3).

1. CER by degradation level (tests.fixtures.DEGRADATIONS), Amanah's OCR against plain
   `tesseract IMAGE - -l ara` on the same images, and seconds per page of each.
2. The local-threshold variant's denoisers (cleanup.DENOISERS) compared in one session: the
   variant alone on each level and on a faint photocopy (CER, milliseconds of clean-up), and
   the whole reading of the faint page with each, seconds per page (the second variant's
   denoiser is compared by `benchmarks.ocr_degraded`).
3. A long scanned PDF (--pages N, default 40) processed by 2 workers in page jobs against the
   same file read in one job (page jobs switched off with AMANAH_OCR_SPLIT_FROM, which the
   worker passes to the caged analysis in its request), with the CPU seconds per page of each
   and the seconds from the item's job start to the first page job's start (from job rows);
   each job's timeline (kind, pages of a page job, start, end) goes to stderr.

Usage: python -m benchmarks.ocr [--pages N] [--skip cer denoise pages]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _norm(t: str) -> str:
    return " ".join(t.replace("\u200e", "").replace("\u200f", "").split())


def cer_by_level(work: Path) -> dict[str, Any]:
    from rapidfuzz.distance import Levenshtein

    from amanah.processing import ocr
    from tests.fixtures import DEGRADATIONS, degraded_scan
    from tests.test_ocr_degraded import MEMO

    truth = _norm(" ".join(MEMO))
    rows = {}
    for level in DEGRADATIONS:
        image = degraded_scan(MEMO, level)
        png = work / f"{level}.png"
        image.save(png)
        t = time.perf_counter()
        plain = subprocess.run(
            ["tesseract", str(png), "-", "-l", "ara"], capture_output=True, env=ENV, check=True
        ).stdout.decode("utf-8")
        cli_s = time.perf_counter() - t
        t = time.perf_counter()
        page = ocr.ocr_image(image, 1, work, "ara")
        ours_s = time.perf_counter() - t
        rows[level] = {
            "cer_cli": round(Levenshtein.distance(truth, _norm(plain)) / len(truth), 4),
            "cer_amanah": round(Levenshtein.distance(truth, _norm(page.text)) / len(truth), 4),
            "seconds_cli": round(cli_s, 2),
            "seconds_amanah": round(ours_s, 2),
            "time_ratio": round(ours_s / cli_s, 2),
            "variant": page.variant,
            "variants_tried": len(page.tried),
            "steps_ms": page.steps,
        }
        print(level, rows[level], file=sys.stderr)
    return rows


def denoisers(work: Path) -> dict[str, Any]:
    from rapidfuzz.distance import Levenshtein

    from amanah.processing import cleanup, ocr
    from tests.fixtures import DEGRADATIONS, degraded_scan
    from tests.test_ocr_degraded import MEMO
    from tests.test_ocr_speedups import faint_scan

    truth = _norm(" ".join(MEMO))
    images = {level: degraded_scan(MEMO, level) for level in DEGRADATIONS}
    images["faint"] = faint_scan()
    preps = {level: cleanup.prepare(ocr._to_grey(im)) for level, im in images.items()}
    rows: dict[str, Any] = {}
    default = cleanup.DENOISER
    for name in cleanup.DENOISERS:
        row: dict[str, Any] = {}
        for level, prep in preps.items():
            t = time.perf_counter()
            ink = cleanup.adaptive(prep, name)
            ms = (time.perf_counter() - t) * 1e3
            text, conf, _ = ocr.tesseract(ink, work, "ara", False, ocr.PSM[prep.layout])
            cer = Levenshtein.distance(truth, _norm(text)) / len(truth)
            row[level] = {"cer": round(cer, 4), "confidence": conf, "cleanup_ms": round(ms)}
        cleanup.DENOISER = name
        try:
            t = time.perf_counter()
            page = ocr.ocr_image(images["faint"], 1, work, "ara")
            row["faint_whole_page"] = {
                "seconds": round(time.perf_counter() - t, 2),
                "cer": round(Levenshtein.distance(truth, _norm(page.text)) / len(truth), 4),
                "variant": page.variant,
                "tried": page.tried,
            }
        finally:
            cleanup.DENOISER = default
        rows[name] = row
        print(name, row, file=sys.stderr)
    return rows


def _process(pdf: bytes, split: bool, workers: int) -> dict[str, Any]:
    """Seconds from the first job to the last for one scanned PDF, in a fresh home; CPU seconds
    of the sandboxes; seconds from the item's job start to the first page job's start."""
    code = f"""
import sys, time
from pathlib import Path
from amanah.config import write_default_config
from amanah.workspace import open_workspace
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.processing.sandbox import CPU_SECONDS
home = Path(sys.argv[1]); write_default_config(home / "home")
ws = open_workspace(home / "home")
ingest(ws, IntakeRequest(sources=[str(home / "in")], collection="c", provider="P", actor="b",
       ocr_languages="ara"))
t = time.perf_counter(); r = run(ws, workers={workers}); s = time.perf_counter() - t
assert r.failed == 0, r.failures
import json, os
from sqlalchemy import select
from amanah.db.models import Job, OcrPart
with ws.db.reader() as db:
    jobs = db.execute(select(Job.kind, Job.locked_at, Job.finished_at)).all()
    sizes = dict(("ocr:" + str(first), len(json.loads(spec)["pages"]))
                 for first, spec in db.execute(select(OcrPart.first_page, OcrPart.pages)))
t0 = min(j.locked_at for j in jobs)
print(json.dumps([[j.kind, sizes.get(j.kind, ""), round((j.locked_at - t0).total_seconds(), 2),
      round((j.finished_at - t0).total_seconds(), 2)] for j in sorted(jobs, key=lambda j: j[1])]))
print(json.dumps(CPU_SECONDS))
print(s)
"""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in").mkdir()
        (Path(tmp) / "in" / "book.pdf").write_bytes(pdf)
        env = {**os.environ, "AMANAH_OCR_SPLIT_FROM": "8" if split else "100000"}
        out = subprocess.run(
            [sys.executable, "-c", code, tmp], capture_output=True, env=env, check=True, text=True
        )
    lines = out.stdout.strip().splitlines()
    print("timeline", "page jobs" if split else "one job", lines[-3], file=sys.stderr)
    print("sandbox children's CPU seconds by task", lines[-2], file=sys.stderr)
    timeline = json.loads(lines[-3])
    cpu = json.loads(lines[-2])
    starts = [start for kind, _, start, _ in timeline if kind.startswith("ocr:")]
    process = next((start, end) for kind, _, start, end in timeline if kind == "process")
    return {
        "seconds": float(lines[-1]),
        "cpu_seconds": sum(cpu.values()),
        "cpu_seconds_by_task": {k: round(v, 2) for k, v in sorted(cpu.items())},
        "page_jobs": len(starts),
        "pages_per_job": [n for kind, n, _, _ in timeline if kind.startswith("ocr:")],
        "first_page_job_after_s": round(min(starts) - process[0], 2) if starts else None,
        "item_job_seconds": round(process[1] - process[0], 2),
        "text_read_after_s": max(
            end for kind, _, _, end in timeline if kind == "process" or kind.startswith("ocr")
        ),
        **job_times(timeline),
    }


def job_times(timeline: list[list[Any]]) -> dict[str, Any]:
    """From the jobs' rows: seconds of job time by kind (summed over the jobs of a kind, less
    hurt by other load than wall time), and the wall time of the vectors (from the first
    `embed` job's start to the last vector share's end) and of the run's tail after the OCR."""
    kinds = {"process": "item", "ocr_join": "join", "pages": "page_images", "embed": "vectors"}
    busy: dict[str, float] = {}
    for kind, _, start, end in timeline:
        group = kinds.get(kind) or ("page_ocr" if kind.startswith("ocr:") else "")
        group = group or ("vectors" if kind.startswith("embed:") else kind)
        busy[group] = round(busy.get(group, 0.0) + end - start, 2)
    vectors = [(start, end) for kind, _, start, end in timeline if kind.startswith("embed")]
    reading = [end for kind, _, _, end in timeline if kind == "process" or kind.startswith("ocr")]
    last = max(end for *_, end in timeline)
    return {
        "job_seconds_by_kind": busy,
        "vector_jobs": len(vectors),
        "vectors_wall_s": round(max(e for _, e in vectors) - min(s for s, _ in vectors), 2)
        if vectors
        else None,
        "after_the_text_s": round(last - max(reading), 2),
    }


#: The most lines `tests.fixtures.scanned_page` prints on its page (1700 x 900 pixels).
MAX_LINES = 8


def long_scan(pages: int, lines: int = 2) -> dict[str, Any]:
    """`lines` per page: a heading and lines of the memo (2, the figures in the docs before
    2026-12-05: a heading and one line; 8: the page full, as a typed memo's scan is)."""
    from tests.fixtures import scanned_book
    from tests.test_ocr_degraded import MEMO

    pdf = scanned_book(
        [
            [f"الصفحة {n}", *(MEMO[(n + k) % len(MEMO)] for k in range(lines - 1))]
            for n in range(1, pages + 1)
        ]
    )
    one = _process(pdf, split=False, workers=2)
    assert one["page_jobs"] == 0, "the one-job baseline ran page jobs"
    two = _process(pdf, split=True, workers=2)
    return {
        "pages": pages,
        "lines_per_page": lines,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "one_job_seconds": round(one["seconds"], 1),
        "page_jobs_2_workers_seconds": round(two["seconds"], 1),
        "ratio": round(two["seconds"] / one["seconds"], 2),
        # The OCR's own part: from the first job to the text read and joined (the vectors and
        # page images after it are the same work in both runs).
        "one_job_text_read_after_s": one["text_read_after_s"],
        "page_jobs_text_read_after_s": two["text_read_after_s"],
        "ratio_until_the_text": round(two["text_read_after_s"] / one["text_read_after_s"], 2),
        "cpu_seconds_per_page_one_job": round(one["cpu_seconds"] / pages, 2),
        "cpu_seconds_per_page_page_jobs": round(two["cpu_seconds"] / pages, 2),
        "page_jobs": two["page_jobs"],
        "pages_per_job": two["pages_per_job"],
        "first_page_job_after_item_job_start_s": two["first_page_job_after_s"],
        "item_job_seconds": two["item_job_seconds"],
        "one_job": {k: one[k] for k in JOB_FIGURES},
        "page_jobs_run": {k: two[k] for k in JOB_FIGURES},
    }


JOB_FIGURES = (
    "cpu_seconds_by_task",
    "job_seconds_by_kind",
    "vector_jobs",
    "vectors_wall_s",
    "after_the_text_s",
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument(
        "--lines",
        type=int,
        default=2,
        choices=range(2, MAX_LINES + 1),
        metavar=f"2-{MAX_LINES}",
        help="lines per scanned page: a heading and lines of the memo (default 2)",
    )
    ap.add_argument("--skip", nargs="*", default=[])
    args = ap.parse_args()
    result: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        if "cer" not in args.skip:
            result["cer"] = cer_by_level(Path(tmp))
        if "denoise" not in args.skip:
            result["denoise"] = denoisers(Path(tmp))
    if "pages" not in args.skip:
        result["long_scan"] = long_scan(args.pages, args.lines)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
