"""tantivy as a search backend: an embedded Lucene-class index in the home, derived from the
database.

tantivy is fed our analyzer's streams (amanah/text/analyzer.py) as text, the words separated by
single spaces: Python folds the text and removes articles and particles in a few regular-
expression passes over the whole text (`analyzer.streams`, no Python code per word), and
tantivy's own chain splits on spaces and, for the stem field, applies its Snowball English
stemmer, the analyzer's. The terms are the analyzer's exactly (tests/test_tantivy_analysis.py);
queries keep using the analyzer in Python, which gives the same terms. Every change
to `search_docs` (an item indexed, re-indexed, restricted, removed) writes a row to
`search_outbox` in the same transaction, by a database trigger, whoever made the change;
`catch_up` (one writer at a time, under a lock) applies the outbox to the index, upserting
by item id, and only then deletes the rows it applied: a crash at any point re-applies, never
loses. Every search catches up first, so nothing committed is searched around.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tantivy
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session
from tantivy import FieldType, Occur, Order, Query

from amanah.access import SearchScope
from amanah.db.models import SearchDoc, SearchOutbox, SearchText
from amanah.search.index import IndexOutdated
from amanah.search.query import Node, Not, Or, Phrase, Term
from amanah.search.request import FACETS, FieldFilter, Found, SearchRequest
from amanah.system import file_state
from amanah.text.analyzer import VERSION, streams

if TYPE_CHECKING:
    from amanah.workspace import Workspace

# 2: the stem field is fed the peeled words and stemmed by tantivy (STEMMER); an index of
# version 1 holds the analyzer's finished stems under another tokenizer, and is made anew.
SCHEMA_VERSION = 2
TOKENIZER = "amanah_terms"  # the analyzer's exact terms, split on spaces: nothing else done
STEMMER = "amanah_stems"  # the peeled words split on spaces, then Snowball English (rust-stemmers)
FEED = "tantivy"
STAMP = "amanah-index.json"
MAX_RAW = 30_000  # a raw (untokenized) term must stay under tantivy's 64 KB term limit
BIG = 2**62
HEAP = 64_000_000
BATCH = 10_000  # outbox rows per commit (each commit makes a segment for tantivy to merge)
READ = 1_000  # outbox rows read and analysed at a time, the next while the last is indexed
DELETE_AT_ONCE = 5_000  # outbox ids per DELETE statement
WRITER_THREADS = 1  # tantivy indexing threads; 2 cost more CPU a document (0.94 against 0.61 ms)


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("item_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("exact", tokenizer_name=TOKENIZER, index_option="position")
    sb.add_text_field("stem", tokenizer_name=STEMMER, index_option="position")
    for name in ("compartment", "media_type", "media_facet", "langs", "year_facet", "path"):
        sb.add_text_field(name, tokenizer_name="raw", fast=name != "path")
    for name in ("provider_id", "collection_id", "day"):
        sb.add_integer_field(name, indexed=True, fast=True)
    sb.add_unsigned_field("date_key", indexed=True, fast=True)  # day, then item id ascending
    for name in ("has_ocr", "has_text", "has_gps"):
        sb.add_boolean_field(name, indexed=True, fast=True)
    return sb.build()


class TantivyIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.generation = ""
        self.schema = build_schema()
        self.index = tantivy.Index(self.schema, path=str(folder))
        for name, analyzer in analyzers().items():
            self.index.register_tokenizer(name, analyzer)
        self._seen: tuple[int, ...] | None = None

    def fresh(self) -> None:
        """The reader at the last commit of any process. tantivy writes each commit's
        `meta.json` anew (a new file renamed in place), so an unchanged one means nothing
        was committed since the last look: the reload (0.7 ms a search at 1,000,000
        documents) is skipped."""
        try:
            seen: tuple[int, ...] | None = file_state(os.stat(self.folder / "meta.json"))
        except OSError:
            seen = None
        if seen is None or seen != self._seen:
            self.index.reload()  # a commit after the look is seen by the next one
            self._seen = seen

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time, across processes (tantivy itself refuses a second)."""
        with open(self.folder / "writer.lock", "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def analyzers() -> dict[str, tantivy.TextAnalyzer]:
    """The two chains the text fields are indexed with, by name (`streams` feeds them)."""
    words = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
    stems = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
    return {
        TOKENIZER: words.build(),
        STEMMER: stems.filter(tantivy.Filter.stemmer("english")).build(),
    }


_OPEN: dict[Path, TantivyIndex] = {}


def folder_of(ws: Workspace) -> Path:
    return ws.home / "index" / "tantivy"


def _stamp() -> dict[str, int]:
    return {"schema": SCHEMA_VERSION, "analyzer": VERSION}


def _read_stamp(folder: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((folder / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def open_index(ws: Workspace) -> TantivyIndex:
    """The home's index; a missing one, or one another schema or analyzer made, is made anew
    and every indexed item queued for it (the index is derived: nothing is lost). Each index
    made has its own generation, so a process holding an older one (before `amanah reindex`
    in another process) opens the new one."""
    folder = folder_of(ws)
    stamp = _read_stamp(folder)
    found = _OPEN.get(folder)
    if found is not None and stamp is not None and stamp.get("generation") == found.generation:
        return found
    current = stamp is not None and {k: stamp.get(k) for k in _stamp()} == _stamp()
    if not current:
        _OPEN.pop(folder, None)
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(mode=0o700, exist_ok=True)  # private like the rest of the home
        folder.mkdir(mode=0o700)
        # Queue everything before the stamp says the index exists: a crash in between
        # leaves no stamp, so the next open starts again.
        enqueue_all(ws)
        found = TantivyIndex(folder)
        stamp = {**_stamp(), "generation": uuid.uuid4().hex}
        tmp = folder / (STAMP + ".tmp")
        tmp.write_text(json.dumps(stamp))
        os.replace(tmp, folder / STAMP)
    else:
        found = TantivyIndex(folder)
    assert stamp is not None
    found.generation = str(stamp.get("generation", ""))
    _OPEN[folder] = found
    return found


def enqueue_all(ws: Workspace) -> None:
    """Register the feed (the triggers write the outbox from now on) and queue every item."""
    with ws.db.session() as s:
        s.execute(text("DELETE FROM search_feeds WHERE name = :n"), {"n": FEED})
        s.execute(text("INSERT INTO search_feeds (name) VALUES (:n)"), {"n": FEED})
        s.execute(text("INSERT INTO search_outbox (item_id) SELECT item_id FROM search_docs"))


def stop_feed(ws: Workspace) -> None:
    """The database's own index is used again: stop writing the outbox, forget the queue."""
    with ws.db.session() as s:
        s.execute(text("DELETE FROM search_feeds WHERE name = :n"), {"n": FEED})
        s.execute(delete(SearchOutbox))


def rebuild(ws: Workspace, workers: int = 1) -> int:
    """Make the index anew from the database (`amanah reindex`); returns its size in bytes."""
    folder = folder_of(ws)
    _OPEN.pop(folder, None)
    (folder / STAMP).unlink(missing_ok=True)
    with ws.db.session() as s:
        s.execute(delete(SearchOutbox))  # open_index queues every item again
    catch_up(ws, workers=workers)
    return size_bytes(ws)


def size_bytes(ws: Workspace) -> int:
    return sum(p.stat().st_size for p in folder_of(ws).rglob("*") if p.is_file())


def exists(ws: Workspace) -> bool:
    """Whether the index was made (its stamp is written last)."""
    return (folder_of(ws) / STAMP).exists()


def behind(ws: Workspace, s: Session) -> bool:
    """Whether changes wait in the outbox (in `s`'s snapshot), or the index must be made."""
    if not (folder_of(ws) / STAMP).exists():
        return True
    return s.execute(text("SELECT 1 FROM search_outbox LIMIT 1")).first() is not None


def pending(ws: Workspace) -> int:
    return _queue(ws)[0]


def _queue(ws: Workspace) -> tuple[int, int]:
    """How many outbox rows wait, and the id of the last. The outbox is no log written
    behind: a search's safety net reads it without applying the search log first."""
    with ws.db.reader(barrier=False) as s:
        n, last = s.execute(text("SELECT count(*), max(id) FROM search_outbox")).one()
    return int(n or 0), int(last or 0)


def _document(row: Any, terms: tuple[str, str]) -> tantivy.Document:
    """A search_docs row and its text's `streams` (exact, and stem before English) as
    tantivy's."""
    doc = tantivy.Document()
    doc.add_integer("item_id", row.item_id)
    doc.add_text("exact", terms[0])
    doc.add_text("stem", terms[1])
    doc.add_text("compartment", row.compartment)
    doc.add_integer("provider_id", row.provider_id)
    doc.add_integer("collection_id", row.collection_id)
    media = (row.media_type or "")[:MAX_RAW]
    doc.add_text("media_type", media)
    doc.add_text("media_facet", media or "unknown")
    codes = [c for c in (row.langs or "").split(",") if c]
    for code in codes:
        doc.add_text("langs", code)
    if not codes:
        doc.add_text("langs", "\x00unknown")  # a facet value no lang: filter can name
    day = _ordinal(row.doc_date)
    doc.add_integer("day", day)
    doc.add_unsigned("date_key", _date_key(day, row.item_id))
    doc.add_text("year_facet", str(row.year) if row.year is not None else "unknown")
    doc.add_boolean("has_ocr", bool(row.has_ocr))
    doc.add_boolean("has_text", bool(row.has_text))
    doc.add_boolean("has_gps", bool(row.has_gps))
    doc.add_text("path", (row.path or "").lower()[:MAX_RAW])
    return doc


def _ordinal(day: str) -> int:
    try:
        return date.fromisoformat(day).toordinal() if day else 0
    except ValueError:
        return 0


def _date_key(day: int, item_id: int) -> int:
    """Newest first, then item id ascending, as one descending number."""
    return (day << 32) + (2**32 - 1 - item_id)


class IndexBehind(IndexOutdated):
    """More changes wait for the index than a search should apply on its own."""


@dataclass
class _Chunk:
    """Outbox rows read together, the search_docs rows they name, and their texts' streams."""

    outbox_ids: list[int]
    item_ids: list[int]
    rows: list[Any]
    terms: list[tuple[str, str]]


def _read(ws: Workspace, after: int, last: int, n: int) -> tuple[list[int], list[int], list[Any]]:
    """Up to n outbox rows after `after` (up to `last`), the items they name, and those items'
    search_docs rows with their text (an item no longer in search_docs has none)."""
    docs, texts = SearchDoc.__table__, SearchText.__table__
    with ws.db.reader() as s:
        queued = s.execute(
            select(SearchOutbox.id, SearchOutbox.item_id)
            .where(SearchOutbox.id > after, SearchOutbox.id <= last)
            .order_by(SearchOutbox.id)
            .limit(n)
        ).all()
        if not queued:
            return [], [], []
        ids = sorted({r.item_id for r in queued})
        rows = s.execute(
            select(docs, texts.c.body)
            .outerjoin(texts, texts.c.item_id == docs.c.item_id)
            .where(docs.c.item_id.in_(ids))
        ).all()
    return [r.id for r in queued], ids, rows


def catch_up(
    ws: Workspace, workers: int = 1, batch: int | None = None, at_most: int | None = None
) -> int:
    """Apply the outbox to the index; returns how many outbox rows were applied.

    With `at_most` (a search's safety net), refuse with a clear message rather than apply a
    large backlog: the writer after `process`, or `amanah reindex`, is the place for that.
    Only rows queued before the call are applied, so a busy writer elsewhere cannot keep this
    call going. The texts of the next rows are read and given their streams here (about 0.1
    ms a document: a process pool cost more in pickling than it saved) while tantivy's
    `workers` threads (at most WRITER_THREADS) index the ones before; one commit per `batch`
    outbox rows, and only then are those rows deleted: a crash at any point re-applies, never
    loses."""
    batch = batch or BATCH
    if at_most is not None and not exists(ws):
        with ws.db.reader() as s:
            n = int(s.execute(select(func.count()).select_from(SearchDoc)).scalar() or 0)
        if n > at_most:  # a home moving over: building it is `reindex`'s work, not a search's
            raise IndexBehind(
                f"the search index (tantivy) has not been built for this home's {n:,} items:"
                " run `amanah reindex`"
            )
    idx = open_index(ws)
    waiting, last = _queue(ws)
    if not waiting:
        return 0
    if at_most is not None and waiting > at_most:
        raise IndexBehind(
            f"the search index is behind the database by {waiting:,} changes; they are applied"
            " by `amanah process` (or a running `amanah serve`): wait for it, or run"
            " `amanah reindex`"
        )
    applied = 0
    with idx.lock():
        writer = idx.index.writer(HEAP, max(1, min(workers, WRITER_THREADS)))
        try:
            after, added = 0, []  # the outbox rows in the writer, not yet committed
            ahead: _Chunk | None = None
            while True:
                outbox_ids, item_ids, rows = _read(ws, after, last, min(batch, READ))
                chunk = None
                if outbox_ids:
                    after = outbox_ids[-1]
                    bodies = [r.body or "" for r in rows]
                    chunk = _Chunk(outbox_ids, item_ids, rows, [streams(b) for b in bodies])
                if ahead is not None:
                    for item_id in ahead.item_ids:
                        writer.delete_documents_by_term("item_id", item_id)
                    for row, t in zip(ahead.rows, ahead.terms, strict=True):
                        writer.add_document(_document(row, t))
                    added += ahead.outbox_ids
                if added and (chunk is None or len(added) >= batch):
                    writer.commit()
                    for i in range(0, len(added), DELETE_AT_ONCE):
                        with ws.db.session() as s:
                            part = added[i : i + DELETE_AT_ONCE]
                            s.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(part)))
                    applied += len(added)
                    added = []
                if chunk is None:
                    break
                ahead = chunk
        finally:
            writer.wait_merging_threads()
    idx.index.reload()
    return applied


# --- searching ----------------------------------------------------------------------------------


#: Any run of characters, line breaks included (a path may hold one).
ANY = "(?s:.*)"


def _escape(value: str) -> str:
    """A literal for tantivy's regular expressions: every character but a letter or digit as
    its code point (a plain backslash would make `\\<` a word boundary)."""
    return "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in value)


class TantivySearch:
    name = "tantivy"

    def __init__(self, idx: TantivyIndex) -> None:
        self.idx = idx
        self.schema = idx.schema

    # The text part. Each word matches its exact or its stem form (the exact form counts
    # double in BM25, as in FTS5); =word its exact form only; word* either form's prefix.

    def _term(self, field: str, word: str) -> Query:
        return Query.term_query(self.schema, field, word)

    def _either(self, exact: Query, stem: Query) -> Query:
        return Query.boolean_query(
            [(Occur.Should, Query.boost_query(exact, 2.0)), (Occur.Should, stem)]
        )

    def _phrase(self, field: str, words: tuple[str, ...]) -> Query:
        if len(words) == 1:
            return self._term(field, words[0])
        return Query.phrase_query(self.schema, field, list(words))

    def _within(self, exact: Query, stem: Query) -> Query:
        """`_either` where every exact match is a stem match too (a word's stem stands at its
        position in the stem field): the same documents and scores, but the exact form is
        only looked for in the documents the stem form matched, not read through on its own
        (a phrase of two common words read both phrases' positions in nearly every text)."""
        return Query.boolean_query(
            [(Occur.Must, stem), (Occur.Should, Query.boost_query(exact, 2.0))]
        )

    def _leaf(self, node: Term | Phrase) -> Query:
        if isinstance(node, Phrase):
            if not node.exact:
                return Query.empty_query()
            return self._within(self._phrase("exact", node.exact), self._phrase("stem", node.stem))
        if node.kind == "exact":
            return Query.boost_query(self._term("exact", node.exact), 2.0)
        if node.kind == "prefix":
            return self._either(
                Query.regex_query(self.schema, "exact", _escape(node.exact) + ANY),
                Query.regex_query(self.schema, "stem", _escape(node.stem) + ANY),
            )
        return self._either(self._term("exact", node.exact), self._term("stem", node.stem))

    def _match(self, node: Node) -> Query:
        if isinstance(node, (Term, Phrase)):
            return self._leaf(node)
        if isinstance(node, Or):
            return Query.boolean_query([(Occur.Should, self._match(p)) for p in node.parts])
        if isinstance(node, Not):
            return Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, self._match(node.part))]
            )
        clauses = [
            (Occur.MustNot, self._match(p.part))
            if isinstance(p, Not)
            else (Occur.Must, self._match(p))
            for p in node.parts
        ]
        if all(o == Occur.MustNot for o, _ in clauses):
            clauses.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(clauses)

    def _filter(self, f: FieldFilter) -> Query:
        if f.field == "item":  # the items of an entity filter
            if not f.values:
                return Query.empty_query()
            return Query.term_set_query(self.schema, "item_id", [int(i) for i in f.values])
        alternatives: list[Query] = []
        for value in f.values:
            if f.field in ("provider", "collection"):
                alternatives.append(self._term(f"{f.field}_id", int(value)))
            elif f.field == "lang":
                alternatives.append(self._term("langs", value))
            elif f.field == "type":
                kind, media = value
                alternatives.append(
                    self._term("media_type", media)
                    if kind == "exact"
                    else Query.regex_query(self.schema, "media_type", _escape(media) + ANY)
                )
            elif f.field == "has":
                alternatives.append(self._term(f"has_{value}", True))
            elif f.field == "after":
                day = _ordinal(value)
                alternatives.append(
                    Query.range_query(self.schema, "day", FieldType.Integer, day, None)
                )
            elif f.field == "before":
                day = _ordinal(value)
                alternatives.append(
                    Query.range_query(self.schema, "day", FieldType.Integer, 1, day, True, False)
                )
            elif f.field == "path":
                alternatives.append(
                    Query.regex_query(self.schema, "path", ANY + _escape(value) + ANY)
                )
            elif f.field == "date":  # the document date in [start, end)
                lo, hi = (_ordinal(v) for v in value)
                alternatives.append(
                    Query.range_query(
                        self.schema, "day", FieldType.Integer, max(lo, 1), hi, True, False
                    )
                )
            else:  # received: is resolved to item ids by `_resolved` (the database holds it)
                raise ValueError(f"unknown filter field {f.field!r}")
        # after: and before: narrow together; other repeated fields mean either value.
        occur = Occur.Must if f.field in ("after", "before") else Occur.Should
        return Query.boolean_query([(occur, a) for a in alternatives])

    def query(self, req: SearchRequest) -> Query | None:
        """The whole search as one tantivy query, need-to-know first; None: nothing visible."""
        scope = req.scope
        if scope.empty:
            return None
        need = [(Occur.Should, self._term("compartment", c)) for c in sorted(scope.compartments)]
        clauses: list[tuple[Occur, Query]] = [
            (Occur.Must, Query.const_score_query(Query.boolean_query(need), 0.0))
        ]
        if scope.provider_id is not None:
            own = self._term("provider_id", scope.provider_id)
            clauses.append((Occur.Must, Query.const_score_query(own, 0.0)))
        for f in req.filters:
            q = self._filter(f)
            if f.negated:
                clauses.append((Occur.MustNot, q))
            else:
                clauses.append((Occur.Must, Query.const_score_query(q, 0.0)))
        if req.match is not None:
            clauses.append((Occur.Must, self._match(req.match)))
        return Query.boolean_query(clauses)

    def _resolved(self, s: Session, req: SearchRequest) -> SearchRequest:
        """`received:` as the ids of the items received then: the intake time is in the
        database, not in this index (need-to-know stays in the tantivy query)."""
        from dataclasses import replace

        from amanah.db.models import Item
        from amanah.search.sql_search import received_bounds

        if not any(f.field == "received" for f in req.filters):
            return req
        filters = []
        for f in req.filters:
            if f.field == "received":
                ids: set[int] = set()
                for value in f.values:
                    lo, hi = received_bounds(value)
                    ids.update(
                        s.execute(
                            select(Item.id).where(Item.intake_at >= lo, Item.intake_at < hi)
                        ).scalars()
                    )
                f = FieldFilter("item", tuple(sorted(ids)), f.negated)
            filters.append(f)
        return replace(req, filters=tuple(filters))

    def search(self, s: Session, req: SearchRequest) -> Found:
        req = self._resolved(s, req)
        q = self.query(req)
        if q is None:
            empty = {f: Counter() for f in FACETS} if req.facets else None
            return Found([], False, 0, facets=empty, backend=self.name)
        self.idx.fresh()  # another process may have applied the outbox
        searcher = self.idx.index.searcher()
        want = req.limit + 1
        if req.sort == "date":
            rows, total = self._by_date(searcher, q, want, req.after)
        elif req.sort in ("received", "oldest"):  # the order received: item ids
            rows, total = self._by_id(searcher, q, want, req.after, req.sort == "received")
        elif req.match is None:
            rows, total = self._by_id(searcher, q, want, req.after)
        else:
            rows, total = self._by_score(searcher, q, want, req.after)
        if total is None:
            total = searcher.search(q, 1, count=True).count or 0
        facets = self._facets(s, searcher, q) if req.facets else None
        more = len(rows) > req.limit
        return Found(rows[: req.limit], more, total, facets=facets, backend=self.name)

    def _by_date(
        self, searcher: tantivy.Searcher, q: Query, want: int, after: tuple[Any, int] | None
    ) -> tuple[list[tuple[int, float, str]], int | None]:
        """The page, and the total when the page's own search counted it (no keyset)."""
        whole = after is None
        if after is not None:
            below = _date_key(_ordinal(str(after[0])), int(after[1]))
            key = Query.range_query(
                self.schema, "date_key", FieldType.Unsigned, 0, below, True, False
            )
            q = Query.boolean_query([(Occur.Must, q), (Occur.Must, key)])
        res = searcher.search(q, want, count=whole, order_by_field="date_key", order=Order.Desc)
        out = []
        for k, _ in res.hits:
            day = int(k) >> 32
            item_id = 2**32 - 1 - (int(k) & (2**32 - 1))
            out.append((item_id, 0.0, date.fromordinal(day).isoformat() if day else ""))
        return out, res.count if whole else None

    def _by_id(
        self,
        searcher: tantivy.Searcher,
        q: Query,
        want: int,
        after: tuple[Any, int] | None,
        newest: bool = False,
    ) -> tuple[list[tuple[int, float, str]], int | None]:
        whole = after is None
        if after is not None:
            key = (
                Query.range_query(
                    self.schema, "item_id", FieldType.Integer, 0, int(after[1]), True, False
                )
                if newest
                else Query.range_query(
                    self.schema, "item_id", FieldType.Integer, int(after[1]), None, False, True
                )
            )
            q = Query.boolean_query([(Occur.Must, q), (Occur.Must, key)])
        order = Order.Desc if newest else Order.Asc
        res = searcher.search(q, want, count=whole, order_by_field="item_id", order=order)
        rows = self._with_dates(searcher, [(int(k), 0.0, a) for k, a in res.hits])
        return rows, res.count if whole else None

    def _by_score(
        self, searcher: tantivy.Searcher, q: Query, want: int, after: tuple[Any, int] | None
    ) -> tuple[list[tuple[int, float, str]], int | None]:
        """Top hits by score, then item id, after the keyset: fetch more until every hit
        that ranks before the cut is certainly among those fetched (ties included)."""
        m = max(want, 32)
        while True:
            res = searcher.search(q, m, count=True)
            addrs = [a for _, a in res.hits]
            ids = searcher.fast_field_values("item_id", addrs)
            scored = zip(res.hits, ids, addrs, strict=True)
            rows = sorted(
                ((float(sc), int(i), a) for (sc, _), i, a in scored), key=lambda r: (-r[0], r[1])
            )
            if after is not None:
                ck, ci = float(after[0]), int(after[1])
                rows = [r for r in rows if r[0] < ck or (r[0] == ck and r[1] > ci)]
            if len(res.hits) < m:
                chosen = rows[:want]
                break
            lowest = min(float(sc) for sc, _ in res.hits)
            complete = [r for r in rows if r[0] > lowest]
            if len(complete) >= want:
                chosen = complete[:want]
                break
            m *= 4
        return self._with_dates(searcher, [(i, sc, a) for sc, i, a in chosen]), res.count

    def _with_dates(
        self, searcher: tantivy.Searcher, rows: list[tuple[int, float, Any]]
    ) -> list[tuple[int, float, str]]:
        days = searcher.fast_field_values("day", [a for _, _, a in rows]) if rows else []
        return [
            (i, sc, date.fromordinal(d).isoformat() if d else "")
            for (i, sc, _), d in zip(rows, days, strict=True)
        ]

    def _facets(self, s: Session, searcher: tantivy.Searcher, q: Query) -> dict[str, Counter[Any]]:
        """Every facet in one aggregation over the hits' fast fields. The year received is in
        the database: where each year's items form their own id range (the usual case: ids
        are given as items are received), a range aggregation on item_id in the same pass
        counts it; otherwise the hits' ids are looked up (`_received_years`)."""
        from amanah.search.sql_search import received_id_ranges

        fields = {
            "provider": "provider_id",
            "collection": "collection_id",
            "media_type": "media_facet",
            "language": "langs",
            "year": "year_facet",
            "has_ocr": "has_ocr",
        }
        spec: dict[str, Any] = {
            f: {"terms": {"field": fields[f], "size": 65_000}} for f in FACETS if f in fields
        }
        ranges = received_id_ranges(s)
        if ranges:
            spec["received"] = {"range": {"field": "item_id", "ranges": _year_ranges(ranges)}}
        found = searcher.aggregate(q, spec)
        out: dict[str, Counter[Any]] = {}
        for facet in FACETS:
            if facet not in fields:
                continue  # received: below
            counter: Counter[Any] = Counter()
            for b in found.get(facet, {}).get("buckets", []):
                counter[_facet_value(facet, b)] += int(b["doc_count"])
            out[facet] = counter
        if ranges is None:
            out["received"] = self._received_years(s, searcher, q)
        elif not ranges:  # no item at all: not a hit's id is fetched to find none
            out["received"] = Counter()
        else:
            out["received"] = _received_counts(found.get("received", {}))
        return out

    def suggest(self, s: Session, scope: SearchScope, word: str, limit: int = 5) -> list[str]:
        """Close indexed words the caller may see (`search.suggest`, as on every backend)."""
        from amanah.search.suggest import close_words

        return [c.word for c in close_words(self, s, scope, word, limit)]

    def _received_years(self, s: Session, searcher: tantivy.Searcher, q: Query) -> Counter[Any]:
        """Hits per year received when years overlap in item order: the hits' ids looked up."""
        from amanah.search.sql_search import received_years

        return received_years(s, self._all_ids(searcher, q))

    def _all_ids(self, searcher: tantivy.Searcher, q: Query) -> list[int]:
        res = searcher.search(q, max(1, searcher.num_docs), count=False)
        return sorted(searcher.fast_field_values("item_id", [a for _, a in res.hits]))

    def ids(self, s: Session, req: SearchRequest) -> list[int]:
        q = self.query(self._resolved(s, req))
        if q is None:
            return []
        return self._all_ids(self.idx.index.searcher(), q)


def _year_ranges(ranges: dict[int, tuple[int, int]]) -> list[dict[str, Any]]:
    """Each year received as a range of item ids, for a range aggregation on item_id."""
    return [{"key": str(y), "from": lo, "to": hi + 1} for y, (lo, hi) in sorted(ranges.items())]


def _received_counts(found: dict[str, Any]) -> Counter[Any]:
    """A range aggregation's buckets (`_year_ranges`) as hits per year; the ranges between
    the years (tantivy adds them) and empty years are left out."""
    counts: Counter[Any] = Counter()
    for b in found.get("buckets", []):
        if str(b.get("key", "")).isdigit() and int(b["doc_count"]):
            counts[int(b["key"])] += int(b["doc_count"])
    return counts


def _facet_value(facet: str, bucket: dict[str, Any]) -> Any:
    key = bucket["key"]
    if facet in ("provider", "collection"):
        return int(key)
    if facet == "has_ocr":
        return bucket.get("key_as_string") == "true" or key in (1, True)
    if facet == "year":
        return int(key) if str(key).isdigit() else "unknown"
    if facet == "language":
        return "unknown" if key == "\x00unknown" else key
    return key
