"""The database's own full-text search (SQLite FTS5, PostgreSQL tsvector) as a SearchBackend.

The request becomes one SQL statement: need-to-know first, then the filters and the text
match, so an item outside the caller's compartments never leaves the database, not even as a
count or a facet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from amanah.access import SearchScope
from amanah.search.backends import backend_for
from amanah.search.request import FACETS, FieldFilter, Found, SearchRequest


@dataclass
class SqlPlan:
    """One search as SQL: the tables, the conditions and their parameters."""

    source: str
    count_source: str
    where: list[str]
    params: dict[str, Any]
    score: str
    expanding: set[str] = field(default_factory=set)

    def statement(self, sql: str) -> Any:
        stmt = text(sql)
        for name in self.expanding:
            stmt = stmt.bindparams(bindparam(name, expanding=True))
        return stmt


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter(f: FieldFilter, n: int, params: dict[str, Any]) -> str:
    """One field's filter as a condition on `d` (search_docs)."""
    if f.field == "item":  # the items of an entity filter: whole numbers, written inline
        # (an entity may be in more items than a statement may have parameters)
        ids = ",".join(str(int(v)) for v in f.values)
        cond = f"d.item_id IN ({ids})" if ids else "1 = 0"
        return f"NOT ({cond})" if f.negated else f"({cond})"
    alternatives = []
    for j, value in enumerate(f.values):
        key = f"f{n}_{j}"
        if f.field in ("provider", "collection"):
            params[key] = value
            alternatives.append(f"d.{f.field}_id = :{key}")
        elif f.field == "lang":
            params[key] = f"%,{value},%"
            alternatives.append(f"d.langs LIKE :{key}")
        elif f.field == "type":
            kind, media = value
            if kind == "exact":
                params[key] = media
                alternatives.append(f"d.media_type = :{key}")
            else:
                params[key] = _like(media) + "%"
                alternatives.append(f"d.media_type LIKE :{key} ESCAPE '\\'")
        elif f.field == "has":
            params[key] = True
            alternatives.append(f"d.has_{value} = :{key}")
        elif f.field == "after":
            params[key] = value
            alternatives.append(f"(d.doc_date >= :{key} AND d.doc_date <> '')")
        elif f.field == "before":
            params[key] = value
            alternatives.append(f"(d.doc_date < :{key} AND d.doc_date <> '')")
        elif f.field == "path":
            params[key] = "%" + _like(value) + "%"
            alternatives.append(f"lower(d.path) LIKE :{key} ESCAPE '\\'")
        elif f.field == "date":  # the document date in [start, end)
            params[key + "a"], params[key + "b"] = value
            alternatives.append(
                f"(d.doc_date >= :{key}a AND d.doc_date < :{key}b AND d.doc_date <> '')"
            )
        elif f.field == "received":  # when the item was received (its intake), in UTC
            params[key + "a"], params[key + "b"] = received_bounds(value)
            alternatives.append(
                f"d.item_id IN (SELECT ri.id FROM items ri WHERE ri.intake_at >= :{key}a"  # noqa: S608
                f" AND ri.intake_at < :{key}b)"
            )
        else:
            raise ValueError(f"unknown filter field {f.field!r}")
    # after: and before: narrow together; other repeated fields mean either value.
    joiner = " AND " if f.field in ("after", "before") else " OR "
    cond = "(" + joiner.join(alternatives) + ")"
    return f"NOT {cond}" if f.negated else cond


def received_bounds(value: tuple[str, str]) -> tuple[datetime, datetime]:
    """A received: period's [start, end) as UTC instants (items.intake_at is UTC)."""
    lo, hi = (date.fromisoformat(v) for v in value)
    return (
        datetime(lo.year, lo.month, lo.day, tzinfo=UTC),
        datetime(hi.year, hi.month, hi.day, tzinfo=UTC),
    )


def _received_year(s: Session) -> str:
    if s.get_bind().dialect.name == "postgresql":
        return "to_char(ri.intake_at AT TIME ZONE 'UTC', 'YYYY')"
    return "substr(ri.intake_at, 1, 4)"  # SQLite keeps it as text, in UTC


