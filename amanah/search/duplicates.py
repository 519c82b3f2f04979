"""Exact duplicates under one hit: items with the same bytes (SHA-256) are one document.

A provider may hand over the same file twice, or two providers the same file: each copy
keeps its own provenance (an item each), but a hit list shows the document once, with its
copies (collection, provider, path) as far as the caller may see them. A copy in a collection
the caller may not see is neither shown nor counted: the copies are read under the same
need-to-know condition as every listing (`amanah.access.collections_visible`), and items
withheld from investigation (a person's consent) are left out as search leaves them out.

Which items share their bytes with another is known per database (`shared`), kept up to date
from the items added since, and read per caller (`visible`): a copy counts only where the caller
may see it, so that what a search costs and says (the statements it runs, whether its documents
are counted) never depends on a copy held in a compartment the caller cannot see. A page whose
hits have no visible copy asks nothing more, and the documents among any number of hits are the
hits less the extra copies found among them.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amanah.access import Caller, collections_visible, withheld_item_ids
from amanah.db.models import Collection, Item, Provider
from amanah.search.request import FieldFilter

#: Above this many hits the number of distinct documents is counted only when the copies are
#: few enough to search among (`MAX_COPIES`); otherwise the page says hits only.
COUNT_DOCUMENTS_UP_TO = 10_000
#: Above this many items with a copy, the documents count reads every hit's hash instead of
#: searching among the copies (an id filter that long costs more than it saves).
MAX_COPIES = 50_000
_CHUNK = 5_000


@dataclass(frozen=True)
class Copies:
    """The items whose SHA-256 another item has too, at one moment: by hash, and each such
    item's hash. Never changed once made (a newer moment is a new one), so a search may read
    it while another thread brings the database's up to date."""

    by_sha: dict[str, frozenset[int]] = field(default_factory=dict)
    owner: dict[int, str] = field(default_factory=dict)
    #: Each such item's collection (an item never moves; its collection's compartment may).
    collection: dict[int, int] = field(default_factory=dict)

    def with_found(
        self, found: dict[str, set[int]], collection: dict[int, int], again: bool = False
    ) -> Copies:
        by_sha = {} if again else dict(self.by_sha)
        owner = {} if again else dict(self.owner)
        where = {} if again else dict(self.collection)
        for sha, ids in found.items():
            ids |= by_sha.get(sha, frozenset())
            if len(ids) > 1:
                by_sha[sha] = frozenset(ids)
                owner.update(dict.fromkeys(ids, sha))
                where.update((i, collection[i]) for i in ids if i in collection)
        return Copies(by_sha, owner, where)

    def seen_in(self, collections: frozenset[int], withheld: frozenset[int]) -> Copies:
        """The copies among the items of these collections that are not withheld: a hash
        with only one such item has no copy here."""
        by_sha: dict[str, frozenset[int]] = {}
        owner: dict[int, str] = {}
        for sha, ids in self.by_sha.items():
            mine = frozenset(
                i for i in ids if self.collection.get(i) in collections and i not in withheld
            )
            if len(mine) > 1:
                by_sha[sha] = mine
                owner.update(dict.fromkeys(mine, sha))
        return Copies(by_sha, owner, {i: self.collection[i] for i in owner})


