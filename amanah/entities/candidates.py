"""Candidate search for `entity match`: which stored names are worth scoring for a query.

A name part's key alone is too common to block on at scale: محمد, Mohammad and their
consonant key are a tenth of a million names, and reading them all is what made the search
take seconds. Two parts of one name together are rare: "Mohammad … Habbo" is a handful of
rows in a million. So every name of two parts or more is also indexed by *pair keys*: for
each two of its parts (in either order: ism+family, ism+father, father+family, …), every
combination of one key of each part (its consonant key and the Latin skeletons of its first
romanisations, `part_keys`), hashed to 64 bits (`entity_name_pairs`). A query probes its own
pair keys, each a short posting list; a name that shares most pairs with the query ranks
first, and only the best few hundred are scored.

- A posting list longer than `COMMON` ("Mohammad Ahmad") is not read row by row: when the
  rarer lists give fewer than `CANDIDATES` names, one grouped index query counts the names
  the common lists share (two of them at least, when rarer lists matched), so a person of
  common parts is found even when a rare pair of the query meets someone else.
- Need-to-know is applied to the ranked names before anything is scored, a chunk at a time
  (`names_visible`, and the kinds asked), so names the caller may not see neither appear nor
  push visible ones out of the candidates.
- When the pairs give fewer than `CANDIDATES` visible names, up to `TOPUP` more come from
  the single keys of `entity_name_keys` (rarest first, at most `TOPUP_ROWS` index entries
  read, the names sharing most of them, then the likeliest): a name of which only one part
  meets the query (the others romanised past their pair keys), or a stored name of one
  part. A query of one part, or one whose pairs find nothing (names indexed before pair keys
  existed), takes all its candidates from them, reading up to `KEY_ROWS` index entries.

The pair keys hold a name id only (not its entity): a merge, unmerge or split moves names
between entities and leaves their keys right. They are derived, rebuilt with the other keys
by `index_name` (`amanah entity name parse --all`)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist
from sqlalchemy import TextClause, bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session

from amanah.access import Caller, names_visible
from amanah.db.models import Entity, EntityName, EntityNameKey, EntityNamePair
from amanah.text import name_match as nm

#: Names scored per query at most.
CANDIDATES = 200
#: Single keys: index entries read per query at most (rarest keys first), when no pair key
#: matched, and when pairs found fewer than CANDIDATES (a part spelt past its pair keys).
KEY_ROWS = 20_000
TOPUP_ROWS = 1_000
#: Names a top-up adds at most: the best by shared keys, their rarity and likeness.
TOPUP = 60
#: A pair key with more names than this is common: counted by one grouped query, not read.
COMMON = 500
#: Latin skeletons of a part's romanisations used in its pair keys (likeliest first).
SKELETONS = 2
#: Ranked names checked against need-to-know per statement, and chunks at most.
CHUNK = 4 * CANDIDATES
CHUNKS = 5


def part_keys(p: nm.Part) -> tuple[str, ...]:
    """A part's keys for pairing: its consonant key and the skeletons of its likeliest Latin
    readings (the same kinds of key as `name_match.keys`, fewer of them)."""
    out = ["c:" + p.consonants] if len(p.consonants) >= 2 else []
    out += ["l:" + s for s in p.skeletons[:SKELETONS] if len(s) >= 3]
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1 << 18)
def pair_hash(a: str, b: str) -> int:
    """The signed 64-bit key of two part keys, in either order (cached: names share parts, and
    a bulk import hashes the same few thousand part keys millions of times)."""
    x, y = (a, b) if a <= b else (b, a)
    digest = hashlib.blake2b(f"{x}\x1f{y}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def pairs_of_parts(parts: Iterable[tuple[str, ...]]) -> set[int]:
    """Pair keys of a name given each part's keys: one key of each of two parts."""
    keyed = [ks for ks in parts if ks]
    out: set[int] = set()
    for i, ki in enumerate(keyed):
        for kj in keyed[i + 1 :]:
            out.update(pair_hash(a, b) for a in ki for b in kj)
    return out


def pair_keys(name: str) -> set[int]:
    """The pair keys of a full name (none for a name of one part)."""
    return pairs_of_parts(part_keys(p) for p in nm.parse(name).parts)


def index_pairs(s: Session, name_id: int, full_name: str) -> None:
    """Replace a name's pair keys (called with its other keys, `nameparts.index_name`)."""
    s.execute(delete(EntityNamePair).where(EntityNamePair.name_id == name_id))
    rows = [{"key": k, "name_id": name_id} for k in sorted(pair_keys(full_name))]
    if rows:
        s.execute(insert(EntityNamePair), rows)


