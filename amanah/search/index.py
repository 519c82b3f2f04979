"""Keeping the search index in step with the items: it is derived, so it can always be rebuilt.

An item enters the index in the same transaction that records its processing, so it becomes
searchable the moment its text exists, and never before it is complete. `reindex` drops the
index and rebuilds it from the database and the text derivatives in the blob store.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from amanah.blobs import BlobStore
from amanah.db.models import Collection, Derivative, Item, SearchDoc, SearchText
from amanah.geo import placed
from amanah.processing.metadata import stored as stored_metadata
from amanah.search import bulk_terms, document_date
from amanah.search.backends import (
    Backend,
    DocsOnlyBackend,
    PostgresBackend,
    SqliteBackend,
    backend_for,
    feeding_tantivy,
)
from amanah.text.analyzer import VERSION, Terms

if TYPE_CHECKING:
    from amanah.workspace import Workspace

log = logging.getLogger(__name__)

# Text beyond this is kept in the blob store but not indexed (the item says so).
MAX_CHARS = 5_000_000
TEXT_KINDS = ("text", "ocr")


class IndexOutdated(RuntimeError):
    """The stored index was built by another analyzer version and must be rebuilt first."""


@dataclass
class IndexDoc:
    item_id: int
    collection_id: int
    provider_id: int
    compartment: str
    media_type: str = ""
    langs: str = ","
    doc_date: str = ""
    year: int | None = None
    has_ocr: bool = False
    has_text: bool = False
    has_gps: bool = False
    path: str = ""
    body: str = ""
    truncated: bool = False


def document(item: Item, coll: Collection, body: str, has_ocr: bool) -> IndexDoc:
    """The index's view of an item: its filter fields and the text to search."""
    metadata = stored_metadata(item.doc_metadata)
    try:
        langs = [x["language"] for x in json.loads(item.languages or "[]")]
    except (ValueError, KeyError, TypeError):
        langs = []
    stated = document_date.choose(metadata, body, item.media_type or "")
    day = stated["date"] if stated else ""
    return IndexDoc(
        item_id=item.id,
        collection_id=coll.id,
        provider_id=coll.provider_id,
        compartment=coll.compartment,
        media_type=item.media_type or "",
        langs="," + "".join(f"{code}," for code in langs),
        doc_date=day,
        year=int(day[:4]) if day else None,
        has_ocr=has_ocr,
        has_text=bool(body.strip()),
        has_gps=metadata.get("latitude") is not None,
        path=item.original_path,
        body=body[:MAX_CHARS],
        truncated=len(body) > MAX_CHARS,
    )


def put(
    s: Session,
    docs: list[IndexDoc],
    terms: list[Terms] | None = None,
    fresh: bool = False,
    backend: Backend | None = None,
) -> None:
    """Add or replace documents in the index (in the caller's transaction).

    `fresh` says none of them is indexed yet (a rebuild), which saves looking.
    """
    if not docs:
        return
    for d in docs:  # PostgreSQL's text holds no NUL; a file's bytes read as text may (a stream)
        if "\x00" in d.body:
            d.body = d.body.replace("\x00", " ")
    backend = backend or backend_for(s)
    if not fresh:
        ids = [d.item_id for d in docs]
        old = s.execute(
            select(SearchDoc, SearchText.body)
            .join(SearchText, SearchText.item_id == SearchDoc.item_id)
            .where(SearchDoc.item_id.in_(ids))
        ).all()
        if old:
            if any(row.analyzer != VERSION for row, _ in old):
                raise IndexOutdated(
                    "the search index was built by another version of the analyzer:"
                    " run `amanah reindex` to rebuild it"
                )
            if isinstance(backend, SqliteBackend) and backend.needs_terms:
                backend.delete(s, [(row.item_id, bulk_terms.analyze(body)) for row, body in old])
            gone = [row.item_id for row, _ in old]
            s.execute(delete(SearchDoc).where(SearchDoc.item_id.in_(gone)))
            s.execute(delete(SearchText).where(SearchText.item_id.in_(gone)))
    if terms is None and backend.needs_terms:
        terms = bulk_terms.analyze_all([d.body for d in docs])
    elif terms is None:
        terms = [Terms([], [])] * len(docs)
    rows = []
    for d in docs:
        row = dict(vars(d))  # its fields, all plain values (asdict's deep copy costs more)
        del row["body"]
        row["analyzer"] = VERSION
        rows.append(row)
    backend.put(s, rows, terms)
    s.execute(insert(SearchText), [{"item_id": d.item_id, "body": d.body} for d in docs])


_CHECKED: set[str] = set()