#: The year an item was received on SQLite, as its index `ix_items_received_year` (migration
#: 0032) has it: a query must spell the expression exactly so for SQLite to use the index.
_SQLITE_YEAR = "substr(intake_at, 1, 4)"


def _sqlite_year_ranges(s: Session) -> list[tuple[str, int, int]]:
    """Each year received with its first and last item id, by index seeks: the first year,
    its first and last id, then the next year after it (a few seeks a year, not a scan)."""
    out = []
    year = s.execute(text(f"SELECT min({_SQLITE_YEAR}) FROM items")).scalar()  # noqa: S608
    while year is not None:
        at = {"y": year}
        lo = s.execute(text(f"SELECT min(id) FROM items WHERE {_SQLITE_YEAR} = :y"), at).scalar()  # noqa: S608
        hi = s.execute(text(f"SELECT max(id) FROM items WHERE {_SQLITE_YEAR} = :y"), at).scalar()  # noqa: S608
        out.append((str(year), int(lo), int(hi)))
        year = s.execute(
            text(f"SELECT min({_SQLITE_YEAR}) FROM items WHERE {_SQLITE_YEAR} > :y"),  # noqa: S608
            at,
        ).scalar()
    return out


def received_id_ranges(s: Session) -> dict[int, tuple[int, int]] | None:
    """Per year received, the first and last item id, when these ranges do not overlap (items
    are numbered as they are received): then an id's range says its year, and a backend can
    count years by id ranges. None when they overlap; empty when there is no item at all
    (nothing was received: nothing to count)."""
    if s.get_bind().dialect.name == "sqlite":
        found = _sqlite_year_ranges(s)
    else:
        found = list(
            s.execute(
                text(f"SELECT {_received_year(s)}, min(ri.id), max(ri.id) FROM items ri GROUP BY 1")  # noqa: S608
            ).tuples()
        )
    if not found:  # every item has an intake time: no year at all is no item at all
        return {}
    rows = sorted((int(lo), int(hi), int(year)) for year, lo, hi in found if year)
    if not rows or any(a[1] >= b[0] for a, b in pairwise(rows)):
        return None
    return {year: (lo, hi) for lo, hi, year in rows}


def received_years(s: Session, ids: list[int]) -> Counter[Any]:
    """Items per year received, of these items (a backend outside the database asks so)."""
    counts: Counter[Any] = Counter()
    for start in range(0, len(ids), 10_000):
        chunk = ",".join(str(int(i)) for i in ids[start : start + 10_000])
        for year, n in s.execute(
            text(
                f"SELECT {_received_year(s)}, count(*) FROM items ri"  # noqa: S608
                f" WHERE ri.id IN ({chunk}) GROUP BY 1"
            )
        ):
            counts[int(year) if year else "unknown"] += int(n)
    return counts


def plan(s: Session, req: SearchRequest) -> SqlPlan:
    """The search as SQL, need-to-know first: a caller with no compartment sees nothing."""
    m = backend_for(s).match(req.match)
    sql = SqlPlan(
        source=m.source, count_source=m.count_source, where=[], params=dict(m.params), score=m.score
    )
    scope = req.scope
    if scope.empty:
        sql.where.append("1 = 0")
    else:
        sql.where.append("d.compartment IN :compartments")
        sql.params["compartments"] = sorted(scope.compartments)
        sql.expanding.add("compartments")
        if scope.provider_id is not None:
            sql.where.append("d.provider_id = :own_provider")
            sql.params["own_provider"] = scope.provider_id
    if m.where:
        sql.where.append(m.where)
    for n, f in enumerate(req.filters):
        sql.where.append(_filter(f, n, sql.params))
    return sql


