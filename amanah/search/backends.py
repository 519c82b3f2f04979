"""Where full-text terms live: SQLite FTS5 (embedded) or PostgreSQL tsvector + GIN (scale-out).

Both hold the analyzer's two term streams (exact and stem) and translate the same query tree;
the hits are the same on both (tests run one suite against each). What differs is ranking:
FTS5 has BM25; PostgreSQL has ts_rank, used here with the same exact-form boost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from amanah.db.models import SearchDoc
from amanah.search.query import And, Node, Not, Or, Phrase, Term, positive_leaves
from amanah.text.analyzer import Terms

# PostgreSQL's tsvector limits: positions up to 16,383, 256 positions per lexeme, 1 MB.
PG_MAX_POSITION = 16_383
PG_MAX_POSITIONS = 256
PG_MAX_TSVECTOR = 900_000
GIN_COLUMNS = ("exact", "stem")


@dataclass
class Match:
    """SQL pieces that select (and score) the items a query's text part matches.

    `source` is the FROM clause, naming search_docs as `d`; `where` restricts d; `score` is
    larger for better hits.
    """

    source: str
    where: str
    score: str
    params: dict[str, Any] = field(default_factory=dict)
    count_source: str = "search_docs d"  # the same without scoring, for counts and facets


class Backend(Protocol):
    name: str
    #: Whether put() and delete() need the analyzer's terms (FTS5 forgets a row only by them).
    needs_terms: bool

    def put(self, s: Session, docs: list[dict[str, Any]], terms: list[Terms]) -> None: ...

    def delete(self, s: Session, rows: list[tuple[int, Terms]]) -> None: ...

    def clear(self, s: Session) -> None: ...

    def match(self, node: Node | None) -> Match: ...

    def size_bytes(self, s: Session) -> int: ...


def backend_for(s: Session) -> Backend:
    """Where `index.put` writes terms. On SQLite, while tantivy is fed (a row in search_feeds),
    FTS5's terms are not written at all: tantivy and the snippets need only search_docs and
    the text."""
    if s.get_bind().dialect.name == "postgresql":
        return PostgresBackend()
    return DocsOnlyBackend() if feeding_tantivy(s) else SqliteBackend()


def feeding_tantivy(s: Session) -> bool:
    """Whether tantivy is this home's index (its feed is registered), in `s`'s snapshot."""
    found = s.execute(text("SELECT 1 FROM search_feeds WHERE name = 'tantivy'")).first()
    return found is not None


# --- SQLite FTS5 --------------------------------------------------------------------------------


def _fts_string(words: tuple[str, ...] | list[str]) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


class SqliteBackend:
    name = "sqlite-fts5"
    needs_terms = True
    # BM25 weights of the columns: a word as written counts twice its stem.
    # The FTS5 match drives the join (CROSS JOIN fixes SQLite's join order): otherwise the
    # planner may walk search_docs and run the match once per row.
    # The FTS5 match drives the join (CROSS JOIN fixes SQLite's join order): otherwise the
    # planner may walk search_docs and run the match once per row. Filters, need-to-know
    # first, are conditions on the joined row (search_docs rows are small for this).
    RANKED = (
        "(SELECT rowid AS rid, bm25(search_fts, 2.0, 1.0) AS rank FROM search_fts"
        " WHERE search_fts MATCH :fts) m CROSS JOIN search_docs d ON d.item_id = m.rid"
    )
    MATCHED = (
        "(SELECT rowid AS rid FROM search_fts WHERE search_fts MATCH :fts) m"
        " CROSS JOIN search_docs d ON d.item_id = m.rid"
    )

    def put(self, s: Session, docs: list[dict[str, Any]], terms: list[Terms]) -> None:
        """Insert search_docs rows and their terms (none of them may be indexed yet)."""
        s.execute(insert(SearchDoc), docs)
        s.execute(
            text("INSERT INTO search_fts(rowid, exact, stem) VALUES (:id, :exact, :stem)"),
            [
                {"id": d["item_id"], "exact": " ".join(t.exact), "stem": " ".join(t.stem)}
                for d, t in zip(docs, terms, strict=True)
            ],
        )

    def delete(self, s: Session, rows: list[tuple[int, Terms]]) -> None:
        # A contentless FTS5 table forgets a row only when told the terms it was given.
        if rows:
            s.execute(
                text(
                    "INSERT INTO search_fts(search_fts, rowid, exact, stem)"
                    " VALUES ('delete', :id, :exact, :stem)"
                ),
                [{"id": i, "exact": " ".join(t.exact), "stem": " ".join(t.stem)} for i, t in rows],
            )

    def clear(self, s: Session) -> None:
        s.execute(text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))

    def optimize(self, s: Session) -> None:
        s.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))

    def size_bytes(self, s: Session) -> int:
        found = s.execute(
            text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fts%'")
        ).scalar()
        return int(found or 0)

    def _leaf(self, node: Term | Phrase) -> str:
        if isinstance(node, Phrase):
            return f"(exact : {_fts_string(node.exact)} OR stem : {_fts_string(node.stem)})"
        if node.kind == "exact":
            return f"exact : {_fts_string([node.exact])}"
        star = " *" if node.kind == "prefix" else ""
        exact, stem = _fts_string([node.exact]), _fts_string([node.stem])
        return f"(exact : {exact}{star} OR stem : {stem}{star})"

    def _expr(self, node: Node) -> str:
        if isinstance(node, (Term, Phrase)):
            return self._leaf(node)
        if isinstance(node, Or):
            return "(" + " OR ".join(self._expr(p) for p in node.parts) + ")"
        if isinstance(node, And):
            pos = [self._expr(p) for p in node.parts if not isinstance(p, Not)]
            neg = [self._expr(p.part) for p in node.parts if isinstance(p, Not)]
            out = "(" + " AND ".join(pos) + ")"
            return f"({out} NOT ({' OR '.join(neg)}))" if neg else out
        raise AssertionError("a NOT alone is handled by match()")  # the parser ensures it

    def match(self, node: Node | None) -> Match:
        if node is None:
            return Match(source="search_docs d", where="", score="0")
        positive, negative = _split(node)
        params: dict[str, Any] = {}
        where = ""
        if negative is not None:
            params["fts_not"] = self._expr(negative)
            where = (
                "d.item_id NOT IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_not)"
            )
        if positive is None:
            return Match(source="search_docs d", where=where, score="0", params=params)
        params["fts"] = self._expr(positive)
        return Match(self.RANKED, where, "(-m.rank)", params, self.MATCHED)


def _split(node: Node) -> tuple[Node | None, Node | None]:
    """(what must match, what must not) at the top level: FTS5 has no NOT on its own."""
    if isinstance(node, Not):
        return None, node.part
    if isinstance(node, And):
        pos = [p for p in node.parts if not isinstance(p, Not)]
        neg = [p.part for p in node.parts if isinstance(p, Not)]
        if not pos:
            return None, neg[0] if len(neg) == 1 else Or(tuple(neg))
    return node, None


class DocsOnlyBackend(SqliteBackend):
    """SQLite feeding tantivy: search_docs rows only, no FTS5 terms (a search on FTS5 is then
    refused until `amanah reindex` writes them, see `index.check_backend`)."""

    name = "sqlite-docs"
    needs_terms = False

    def put(self, s: Session, docs: list[dict[str, Any]], terms: list[Terms]) -> None:
        s.execute(insert(SearchDoc), docs)

    def delete(self, s: Session, rows: list[tuple[int, Terms]]) -> None:
        return None  # no FTS5 terms were written for them


# --- PostgreSQL ---------------------------------------------------------------------------------


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(words: list[str]) -> tuple[str, bool]:
    """A tsvector in PostgreSQL's input syntax, and whether it had to be cut to fit."""
    positions: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(words, start=1):
        p = positions[w]
        if i <= PG_MAX_POSITION and len(p) < PG_MAX_POSITIONS:
            p.append(i)
    parts = []
    for w, p in positions.items():
        parts.append(_lexeme(w) + (":" + ",".join(map(str, p)) if p else ""))
    literal = " ".join(parts)
    if len(literal.encode()) <= PG_MAX_TSVECTOR:
        return literal, False
    # Too big with positions: keep every lexeme (matching stays complete), lose phrases.
    literal = " ".join(_lexeme(w) for w in positions)
    if len(literal.encode()) <= PG_MAX_TSVECTOR:
        return literal, True
    kept, size = [], 0
    for w in positions:
        lex = _lexeme(w)
        size += len(lex.encode()) + 1
        if size > PG_MAX_TSVECTOR:
            break
        kept.append(lex)
    return " ".join(kept), True


