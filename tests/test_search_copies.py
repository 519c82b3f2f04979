"""The items with a copy, known per database (`search.duplicates.shared`): kept up to date
from the items added since the last search, read again whole when ids arrive out of order,
and giving the same documents count as reading every hit's hash, on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from amanah.access import Caller
from amanah.db.models import Item
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.search import duplicates
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.test_search import BACKENDS, make_search_home

OPEN = Caller(actor="analyst:open", compartments=frozenset({"default"}))
BODIES = {"x.txt": "kilo report on the crossing", "y.txt": "lima report on the crossing"}


def _hand_over(ws: Workspace, folder: Path, collection: str, files: dict[str, str]) -> None:
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_text(body, encoding="utf-8")
    request = IntakeRequest(sources=[str(folder)], collection=collection, provider="P", actor="t")
    assert ingest(ws, request).status == "complete"
    assert run(ws, workers=1, wait=True).failed == 0


@pytest.fixture(params=BACKENDS)
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    ws = open_workspace(make_search_home(request, tmp_path, request.param))
    _hand_over(ws, tmp_path / "first", "first", BODIES)
    yield ws
    ws.close()


def _copies(r: object) -> dict[str, int]:
    return {h.path.rsplit("/", 1)[-1]: len(h.copies) for h in r.hits}  # type: ignore[attr-defined]


def test_a_copy_handed_over_after_a_search_is_grouped_and_counted_by_the_next(
    home: Workspace, tmp_path: Path
) -> None:
    before = search(home, OPEN, "report", limit=20, group=True)
    assert (before.total, before.documents) == (2, 2)
    assert _copies(before) == {"x.txt": 0, "y.txt": 0}
    _hand_over(home, tmp_path / "second", "second", {"x-again.txt": BODIES["x.txt"]})
    after = search(home, OPEN, "report", limit=20, group=True)
    assert (after.total, after.documents, len(after.hits)) == (3, 2, 2)
    assert sorted(_copies(after).values()) == [0, 2]
    # a query that finds only one copy counts it as one document, the other kept apart
    kilo = search(home, OPEN, "kilo", limit=20, group=True)
    assert (kilo.total, kilo.documents, len(kilo.hits)) == (2, 1, 1)
    lima = search(home, OPEN, "lima", limit=20, group=True)
    assert (lima.total, lima.documents) == (1, 1)


def test_the_documents_count_agrees_with_reading_every_hits_hash(
    home: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hand_over(home, tmp_path / "second", "second", {"x-again.txt": BODIES["x.txt"]})
    _hand_over(home, tmp_path / "third", "third", {"x-3.txt": BODIES["x.txt"], "z.txt": "report"})
    queries = ["report", "kilo", "lima", "crossing -kilo", "*", "nothing-here"]
    counted = {q: search(home, OPEN, q, limit=20, group=True).documents for q in queries}
    assert counted == {
        "report": 3,
        "kilo": 1,
        "lima": 1,
        "crossing -kilo": 1,
        "*": 3,
        "nothing-here": 0,
    }
    # Every hit's hash read (the way taken when the copies are too many to search among).
    monkeypatch.setattr(duplicates, "MAX_COPIES", 0)
    assert {q: search(home, OPEN, q, limit=20, group=True).documents for q in queries} == counted
    # ... which is not taken past COUNT_DOCUMENTS_UP_TO hits: the page says hits only.
    monkeypatch.setattr(duplicates, "COUNT_DOCUMENTS_UP_TO", 3)
    assert search(home, OPEN, "report", limit=20, group=True).documents is None
    # Searching among the copies counts any number of hits.
    monkeypatch.setattr(duplicates, "MAX_COPIES", 50_000)
    assert search(home, OPEN, "report", limit=20, group=True).documents == 3


def test_an_item_committed_below_the_last_id_seen_is_found(home: Workspace) -> None:
    """PostgreSQL gives ids as transactions ask and they commit in any order: an item whose id
    is below one already seen arrives late. Made here by writing ids out of order."""
    first = search(home, OPEN, "report", limit=20, group=True)
    assert _copies(first) == {"x.txt": 0, "y.txt": 0}
    with home.db.session() as s:
        top = int(s.execute(select(func.max(Item.id))).scalar_one())
        x = s.execute(select(Item).where(Item.original_path.like("%x.txt"))).scalar_one()
        y = s.execute(select(Item).where(Item.original_path.like("%y.txt"))).scalar_one()

        def copy(of: Item, item_id: int, name: str) -> Item:
            fields = {c.key: getattr(of, c.key) for c in Item.__table__.columns}
            return Item(**{**fields, "id": item_id, "path_key": f"{name:0>64}"[:64]})

        s.add(copy(y, top + 2, "late-y"))
    seen = search(home, OPEN, "report", limit=20, group=True)
    assert _copies(seen) == {"x.txt": 0, "y.txt": 2}
    with home.db.session() as s:
        s.add(copy(x, top + 1, "late-x"))  # below the id the last search saw
    late = search(home, OPEN, "report", limit=20, group=True)
    assert _copies(late) == {"x.txt": 2, "y.txt": 2}
