"""Mentions: where an entity's name (every name row, every spelling, either script) occurs in
an item's text derivatives, with page and character span. A mention is a suggestion: an
analyst accepts it (it becomes an evidence link with the same span, `links.link`) or rejects
it; each decision is a custody event, which names the name only by its SHA-256.

Finding uses the keys of `amanah.text.names` that the one name matcher (`name_match`) is built
on: each word of a recorded name becomes a *slot* of keys (its exact Arabic key, its Latin
skeleton, its consonants for the other script, the Latin skeletons of its romanisations
`name_match.romanise` gives); the text's words give their document keys, and consecutive words
that meet every slot of a name are a mention. So محمد أحمد الحبو is found as "Mohammad Ahmad
al-Habbo", "Muhammad Ahmed Al-Hebo" and "محمد احمد الحبو", through line-end hyphens, harakat,
tatweel and invisible characters. Each mention carries `name_match.score` of the text found
against the name it matched, for ordering. A person's name of one word (محمد) is too common to
suggest anything and is not looked for; a one-word place or unit name is.

Mentions are read through `amanah.access.mentions_visible` (the item and the entity seen).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission, mentions_visible
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Derivative, Entity, EntityMention, EntityName, Item
from amanah.entities.store import digest, now
from amanah.entities.vocab import EntityError
from amanah.text import name_match
from amanah.text import names as nk

if TYPE_CHECKING:
    from amanah.workspace import Workspace

#: The text derivatives read for mentions (extracted text, then OCR).
TEXT_KINDS = ("text", "ocr")
STATES = ("suggested", "accepted", "rejected")
#: At most this many characters of one derivative are read (as the search index does).
MAX_CHARS = 20_000_000

Slots = tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Pattern:
    """One recorded spelling as slots of keys, and whose name it is."""

    slots: Slots
    name_id: int
    entity_id: int
    spelling: str


@dataclass(frozen=True)
class Found:
    """One name found in one text: character span, page (1-based) and the matcher's score."""

    name_id: int
    entity_id: int
    start: int
    end: int
    page: int
    score: float


@lru_cache(maxsize=100_000)
def name_slots(spelling: str) -> Slots:
    """The keys of each word of a recorded spelling, as documents meet them."""
    out = []
    for w in nk.name_words(spelling):
        romanised = list(name_match.romanise(w)) if nk.is_arabic(w) else []
        out.append(frozenset(nk.recorded_keys(w, romanised)))
    return tuple(out)


