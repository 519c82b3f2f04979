"""One item's processing job: analyse its bytes in the sandbox, then record what was found.

The analysis writes into a scratch folder; this module turns that into derivatives (text),
child items (attachments, archive members) and item fields, all in one transaction with their
custody events and the job's completion. A retry after a crash starts again from the bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from amanah import AGENT, queue
from amanah.blobs.base import (
    CHUNK,
    BlobAltered,
    BlobError,
    BlobMissing,
    BlobNotAFile,
    StoreUnavailable,
)
from amanah.blobs.durable import StorageError, storage_full
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Blob,
    Collection,
    Derivative,
    EntityName,
    Fingerprint,
    FingerprintBand,
    Item,
    Job,
    Provider,
    Relation,
    SupersededDerivative,
)
from amanah.geo import placed
from amanah.intake.preserve import Context, Stored, display, record_items, status_of
from amanah.preservation.derivatives import name_in_ledger
from amanah.processing import fingerprints, inventory, pagejobs, vectorjobs
from amanah.processing import ocr as ocr_split
from amanah.processing.identify import SIGNATURES
from amanah.processing.sandbox import Limits, Sandbox, SandboxError, run_analysis
from amanah.search import index
from amanah.text import analyzer
from amanah.workspace import Workspace

ACTOR = "agent:amanah-processing"
MAX_DEPTH = 6  # an archive in an archive in … beyond this is preserved but not opened


@dataclass
class Outcome:
    item_id: int
    children: int
    flags: list[str]


def local_copy(ws: Workspace, sha256: str, scratch: Path) -> Path:
    """A private copy of the blob's bytes in `scratch`, hashed as it is written: what the
    sandbox reads is what was hashed. Raises BlobAltered when they do not hash to the blob's
    name (someone wrote into the store), so nothing is derived from other bytes."""
    target = scratch / "original"
    digest = hashlib.sha256()
    size = 0
    with ws.blobs.open(sha256) as src, target.open("wb") as dst:
        while data := src.read(CHUNK):
            digest.update(data)
            size += len(data)
            dst.write(data)
    if digest.hexdigest() != sha256:
        target.unlink(missing_ok=True)
        raise BlobAltered(sha256, digest.hexdigest(), size)
    return target


def process_item(
    ws: Workspace, job: queue.Claimed, limits: Limits | None = None, sandbox: Sandbox | None = None
) -> Outcome:
    """Analyse and record one item; raises SandboxError (the job is retried) on a crash."""
    with ws.db.reader() as s:
        item = s.get(Item, job.item_id)
        if item is None:
            raise LookupError(f"job {job.id}: item {job.item_id} does not exist")
        sha256, name, depth = item.sha256, display(item.original_path_raw), item.depth
        coll = s.get(Collection, item.collection_id)
        languages = coll.ocr_languages if coll is not None else None
    with _scratch(ws, job, sha256) as (path, out_dir):
        # A long scan's page jobs start now, on every worker, while this one analyses it.
        pagejobs.plan(ws, job, path, languages, sandbox)
        analyze = sandbox.analyze if sandbox is not None else run_analysis
        manifest = analyze(
            str(path),
            name.rsplit("/", 1)[-1],
            str(out_dir),
            limits,
            languages,
            ocr_split_from=ocr_split.SPLIT_FROM,
        )
        if depth >= MAX_DEPTH and manifest["children"]:
            manifest["flags"].append(
                {
                    "code": "unpack_limit",
                    "message": f"nested {depth} levels deep; its {len(manifest['children'])}"
                    " members were not unpacked (limit against recursive bombs)",
                }
            )
            manifest["children"] = []
        children = _stage_children(ws, out_dir, manifest["children"])
        text = _stage_text(ws, out_dir, manifest)
        ocr = _stage_ocr(ws, out_dir, manifest)
        pictures = _stage_previews(ws, out_dir, manifest)
        found = _stage_inventory(ws, out_dir, manifest)
        ws.blobs.sync()
        body, has_ocr = _searchable(out_dir, manifest, found[0] if found else None)
        terms = index.terms_for(ws, body)  # before taking the write lock
        with ws.db.session() as s:
            n = _record(s, ws, job, manifest, children, text, ocr)
            # A long scan: its pages go to page jobs (planned ones are kept when the same).
            parts = pagejobs.reconcile(s, job.item_id, manifest.get("ocr_deferred"))
            _record_inventory(s, job.item_id, found)
            _record_previews(s, job.item_id, pictures)
            # With page jobs, its vectors and mentions wait for the join's text (`pagejobs.join`)
            _index(s, ws, job.item_id, body, has_ocr, terms, follow_ups=not parts)
            queue.finish(s, job.id)
        if parts:  # its pages may all be read already: see `pagejobs.maybe_join`
            pagejobs.maybe_join(ws.db, job.item_id)
        return Outcome(job.item_id, n, [f["code"] for f in manifest["flags"]])


@contextmanager
def _job_dir(ws: Workspace, job: queue.Claimed) -> Iterator[tuple[Path, Path]]:
    """A private folder for one job, and in it where the sandbox writes."""
    scratch = Path(tempfile.mkdtemp(prefix=f"amanah-job-{job.id}-", dir=_work_dir(ws)))
    try:
        out_dir = scratch / "out"
        out_dir.mkdir()
        yield scratch, out_dir
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def _scratch(ws: Workspace, job: queue.Claimed, sha256: str) -> Iterator[tuple[Path, Path]]:
    """A private folder for one job: the bytes to read, and where the sandbox writes.

    A sandbox that fails while the scratch folder is full (it could not write its answer:
    exit 70) failed for want of room, not because of the item: MachineFault."""
    with _job_dir(ws, job) as (scratch, out_dir):
        try:
            yield local_copy(ws, sha256, scratch), out_dir
        except SandboxError as exc:
            if scratch_full(scratch):
                raise MachineFault(
                    f"the processing scratch folder {scratch.parent} is full"
                ) from exc
            raise


class MachineFault(Exception):
    """The machine could not do the job (a local disk or quota full): not the item's fault.
    The runner puts the job back without counting an attempt and stops (`machine_fault`)."""


#: Below this much room (or with no free inode) a scratch folder counts as full.
SCRATCH_MARGIN = 1 << 20


def scratch_full(folder: Path) -> bool:
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < SCRATCH_MARGIN or (st.f_files > 0 and st.f_favail == 0)


def machine_fault(exc: BaseException) -> str | None:
    """Why a job's failure is the machine's (a local disk, a quota, the database's or the
    search index's storage full: `durable.storage_full`), looked for along the exception's
    causes; None when it may be the item's. A sandbox's own words are not taken for it (a
    hostile file can say anything): `_scratch` looks at the scratch folder instead."""
    if isinstance(exc, MachineFault):
        return str(exc)
    if isinstance(exc, SandboxError):
        return None
    why = storage_full(exc)
    return f"a local disk is full: {why}" if why else None


def _work_dir(ws: Workspace) -> Path:
    work = ws.home / "work"
    work.mkdir(exist_ok=True)
    return work


def _stage_children(ws: Workspace, out_dir: Path, listed: list[dict[str, Any]]) -> list[Stored]:
    staged = []
    for child in listed:
        with (out_dir / child["file"]).open("rb") as f:
            put = ws.blobs.put(f)
        extra = {"member_of": "parent"}
        if child.get("media_type_said"):
            extra["media_type_declared"] = child["media_type_said"]
        staged.append(
            Stored(
                original=bytes.fromhex(child["path_hex"]),
                source="unpacked from parent item",
                sha256=put.sha256,
                size=put.size,
                mtime_ns=child.get("mtime_ns"),
                extra=extra,
            )
        )
    return staged


def _stage_ocr(ws: Workspace, out_dir: Path, manifest: dict[str, Any]) -> tuple[Any, Any] | None:
    found = manifest.get("ocr")
    if not found or not found["has_text"]:
        return None
    with (out_dir / found["file"]).open("rb") as f:
        text = ws.blobs.put(f)
    with (out_dir / found["words_file"]).open("rb") as f:
        words = ws.blobs.put(f)
    return text, words


def _stage_previews(
    ws: Workspace, out_dir: Path, manifest: dict[str, Any]
) -> list[tuple[str, int, Any]]:
    found = manifest.get("previews") or {}
    staged = []
    if found.get("thumbnail"):
        with (out_dir / found["thumbnail"]).open("rb") as f:
            staged.append(("thumbnail", 0, ws.blobs.put(f)))
    for n, name in enumerate(found.get("pages", []), 1):
        with (out_dir / name).open("rb") as f:
            staged.append(("page_image", n, ws.blobs.put(f)))
    return staged


def _record_previews(s: Session, item_id: int, staged: list[tuple[str, int, Any]]) -> None:
    """Derivatives for the viewer, each with its one derivation event."""
    for kind, page, put in staged:
        details = {"dpi": 100} if kind == "page_image" else {"max_px": 320}
        put_derivative(s, item_id, kind, put, "image/jpeg", details, page=page, about=details)


def _stage_inventory(
    ws: Workspace, out_dir: Path, manifest: dict[str, Any]
) -> tuple[dict[str, Any], Any] | None:
    """The content inventory with every flag's reason (the nesting limit is decided here,
    after the sandbox), stored as a JSON blob."""
    found = manifest.get("inventory")
    if not found:
        return None
    path = out_dir / found["file"]
    doc = inventory.finish(json.loads(path.read_text(encoding="utf-8")), manifest["flags"])
    data = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return doc, ws.blobs.put(io.BytesIO(data))


def _record_inventory(s: Session, item_id: int, found: tuple[dict[str, Any], Any] | None) -> None:
    """The inventory derivative, its derivation event, and the item's completeness."""
    if found is None:
        return
    doc, put = found
    details = {"complete": doc["complete"], "parts": len(doc["parts"]), "version": doc["version"]}
    put_derivative(s, item_id, "inventory", put, "application/json", details, about=details)
    s.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(
            inventory="complete" if doc["complete"] else "incomplete",
            inventory_reasons=json.dumps(doc["reasons"], ensure_ascii=False),
        )
    )