def _probes(table: str, keys: list[Any], limit: int) -> tuple[TextClause, dict[str, Any]]:
    """One statement reading each key's posting list up to `limit` entries (a UNION ALL of
    bounded index range scans), as plain SQL text: building it from expression objects cost
    more CPU than running it."""
    if table not in (EntityNamePair.__tablename__, EntityNameKey.__tablename__):
        raise ValueError(f"no posting lists in {table}")
    sql = " UNION ALL ".join(
        f"SELECT * FROM (SELECT key, name_id FROM {table} WHERE key = :k{i} LIMIT :n) AS q{i}"  # noqa: S608 (a table of two, values bound)
        for i in range(len(keys))
    )
    return text(sql), {"n": limit, **{f"k{i}": k for i, k in enumerate(keys)}}


def _ranked_by_pairs(s: Session, keys: set[int], asked: list[str] | None = None) -> list[int]:
    """Name ids sharing pair keys with the query, best first: every posting list read up to
    COMMON + 1 entries in one statement; the lists longer than COMMON are counted by a grouped
    query only when no rarer list matched. Names sharing as many pairs are ranked by the
    rarity of the pairs they share (a rare pair says more than "Mohammad Ahmad"), and, when
    more names than CANDIDATES are found, by the likeness of all their parts to the query's
    (`_by_likeness`, given the query's consonant keys `asked`): never by id, which would cut
    the person asked for at random."""
    if not keys:
        return []
    p = EntityNamePair
    rows = s.execute(*_probes(EntityNamePair.__tablename__, sorted(keys), COMMON + 1)).all()
    lists: dict[int, list[int]] = {}
    for key, name_id in rows:
        lists.setdefault(key, []).append(name_id)
    shared: Counter[int] = Counter()
    rarity: Counter[int] = Counter()
    common = [key for key, ids in lists.items() if len(ids) > COMMON]
    for ids in lists.values():
        if len(ids) <= COMMON:
            shared.update(ids)
            for i in ids:
                rarity[i] += 1.0 / len(ids)
    if common and len(shared) < CANDIDATES:
        # the person may share only common pairs with the query ("Mohammad Ahmad Hassan"):
        # count the names those lists share (two pairs at least when rarer ones matched)
        n = func.count().label("n")
        stmt = select(p.name_id, n).where(p.key.in_(common)).group_by(p.name_id)
        if shared:
            stmt = stmt.having(n >= 2)
        for name_id, count in s.execute(stmt.order_by(n.desc()).limit(CHUNK * CHUNKS * 4)).all():
            shared[name_id] += count
    ranked = sorted(shared, key=lambda i: (-shared[i], -rarity[i], i))
    if len(ranked) > CANDIDATES:
        ranked = _by_likeness(s, ranked[: CHUNK * CHUNKS], shared, rarity, asked or [])
    return ranked


def _by_likeness(
    s: Session, ranked: list[int], shared: Counter[int], rarity: Counter[int], asked: list[str]
) -> list[int]:
    """The ranked names, those sharing as many pairs re-ordered by a cheap likeness of all
    their parts to the query's: the consonant keys (one alphabet for both scripts) of each
    part of the query against the name's, the best similarity of each summed and divided by
    the larger number of parts. A part spelt past its pair keys (Tanbour, طنبوره) still
    resembles, and a name with parts the query lacks is ranked below one without them, so
    among hundreds sharing the pairs of "Mohammad Ahmad" the person asked for comes first.
    Reads the names' consonant keys by the primary key of `entity_name_keys`."""
    own: dict[int, list[str]] = {}
    for start in range(0, len(ranked), CHUNK):
        chunk = ranked[start : start + CHUNK]
        for name_id, key in s.execute(
            select(EntityNameKey.name_id, EntityNameKey.key).where(
                EntityNameKey.name_id.in_(chunk),
                EntityNameKey.key >= "c:",
                EntityNameKey.key < "c;",
            )
        ):
            own.setdefault(name_id, []).append(key)
    distinct = sorted({k for ks in own.values() for k in ks})
    if not asked or not distinct:
        return ranked
    sims = cdist(asked, distinct, scorer=Levenshtein.normalized_similarity)
    column = {k: j for j, k in enumerate(distinct)}
    likeness: dict[int, float] = {}
    for name_id, ks in own.items():
        cols = [column[k] for k in ks]
        best = sum(max(float(row[j]) for j in cols) for row in sims)
        likeness[name_id] = best / max(len(asked), len(ks))
    return sorted(ranked, key=lambda i: (-shared[i], -likeness.get(i, 0.0), -rarity[i], i))


