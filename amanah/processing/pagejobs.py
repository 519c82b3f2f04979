"""OCR of a long scanned file in page jobs that every worker runs, joined into one derivative.

A 40-page scan read in its item's job keeps one core busy for minutes while the others idle.
When the item's analysis finds many pages to OCR, it leaves them (`analyze._deferred`), and the
item's job records, in the same transaction as the rest of its processing, one `ocr_parts`
row and one job `ocr:FIRST` per few pages. Each page job reads its pages in the sandbox and
stores the reading as a blob named in its part. The page job that finds every part done
queues the join (`ocr_join`), which makes the item's single `ocr` and `ocr_words` derivatives
in page order, completes its content inventory and indexes it, in one transaction.

Every step is idempotent: a page job retried after a crash reads its pages again and writes
the same blob; a join run twice records the same bytes (no new derivative, no new event).
Until the join, nothing of the partial reading is visible: the item's inventory stays
incomplete ("OCR of its scanned pages is still running in page jobs"), so it cannot be shared.

The parts are planned before the analysis (`plan`, processing/ocrplan.py) and committed at
once, so other workers read pages while the item's own worker analyses the file; the item's
job then keeps them when its analysis defers the same pages, or replaces them (`reconcile`).
A planned part is sized by what its pages cost (their pixels, from the plan): large parts
first, while the item's own worker is still analysing, then smaller ones, down to a floor, so
that the workers end together and each job's fixed cost (a sandbox child, opening the file,
a transaction: about a third of a light page's OCR) is paid a few times, not once per two
pages (`chunks`).
The join waits for the item's job: whichever of the last part and the item's job commits
last queues it (`maybe_join`). An item has at most `MAX_PAGE_JOBS` page jobs, whatever its
page count says: a file of endless pages gets more pages per job, never more jobs.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amanah import queue
from amanah.db import Database
from amanah.db.models import Derivative, Item, Job, OcrPart, SearchText
from amanah.processing import inventory, language, ocr, ocrplan
from amanah.processing.analyze import OCR_PENDING
from amanah.processing.sandbox import Limits, Sandbox, SandboxError
from amanah.search import index
from amanah.text import analyzer
from amanah.workspace import Workspace

PAGE_JOB = "ocr:"  # + the part's first page: one job per item and part
JOIN_JOB = "ocr_join"


def is_page_job(kind: str) -> bool:
    return kind.startswith(PAGE_JOB)


#: At most this many page jobs for one item (a file of 10,000 empty pages asks for 5,000 at
#: two pages a job): past it, each job reads more pages. With `ocr.MAX_PAGES` pages read at
#: most, a job reads at most MAX_PAGES / MAX_PAGE_JOBS pages (20), minutes of OCR.
MAX_PAGE_JOBS = 100
#: The plan is small (pypdfium2 reading text layers): tight limits; a plan that fails only
#: means the page jobs wait for the analysis, as they did before there was a plan.
PLAN_LIMITS = Limits(cpu_seconds=60, memory_bytes=1 << 30, wall_seconds=120, file_bytes=1 << 20)


#: A part sized by cost holds at least this many pixels of pages to OCR (about 2 light scans
#: at 200 dpi, a third of an A4 page at 300 dpi): below it, the job's fixed cost is a large
#: share of its time. A page larger than this is a part of its own.
JOB_PIXELS = int(os.environ.get("AMANAH_OCR_JOB_PIXELS", "3000000"))
#: At most this many pages in a part sized by cost: a killed worker's job is read again, and a
#: job stays within minutes of OCR (a plan's file of endless pages has more: see above).
MAX_JOB_PAGES = ocr.MAX_PAGES // MAX_PAGE_JOBS
#: The workers a long scan is spread over, for sizing its parts: the runner's default, one per
#: core. More workers than this (scale-out) still all get parts: the later ones are small.
WORKERS = max(1, os.cpu_count() or 1)


def chunks(deferred: dict[str, Any]) -> list[tuple[int, str]]:
    """The parts of the deferred pages: (first page, the part's spec as stored).

    With the pages' costs (the plan's "pixels"), parts shrink as pages are given out (guided
    self-scheduling): each holds 1/(2 x WORKERS) of the pixels still to give, at least
    `JOB_PIXELS`, at most `MAX_JOB_PAGES` pages. Without costs (the analysis' own deferral),
    or with `AMANAH_OCR_PAGES_PER_JOB` set, every part has `ocr.PAGES_PER_JOB` pages."""
    pages = sorted(set(int(n) for n in deferred["pages"]))
    least = max(1, -(-len(pages) // MAX_PAGE_JOBS))  # never more than MAX_PAGE_JOBS parts
    spec = {"kind": deferred.get("kind", "pdf")}
    costs = _costs(deferred)
    if costs is None or ocr.PAGES_PER_JOB_SET:
        per = max(ocr.PAGES_PER_JOB, least)
        sizes = [per] * -(-len(pages) // per)
    else:
        sizes = _guided([costs[n] for n in pages], least, max(least, MAX_JOB_PAGES))
    parts, i = [], 0
    for size in sizes:
        parts.append((pages[i], json.dumps({**spec, "pages": pages[i : i + size]})))
        i += size
    return parts


def _costs(deferred: dict[str, Any]) -> dict[int, int] | None:
    """Each deferred page's pixels, when the plan gave one for every page: an int within what
    the plan counts (a child that read hostile bytes wrote them; 10**400 would overflow)."""
    pages, pixels = deferred.get("pages") or [], deferred.get("pixels")
    if not isinstance(pixels, list) or len(pixels) != len(pages):
        return None
    if not all(
        isinstance(p, int) and not isinstance(p, bool) and 0 < p <= ocrplan.MAX_PAGE_PIXELS
        for p in pixels
    ):
        return None
    return {int(n): p for n, p in zip(pages, pixels, strict=True)}


def _guided(costs: list[int], least: int, most: int) -> list[int]:
    """Pages per part, in page order: each part takes pages until it holds its share of what
    is left (1/(2 x WORKERS), at least JOB_PIXELS), within `least`..`most` pages."""
    sizes, i, left = [], 0, sum(costs)
    while i < len(costs):
        share = max(JOB_PIXELS, left / (2 * WORKERS))
        size, held = 0, 0
        while i + size < len(costs) and size < most and (size < least or held < share):
            held += costs[i + size]
            size += 1
        sizes.append(size)
        i, left = i + size, left - held
    return sizes


def split(s: Session, item_id: int, deferred: dict[str, Any]) -> int:
    """Parts and page jobs for the deferred pages. A re-run of the item starts its parts
    again (a page job already done is queued again); returns how many."""
    now = datetime.now(UTC)
    s.execute(delete(OcrPart).where(OcrPart.item_id == item_id))
    parts = chunks(deferred)
    for first, spec in parts:
        s.add(
            OcrPart(
                item_id=item_id,
                first_page=first,
                pages=spec,
                languages=_languages(deferred),
                created_at=now,
            )
        )
    s.flush()
    for first, _ in parts:
        queue.ensure(s, item_id, f"{PAGE_JOB}{first}")
    return len(parts)


def _languages(deferred: dict[str, Any]) -> str:
    return str(deferred.get("languages") or ocr.DEFAULT_LANGUAGES)


def reconcile(s: Session, item_id: int, deferred: dict[str, Any] | None) -> int:
    """The item's job, after its analysis: keep the planned parts when the analysis deferred
    the same pages (page jobs may have read them already), replace them otherwise, remove
    them when it read every page itself. Returns how many parts the item has."""
    rows = s.execute(
        select(OcrPart.first_page, OcrPart.pages, OcrPart.languages).where(
            OcrPart.item_id == item_id
        )
    ).all()
    if deferred is None:
        if rows:
            s.execute(delete(OcrPart).where(OcrPart.item_id == item_id))
        return 0
    if _covers(rows, deferred):  # the plan's parts, however they were sized
        return len(rows)
    return split(s, item_id, deferred)


def _covers(rows: Any, deferred: dict[str, Any]) -> bool:
    """Whether the parts read exactly the deferred pages, of the same kind, in its languages:
    the plan sized them by cost, the analysis (without costs) would size them otherwise."""
    read: list[int] = []
    kind, langs = deferred.get("kind", "pdf"), _languages(deferred)
    for _, spec, languages in rows:
        found = json.loads(spec)
        if found.get("kind") != kind or languages != langs:
            return False
        read += [int(n) for n in found["pages"]]
    return bool(read) and sorted(read) == sorted(set(int(n) for n in deferred["pages"]))


def plan(
    ws: Workspace,
    job: queue.Claimed,
    path: Any,
    languages: str | None,
    sandbox: Sandbox | None = None,
) -> int:
    """Before the item's analysis: its page jobs, from the plan, committed at once so that
    every worker can start on them. Returns how many page jobs (0: none, or no plan)."""
    from amanah.processing.analyze import deferral
    from amanah.processing.pipeline import _in_sandbox, _job_dir

    if not ocrplan.worth_planning(Path(path)):
        return 0
    with _job_dir(ws, job) as (_, out_dir):
        try:
            found = _in_sandbox(sandbox, path, "plan", out_dir, PLAN_LIMITS, "plan")
        except SandboxError:  # the analysis reads the file and says what is wrong with it
            return 0
    if found.get("problem"):
        return 0
    pages = [int(n) for n in found.get("pages", [])][: ocr.MAX_PAGES]
    langs = languages or ocr.DEFAULT_LANGUAGES
    deferred = deferral(pages, str(found.get("kind", "pdf")), langs, ocr.SPLIT_FROM)
    if deferred is None:
        return 0
    pixels = found.get("pixels")
    if isinstance(pixels, list):  # what each page costs, for sizing its part (`chunks`)
        deferred["pixels"] = pixels[: len(pages)]
    with ws.db.session() as s:
        return split(s, job.item_id, deferred)


def process_pending(db: Database, item_id: int) -> bool:
    """Whether the item's own job (its analysis) is still to finish: the join waits for it."""
    with db.reader() as s:
        return (
            s.execute(
                select(Job.id).where(
                    Job.item_id == item_id,
                    Job.kind == "process",
                    Job.state.in_(("queued", "running")),
                )
            ).first()
            is not None
        )


def maybe_join(db: Database, item_id: int) -> bool:
    """Queue the join once every part is read and the item's job is done. Called after each
    commit of either: the one that commits last sees the other's commit, so exactly the
    last one (or both, harmlessly: one job row per item and kind) queues it."""
    if not all_done(db, item_id) or process_pending(db, item_id):
        return False
    try:
        with db.session() as s:
            queue.ensure(s, item_id, JOIN_JOB)
    except IntegrityError:
        pass  # another worker queued the join at the same moment
    return True


def read_pages(
    ws: Workspace, job: queue.Claimed, limits: Limits | None = None, sandbox: Sandbox | None = None
) -> Any:
    """One page job: OCR its pages in the sandbox, keep the reading as a blob in its part.

    The reading is kept only if the part still asks for the pages read (the item's job may
    have replaced the planned parts meanwhile): otherwise the new part is read, and a part
    withdrawn (its pages read in the item's own job) ends the page job with nothing to do."""
    from amanah.processing.pipeline import Outcome

    first = int(job.kind[len(PAGE_JOB) :])
    for _ in range(3):
        with ws.db.reader() as s:
            item = s.get(Item, job.item_id)
            if item is None:
                raise LookupError(f"job {job.id}: item {job.item_id} does not exist")
            part = s.execute(
                select(OcrPart).where(OcrPart.item_id == job.item_id, OcrPart.first_page == first)
            ).scalar_one_or_none()
            if part is None:
                with ws.db.session() as w:
                    queue.finish(w, job.id)
                return Outcome(job.item_id, 0, [])
            sha256, spec, languages = item.sha256, part.pages, part.languages
        if _read_part(ws, job, first, sha256, spec, languages, limits, sandbox):
            break
    else:
        raise ValueError(f"job {job.id}: the OCR part at page {first} kept changing; retried")
    maybe_join(ws.db, job.item_id)  # after the commit: see `maybe_join`
    return Outcome(job.item_id, 0, [])


def _read_part(
    ws: Workspace,
    job: queue.Claimed,
    first: int,
    sha256: str,
    spec: str,
    languages: str,
    limits: Limits | None,
    sandbox: Sandbox | None,
) -> bool:
    """Read one part and keep its reading if the part is still the one read; False if not."""
    from amanah.processing.pipeline import _in_sandbox, _scratch

    with _scratch(ws, job, sha256) as (path, out_dir):
        request = {**json.loads(spec), "languages": languages}
        (out_dir / ocr.PART_SPEC).write_text(json.dumps(request), encoding="utf-8")
        found = _in_sandbox(sandbox, path, "scan", out_dir, limits, "ocr")
        with (out_dir / found["file"]).open("rb") as f:
            put = ws.blobs.put(f)
        ws.blobs.sync()
    with ws.db.session() as s:
        _add_blob(s, put)
        kept = s.execute(
            update(OcrPart)
            .where(
                OcrPart.item_id == job.item_id,
                OcrPart.first_page == first,
                OcrPart.pages == spec,
                OcrPart.languages == languages,
            )
            .values(sha256=put.sha256, done_at=datetime.now(UTC))
        ).rowcount
        if kept:
            queue.finish(s, job.id)
    return bool(kept)


def _add_blob(s: Session, put: Any) -> None:
    from amanah.processing.pipeline import _add_blob as add

    add(s, put.sha256, put.size, datetime.now(UTC))


def all_done(db: Database, item_id: int) -> bool:
    with db.reader() as s:
        total, done = s.execute(
            select(func.count(), func.count(OcrPart.sha256)).where(OcrPart.item_id == item_id)
        ).one()
    return total > 0 and total == done


@dataclass
class Joined:
    text: str
    words: bytes
    pages: list[dict[str, Any]]
    engine: str
    languages: str


def _gather(ws: Workspace, shas: list[str]) -> Joined:
    """The parts' readings in page order: text pages separated by form feeds, word boxes."""
    by_page: dict[int, dict[str, Any]] = {}
    engine, languages = ocr.ENGINE, ocr.DEFAULT_LANGUAGES
    for sha in shas:
        with ws.blobs.open(sha) as f:
            doc = json.loads(f.read().decode("utf-8"))
        engine, languages = doc.get("engine", engine), doc.get("languages", languages)
        for p in doc["pages"]:
            by_page[int(p["page"])] = p
    total = max(by_page, default=0)
    text = "\f".join(
        by_page[n]["text"].replace("\f", " ") if n in by_page else "" for n in range(1, total + 1)
    )
    words = io.StringIO()
    for n in sorted(by_page):
        for w in by_page[n]["word_boxes"]:
            words.write(json.dumps({"page": n, **w}, ensure_ascii=False) + "\n")
    pages = [
        {k: v for k, v in by_page[n].items() if k not in ("text", "word_boxes")}
        for n in sorted(by_page)
    ]
    return Joined(text, words.getvalue().encode("utf-8"), pages, engine, languages)


def join(ws: Workspace, job: queue.Claimed) -> Any:
    """Make the item's one OCR derivative from its parts, complete its inventory, index it."""
    from amanah.processing.pipeline import (
        Outcome,
        _index,
        _record_inventory,
        put_derivative,
    )

    with ws.db.reader() as s:
        parts = s.execute(
            select(OcrPart.first_page, OcrPart.sha256)
            .where(OcrPart.item_id == job.item_id)
            .order_by(OcrPart.first_page)
        ).all()
        found = s.execute(
            select(Derivative.kind, Derivative.sha256).where(
                Derivative.item_id == job.item_id,
                Derivative.kind.in_(("text", "inventory")),
                Derivative.page == 0,
            )
        ).all()
    if not parts or any(sha is None for _, sha in parts) or process_pending(ws.db, job.item_id):
        # A part was started again, or the item's analysis is not recorded yet: the last of
        # them to commit queues the join again (`maybe_join`).
        with ws.db.session() as s:
            queue.finish(s, job.id)
        maybe_join(ws.db, job.item_id)  # after this job's commit: its row can be queued again
        return Outcome(job.item_id, 0, [])
    got = _gather(ws, [sha for _, sha in parts])
    missed = ocr.lines_missed_flag(ocr.missed_pages(got.pages))
    shas = dict(found)
    inv_doc = None
    if "inventory" in shas:
        with ws.blobs.open(shas["inventory"]) as f:
            inv_doc = _with_ocr(json.loads(f.read().decode("utf-8")), got.text, missed)
    extracted = ""
    if "text" in shas:
        with ws.blobs.open(shas["text"]) as f:
            extracted = f.read().decode("utf-8", "replace")
    has_ocr = bool(got.text.strip())
    body = "\n".join(
        [extracted, got.text if has_ocr else "", inventory.searchable_text(inv_doc or {})]
    )
    terms = analyzer.analyze(body[: index.MAX_CHARS])  # before taking the write lock
    sample = (extracted if extracted.strip() else got.text)[: language.SAMPLE]
    langs = language.detect(sample)
    text_put = ws.blobs.put(io.BytesIO(got.text.encode("utf-8"))) if has_ocr else None
    words_put = ws.blobs.put(io.BytesIO(got.words)) if has_ocr else None
    inv_put = (
        ws.blobs.put(
            io.BytesIO(json.dumps(inv_doc, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        )
        if inv_doc is not None
        else None
    )
    ws.blobs.sync()
    details = {
        "pages": got.pages,
        "languages": got.languages,
        "engine": got.engine,
        "page_jobs": len(parts),
    }
    with ws.db.session() as s:
        if text_put is not None and words_put is not None:
            for kind, put, media in (
                ("ocr", text_put, "text/plain; charset=utf-8"),
                ("ocr_words", words_put, "application/x-ndjson"),
            ):
                about = {
                    "engine": got.engine,
                    "languages": got.languages,
                    "page_jobs": len(parts),
                }
                put_derivative(s, job.item_id, kind, put, media, details, about=about)
        if inv_doc is not None and inv_put is not None:
            _record_inventory(s, job.item_id, (inv_doc, inv_put))
        s.execute(update(Item).where(Item.id == job.item_id).values(languages=json.dumps(langs)))
        if missed is not None:
            _flag(s, job.item_id, missed)
        _index(s, ws, job.item_id, body, has_ocr, terms)
        queue.finish(s, job.id)
    return Outcome(job.item_id, 0, [])


def _flag(s: Any, item_id: int, flag: dict[str, str]) -> None:
    """The item says what its joined OCR left unread (once), as the analysis would have."""
    from amanah.intake.preserve import status_of

    item = s.get(Item, item_id)
    flags = [f for f in json.loads(item.flags) if f.get("code") != flag["code"]] + [flag]
    item.flags = json.dumps(flags, ensure_ascii=False)
    item.status = status_of(flags)


def _with_ocr(
    doc: dict[str, Any], text: str, missed: dict[str, str] | None = None
) -> dict[str, Any]:
    """The item's inventory with the joined OCR pages in it, no longer waiting for them (and
    not complete when the reading left rows of ink unread)."""
    place = "OCR of the file's images or scanned pages"
    parts = [p for p in doc.get("parts", []) if p.get("place") != place]
    for n, page in enumerate(text.split("\f"), 1):
        if page.strip():
            parts.append({"place": place, "locator": f"page {n}", "text": page, "page": n})
    reasons = [r for r in doc.get("reasons", []) if r != OCR_PENDING]
    if missed is not None:
        reasons += [r for r in inventory.reasons_from_flags([missed]) if r not in reasons]
    return {**doc, "parts": parts, "reasons": reasons, "complete": not reasons}


def progress(db: Database) -> list[dict[str, Any]]:
    """Items whose OCR runs in page jobs: pages read so far of pages to read, by item."""
    with db.reader() as s:
        rows = s.execute(select(OcrPart.item_id, OcrPart.pages, OcrPart.sha256)).all()
        joining = set(
            s.execute(
                select(Job.item_id).where(
                    Job.kind == JOIN_JOB, Job.state.in_(("queued", "running"))
                )
            ).scalars()
        )
        joined = set(
            s.execute(
                select(Job.item_id).where(Job.kind == JOIN_JOB, Job.state == "done")
            ).scalars()
        )
    by: dict[int, dict[str, Any]] = {}
    for item_id, pages, sha in rows:
        n = len(json.loads(pages)["pages"])
        entry = by.setdefault(item_id, {"item": item_id, "pages": 0, "read": 0})
        entry["pages"] += n
        entry["read"] += n if sha else 0
    out = []
    for item_id, entry in sorted(by.items()):
        done = entry["read"] == entry["pages"] and item_id in joined and item_id not in joining
        out.append({**entry, "joined": done})
    return out


def pages_line(db: Database) -> str:
    """One line for `amanah process` and `amanah jobs`: OCR pages read, of pages to read."""
    found = [p for p in progress(db) if not p["joined"]]
    if not found:
        return ""
    read, total = sum(p["read"] for p in found), sum(p["pages"] for p in found)
    return f"OCR pages {read}/{total} in {len(found)} scanned files"


def withdraw(ws: Workspace, item_id: int) -> None:
    """The item's job gave up: no join can follow, so its planned parts go (nothing was
    derived from them); their page jobs then end with nothing to do."""
    with ws.db.session() as s:
        s.execute(delete(OcrPart).where(OcrPart.item_id == item_id))


def part_failed(ws: Workspace, item_id: int, reason: str) -> None:
    """A page job gave up: the item says which OCR failed; its inventory stays incomplete.
    No join will queue the jobs that read its text: they read what its own job indexed."""
    from amanah.processing.pipeline import queue_follow_ups

    with ws.db.session() as s:
        item = s.get(Item, item_id)
        if item is None:
            return
        body = s.execute(
            select(SearchText.body).where(SearchText.item_id == item_id)
        ).scalar_one_or_none()
        queue_follow_ups(s, ws, item_id, body or "")
        flags = json.loads(item.flags)
        flags.append(
            {"code": "ocr_failed", "message": f"OCR of some pages failed: {reason}"[:1000]}
        )
        item.flags = json.dumps(flags, ensure_ascii=False)
        item.status = "flagged"