def _searchable(
    out_dir: Path, manifest: dict[str, Any], inventoried: dict[str, Any] | None = None
) -> tuple[str, bool]:
    """The text the search index gets: extracted text, then OCR (as `items.text` reads it),
    then every other place of the content inventory (headers, notes, metadata, …)."""
    parts = []
    if manifest.get("text_file"):
        parts.append((out_dir / manifest["text_file"]).read_text(encoding="utf-8"))
    found = manifest.get("ocr")
    has_ocr = bool(found and found["has_text"])
    if found and has_ocr:
        parts.append((out_dir / found["file"]).read_text(encoding="utf-8"))
    if inventoried is not None:
        parts.append(inventory.searchable_text(inventoried))
    return "\n".join(parts), has_ocr


def _stage_text(ws: Workspace, out_dir: Path, manifest: dict[str, Any]) -> Any:
    if not manifest.get("text_file"):
        return None
    with (out_dir / manifest["text_file"]).open("rb") as f:
        return ws.blobs.put(f)


def _record(
    s: Session,
    ws: Workspace,
    job: queue.Claimed,
    manifest: dict[str, Any],
    children: list[Stored],
    text: Any,
    ocr: tuple[Any, Any] | None = None,
) -> int:
    item = s.get(Item, job.item_id)
    assert item is not None
    ident = manifest["identity"]
    common = {"actor": ACTOR, "object_type": "item", "object_id": item.id}
    ledger.append(
        s,
        EventType.FORMAT_IDENTIFICATION,
        details={
            "media_type": ident["media_type"],
            "description": ident["description"],
            "pronom": ident["puid"],
            "format_name": ident["format_name"],
            "basis": ident["basis"],
            "software": f"{AGENT}; libmagic; {SIGNATURES}",
            "sandbox": manifest.get("sandbox"),
        },
        **common,
    )
    if text is not None:
        put_derivative(
            s,
            item.id,
            "text",
            text,
            "text/plain; charset=utf-8",
            {
                "pages": manifest["pages"],
                "extractor": manifest["extractor"],
                "pages_without_text": manifest["pages_without_text"],
            },
            about={
                "pages": manifest["pages"],
                "extractor": manifest["extractor"],
                **({"reading": manifest["text_reading"]} if manifest.get("text_reading") else {}),
                "sandbox": manifest.get("sandbox"),
            },
        )
    if ocr is not None:
        info = manifest["ocr"]
        details = {"pages": info["pages"], "languages": info["languages"], "engine": info["engine"]}
        about = {
            "engine": info["engine"],
            "languages": info["languages"],
            "sandbox": manifest.get("sandbox"),
        }
        for kind, put, media in (
            ("ocr", ocr[0], "text/plain; charset=utf-8"),
            ("ocr_words", ocr[1], "application/x-ndjson"),
        ):
            put_derivative(s, item.id, kind, put, media, details, about=about)
    if manifest["metadata"]:
        ledger.append(
            s,
            EventType.METADATA_EXTRACTION,
            details={"fields": sorted(manifest["metadata"]), "sandbox": manifest.get("sandbox")},
            **common,
        )
    recorded = []
    if children:
        coll = s.get(Collection, item.collection_id)
        assert coll is not None
        prov = s.get(Provider, coll.provider_id)
        ctx = Context(
            collection_id=coll.id,
            collection_name=coll.name,
            provider_name=prov.name if prov else "",
            actor=ACTOR,
            parent_id=item.id,
            depth=item.depth + 1,
        )
        recorded = record_items(s, ctx, children, Counter())
    _relate(s, item, manifest.get("fingerprints") or {})
    encrypted = any(f["code"] == "encrypted" for f in manifest["flags"])
    if ident["media_type"] == "application/pdf" and not encrypted:
        has_pages_job = s.execute(
            select(Job.id).where(Job.item_id == item.id, Job.kind == "pages")
        ).first()
        if has_pages_job is None:
            queue.enqueue(s, [item.id], kind="pages")
    # An earlier failed attempt's flag no longer holds once processing succeeds.
    flags = [f for f in json.loads(item.flags) if f["code"] != "processing_failed"]
    known = {(f["code"], f["message"]) for f in flags}
    flags += [f for f in manifest["flags"] if (f["code"], f["message"]) not in known]
    s.execute(
        update(Item)
        .where(Item.id == item.id)
        .values(
            media_type=ident["media_type"],
            pronom=ident["puid"],
            format_name=ident["format_name"] or ident["description"][:400],
            doc_metadata=placed.dumps(placed.place(manifest["metadata"])),
            languages=json.dumps(manifest.get("languages", [])),
            flags=json.dumps(flags, ensure_ascii=False),
            status=status_of(flags),
            processing="done",
            processing_error="",
        )
    )
    return len(recorded)