class NameIndex:
    """Every recorded spelling, indexed by the keys of its first word."""

    def __init__(self, names: Iterable[tuple[int, int, str, str]]) -> None:
        """`names`: (name id, entity id, entity kind, spelling)."""
        self._first: dict[str, list[Pattern]] = {}
        self._pairs: dict[tuple[str, str], list[Pattern]] = {}
        self._kinds: set[str] = set()
        self._cache: dict[str, tuple[str, ...]] = {}
        self._tokens: dict[str, bool] = {}
        rows = list(names)
        name_match.romanise_many(
            [w for _, _, _, sp in rows for w in nk.name_words(sp) if nk.is_arabic(w)]
        )
        for name_id, entity_id, kind, spelling in rows:
            slots = name_slots(spelling)
            if not slots or (kind == "person" and len(slots) < 2):
                continue
            pattern = Pattern(slots, name_id, entity_id, spelling)
            for k in slots[0]:
                self._first.setdefault(k, []).append(pattern)
                # Names of several words are found by their first two words' keys together:
                # a common first word (محمد, or علي that is also the preposition على) then
                # costs one look-up, not one check per name that begins with it.
                for k2 in slots[1] if len(slots) > 1 else ():
                    self._pairs.setdefault((k, k2), []).append(pattern)
            self._kinds.update(k.split(":", 1)[0] for slot in slots for k in slot)

    def __bool__(self) -> bool:
        return bool(self._first)

    def _keys(self, word: str) -> tuple[str, ...]:
        hit = self._cache.get(word)
        if hit is None:
            if len(self._cache) > 500_000:
                self._cache.clear()
            hit = self._cache[word] = tuple(
                k for k in nk.document_keys(word) if k.split(":", 1)[0] in self._kinds
            )
        return hit

    def _could_begin(self, token: str) -> bool:
        """Whether a word of this token can begin a name (remembered per token)."""
        hit = self._tokens.get(token)
        if hit is None:
            if len(self._tokens) > 500_000:
                self._tokens.clear()
            hit = self._tokens[token] = any(
                k in self._first
                for w in nk.token_words(token)
                if not nk.is_article(w)
                for k in self._keys(w)
            )
        return hit

    def find(self, text: str) -> list[Found]:
        """Every spelling in the text (as written, and with line-end hyphens joined): one
        result per entity and span, the best-scoring name kept."""
        if not self._first:
            return []
        tokens = set(nk.TOKEN.findall(nk.prepare(text)))
        if not any(self._could_begin(t) for t in tokens) and (
            "\n" not in text or nk.join_hyphen_breaks(text) is None
        ):
            return []  # no word of the text begins a name: most items
        found = nk.words(text)
        readings = [found]
        if (joined := nk.joined_at_hyphens(text, found)) is not None:
            readings.append(joined)
        cands: dict[tuple[int, int, int], set[Pattern]] = {}
        for reading in readings:
            kept = [w for w in reading if not nk.is_article(w.folded)]
            keys = [self._keys(w.folded) for w in kept]
            first, pairs = self._first, self._pairs
            for i, ks in enumerate(keys):
                nxt = keys[i + 1] if i + 1 < len(keys) else ()
                tried: set[Pattern] = set()
                for k in ks:
                    if k not in first:
                        continue
                    for p in first[k]:
                        if len(p.slots) == 1:
                            tried.add(p)
                    for k2 in nxt:
                        tried.update(pairs.get((k, k2), ()))
                for p in tried:
                    last = i + len(p.slots) - 1
                    if last < len(kept) and all(
                        not p.slots[j].isdisjoint(keys[i + j]) for j in range(2, len(p.slots))
                    ):
                        span = (p.entity_id, kept[i].start, kept[last].end)
                        cands.setdefault(span, set()).add(p)
        out = []
        feeds = [i for i, c in enumerate(text) if c == "\f"] if cands and "\f" in text else []
        for (entity_id, start, end), patterns in sorted(cands.items(), key=lambda x: x[0][1:]):
            said = " ".join(text[start:end].split())
            scored = [(_score(said, p), p.name_id, p) for p in patterns]
            value, _, p = max(scored, key=lambda x: (x[0], -x[1]))
            page = bisect.bisect_left(feeds, start) + 1
            out.append(Found(p.name_id, entity_id, start, end, page, value))
        return out


def _score(said: str, p: Pattern) -> float:
    return name_match.score(said, p.spelling).value


_LOCK = threading.Lock()
_INDEX: dict[str, tuple[tuple[Any, ...], NameIndex]] = {}


def name_index(s: Session) -> NameIndex:
    """The index of every entity name in the database (all of them: need-to-know applies when
    mentions are read), remembered until a name is added, moved or removed."""
    version = tuple(
        s.execute(
            select(
                func.count(EntityName.id), func.max(EntityName.id), func.sum(EntityName.entity_id)
            )
        ).one()
    )
    url = str(s.get_bind().url)
    with _LOCK:
        hit = _INDEX.get(url)
        if hit is not None and hit[0] == version:
            return hit[1]
    rows = s.execute(
        select(EntityName.id, EntityName.entity_id, Entity.kind, EntityName.full_name)
        .join(Entity, Entity.id == EntityName.entity_id)
        .order_by(EntityName.id)
    ).all()
    index = NameIndex((int(a), int(b), str(c), str(d)) for a, b, c, d in rows)
    with _LOCK:
        _INDEX[url] = (version, index)
    return index


def _derivatives(s: Session, item_id: int) -> list[Derivative]:
    return list(
        s.execute(
            select(Derivative)
            .where(Derivative.item_id == item_id, Derivative.kind.in_(TEXT_KINDS))
            .order_by(Derivative.kind.desc(), Derivative.page)
        ).scalars()
    )


def _read(ws: Workspace, sha256: str) -> str:
    with ws.blobs.open(sha256) as f:
        return f.read(MAX_CHARS * 4).decode("utf-8", errors="replace")