def _ranked_by_keys(
    s: Session, keys: set[str], budget: int, asked: list[str], take: int = CANDIDATES
) -> list[int]:
    """Name ids sharing single keys with the query, best first: every posting list read up to
    `budget` + 1 entries in one statement (a common key is never counted whole), then the
    rarest lists taken until `budget` entries (the rarest always); names sharing as many keys
    ranked by the rarity of those keys and, when more than `take` are found, the likeness of
    all their parts (`_by_likeness`)."""
    lists: dict[str, list[int]] = {}
    for key, name_id in s.execute(*_probes(EntityNameKey.__tablename__, sorted(keys), budget + 1)):
        lists.setdefault(key, []).append(name_id)
    shared: Counter[int] = Counter()
    rarity: Counter[int] = Counter()
    total = 0
    for key in sorted(lists, key=lambda x: (len(lists[x]), x)):
        if total and total + len(lists[key]) > budget:
            break
        shared.update(lists[key])
        for i in lists[key]:
            rarity[i] += 1.0 / len(lists[key])
        total += len(lists[key])
    ranked = sorted(shared, key=lambda i: (-shared[i], -rarity[i], i))[: CHUNK * CHUNKS]
    if len(ranked) > take:
        ranked = _by_likeness(s, ranked, shared, rarity, asked)
    return ranked


_STATEMENTS: dict[Caller, Any] = {}


def _visible_statement(caller: Caller) -> Any:
    """The need-to-know query on candidate names, built once per caller (its grants are part
    of the key: a caller with other grants gets its own), ids and kinds bound at execution:
    building `names_visible` anew for every query cost more CPU than running it."""
    stmt = _STATEMENTS.get(caller)
    if stmt is None:
        if len(_STATEMENTS) > 256:
            _STATEMENTS.clear()
        stmt = _STATEMENTS[caller] = (
            select(EntityName.id)
            .join(Entity, Entity.id == EntityName.entity_id)
            .where(
                EntityName.id.in_(bindparam("ids", expanding=True)),
                Entity.kind.in_(bindparam("kinds", expanding=True)),
                names_visible(caller),
            )
        )
    return stmt


def _visible(s: Session, caller: Caller, ranked: list[int], kinds: tuple[str, ...]) -> list[int]:
    """The first CANDIDATES of the ranked names the caller may see, of the kinds asked,
    checked a chunk at a time (in rank order)."""
    out: list[int] = []
    stmt = _visible_statement(caller)
    for start in range(0, min(len(ranked), CHUNK * CHUNKS), CHUNK):
        chunk = ranked[start : start + CHUNK]
        allowed = set(s.execute(stmt, {"ids": chunk, "kinds": list(kinds)}).scalars())
        out += [i for i in chunk if i in allowed]
        if len(out) >= CANDIDATES:
            break
    return out[:CANDIDATES]


def candidates(
    s: Session, caller: Caller, names: Iterable[str], kinds: tuple[str, ...]
) -> set[int]:
    """Ids of the visible names of the wanted kinds worth scoring for a query's names: those
    sharing most pair keys, topped up (when fewer than CANDIDATES) by the TOPUP names sharing
    most of the rarest single keys (all CANDIDATES from them when no pair matched)."""
    names = list(names)
    pairs = set().union(*(pair_keys(n) for n in names)) if names else set()
    asked = sorted({k for n in names for k in nm.keys(n) if k.startswith("c:")})
    found = _visible(s, caller, _ranked_by_pairs(s, pairs, asked), kinds) if pairs else []
    if len(found) >= CANDIDATES:
        return set(found)
    keys = set().union(*(nm.keys(n) for n in names)) if names else set()
    if not keys:
        return set(found)
    seen = set(found)
    # a top-up: the TOPUP names sharing most of the rarest single keys, ranked by likeness
    # (a part spelt past its pair keys), read from TOPUP_ROWS index entries
    if found:
        ranked = _ranked_by_keys(s, keys, TOPUP_ROWS, asked, TOPUP)[:TOPUP]
    else:
        ranked = _ranked_by_keys(s, keys, KEY_ROWS, asked)
    more = _visible(s, caller, [i for i in ranked if i not in seen], kinds)
    return seen | set(more[: CANDIDATES - len(found)])