def _index(
    s: Session,
    ws: Workspace,
    item_id: int,
    body: str,
    has_ocr: bool,
    terms: analyzer.Terms | None,
    follow_ups: bool = True,
) -> None:
    """The item becomes searchable in this transaction; its vectors follow in a job (not yet
    when `follow_ups` is False: its OCR is still being read in page jobs, and vectors of the
    text without it would be made for nothing, then made again after the join)."""
    index.index_item(s, item_id, body, has_ocr, terms)
    if follow_ups:
        queue_follow_ups(s, ws, item_id, body)


def queue_follow_ups(s: Session, ws: Workspace, item_id: int, body: str) -> None:
    """The jobs that read an item's indexed text: its vectors, and its entity mentions."""
    if ws.settings.semantic and body.strip():
        queue.ensure(s, item_id, "embed")  # its passages shared with idle workers: vectorjobs
    if body.strip() and s.execute(select(EntityName.id).limit(1)).first() is not None:
        queue.ensure(s, item_id, "mentions")  # entity names to look for in its text


def find_mentions(ws: Workspace, job: queue.Claimed) -> Outcome:
    """Entity names in the item's text derivatives become suggested mentions."""
    from amanah.entities import mentions

    with ws.db.session() as s:
        found = mentions.find_in_item(ws, s, job.item_id)
        queue.finish(s, job.id)
    return Outcome(job.item_id, found, [])