def find_in_item(ws: Workspace, s: Session, item_id: int, actor: str = "system") -> int:
    """Look for every entity name in the item's text derivatives and keep what is new as
    suggested mentions (a re-run adds nothing twice; suggestions on a derivative made again
    are replaced, decided ones kept). One custody event when anything was found. Returns the
    number of new mentions."""
    index = name_index(s)
    item = s.get(Item, item_id)
    if item is None:
        raise EntityError(f"no item with id {item_id}")
    derivatives = _derivatives(s, item_id)
    current = {d.sha256 for d in derivatives}
    for m in s.execute(
        select(EntityMention).where(
            EntityMention.item_id == item_id, EntityMention.state == "suggested"
        )
    ).scalars():
        if m.derivative_sha256 not in current:
            s.delete(m)
    s.flush()
    if not derivatives or not index:
        return 0
    known = {
        (e, d, a, b)
        for e, d, a, b in s.execute(
            select(
                EntityMention.entity_id,
                EntityMention.derivative,
                EntityMention.start,
                EntityMention.end,
            ).where(EntityMention.item_id == item_id)
        ).all()
    }
    added: list[EntityMention] = []
    when = now()
    for d in derivatives:
        for f in index.find(_read(ws, d.sha256)):
            if (f.entity_id, d.kind, f.start, f.end) in known:
                continue
            known.add((f.entity_id, d.kind, f.start, f.end))
            row = EntityMention(
                entity_id=f.entity_id,
                name_id=f.name_id,
                item_id=item_id,
                item_sha256=item.sha256,
                derivative=d.kind,
                derivative_sha256=d.sha256,
                page=f.page,
                start=f.start,
                end=f.end,
                score=f.score,
                state="suggested",
                found_at=when,
                decided_by="",
            )
            s.add(row)
            added.append(row)
    if added:
        s.flush()
        ledger.append(
            s,
            EventType.ENTITY_CHANGE,
            actor=actor,
            object_type="item",
            object_id=item_id,
            details={
                "action": "find mentions",
                "sha256": item.sha256,
                "read": sorted({d.sha256 for d in derivatives}),
                "mentions": [m.id for m in added],
                "entities": sorted({m.entity_id for m in added}),
            },
        )
    return len(added)