def check_version(s: Session) -> None:
    """Refuse to search an index whose terms another analyzer made (once per process)."""
    url = str(s.get_bind().engine.url)
    if url in _CHECKED:
        return
    stale = s.execute(
        select(SearchDoc.item_id).where(SearchDoc.analyzer != VERSION).limit(1)
    ).first()
    if stale is not None:
        raise IndexOutdated(
            "the search index was built by another version of the analyzer, so it would"
            " miss words: run `amanah reindex` to rebuild it"
        )
    _CHECKED.add(url)


def check_backend(s: Session) -> None:
    """Refuse to search FTS5 on a SQLite home that fed tantivy: its terms were not written, so
    it would miss items silently."""
    if s.get_bind().dialect.name == "sqlite" and feeding_tantivy(s):
        raise IndexOutdated(
            "this home's word index was tantivy's, so SQLite's FTS5 index lacks terms:"
            " run `amanah reindex` to rebuild it"
        )


def text_of(s: Session, blobs: BlobStore, item_id: int) -> tuple[str, bool]:
    """The item's searchable text (extracted, then OCR) and whether OCR gave any."""
    found = s.execute(
        select(Derivative.kind, Derivative.sha256)
        .where(Derivative.item_id == item_id, Derivative.kind.in_(TEXT_KINDS))
        .order_by(Derivative.kind.desc(), Derivative.page)
    ).all()
    parts = []
    for _, sha in found:
        with blobs.open(sha) as f:
            parts.append(f.read(MAX_CHARS * 4 + 4).decode("utf-8", errors="replace"))
    return "\n".join(parts), any(k == "ocr" for k, _ in found)


def index_item(
    s: Session, item_id: int, body: str, has_ocr: bool, terms: Terms | None = None
) -> None:
    """Index one item as its processing is recorded (same transaction).

    `terms` (from `analyze(body[:MAX_CHARS])`) may be computed before the transaction, so
    that a long text does not hold the database's write lock while it is analysed.
    """
    item = s.get(Item, item_id)
    assert item is not None
    coll = s.get(Collection, item.collection_id)
    assert coll is not None
    if (dated := dated_metadata(item, body)) is not None:
        item.doc_metadata = dated
    put(s, [document(item, coll, body, has_ocr)], [terms] if terms is not None else None)


def dated_metadata(item: Item, body: str) -> str | None:
    """The item's metadata with its document date and that date's source (None when that is
    already what it keeps): recorded each time the item is indexed or the index rebuilt, so
    the item page can say where the date came from. `None` under the key: the document states
    no date (the key missing: not yet read)."""
    try:
        metadata = json.loads(item.doc_metadata or "{}")
    except (ValueError, RecursionError):  # a damaged or planted record is left as it is
        return None
    if not isinstance(metadata, dict):
        return None
    stated = document_date.choose(metadata, body, item.media_type or "")
    if document_date.KEY in metadata and metadata[document_date.KEY] == stated:
        return None
    metadata[document_date.KEY] = stated
    return placed.dumps(metadata)  # one serialisation: gov: reads the governorate at its start


def terms_for(ws: Workspace, body: str) -> Terms | None:
    """The terms the database's index needs, made before a write transaction; None where
    tantivy on SQLite is the index (tantivy's writer analyses the text, FTS5 gets none)."""
    if ws.settings.search_backend == "tantivy" and ws.db.dialect == "sqlite":
        return None
    return bulk_terms.analyze(body[:MAX_CHARS])


def _analyze_all(bodies: list[str]) -> list[Terms]:
    """The analyzer's terms of many texts (`bulk_terms`: the same terms, remembered)."""
    return bulk_terms.analyze_all(bodies)


@dataclass
class ReindexStats:
    items: int = 0
    seconds: float = 0.0
    index_bytes: int = 0


@contextmanager
def bulk(ws: Workspace) -> Iterator[None]:
    """Around a rebuild: PostgreSQL builds its GIN indexes once, after the rows are in."""
    with ws.db.session() as s:
        backend = backend_for(s)
        if isinstance(backend, PostgresBackend):
            backend.drop_indexes(s)
    try:
        yield
    finally:
        with ws.db.session() as s:
            if isinstance(backend, PostgresBackend):
                backend.create_indexes(s)
            else:
                SqliteBackend().optimize(s)