RELATION_OF = {
    "phash": "near_duplicate_image",
    "vphash": "near_duplicate_video",
    "minhash": "near_duplicate_text",
}


def _relate(s: Session, item: Item, prints: dict[str, Any]) -> None:
    """Exact duplicates (same bytes elsewhere) and near ones (fingerprints within reach)."""
    now = datetime.now(UTC)
    same = s.execute(
        select(Item.id).where(Item.sha256 == item.sha256, Item.id != item.id)
    ).scalars()
    pairs = [(other, "exact_duplicate", 1.0) for other in same]
    exact = {other for other, _, _ in pairs}
    for kind in RELATION_OF:
        value = prints.get(kind)
        s.execute(
            delete(FingerprintBand).where(
                FingerprintBand.item_id == item.id, FingerprintBand.kind == kind
            )
        )
        s.execute(
            delete(Fingerprint).where(Fingerprint.item_id == item.id, Fingerprint.kind == kind)
        )
        if value is None:
            continue
        keys = fingerprints.bands(kind, value)
        candidates = set(
            s.execute(
                select(FingerprintBand.item_id).where(
                    FingerprintBand.kind == kind,
                    FingerprintBand.band.in_(keys),
                    FingerprintBand.item_id != item.id,
                )
            ).scalars()
        )
        for other_id, other_value in s.execute(
            select(Fingerprint.item_id, Fingerprint.value).where(
                Fingerprint.kind == kind, Fingerprint.item_id.in_(candidates)
            )
        ):
            score = fingerprints.similarity(kind, value, json.loads(other_value))
            if other_id not in exact and fingerprints.is_near(kind, score):
                pairs.append((other_id, RELATION_OF[kind], round(score, 4)))
        s.execute(
            insert(Fingerprint), [{"item_id": item.id, "kind": kind, "value": json.dumps(value)}]
        )
        s.execute(
            insert(FingerprintBand),
            [{"item_id": item.id, "kind": kind, "band": k} for k in keys],
        )
    for other, kind, score in pairs:
        a, b = sorted((item.id, other))
        exists = s.execute(
            select(Relation.id).where(
                Relation.item_a == a, Relation.item_b == b, Relation.kind == kind
            )
        ).first()
        if exists is None:
            s.execute(
                insert(Relation),
                [{"item_a": a, "item_b": b, "kind": kind, "score": score, "created_at": now}],
            )
    if any(kind != "exact_duplicate" for _, kind, _ in pairs):
        # a person's consent follows their statement to its near-duplicates
        from amanah.sharing import near_duplicate_links

        near_duplicate_links.follow(s, [item.id], ACTOR)