class _Shared:
    """One database's `Copies`, kept up to date. Items are never deleted and their bytes never
    change, so only the items added since the last look are read: their hashes' items found by
    the hash index. The items' count and largest id are checked each time; when they do not
    add up (an id committed out of order, a database restored under the same engine)
    everything is read again."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = 0
        self.count = 0
        self.copies = Copies()
        #: `copies` as seen from a few scopes (visible collections, withheld items).
        self.seen: dict[tuple[frozenset[int], frozenset[int]], Copies] = {}
        self.seen_of: Copies | None = None

    def seen_in(
        self, copies: Copies, collections: frozenset[int], withheld: frozenset[int]
    ) -> Copies:
        """`copies.seen_in(...)`, remembered for the latest copies and a few scopes."""
        with self.lock:
            if self.seen_of is not copies:
                self.seen, self.seen_of = {}, copies
            found = self.seen.get((collections, withheld))
            if found is None:
                if len(self.seen) >= _SCOPES:
                    self.seen.clear()
                found = self.seen[(collections, withheld)] = copies.seen_in(collections, withheld)
            return found

    def update(self, s: Session) -> Copies:
        with self.lock:
            # Two statements: each alone is a seek or a count SQLite answers without a scan.
            top = int(s.execute(select(func.max(Item.id))).scalar() or 0)
            count = int(s.execute(select(func.count()).select_from(Item)).scalar() or 0)
            if top == self.last and count == self.count:
                return self.copies
            if self.last == 0 or count - self.count > _CHUNK:
                return self._rebuild(s, count, top)  # one scan of the hash index reads less
            new = s.execute(
                select(Item.id, Item.sha256).where(Item.id > self.last, Item.id <= top)
            ).all()
            if self.count + len(new) != count:
                return self._rebuild(s, count, top)
            shas = sorted({r.sha256 for r in new})
            found: dict[str, set[int]] = defaultdict(set)
            where: dict[int, int] = {}
            for start in range(0, len(shas), _CHUNK):
                chunk = shas[start : start + _CHUNK]
                for item_id, sha, coll in s.execute(
                    select(Item.id, Item.sha256, Item.collection_id).where(Item.sha256.in_(chunk))
                ):
                    found[sha].add(item_id)
                    where[item_id] = coll
            self.copies = self.copies.with_found(found, where)
            self.last, self.count = top, count
            return self.copies

    def _rebuild(self, s: Session, count: int, top: int) -> Copies:
        shared = select(Item.sha256).group_by(Item.sha256).having(func.count() > 1)
        found: dict[str, set[int]] = defaultdict(set)
        where: dict[int, int] = {}
        for item_id, sha, coll in s.execute(
            select(Item.id, Item.sha256, Item.collection_id).where(
                Item.sha256.in_(shared.scalar_subquery())
            )
        ):
            found[sha].add(item_id)
            where[item_id] = coll
        self.copies = self.copies.with_found(found, where, again=True)
        # Items committed between the two reads are read again next time (merging is a union).
        self.last, self.count = top, count
        return self.copies


_SHARED: weakref.WeakKeyDictionary[Any, _Shared] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()
_SESSION_KEY = "amanah.search.duplicates.copies"
#: How many scopes (sets of visible collections and withheld items) one database remembers.
_SCOPES = 32


def _database(s: Session) -> _Shared:
    bind = s.get_bind()
    engine = getattr(bind, "engine", bind)
    with _SHARED_LOCK:
        database = _SHARED.get(engine)
        if database is None:
            database = _SHARED[engine] = _Shared()
    return database


def shared(s: Session) -> Copies:
    """This database's items with a copy, brought up to date (see `_Shared`) once per
    session: a search's readers are short, and what they read is one moment's. Every
    compartment's: read it through `visible`."""
    if (known := s.info.get(_SESSION_KEY)) is not None:
        return known
    copies = s.info[_SESSION_KEY] = _database(s).update(s)
    return copies


def visible(s: Session, caller: Caller) -> Copies:
    """The copies the caller may see: in a collection the caller may see, not withheld. A
    visible item whose only other copy is hidden has no copy, for this caller."""
    key = (_SESSION_KEY, caller.compartments, caller.provider_id)
    if (known := s.info.get(key)) is not None:
        return known
    copies = shared(s)
    if copies.owner:
        collections = frozenset(
            s.execute(select(Collection.id).where(collections_visible(caller))).scalars()
        )
        copies = _database(s).seen_in(copies, collections, _withheld(s))
    s.info[key] = copies
    return copies


def _withheld(s: Session) -> frozenset[int]:
    """The withheld items, read once per session (as `shared`)."""
    key = _SESSION_KEY + ".withheld"
    if (known := s.info.get(key)) is None:
        known = s.info[key] = withheld_item_ids(s)
    return known