def _tsquery(node: Term | Phrase, column: str) -> str:
    if isinstance(node, Phrase):
        ws = node.exact if column == "exact" else node.stem
        return "(" + " <-> ".join(_lexeme(w) for w in ws) + ")"
    w = node.exact if column == "exact" else node.stem
    return _lexeme(w) + (":*" if node.kind == "prefix" else "")


class PostgresBackend:
    name = "postgresql-tsvector"
    needs_terms = True

    def put(self, s: Session, docs: list[dict[str, Any]], terms: list[Terms]) -> None:
        """Insert search_docs rows with their tsvectors in one statement."""
        params = []
        for d, t in zip(docs, terms, strict=True):
            exact, cut_e = tsvector_literal(t.exact)
            stem, cut_s = tsvector_literal(t.stem)
            params.append(
                {**d, "exact": exact, "stem": stem, "truncated": d["truncated"] or cut_e or cut_s}
            )
        columns = list(docs[0])
        s.execute(
            text(
                f"INSERT INTO search_docs ({', '.join(columns)}, exact_tsv, stem_tsv)"  # noqa: S608
                f" VALUES ({', '.join(':' + c for c in columns)},"
                " CAST(:exact AS tsvector), CAST(:stem AS tsvector))"
            ),
            params,
        )

    def delete(self, s: Session, rows: list[tuple[int, Terms]]) -> None:
        return None  # the terms go with the search_docs row

    def clear(self, s: Session) -> None:
        return None

    def size_bytes(self, s: Session) -> int:
        return int(s.execute(text("SELECT pg_total_relation_size('search_docs')")).scalar() or 0)

    def drop_indexes(self, s: Session) -> None:
        """Before a bulk load: building GIN indexes once is far faster than row by row."""
        for column in GIN_COLUMNS:
            s.execute(text(f"DROP INDEX IF EXISTS ix_search_docs_{column}"))

    def create_indexes(self, s: Session) -> None:
        s.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        for column in GIN_COLUMNS:
            s.execute(
                text(
                    f"CREATE INDEX IF NOT EXISTS ix_search_docs_{column}"
                    f" ON search_docs USING gin ({column}_tsv)"
                )
            )
        s.execute(text("ANALYZE search_docs"))

    def match(self, node: Node | None) -> Match:
        if node is None:
            return Match(source="search_docs d", where="", score="0")
        params: dict[str, Any] = {}
        where = self._expr(node, params)
        leaves = positive_leaves(node)
        score = "0"
        if leaves:
            params["rank_stem"] = " | ".join(_tsquery(x, "stem") for x in leaves)
            params["rank_exact"] = " | ".join(_tsquery(x, "exact") for x in leaves)
            score = (
                "(ts_rank(d.stem_tsv, CAST(:rank_stem AS tsquery), 1)"
                " + 2 * ts_rank(d.exact_tsv, CAST(:rank_exact AS tsquery), 1))"
            )
        return Match(source="search_docs d", where=where, score=score, params=params)

    def _expr(self, node: Node, params: dict[str, Any]) -> str:
        if isinstance(node, (Term, Phrase)):

            def cond(column: str) -> str:
                key = f"q{len(params)}"
                params[key] = _tsquery(node, column)
                return f"d.{column}_tsv @@ CAST(:{key} AS tsquery)"

            if isinstance(node, Term) and node.kind == "exact":
                return cond("exact")
            if isinstance(node, Term) and node.kind == "prefix":
                return f"({cond('exact')} OR {cond('stem')})"
            return cond("stem")
        if isinstance(node, Not):
            return f"NOT ({self._expr(node.part, params)})"
        joiner = " OR " if isinstance(node, Or) else " AND "
        return "(" + joiner.join(self._expr(p, params) for p in node.parts) + ")"