def put_derivative(
    s: Session,
    item_id: int,
    kind: str,
    put: Any,
    media_type: str,
    details: dict[str, Any],
    page: int = 0,
    actor: str = ACTOR,
    about: dict[str, Any] | None = None,
) -> bool:
    """Record a derivative; False when the same bytes are already recorded (a re-run).

    A new or changed row is bound to its blob by its one derivation event in the same
    transaction (`preservation.derivatives`), which `amanah verify` and the package build hold
    it to; `about` says in that event how it was made (engine, languages, pages …)."""
    now = datetime.now(UTC)
    _add_blob(s, put.sha256, put.size, now)
    existing = s.execute(
        select(Derivative).where(
            Derivative.item_id == item_id, Derivative.kind == kind, Derivative.page == page
        )
    ).scalar_one_or_none()
    if existing is not None and existing.sha256 == put.sha256:
        return False
    values = {
        "sha256": put.sha256,
        "size": put.size,
        "media_type": media_type,
        "details": json.dumps(details),
        "created_at": now,
    }
    if existing is None:
        s.execute(insert(Derivative), [{"item_id": item_id, "kind": kind, "page": page, **values}])
    else:
        _supersede(s, existing, put.sha256, now)
        s.execute(update(Derivative).where(Derivative.id == existing.id).values(**values))
    name_in_ledger(s, item_id, kind, page, put.sha256, put.size, media_type, actor, about)
    return True