def copies_of(s: Session, caller: Caller, shas: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Every item the caller may see with one of these hashes, by hash, oldest first, for the
    hashes some other item the caller may see has too (a hash of one item has no copy to show)."""
    by_sha = visible(s, caller).by_sha
    shas = {sha for sha in shas if sha in by_sha}
    if not shas:
        return {}
    withheld = _withheld(s)
    rows = s.execute(
        select(
            Item.id,
            Item.sha256,
            Item.original_path,
            Collection.name.label("collection"),
            Provider.name.label("provider"),
        )
        .join(Collection, Collection.id == Item.collection_id)
        .join(Provider, Provider.id == Collection.provider_id)
        .where(Item.sha256.in_(sorted(shas)), collections_visible(caller))
        .order_by(Item.id)
    ).all()
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.id in withheld:
            continue
        out[r.sha256].append(
            {
                "item_id": r.id,
                "path": r.original_path,
                "collection": r.collection,
                "provider": r.provider,
            }
        )
    return dict(out)


def group(s: Session, caller: Caller, hits: list[Any]) -> list[Any]:
    """The page's hits with exact duplicates under the first of them: each kept hit gets
    `copies` (every visible item with its bytes, itself included, when there are two or
    more); later hits with the same hash on the page are dropped."""
    found = copies_of(s, caller, {h.sha256 for h in hits if h.sha256})
    kept, seen = [], set()
    for h in hits:
        if h.sha256 and h.sha256 in seen:
            continue
        seen.add(h.sha256)
        copies = found.get(h.sha256, [])
        h.copies = copies if len(copies) > 1 else []
        kept.append(h)
    return kept


def documents(s: Session, caller: Caller, backend: Any, req: Any, total: int) -> int | None:
    """How many distinct documents (hashes) the `total` hits of `req` are: the hits less the
    extra copies among them, found by the same search narrowed to the items that have a copy
    the caller may see. None when it is not counted (too many such copies to search among, and
    too many hits to read)."""
    found = visible(s, caller)
    if not found.owner:
        return total
    if len(found.owner) <= MAX_COPIES:
        narrowed = replace(
            req,
            filters=(*req.filters, FieldFilter("item", tuple(sorted(found.owner)))),
            after=None,
            facets=False,
        )
        per = Counter(found.owner[i] for i in backend.ids(s, narrowed) if i in found.owner)
        return total - sum(n - 1 for n in per.values())
    if total > COUNT_DOCUMENTS_UP_TO:
        return None
    ids = backend.ids(s, req)
    shas: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        shas.update(s.execute(select(Item.sha256).where(Item.id.in_(chunk))).scalars())
    return len(shas)


#: How many further raw pages one grouped page may read to fill itself (each a backend search).
_REFILLS = 8


def _key(sort: str, row: tuple[int, float, str]) -> tuple[Any, int]:
    """A row's keyset, as `engine.next_cursor` writes it."""
    return (row[2] if sort == "date" else row[1], row[0])


def _best_copies(
    s: Session, caller: Caller, backend: Any, req: Any, shas: dict[int, str]
) -> dict[str, int]:
    """For each hash with more than one copy the caller may see, the copy that ranks first in
    the whole result (the same search, narrowed to those copies): its best-ranked copy."""
    copies = copies_of(s, caller, set(shas.values()) - {""})
    ids = sorted({c["item_id"] for cs in copies.values() if len(cs) > 1 for c in cs})
    if not ids:
        return {}
    narrowed = replace(
        req,
        filters=(*req.filters, FieldFilter("item", tuple(ids))),
        after=None,
        limit=len(ids),
        facets=False,
    )
    rows = backend.search(s, narrowed).rows
    owner = {c["item_id"]: sha for sha, cs in copies.items() for c in cs}
    best: dict[str, int] = {}
    for item_id, _, _ in rows:
        best.setdefault(owner[item_id], item_id)
    return best


def across_pages(
    s: Session, caller: Caller, backend: Any, req: Any, found: Any
) -> tuple[Any, tuple[int, float, str] | None]:
    """The page with each document (SHA-256) once in the whole result, at the rank of its
    best copy: a hit whose bytes rank better elsewhere (earlier on this page or on an earlier
    one) is left out, and the page is filled from the rows after it. Returns the page and the
    last row read (the next page's cursor): the next page starts after it and leaves out the
    same copies again, so pages never repeat a document and never skip one. `total` still
    counts hits."""
    if not visible(s, caller).owner:  # no copy to see: nothing to leave out, nothing to refill
        return found, found.rows[-1] if found.rows else None
    kept: list[tuple[int, float, str]] = []
    rows, more = found.rows, found.more
    last: tuple[int, float, str] | None = None
    for _ in range(_REFILLS + 1):
        owner = visible(s, caller).owner  # a hit with no copy to see is kept as it is
        shas = {r[0]: owner[r[0]] for r in rows if r[0] in owner}
        best = _best_copies(s, caller, backend, req, shas)
        for row in rows:
            sha = shas.get(row[0], "")
            if not (sha in best and best[sha] != row[0]):
                if len(kept) == req.limit:
                    return replace(found, rows=kept, more=True), last
                kept.append(row)
            last = row
        if not (more and rows):
            return replace(found, rows=kept, more=False), last
        page = backend.search(s, replace(req, after=_key(req.sort, rows[-1]), facets=False))
        rows, more = page.rows, page.more
    # Still short after every refill: the next page starts after the last row read.
    return replace(found, rows=kept, more=True), last