def page(
    s: Session, sql: SqlPlan, sort: str, limit: int, after: tuple[Any, int] | None
) -> tuple[list[tuple[int, float, str]], bool]:
    """One page of (item id, score, date) after the keyset `after`, and whether more follow."""
    where = list(sql.where)
    params = dict(sql.params, limit=limit + 1)
    if sort == "date":
        order, key = "d.doc_date DESC, d.item_id", "d.doc_date"
    elif sort in ("received", "oldest"):  # the order items were received: their ids
        newest = sort == "received"
        order = "d.item_id DESC" if newest else "d.item_id"
        if after is not None:
            params["ci"] = after[1]
            where.append("d.item_id < :ci" if newest else "d.item_id > :ci")
        after = None
        key = ""
    else:
        # With no words to rank by, every score is 0 and the order is the items' own.
        order = "d.item_id" if sql.score == "0" else f"{sql.score} DESC, d.item_id"
        key = sql.score
    if after is not None:
        params["ck"], params["ci"] = after
        where.append(f"({key} < :ck OR ({key} = :ck AND d.item_id > :ci))")
    rows = s.execute(
        sql.statement(
            f"SELECT d.item_id, {sql.score} AS score, d.doc_date FROM {sql.source}"  # noqa: S608
            f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :limit"
        ),
        params,
    ).all()
    return [(int(r[0]), float(r[1]), str(r[2])) for r in rows[:limit]], len(rows) > limit


def count(s: Session, sql: SqlPlan) -> int:
    return int(
        s.execute(
            sql.statement(
                f"SELECT count(*) FROM {sql.count_source}"  # noqa: S608
                f" WHERE {' AND '.join(sql.where)}"
            ),
            sql.params,
        ).scalar()
        or 0
    )


def facet_counters(s: Session, sql: SqlPlan) -> tuple[int, dict[str, Counter[Any]]]:
    """All facet counts in one pass: group by the combination, then add up per facet."""
    rows = s.execute(
        sql.statement(
            "SELECT d.provider_id, d.collection_id, d.media_type, d.langs, d.year, d.has_ocr,"  # noqa: S608
            f" count(*) FROM {sql.count_source} WHERE {' AND '.join(sql.where)}"
            " GROUP BY d.provider_id, d.collection_id, d.media_type, d.langs, d.year, d.has_ocr"
        ),
        sql.params,
    ).all()
    counts: dict[str, Counter[Any]] = {f: Counter() for f in FACETS}
    total = 0
    for provider, coll, media, langs, year, has_ocr, n in rows:
        total += n
        counts["provider"][provider] += n
        counts["collection"][coll] += n
        counts["media_type"][media or "unknown"] += n
        for code in [c for c in str(langs).split(",") if c] or ["unknown"]:
            counts["language"][code] += n
        counts["year"][year if year is not None else "unknown"] += n
        counts["has_ocr"][bool(has_ocr)] += n
    for year, n in s.execute(
        sql.statement(
            f"SELECT {_received_year(s)}, count(*) FROM items ri WHERE ri.id IN"  # noqa: S608
            f" (SELECT d.item_id FROM {sql.count_source} WHERE {' AND '.join(sql.where)})"
            " GROUP BY 1"
        ),
        sql.params,
    ):
        counts["received"][int(year) if year else "unknown"] += int(n)
    return total, counts


class SqlSearch:
    """FTS5 on SQLite, tsvector + GIN on PostgreSQL: the database the home is on."""

    def __init__(self, s: Session) -> None:
        self.name = backend_for(s).name

    def search(self, s: Session, req: SearchRequest) -> Found:
        sql = plan(s, req)
        rows, more = page(s, sql, req.sort, req.limit, req.after)
        if req.facets:
            total, counters = facet_counters(s, sql)
            return Found(rows, more, total, facets=counters, backend=self.name)
        return Found(rows, more, count(s, sql), backend=self.name)

    def suggest(self, s: Session, scope: SearchScope, word: str, limit: int = 5) -> list[str]:
        """Close words from FTS5's vocabulary or PostgreSQL's lexemes, each counted again
        inside the caller's scope (`search.suggest`)."""
        from amanah.search.suggest import close_words

        return [c.word for c in close_words(self, s, scope, word, limit)]

    def ids(self, s: Session, req: SearchRequest) -> list[int]:
        sql = plan(s, req)
        return [
            int(r[0])
            for r in s.execute(
                sql.statement(
                    f"SELECT d.item_id FROM {sql.count_source}"  # noqa: S608
                    f" WHERE {' AND '.join(sql.where)} ORDER BY d.item_id"
                ),
                sql.params,
            )
        ]
