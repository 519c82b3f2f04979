"""Processing, measured: every fixture, OCR error rate, metadata accuracy, throughput.

    python -m benchmarks.processing [--lines N] [--mixed N] [--skip PART ...]

1. fixtures: every file of ../shared/data/ingest_file_fixtures through intake and processing:
   format, PRONOM id, text or OCR, children, flags with their reasons.
2. ocr: character error rate on ../shared/data/openiti_arabic_ocr_gs line images, Amanah's
   OCR path against the plain `tesseract IMAGE - -l ara` on the same lines, same run.
3. metadata: GPS, capture time and device against ExifTool's own expected test output.
4. pdf: text-layer PDFs per second against `pdftotext` on the same files.
5. mixed: a generated corpus of N items processed by the embedded runner on this machine.
6. sandbox: the cost per file of the caged sandbox against the limits-only one, same files,
   same run, alternating (`--sandbox-texts N --sandbox-pdfs N`; run alone with
   `--skip fixtures ocr metadata pdf mixed`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import machine, save

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _workspace(home: Path) -> Any:
    from amanah.config import write_default_config
    from amanah.workspace import open_workspace

    write_default_config(home)
    return open_workspace(home)


# -- 1. fixtures ---------------------------------------------------------------------------


def fixtures(work: Path) -> dict[str, Any]:
    from amanah.intake.ingest import IntakeRequest, ingest
    from amanah.items import list_items, show
    from amanah.processing.runner import run

    src = DATA / "ingest_file_fixtures"
    ws = _workspace(work / "home-fixtures")
    ingest(ws, IntakeRequest(sources=[str(src)], collection="fixtures", provider="bench"))
    started = time.monotonic()
    report = run(ws, workers=os.cpu_count())
    seconds = time.monotonic() - started
    rows = []
    for item in list_items(ws):
        if item["parent_id"] is not None:
            continue
        rec = show(ws, item["id"])
        kinds = {d["kind"] for d in rec["derivatives"]}
        rows.append(
            {
                "file": rec["original_path"].split("/", 1)[1],
                "media_type": rec["media_type"],
                "pronom": rec["pronom"],
                "text": "text" in kinds,
                "ocr": "ocr" in kinds,
                "children": len(rec["children"]),
                "flags": [f"{f['code']}: {f['message'][:90]}" for f in rec["flags"]],
                "processing": rec["processing"]["status"],
            }
        )
    ws.close()
    return {
        "items": report.done,
        "failed_jobs": report.failed,
        "children": report.children,
        "seconds": round(seconds, 1),
        "rows": rows,
    }


# -- 2. OCR --------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.replace("\u200e", "").replace("\u200f", "").split())


def ocr_cer(work: Path, limit: int | None) -> dict[str, Any]:
    from PIL import Image
    from rapidfuzz.distance import Levenshtein

    from amanah.processing import ocr

    folder = DATA / "openiti_arabic_ocr_gs" / "book_IbnAthir.Kamil"
    lines = sorted(folder.glob("*.png"))
    if limit:
        lines = random.Random(1).sample(lines, min(limit, len(lines)))
    totals: Counter[str] = Counter()
    times: Counter[str] = Counter()
    for png in lines:
        truth = _norm(png.with_name(png.name.replace(".png", ".gt.txt")).read_text("utf-8"))
        t = time.perf_counter()
        plain = subprocess.run(
            ["tesseract", str(png), "-", "-l", "ara"], capture_output=True, env=ENV, check=False
        ).stdout.decode("utf-8", "replace")
        times["cli"] += time.perf_counter() - t
        for label, langs in (("amanah_ara", "ara"), ("amanah_ara_eng", "ara+eng")):
            t = time.perf_counter()
            with Image.open(png) as im:
                page = ocr.ocr_image(im, 1, work, langs)
            times[label] += time.perf_counter() - t
            totals[label] += Levenshtein.distance(truth, _norm(page.text))
        totals["cli"] += Levenshtein.distance(truth, _norm(plain))
        totals["chars"] += len(truth)
    n = len(lines)
    return {
        "lines": n,
        "cer": {
            k: round(totals[k] / totals["chars"], 4)
            for k in ("cli", "amanah_ara", "amanah_ara_eng")
        },
        "seconds_per_line": {k: round(times[k] / n, 3) for k in times},
        "time_ratio_vs_cli": {
            k: round(times[k] / times["cli"], 2) for k in ("amanah_ara", "amanah_ara_eng")
        },
    }


# -- 3. metadata ---------------------------------------------------------------------------

# ExifTool's test configuration prints positions as "54 degrees 59.38 minutes N".
_DM = re.compile(r"(\d+) degrees ([\d.]+) minutes ([NSEW])")


def _dms(text: str) -> float | None:
    m = _DM.search(text)
    if not m:
        return None
    value = int(m.group(1)) + float(m.group(2)) / 60
    return -value if m.group(3) in "SW" else value


def metadata_accuracy() -> dict[str, Any]:
    from amanah.processing.metadata import extract

    root = DATA / "exiftool_metadata_samples"
    checks: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    misses: list[str] = []
    for out in sorted((root / "expected_out").glob("*.out")):
        expected: dict[str, str] = {}
        for line in out.read_text("utf-8", "replace").splitlines():
            m = re.match(r"^\[(.*?)\] (\S+) - ([^:]+): (.*)$", line)
            if m:
                groups, _, label, value = m.groups()
                expected.setdefault(f"{groups.split(',')[0]}|{label.strip()}", value.strip())
        name = expected.get("File|File Name")
        if not name or not (root / "images" / name).exists():
            continue
        media = "video/" if name.lower().endswith((".mov", ".mp4", ".m4v", ".3gp")) else "image/"
        ours, _ = extract(root / "images" / name, media + "x")
        lat = expected.get("Composite|GPS Latitude")
        lon = expected.get("Composite|GPS Longitude")
        if lat and lon and _dms(lat) is not None and _dms(lon) is not None:
            checks["gps"] += 1
            ok = (
                # the expected output shows minutes to 2 decimals: 0.01' is 1.7e-4 degrees
                abs(ours.get("latitude", 999) - _dms(lat)) < 2e-4  # type: ignore[operator]
                and abs(ours.get("longitude", 999) - _dms(lon)) < 2e-4  # type: ignore[operator]
            )
            hits["gps"] += ok
            if not ok:
                misses.append(f"{out.name} gps")
        taken = next((v for k, v in expected.items() if k.endswith("|Date/Time Original")), None)
        if taken and re.match(r"\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}", taken):
            checks["captured_at"] += 1
            want = taken[:19].replace(":", "-", 2).replace(" ", "T")
            ok = str(ours.get("captured_at", "")).startswith(want)
            hits["captured_at"] += ok
            if not ok:
                misses.append(f"{out.name} captured_at")
        make = expected.get("EXIF|Make")
        model = expected.get("EXIF|Camera Model Name")
        if make and model:
            checks["device"] += 1
            ok = model.strip() in ours.get("device", "")
            hits["device"] += ok
            if not ok:
                misses.append(f"{out.name} device")
    return {
        "fields": {k: {"checked": checks[k], "correct": hits[k]} for k in checks},
        "misses": misses,
    }


# -- 4. PDF throughput ---------------------------------------------------------------------


def pdf_throughput(work: Path, copies: int) -> dict[str, Any]:
    from amanah.processing import extract
    from amanah.processing.sandbox import Sandbox

    names = [
        "udhr_ger.pdf",
        "readme.pdf",
        "the-dorset-food-menu.pdf",
        "106972554.pdf",
        "twopage.pdf",
        "500 pages.pdf",
    ]
    files = [DATA / "ingest_file_fixtures" / n for n in names] * copies
    pages = sum(len(extract.pdf(f).pages) for f in files)
    t = time.perf_counter()
    for f in files:
        subprocess.run(
            ["pdftotext", str(f), str(work / "out.txt")], capture_output=True, check=False
        )
    baseline = time.perf_counter() - t
    t = time.perf_counter()
    for f in files:
        extract.pdf(f)
    extraction = time.perf_counter() - t
    sandbox = Sandbox()
    sandbox.analyze(str(files[0]), "warm.pdf", tempfile.mkdtemp(dir=work))
    t = time.perf_counter()
    for f in files:
        sandbox.analyze(str(f), f.name, tempfile.mkdtemp(dir=work))
    full = time.perf_counter() - t
    sandbox.close()
    n = len(files)
    return {
        "files": n,
        "pages": pages,
        "pdftotext_files_per_s": round(n / baseline, 1),
        "text_extraction_files_per_s": round(n / extraction, 1),
        "full_analysis_files_per_s": round(n / full, 1),
        "ratio_text_extraction": round(baseline / extraction, 2),
        "ratio_full_analysis": round(baseline / full, 2),
    }


# -- 5. mixed corpus -----------------------------------------------------------------------


def mixed(work: Path, count: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from amanah.intake.ingest import IntakeRequest, ingest
    from amanah.processing.runner import run
    from tests.fixtures import email_with, minimal_pdf, photo_with_exif, zip_of

    rng = random.Random(5)
    words_ar = "فرع المخابرات الشاهد المعتقل دمشق حلب حمص التحقيق الزنزانة الحاجز".split()  # noqa: SIM905
    words_en = "branch detention witness convoy checkpoint shelling hospital village".split()  # noqa: SIM905
    src = work / "mixed"
    kinds: Counter[str] = Counter()
    for i in range(count):
        kind = rng.choices(["txt", "html", "pdf", "eml", "jpg"], weights=[40, 20, 25, 13, 2])[0]
        words = [rng.choice(words_ar if i % 2 else words_en) for _ in range(rng.randint(50, 400))]
        text = " ".join(words) + f" {i}"
        if kind == "txt":
            data = text.encode("utf-8" if i % 3 else "cp1256", "replace")
        elif kind == "html":
            data = (
                f"<html><body><h1>{i}</h1><p>{text}</p><script>x()</script></body></html>".encode()
            )
        elif kind == "pdf":
            data = minimal_pdf([" ".join(words_en[:5]), f"document {i}"])
        elif kind == "eml":
            data = email_with(
                {"notes.zip": ("application/zip", zip_of({"a.txt": text.encode()}))}, text
            )
        else:
            data = photo_with_exif(seed=i)
        kinds[kind] += 1
        p = src / f"d{i // 500:03d}" / f"item-{i:05d}.{kind}"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    ws = _workspace(work / "home-mixed")
    ingest(ws, IntakeRequest(sources=[str(src)], collection="mixed", provider="bench"))
    started = time.monotonic()
    report = run(ws, workers=os.cpu_count())
    seconds = time.monotonic() - started
    ws.close()
    processed = report.done
    return {
        "generated": count,
        "kinds": dict(kinds),
        "items_processed": processed,
        "children_found": report.children,
        "failed": report.failed,
        "seconds": round(seconds, 1),
        "items_per_s": round(processed / seconds, 1),
        "workers": os.cpu_count(),
    }


# -- 6. the sandbox's cage, per file ---------------------------------------------------------


def sandbox_cost(work: Path, texts: int, pdfs: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from amanah.processing.sandbox import Sandbox
    from tests.fixtures import minimal_pdf

    rng = random.Random(6)
    words = "branch detention witness convoy checkpoint shelling hospital village".split()  # noqa: SIM905
    src = work / "sandbox-files"
    src.mkdir()
    files = []
    for i in range(texts):
        path = src / f"t{i:04d}.txt"
        path.write_text(" ".join(rng.choice(words) for _ in range(300)) + f" {i}")
        files.append(("text", path))
    for i in range(pdfs):
        path = src / f"p{i:04d}.pdf"
        path.write_bytes(minimal_pdf([" ".join(rng.choice(words) for _ in range(12)), f"{i}"]))
        files.append(("pdf", path))
    boxes = {mode: Sandbox(mode, work) for mode in ("limits-only", "isolated")}
    started: dict[str, float] = {}
    spent: dict[str, dict[str, list[float]]] = {m: {"text": [], "pdf": []} for m in boxes}
    try:
        for mode, box in boxes.items():  # the zygote's start (imports), once per worker
            t = time.perf_counter()
            box.analyze(str(files[0][1]), "warm.txt", tempfile.mkdtemp(dir=work))
            started[mode] = time.perf_counter() - t
        for n, (kind, path) in enumerate(files):
            order = list(boxes) if n % 2 else list(reversed(boxes))  # alternate: load is shared
            for mode in order:
                out = tempfile.mkdtemp(dir=work)
                t = time.perf_counter()
                boxes[mode].analyze(str(path), path.name, out)
                spent[mode][kind].append(time.perf_counter() - t)
                shutil.rmtree(out)
        isolation = boxes["isolated"].isolation
    finally:
        for box in boxes.values():
            box.close()
    counts = {"text": texts, "pdf": pdfs}

    def ms(mode: str, kind: str, stat: Any) -> float:
        return round(1000 * stat(spent[mode][kind]), 1) if spent[mode][kind] else 0.0

    mean = {m: {k: ms(m, k, statistics.mean) for k in counts} for m in boxes}
    median = {m: {k: ms(m, k, statistics.median) for k in counts} for m in boxes}
    return {
        "isolation": isolation,
        "files": counts,
        "ms_per_file_mean": mean,
        "ms_per_file_median": median,
        "added_ms_per_file_median": {
            k: round(median["isolated"][k] - median["limits-only"][k], 1) for k in counts
        },
        "zygote_start_s": {mode: round(v, 2) for mode, v in started.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200, help="OCR lines (0: all)")
    parser.add_argument("--mixed", type=int, default=10_000)
    parser.add_argument("--pdf-copies", type=int, default=10)
    parser.add_argument("--sandbox-texts", type=int, default=500)
    parser.add_argument("--sandbox-pdfs", type=int, default=50)
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    if not DATA.is_dir() and {"fixtures", "ocr", "metadata", "pdf"} - set(args.skip):
        sys.exit(f"{DATA} is absent: these benchmarks read the shared test data")
    work = Path(tempfile.mkdtemp(prefix="amanah-bench-proc-"))
    result: dict[str, Any] = {"machine": machine()}
    try:
        for name, fn in (
            ("fixtures", lambda: fixtures(work)),
            ("ocr", lambda: ocr_cer(work, args.lines or None)),
            ("metadata", metadata_accuracy),
            ("pdf", lambda: pdf_throughput(work, args.pdf_copies)),
            ("mixed", lambda: mixed(work, args.mixed)),
            ("sandbox", lambda: sandbox_cost(work, args.sandbox_texts, args.sandbox_pdfs)),
        ):
            if name in args.skip:
                continue
            t = time.monotonic()
            result[name] = fn()
            shown = {k: v for k, v in result[name].items() if k != "rows"}
            print(name, f"({time.monotonic() - t:.0f} s):", json.dumps(shown, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("written to", save("processing", result))


if __name__ == "__main__":
    main()
