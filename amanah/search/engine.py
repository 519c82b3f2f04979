"""A word search: need-to-know and filters inside the query, rank, count, facet, snippets, log.

The caller's compartments are a condition of the very SQL that finds, counts and facets hits,
so nothing about an item the caller may not see (not even that it exists) leaves the database.
Every search is written to the search log and, as an access to evidence content (snippets),
to the custody ledger in the same transaction.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from amanah.access import Caller, collections_visible, index_scope, searches_visible
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Collection, Item, Provider, SearchDoc, SearchLog, SearchText
from amanah.search import snippets
from amanah.search.backends import backend_for
from amanah.search.index import check_version
from amanah.search.query import Filter, Query, QueryError, type_prefixes
from amanah.workspace import Workspace

FACETS = ("provider", "collection", "media_type", "language", "year", "has_ocr")
SORTS = ("relevance", "date")
MAX_LIMIT = 1000
FACET_VALUES = 25


@dataclass
class Hit:
    item_id: int
    sha256: str
    path: str
    collection: str
    provider: str
    media_type: str
    date: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]]


@dataclass
class Results:
    query: str
    mode: str
    sort: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_cursor: str | None = None
    search_id: int | None = None
    took_ms: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


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


def _visible(caller: Caller, name: str) -> Any:
    """Providers or collections the caller may know of: those with a collection they see."""
    if name == "collection":
        return select(Collection.id, Collection.name).where(collections_visible(caller))
    return (
        select(Provider.id, Provider.name)
        .join(Collection, Collection.provider_id == Provider.id)
        .where(collections_visible(caller))
        .distinct()
    )


def _visible_ids(s: Session, caller: Caller, name: str, value: str) -> list[int]:
    return [i for i, n in s.execute(_visible(caller, name)).all() if n.lower() == value.lower()]


def _visible_names(s: Session, caller: Caller, name: str) -> list[str]:
    return sorted(n for _, n in s.execute(_visible(caller, name)).all())


def _filters(s: Session, caller: Caller, q: Query, sql: SqlPlan) -> None:
    """Field filters as SQL conditions on `d` (search_docs); names resolve or fail clearly,
    among what the caller may see (a collection in another compartment "does not exist")."""
    by_field: dict[tuple[str, bool], list[Filter]] = {}
    for f in q.filters:
        by_field.setdefault((f.field, f.negated), []).append(f)
    n = 0
    for (name, negated), found in by_field.items():
        alternatives = []
        for f in found:
            n += 1
            key = f"f{n}"
            if name in ("provider", "collection"):
                ids = _visible_ids(s, caller, name, f.value)
                if not ids:
                    known = _visible_names(s, caller, name)[:10]
                    raise QueryError(
                        f"there is no {name} named '{f.value}'"
                        + (f" (known: {', '.join(known)})" if known else ""),
                        f.position,
                        q.text,
                    )
                sql.params[key] = ids[0]
                alternatives.append(f"d.{name}_id = :{key}")
            elif name == "lang":
                sql.params[key] = f"%,{f.value},%"
                alternatives.append(f"d.langs LIKE :{key}")
            elif name == "type":
                exact, prefixes = type_prefixes(f.value)
                for j, t in enumerate(exact):
                    sql.params[f"{key}e{j}"] = t
                    alternatives.append(f"d.media_type = :{key}e{j}")
                for j, t in enumerate(prefixes):
                    sql.params[f"{key}p{j}"] = _like(t) + "%"
                    alternatives.append(f"d.media_type LIKE :{key}p{j} ESCAPE '\\'")
            elif name == "has":
                alternatives.append(f"d.has_{f.value} = :{key}")
                sql.params[key] = True
            elif name == "after":
                sql.params[key] = f.value
                alternatives.append(f"(d.doc_date >= :{key} AND d.doc_date <> '')")
            elif name == "before":
                sql.params[key] = f.value
                alternatives.append(f"(d.doc_date < :{key} AND d.doc_date <> '')")
            elif name == "path":
                sql.params[key] = "%" + _like(f.value.lower()) + "%"
                alternatives.append(f"lower(d.path) LIKE :{key} ESCAPE '\\'")
        # after: and before: narrow together; other repeated fields mean either value.
        joiner = " AND " if name in ("after", "before") else " OR "
        cond = "(" + joiner.join(alternatives) + ")"
        sql.where.append(f"NOT {cond}" if negated else cond)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cursor(token: str | None, sort: str) -> tuple[Any, int] | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["sort"] != sort:
            raise ValueError
        return data["k"], int(data["i"])
    except (ValueError, KeyError, TypeError):
        raise ValueError("that page cursor does not belong to this search: start again") from None


def _make_cursor(sort: str, key: Any, item_id: int) -> str:
    raw = json.dumps({"sort": sort, "k": key, "i": item_id}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def plan(s: Session, caller: Caller, q: Query) -> SqlPlan:
    """The search as SQL, need-to-know first: a caller with no compartment sees nothing."""
    m = backend_for(s).match(q.match)
    sql = SqlPlan(
        source=m.source, count_source=m.count_source, where=[], params=dict(m.params), score=m.score
    )
    where, params = index_scope(caller)
    sql.where += where
    sql.params.update(params)
    if "compartments" in params:
        sql.expanding.add("compartments")
    if m.where:
        sql.where.append(m.where)
    _filters(s, caller, q, sql)
    return sql


def page(
    s: Session, sql: SqlPlan, sort: str, limit: int, after: tuple[Any, int] | None
) -> tuple[list[tuple[int, float, str]], str | None]:
    where = list(sql.where)
    params = dict(sql.params, limit=limit + 1)
    if sort == "date":
        order, key = "d.doc_date DESC, d.item_id", "d.doc_date"
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
    more = len(rows) > limit
    rows = [(int(r[0]), float(r[1]), str(r[2])) for r in rows[:limit]]
    cursor = None
    if more and rows:
        last = rows[-1]
        cursor = _make_cursor(sort, last[2] if sort == "date" else last[1], last[0])
    return rows, cursor


def all_ids(s: Session, caller: Caller, q: Query) -> list[int]:
    """Every item a search finds for the caller, in item order: a request's review takes all
    of them, not a page."""
    sql = plan(s, caller, q)
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


def _count(s: Session, sql: SqlPlan) -> int:
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


def facet_counts(s: Session, sql: SqlPlan) -> tuple[int, dict[str, list[dict[str, Any]]]]:
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
    names = {
        "provider": dict(s.execute(select(Provider.id, Provider.name)).all()),
        "collection": dict(s.execute(select(Collection.id, Collection.name)).all()),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for facet, counter in counts.items():
        values = []
        for value, n in counter.most_common(FACET_VALUES):
            entry: dict[str, Any] = {"value": value, "count": n}
            if facet in names:
                entry = {"value": names[facet].get(value, str(value)), "id": value, "count": n}
            values.append(entry)
        out[facet] = values
    return total, out


def hits_for(s: Session, q: Query, rows: list[tuple[int, float, str]]) -> list[Hit]:
    if not rows:
        return []
    ids = [r[0] for r in rows]
    found = {
        r.item_id: r
        for r in s.execute(
            select(
                SearchDoc.item_id,
                SearchText.body,
                SearchDoc.media_type,
                Item.sha256,
                Item.original_path,
                Collection.name.label("collection"),
                Provider.name.label("provider"),
            )
            .outerjoin(SearchText, SearchText.item_id == SearchDoc.item_id)
            .outerjoin(Item, Item.id == SearchDoc.item_id)
            .outerjoin(Collection, Collection.id == SearchDoc.collection_id)
            .outerjoin(Provider, Provider.id == SearchDoc.provider_id)
            .where(SearchDoc.item_id.in_(ids))
        ).all()
    }
    leaves = q.terms()
    hits = []
    for item_id, score, day in rows:
        r = found.get(item_id)
        if r is None:
            continue
        snip = snippets.make(r.body or "", leaves)
        hits.append(
            Hit(
                item_id=item_id,
                sha256=r.sha256 or "",
                path=r.original_path or "",
                collection=r.collection or "",
                provider=r.provider or "",
                media_type=r.media_type,
                date=day,
                score=round(score, 6),
                snippet=snip.text,
                highlights=snip.highlights,
            )
        )
    return hits


def dates(s: Session, item_ids: list[int]) -> dict[int, str]:
    found = s.execute(
        select(SearchDoc.item_id, SearchDoc.doc_date).where(SearchDoc.item_id.in_(item_ids))
    ).all()
    return {i: d for i, d in found}


def search_words(
    ws: Workspace,
    caller: Caller,
    q: Query,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None,
    facets: bool,
    request_id: int | None,
    started: float,
) -> Results:
    """A word search (the default mode); `search.service.search` is the entry to call."""
    sort = sort or ("relevance" if q.match is not None else "date")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    after = _cursor(cursor, sort)
    with ws.db.reader() as s:
        check_version(s)
        sql = plan(s, caller, q)
        rows, next_cursor = page(s, sql, sort, limit, after)
        if facets:
            total, counts = facet_counts(s, sql)
        else:
            total, counts = _count(s, sql), {}
        hits = hits_for(s, q, rows)
    results = Results(
        query=q.text,
        mode="text",
        sort=sort,
        total=total,
        hits=hits,
        facets=counts,
        next_cursor=next_cursor,
    )
    results.took_ms = round((time.perf_counter() - started) * 1000, 1)
    results.search_id = log(ws, caller, results, {"cursor": cursor, "limit": limit}, request_id)
    return results


def log(
    ws: Workspace,
    caller: Caller,
    results: Results,
    options: dict[str, Any],
    request_id: int | None,
) -> int:
    """Record the search (who, when, what, how many, which shown) in the log and the ledger.

    The words of a query stay out of the custody ledger (permanent, exported, shown to
    providers and recipients): it holds a keyed digest of the query and its length. The search
    log (staff only) keeps the words, with any protected person's name replaced by a pseudonym."""
    from amanah.sharing import protected

    top = [h.item_id for h in results.hits]
    opts = {"mode": results.mode, "sort": results.sort, **options}

    def write(s: Session) -> int:
        logged, _ = protected.Matcher.load(s).pseudonymise(results.query)
        search_id = s.execute(
            insert(SearchLog).returning(SearchLog.id),
            [
                {
                    "actor": caller.actor,
                    "at": datetime.now(UTC),
                    "query": logged,
                    "options": json.dumps(opts, ensure_ascii=False),
                    "hit_count": results.total,
                    "top_ids": json.dumps(top),
                    "duration_ms": results.took_ms,
                    "request_id": request_id,
                    "address": caller.address or "",
                }
            ],
        ).scalar_one()
        ledger.append(
            s,
            EventType.ACCESS,
            actor=caller.actor,
            object_type="search",
            object_id=search_id,
            details={
                "action": "search",
                "query_hmac": protected.query_digest(s, results.query),
                "query_length": len(results.query),
                "options": opts,
                "hits": results.total,
                "shown": top,
                **caller.audit(),
            },
        )
        return int(search_id)

    return ws.db.write_soon(write)


def history(
    ws: Workspace, caller: Caller, limit: int = 50, request_id: int | None = None
) -> list[dict[str, Any]]:
    """The search log, newest first: the searches the caller may see (`access`)."""
    with ws.db.reader() as s:
        stmt = (
            select(SearchLog)
            .where(searches_visible(caller))
            .order_by(SearchLog.id.desc())
            .limit(limit)
        )
        if request_id is not None:
            stmt = stmt.where(SearchLog.request_id == request_id)
        return [
            {
                "id": r.id,
                "actor": r.actor,
                "at": r.at.isoformat(),
                "query": r.query,
                "options": json.loads(r.options),
                "hits": r.hit_count,
                "shown": json.loads(r.top_ids),
                "duration_ms": r.duration_ms,
                "request_id": r.request_id,
                "address": r.address or None,
            }
            for r in s.execute(stmt).scalars()
        ]