def reindex(
    ws: Workspace,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    batch: int = 500,
) -> ReindexStats:
    """Drop the index and rebuild it from every processed item; returns what it did."""
    from amanah.search import tantivy_index

    t0 = time.perf_counter()
    on_tantivy = ws.settings.search_backend == "tantivy"
    # No queue while search_docs is rewritten: tantivy is rebuilt from it at the end.
    tantivy_index.stop_feed(ws)
    with ws.db.session() as s:
        placed.fill(s)  # each item's governorate, for gov: and the map (amanah.geo.placed)
        backend_for(s).clear(s)
        s.execute(delete(SearchDoc))
        s.execute(delete(SearchText))
        # On SQLite, tantivy needs no FTS5 terms; PostgreSQL keeps its own (the scale-out).
        target = DocsOnlyBackend() if on_tantivy and s.get_bind().dialect.name == "sqlite" else None
    with ws.db.reader() as s:
        ids = list(
            s.execute(
                select(Item.id).where(Item.processing.in_(("done", "failed"))).order_by(Item.id)
            ).scalars()
        )
    total, done = len(ids), 0
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    with bulk(ws), ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk in _chunks(ids, batch):
            with ws.db.reader() as s:
                docs, dated = [], []
                for item_id in chunk:
                    item = s.get(Item, item_id)
                    coll = s.get(Collection, item.collection_id) if item else None
                    if item is None or coll is None:
                        continue
                    body, has_ocr = text_of(s, ws.blobs, item_id)
                    docs.append(document(item, coll, body, has_ocr))
                    if (meta := dated_metadata(item, body)) is not None:
                        dated.append({"id": item_id, "doc_metadata": meta})
            if target is None:
                terms = analyze_many(pool, [d.body for d in docs], workers)
            else:
                terms = [Terms([], [])] * len(docs)
            with ws.db.session() as s:
                put(s, docs, terms, fresh=True, backend=target)
                if dated:
                    s.execute(update(Item), dated)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if on_tantivy:
        size = tantivy_index.rebuild(ws, workers)
    else:
        with ws.db.reader() as s:
            size = backend_for(s).size_bytes(s)
    return ReindexStats(items=total, seconds=time.perf_counter() - t0, index_bytes=size)


def analyze_many(pool: ProcessPoolExecutor, bodies: list[str], workers: int) -> list[Terms]:
    """Analyze texts on all cores, in order (the index writer stays one thread)."""
    size = max(1, len(bodies) // (workers * 4))
    parts = [bodies[i : i + size] for i in range(0, len(bodies), size)]
    return [t for ts in pool.map(_analyze_all, parts) for t in ts]


def _chunks(ids: list[int], n: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


# --- feeding an index outside the database (tantivy) ---------------------------------------------

#: A search applies at most this many queued changes itself (the safety net for what a
#: writer has not applied yet); beyond it, it says which command feeds the index.
SAFETY_NET = 2_000
FEED_EVERY = 2.0  # seconds between the feeder's rounds while processing runs


def settle(ws: Workspace, build: bool = False) -> int:
    """Bring an index outside the database up to date with everything committed so far (a
    restriction change is then in it before the command that made it returns); returns how
    many queued changes were applied. Nothing to do on the database's own index, nor, unless
    `build`, where the index was never made (a home moving over builds it by `reindex`)."""
    if ws.settings.search_backend != "tantivy":
        return 0
    from amanah.search import tantivy_index

    if not build and not tantivy_index.exists(ws):
        return 0
    return tantivy_index.catch_up(ws)


@contextmanager
def feeding(
    ws: Workspace,
    every: float = FEED_EVERY,
    on_error: Callable[[Exception], None] | None = None,
) -> Iterator[None]:
    """While processing runs, one writer thread applies the outbox in batches (one tantivy
    commit and reader reload per round), so items become searchable as they are processed
    and no search has to apply a backlog; the last round runs before this returns."""
    if ws.settings.search_backend != "tantivy":
        yield
        return
    from amanah.search import tantivy_index

    tantivy_index.open_index(ws)  # the feed is registered before the first item is indexed
    stop = threading.Event()

    def feed() -> None:
        while not stop.wait(every):
            try:
                settle(ws, build=True)
            except Exception as exc:  # the next round, or the last one, tries again
                log.warning("the search index was not fed this round: %s", exc)
                if on_error is not None:  # e.g. a full disk stops the runner
                    on_error(exc)

    thread = threading.Thread(target=feed, name="search-feeder", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        settle(ws, build=True)


def check_index(ws: Workspace) -> list[str]:
    """For `amanah verify`: the word index behind the database, or holding what it should not
    (tantivy: checked item by item against search_docs); one line per problem."""
    if ws.settings.search_backend == "tantivy":
        from amanah.search import tantivy_check

        return tantivy_check.check(ws)
    with ws.db.reader() as s:
        try:
            check_backend(s)
        except IndexOutdated as exc:
            return [f"search index: {exc}"]
    return []