def _supersede(s: Session, old: Derivative, by: str, now: datetime) -> None:
    """The derivative being replaced stays listed, with its blob: old ones are kept."""
    s.execute(
        insert(SupersededDerivative),
        [
            {
                "item_id": old.item_id,
                "kind": old.kind,
                "page": old.page,
                "sha256": old.sha256,
                "size": old.size,
                "media_type": old.media_type,
                "details": old.details,
                "created_at": old.created_at,
                "superseded_at": now,
                "superseded_by": by,
            }
        ],
    )


def _add_blob(s: Session, sha256: str, size: int, now: datetime) -> None:
    if s.execute(select(Blob.sha256).where(Blob.sha256 == sha256)).first() is None:
        s.execute(insert(Blob), [{"sha256": sha256, "size": size, "stored_at": now}])


def _in_sandbox(
    sandbox: Sandbox | None, path: Path, name: str, out_dir: Path, limits: Limits | None, task: str
) -> dict[str, Any]:
    """A follow-up task in the worker's sandbox, or in a sandbox of its own for one-off calls."""
    box = sandbox or Sandbox()
    try:
        return box.analyze(str(path), name, str(out_dir), limits, task=task)
    finally:
        if sandbox is None:
            box.close()


def render_pages(
    ws: Workspace, job: queue.Claimed, limits: Limits | None = None, sandbox: Sandbox | None = None
) -> Outcome:
    """Page images of a PDF for the viewer: a job of its own, run after text and OCR."""
    with ws.db.reader() as s:
        item = s.get(Item, job.item_id)
        if item is None:
            raise LookupError(f"job {job.id}: item {job.item_id} does not exist")
        sha256 = item.sha256
    with _scratch(ws, job, sha256) as (path, out_dir):
        found = _in_sandbox(sandbox, path, "pages.pdf", out_dir, limits, "pages")
        staged = _stage_previews(ws, out_dir, {"previews": {"pages": found["pages"]}})
        ws.blobs.sync()
        with ws.db.session() as s:
            _record_previews(s, job.item_id, staged)
            queue.finish(s, job.id)
        return Outcome(job.item_id, 0, [])


def index_again(ws: Workspace, job: queue.Claimed) -> Outcome:
    """Index an item processed before search existed, from its recorded text derivatives."""
    with ws.db.reader() as s:
        body, has_ocr = index.text_of(s, ws.blobs, job.item_id)
    terms = index.terms_for(ws, body)
    with ws.db.session() as s:
        _index(s, ws, job.item_id, body, has_ocr, terms)
        queue.finish(s, job.id)
    return Outcome(job.item_id, 0, [])


def run_job(
    ws: Workspace, job: queue.Claimed, limits: Limits | None = None, sandbox: Sandbox | None = None
) -> Outcome:
    if job.kind == "index":
        return index_again(ws, job)
    if job.kind == "pages":
        return render_pages(ws, job, limits, sandbox)
    if job.kind == vectorjobs.EMBED_JOB:
        return vectorjobs.embed(ws, job, limits, sandbox)  # type: ignore[no-any-return]
    if vectorjobs.is_share_job(job.kind):
        return vectorjobs.embed_share(ws, job, limits, sandbox)  # type: ignore[no-any-return]
    if job.kind == "mentions":
        return find_mentions(ws, job)
    if pagejobs.is_page_job(job.kind):
        return pagejobs.read_pages(ws, job, limits, sandbox)  # type: ignore[no-any-return]
    if job.kind == pagejobs.JOIN_JOB:
        return pagejobs.join(ws, job)  # type: ignore[no-any-return]
    return process_item(ws, job, limits, sandbox)


