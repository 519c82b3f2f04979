"""Where full-text terms live: SQLite FTS5 (embedded) or PostgreSQL tsvector + GIN (scale-out).

Both hold the analyzer's two term streams (exact and stem) and translate the same query tree;
the hits are the same on both (tests run one suite against each). What differs is ranking:
FTS5 has BM25; PostgreSQL has ts_rank, used here with the same exact-form boost.
"""

from __future__ import annotations

import hashlib
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
    # When the match alone applies every condition, pages and counts need no join:
    # `alone` ranks (its ids are m.rid), `alone_count` counts.
    alone: str = ""
    alone_count: str = ""


@dataclass(frozen=True)
class TagGroup:
    """Filter tokens of which one must (or, negated, none may) be among an item's tags."""

    tokens: tuple[str, ...]
    negated: bool = False


def tag(kind: str, value: object) -> str:
    """A filter value as one index token (letters and digits only, whatever the value)."""
    return "t" + kind + hashlib.sha256(str(value).encode()).hexdigest()[:16]


def tags_of(
    compartment: str,
    provider_id: int,
    collection_id: int,
    langs: str,
    has_ocr: bool,
    has_text: bool,
    has_gps: bool,
) -> str:
    """The tags an item is indexed with: what FTS5 can filter on by itself."""
    tokens = [tag("c", compartment), tag("p", provider_id), tag("k", collection_id)]
    tokens += [tag("l", code) for code in langs.split(",") if code]
    tokens += [
        tag("h", name)
        for name, on in (("ocr", has_ocr), ("text", has_text), ("gps", has_gps))
        if on
    ]
    return " ".join(tokens)


class Backend(Protocol):
    name: str
    # Whether filters given as TagGroups are applied inside the full-text match.
    tagged: bool

    def put(
        self, s: Session, docs: list[dict[str, Any]], terms: list[Terms], tags: list[str]
    ) -> None: ...

    def delete(self, s: Session, rows: list[tuple[int, Terms, str]]) -> None: ...

    def clear(self, s: Session) -> None: ...

    def match(self, node: Node | None, tags: list[TagGroup]) -> Match: ...

    def size_bytes(self, s: Session) -> int: ...


def backend_for(s: Session) -> Backend:
    return PostgresBackend() if s.get_bind().dialect.name == "postgresql" else SqliteBackend()


# --- SQLite FTS5 --------------------------------------------------------------------------------


def _fts_string(words: tuple[str, ...] | list[str]) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


class SqliteBackend:
    name = "sqlite-fts5"
    tagged = True
    # BM25 weights of the columns: a word as written counts twice its stem.
    # The FTS5 match drives the join (CROSS JOIN fixes SQLite's join order): otherwise the
    # planner may walk search_docs and run the match once per row.
    RANKED_ALONE = (
        "(SELECT rowid AS rid, bm25(search_fts, 2.0, 1.0, 0.0) AS rank FROM search_fts"
        " WHERE search_fts MATCH :fts) m"
    )
    MATCHED_ALONE = "(SELECT rowid AS rid, 0 AS rank FROM search_fts WHERE search_fts MATCH :fts) m"
    JOIN = " CROSS JOIN search_docs d ON d.item_id = m.rid"
    COUNT = "(SELECT count(*) FROM search_fts WHERE search_fts MATCH :fts)"

    def put(
        self, s: Session, docs: list[dict[str, Any]], terms: list[Terms], tags: list[str]
    ) -> None:
        """Insert search_docs rows and their terms (none of them may be indexed yet)."""
        s.execute(insert(SearchDoc), docs)
        s.execute(
            text(
                "INSERT INTO search_fts(rowid, exact, stem, tags)"
                " VALUES (:id, :exact, :stem, :tags)"
            ),
            [
                {
                    "id": d["item_id"],
                    "exact": " ".join(t.exact),
                    "stem": " ".join(t.stem),
                    "tags": g,
                }
                for d, t, g in zip(docs, terms, tags, strict=True)
            ],
        )

    def delete(self, s: Session, rows: list[tuple[int, Terms, str]]) -> None:
        # A contentless FTS5 table forgets a row only when told the terms it was given.
        if rows:
            s.execute(
                text(
                    "INSERT INTO search_fts(search_fts, rowid, exact, stem, tags)"
                    " VALUES ('delete', :id, :exact, :stem, :tags)"
                ),
                [
                    {"id": i, "exact": " ".join(t.exact), "stem": " ".join(t.stem), "tags": g}
                    for i, t, g in rows
                ],
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

    def match(self, node: Node | None, tags: list[TagGroup]) -> Match:
        positive, negative = _split(node) if node is not None else (None, None)
        core = [self._expr(positive)] if positive is not None else []
        core += [_tags(g) for g in tags if not g.negated]
        nots = [self._expr(negative)] if negative is not None else []
        nots += [_tags(g) for g in tags if g.negated]
        if not core:  # only for a caller who sees nothing (the engine adds 1 = 0)
            return Match(source="search_docs d", where="1 = 0", score="0")
        expr = "(" + " AND ".join(core) + ")"
        if nots:
            expr += " NOT (" + " OR ".join(nots) + ")"
        ranked = self.RANKED_ALONE if positive is not None else self.MATCHED_ALONE
        return Match(
            source=ranked + self.JOIN,
            where="",
            score="(-m.rank)" if positive is not None else "0",
            params={"fts": expr},
            count_source=self.MATCHED_ALONE + self.JOIN,
            alone=ranked,
            alone_count=self.COUNT,
        )


def _tags(group: TagGroup) -> str:
    return "tags : (" + " OR ".join(group.tokens) + ")"


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
    tagged = False

    def put(
        self, s: Session, docs: list[dict[str, Any]], terms: list[Terms], tags: list[str]
    ) -> None:
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

    def delete(self, s: Session, rows: list[tuple[int, Terms, str]]) -> None:
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

    def match(self, node: Node | None, tags: list[TagGroup]) -> Match:
        assert not tags, "PostgreSQL filters with SQL conditions"
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