def find_in_items(
    ws: Workspace, caller: Caller, item_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """`amanah entity mentions`: look again in items processed before (all items with text,
    or those given), one transaction per item."""
    caller.require(Permission.MANAGE_ENTITIES)
    from amanah.access import collections_visible, not_withheld
    from amanah.db.models import Collection

    with ws.db.reader() as s:
        stmt = (
            select(Item.id)
            .join(Collection, Collection.id == Item.collection_id)
            .where(collections_visible(caller), not_withheld(Item.id))  # consent withdrawn
            .where(
                select(Derivative.id)
                .where(Derivative.item_id == Item.id, Derivative.kind.in_(TEXT_KINDS))
                .exists()
            )
            .order_by(Item.id)
        )
        if item_ids is not None:
            stmt = stmt.where(Item.id.in_(list(item_ids)))
        ids = list(s.execute(stmt).scalars())
    if item_ids is not None:
        missing = sorted(set(item_ids) - set(ids))
        if missing:
            raise EntityError(f"no item with text and id {missing[0]}")
    total = 0
    for item_id in ids:
        with ws.db.session() as s:
            total += find_in_item(ws, s, item_id, caller.actor)
    return {"items": len(ids), "mentions": total}


# -- reading and deciding -------------------------------------------------------------------


def mention(s: Session, caller: Caller, mention_id: int) -> EntityMention:
    row = s.execute(
        select(EntityMention).where(EntityMention.id == mention_id, mentions_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise EntityError(f"no mention with id {mention_id}")
    return row


def mention_dict(m: EntityMention, said: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "entity": m.entity_id,
        "name": m.name_id,
        "item": m.item_id,
        "sha256": m.item_sha256,
        "derivative": m.derivative,
        "derivative_sha256": m.derivative_sha256,
        "page": m.page,
        "span": [m.start, m.end],
        "score": round(m.score, 4),
        "state": m.state,
    }
    if said is not None:
        out["text"] = said
    if m.link_id is not None:
        out["link"] = m.link_id
    if m.decided_at is not None:
        out["decided_by"] = m.decided_by
        out["decided_at"] = m.decided_at.isoformat()
    return out


def list_mentions(
    ws: Workspace,
    s: Session,
    caller: Caller,
    *,
    item_id: int | None = None,
    entity_id: int | None = None,
    state: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The mentions the caller may see, with the text found (read from the derivative: an
    audited access, one event per item)."""
    stmt = select(EntityMention).where(mentions_visible(caller))
    if item_id is not None:
        stmt = stmt.where(EntityMention.item_id == item_id)
    if entity_id is not None:
        stmt = stmt.where(EntityMention.entity_id == entity_id)
    if state is not None:
        if state not in STATES:
            raise EntityError(f"unknown state {state!r}: choose among {', '.join(STATES)}")
        stmt = stmt.where(EntityMention.state == state)
    rows = list(
        s.execute(
            stmt.order_by(EntityMention.item_id, EntityMention.start, EntityMention.id).limit(limit)
        ).scalars()
    )
    texts: dict[str, str] = {}
    out = []
    for m in rows:
        if m.derivative_sha256 not in texts:
            texts[m.derivative_sha256] = _read(ws, m.derivative_sha256)
        out.append(mention_dict(m, texts[m.derivative_sha256][m.start : m.end]))
    from amanah.entities.links import audit_shown

    audit_shown(ws, caller, out, action="read mentions", key="mentions")
    return out


def decide(
    ws: Workspace, s: Session, caller: Caller, mention_id: int, accept: bool
) -> dict[str, Any]:
    """Accept (an evidence link with the mention's span, quotation read from the derivative)
    or reject a suggested mention; a custody event either way, the name only as SHA-256."""
    caller.require(Permission.MANAGE_ENTITIES)
    m = mention(s, caller, mention_id)
    if m.state != "suggested":
        raise EntityError(f"mention {mention_id} was already {m.state}")
    current = (
        s.execute(
            select(Derivative.sha256).where(
                Derivative.item_id == m.item_id, Derivative.kind == m.derivative
            )
        )
        .scalars()
        .all()
    )
    if m.derivative_sha256 not in current:
        raise EntityError(
            f"mention {mention_id}: its {m.derivative!r} text was made again since; run"
            f" 'amanah entity mentions --item {m.item_id}'"
        )
    said = _read(ws, m.derivative_sha256)[m.start : m.end]
    if accept:
        from amanah.entities.links import link

        made = link(
            ws,
            s,
            caller,
            m.item_id,
            entity_id=m.entity_id,
            span=(m.start, m.end),
            derivative=m.derivative,
        )
        m.link_id = made.id
    m.state = "accepted" if accept else "rejected"
    m.decided_at = now()
    m.decided_by = caller.actor
    s.flush()
    ledger.append(
        s,
        EventType.ENTITY_CHANGE,
        actor=caller.actor,
        object_type="item",
        object_id=m.item_id,
        details={
            "action": "accept mention" if accept else "reject mention",
            "mention": m.id,
            "entity": m.entity_id,
            "name_id": m.name_id,
            "sha256": m.item_sha256,
            "locator": {"derivative": m.derivative, "span": [m.start, m.end], "page": m.page},
            "text_sha256": digest(said),
            **({"link": m.link_id} if m.link_id is not None else {}),
            **caller.audit(),
        },
    )
    return mention_dict(m)


def spelled_as(value: str, spelling: str) -> bool:
    """Whether what was typed names the recorded spelling: its words meet the spelling's
    slots one for one (as a mention would be found), or the name matcher says they match."""
    slots = name_slots(spelling)
    typed = nk.name_words(value)
    if (
        slots
        and len(typed) == len(slots)
        and all(
            not slot.isdisjoint(nk.document_keys(w)) for w, slot in zip(typed, slots, strict=True)
        )
    ):
        return True
    return bool(typed) and name_match.score(value, spelling).match


def entities_named(s: Session, caller: Caller, kind: str, value: str) -> list[int]:
    """The entities of `kind` the caller may see with a name (any of their names, as the caller
    may see them) that `value` spells, in either script."""
    from amanah.access import names_visible

    rows = s.execute(
        select(EntityName.entity_id, EntityName.full_name)
        .join(Entity, Entity.id == EntityName.entity_id)
        .where(Entity.kind == kind, names_visible(caller))
        .order_by(EntityName.entity_id, EntityName.id)
    ).all()
    return sorted({int(e) for e, name in rows if spelled_as(value, name)})


def items_of(s: Session, caller: Caller, entity_ids: Iterable[int]) -> set[int]:
    """The items that hold one of the entities as the caller may see it: an accepted
    evidence link, or a mention not rejected."""
    from amanah.access import evidence_links_visible
    from amanah.db.models import EvidenceLink

    ids = sorted(set(entity_ids))
    if not ids:
        return set()
    linked = s.execute(
        select(EvidenceLink.item_id).where(
            or_(
                EvidenceLink.entity_id.in_(ids),
                EvidenceLink.name_id.in_(
                    select(EntityName.id).where(EntityName.entity_id.in_(ids))
                ),
            ),
            evidence_links_visible(caller),
        )
    ).scalars()
    named = s.execute(
        select(EntityMention.item_id).where(
            EntityMention.entity_id.in_(ids),
            EntityMention.state != "rejected",
            mentions_visible(caller),
        )
    ).scalars()
    return {*linked, *named}