def record_failure(ws: Workspace, job: queue.Claimed, exc: Exception) -> tuple[str, str]:
    """A job that raised: retry later or give up, with the reason; returns (state, reason)."""
    ws.blobs.discard()
    if isinstance(exc, BlobAltered):  # the stored bytes changed: nothing was derived from them
        reason = f"fixity failure: {exc}"
        state = queue.fail(ws.db, job.id, reason, final=True)
        fixity_failed(ws, job.item_id, exc)
        if job.kind == "process":
            pagejobs.withdraw(ws, job.item_id)
        return state, reason
    expected = isinstance(exc, (SandboxError, OSError, LookupError, ValueError))
    reason = str(exc) if expected else f"internal error: {type(exc).__name__}: {exc}"
    state = queue.fail(ws.db, job.id, reason)
    if state == "failed" and job.kind == "process":
        mark_failed(ws, job.item_id, reason, outage=store_outage(exc))
        pagejobs.withdraw(ws, job.item_id)  # its planned page jobs then end with nothing to do
    elif state == "failed" and (pagejobs.is_page_job(job.kind) or job.kind == pagejobs.JOIN_JOB):
        pagejobs.part_failed(ws, job.item_id, reason)
    return state, reason


def fixity_failed(ws: Workspace, item_id: int, exc: BlobAltered) -> None:
    """The bytes read for a job did not hash to the blob's name: recorded as `amanah fixity`
    records an altered blob (a failed fixity check event on the blob), and the item is
    flagged `fixity_failed` with processing failed."""
    with ws.db.session() as s:
        ledger.append(
            s,
            EventType.FIXITY_CHECK,
            actor=ACTOR,
            object_type="blob",
            object_id=exc.sha256,
            outcome="failure",
            details={
                "algorithm": "SHA-256",
                "expected": exc.sha256,
                "result": "altered",
                "reason": "read for processing: "
                + (  # a link or a FIFO in its place has no hash of its own to tell
                    exc.why
                    if isinstance(exc, BlobNotAFile)
                    else f"content hashes to {exc.actual} ({exc.size} bytes)"
                ),
            },
        )
        item = s.get(Item, item_id)
        if item is None:
            return
        flags = json.loads(item.flags)
        flags.append({"code": "fixity_failed", "message": str(exc)[:1000]})
        item.flags = json.dumps(flags, ensure_ascii=False)
        item.status = "flagged"
        item.processing = "failed"
        item.processing_error = f"fixity failure: {exc}"[:4000]


def store_outage(exc: BaseException) -> bool:
    """Whether a job failed because the blob store was unavailable (unreachable, full,
    read-only, erroring) rather than because of the item's bytes: looked for along the
    exception's causes, as readers wrap what they raise."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, (StoreUnavailable, StorageError)) or (
            isinstance(seen, BlobError) and not isinstance(seen, BlobMissing)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def mark_failed(ws: Workspace, item_id: int, reason: str, outage: bool = False) -> None:
    """The job gave up: the item says so, with the reason, and stays preserved as it is.
    A store outage (`store_outage`) is the installation's fault, not the item's: the item is
    not flagged and no failed validation is recorded in its custody; `amanah process
    --retry-failed` takes it up again once the store is back."""
    with ws.db.session() as s:
        item = s.get(Item, item_id)
        if item is None:
            return
        if outage:
            item.processing = "failed"
            item.processing_error = f"the blob store was unavailable: {reason}"[:4000]
            return
        flags = json.loads(item.flags)
        flags.append({"code": "processing_failed", "message": reason[:1000]})
        item.flags = json.dumps(flags, ensure_ascii=False)
        item.status = "flagged"
        item.processing = "failed"
        item.processing_error = reason[:4000]
        # Still findable by its path and filters, and by the text an earlier run derived
        # (a failed `amanah reprocess` keeps the derivatives in use; first runs have none).
        body, has_ocr = index.text_of(s, ws.blobs, item_id)
        index.index_item(s, item_id, body, has_ocr=has_ocr)
        ledger.append(
            s,
            EventType.VALIDATION,
            actor=ACTOR,
            object_type="item",
            object_id=item_id,
            outcome="failure",
            details={"step": "processing", "reason": reason[:1000]},
        )
