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
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amanah import queue
from amanah.db import Database
from amanah.db.models import Derivative, Item, Job, OcrPart
from amanah.processing import inventory, language, ocr
from amanah.processing.analyze import OCR_PENDING
from amanah.processing.sandbox import Limits, Sandbox
from amanah.search import index
from amanah.text import analyzer
from amanah.workspace import Workspace

PAGE_JOB = "ocr:"  # + the part's first page: one job per item and part
JOIN_JOB = "ocr_join"


def is_page_job(kind: str) -> bool:
    return kind.startswith(PAGE_JOB)


def split(s: Session, item_id: int, deferred: dict[str, Any]) -> int:
    """Parts and page jobs for the pages `analyze` left (same transaction as the item's
    processing). A re-run of the item starts its parts again; returns how many."""
    pages = sorted(set(int(n) for n in deferred["pages"]))
    spec = {"kind": deferred.get("kind", "pdf")}
    now = datetime.now(UTC)
    s.execute(delete(OcrPart).where(OcrPart.item_id == item_id))
    parts = [pages[i : i + ocr.PAGES_PER_JOB] for i in range(0, len(pages), ocr.PAGES_PER_JOB)]
    for chunk in parts:
        s.add(
            OcrPart(
                item_id=item_id,
                first_page=chunk[0],
                pages=json.dumps({**spec, "pages": chunk}),
                languages=deferred.get("languages") or ocr.DEFAULT_LANGUAGES,
                created_at=now,
            )
        )
    s.flush()
    for chunk in parts:
        queue.ensure(s, item_id, f"{PAGE_JOB}{chunk[0]}")
    return len(parts)


def read_pages(
    ws: Workspace, job: queue.Claimed, limits: Limits | None = None, sandbox: Sandbox | None = None
) -> Any:
    """One page job: OCR its pages in the sandbox, keep the reading as a blob in its part."""
    from amanah.processing.pipeline import Outcome, _in_sandbox, _scratch

    first = int(job.kind[len(PAGE_JOB) :])
    with ws.db.reader() as s:
        item = s.get(Item, job.item_id)
        part = s.execute(
            select(OcrPart).where(OcrPart.item_id == job.item_id, OcrPart.first_page == first)
        ).scalar_one_or_none()
        if item is None or part is None:
            raise LookupError(f"job {job.id}: item {job.item_id} has no OCR part at page {first}")
        sha256, spec, languages = item.sha256, json.loads(part.pages), part.languages
    with _scratch(ws, job, sha256) as (path, out_dir):
        spec["languages"] = languages
        (out_dir / ocr.PART_SPEC).write_text(json.dumps(spec), encoding="utf-8")
        found = _in_sandbox(sandbox, path, "scan", out_dir, limits, "ocr")
        with (out_dir / found["file"]).open("rb") as f:
            put = ws.blobs.put(f)
        ws.blobs.sync()
    with ws.db.session() as s:
        _add_blob(s, put)
        s.execute(
            update(OcrPart)
            .where(OcrPart.item_id == job.item_id, OcrPart.first_page == first)
            .values(sha256=put.sha256, done_at=datetime.now(UTC))
        )
        queue.finish(s, job.id)
    # After the commit: the last part to commit always sees every other part done.
    if all_done(ws.db, job.item_id):
        try:
            with ws.db.session() as s:
                queue.ensure(s, job.item_id, JOIN_JOB)
        except IntegrityError:
            pass  # another worker's last part queued the join at the same moment
    return Outcome(job.item_id, 0, [])


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
    if not parts or any(sha is None for _, sha in parts):
        with ws.db.session() as s:  # a part was started again: its own job queues the join
            queue.finish(s, job.id)
        return Outcome(job.item_id, 0, [])
    got = _gather(ws, [sha for _, sha in parts])
    shas = dict(found)
    inv_doc = None
    if "inventory" in shas:
        with ws.blobs.open(shas["inventory"]) as f:
            inv_doc = _with_ocr(json.loads(f.read().decode("utf-8")), got.text)
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
        _index(s, ws, job.item_id, body, has_ocr, terms)
        queue.finish(s, job.id)
    return Outcome(job.item_id, 0, [])


def _with_ocr(doc: dict[str, Any], text: str) -> dict[str, Any]:
    """The item's inventory with the joined OCR pages in it, no longer waiting for them."""
    place = "OCR of the file's images or scanned pages"
    parts = [p for p in doc.get("parts", []) if p.get("place") != place]
    for n, page in enumerate(text.split("\f"), 1):
        if page.strip():
            parts.append({"place": place, "locator": f"page {n}", "text": page, "page": n})
    reasons = [r for r in doc.get("reasons", []) if r != OCR_PENDING]
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


def part_failed(ws: Workspace, item_id: int, reason: str) -> None:
    """A page job gave up: the item says which OCR failed; its inventory stays incomplete."""
    with ws.db.session() as s:
        item = s.get(Item, item_id)
        if item is None:
            return
        flags = json.loads(item.flags)
        flags.append(
            {"code": "ocr_failed", "message": f"OCR of some pages failed: {reason}"[:1000]}
        )
        item.flags = json.dumps(flags, ensure_ascii=False)
        item.status = "flagged"
