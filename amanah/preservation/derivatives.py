"""A derivative is trusted only as far as its derivation event names its blob (rule 9).

A derivative row (item, kind, page → blob) can be rewritten by anyone with write access to
the database: pointing an item's redacted copy at the item's original blob would ship the
unredacted original labelled "redacted". The custody ledger, hash-linked and signed, is what
cannot be rewritten without the key; so every derivative row is bound to its blob by a
derivation event recorded in the same transaction (`name_in_ledger`, called by the one
function that writes derivative rows), and `check_derivative` holds the row against the latest
event that names its (item, kind, page), then re-hashes the blob.

Events recognised (older homes have only the first two shapes):
- `{"derivative": KIND, "sha256": S, "size": N}` (page 0 unless "page" is given);
- `{"derivative": KIND, "images": [{"page": P, "sha256": S, "size": N}, …]}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.blobs import verify_blob
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import CustodyEvent, Derivative, Item, SupersededDerivative
from amanah.workspace import Workspace

Key = tuple[int, str, int]  # item id, kind, page


@dataclass(frozen=True)
class Named:
    """What the latest derivation event for one (item, kind, page) says its blob is."""

    seq: int
    sha256: str
    size: int | None


def name_in_ledger(
    s: Session,
    item_id: int,
    kind: str,
    page: int,
    sha256: str,
    size: int,
    media_type: str,
    actor: str,
    about: dict[str, Any] | None = None,
) -> None:
    """Bind a new or changed derivative row to its blob, in the row's own transaction: one
    derivation event per derivative, saying what it is (`about`: engine, languages, pages …)
    beside the binding (its kind, page, SHA-256, size and media type, which `about` cannot
    override), and the SHA-256 of the item's bytes it was made from (`source_sha256`: the
    processing copy was hashed against it before anything was derived)."""
    source = s.execute(select(Item.sha256).where(Item.id == item_id)).scalar_one_or_none()
    ledger.append(
        s,
        EventType.DERIVATION,
        actor=actor,
        object_type="item",
        object_id=item_id,
        details={
            **(about or {}),
            "derivative": kind,
            "page": page,
            "sha256": sha256,
            "size": size,
            "media_type": media_type,
            "source_sha256": source,
        },
    )


def _named_in(details: dict[str, Any]) -> Iterator[tuple[str, int, str, int | None]]:
    """(kind, page, sha256, size) for each derivative blob an event's details name."""
    kind = details.get("derivative")
    if not isinstance(kind, str):
        return
    sha256 = details.get("sha256")
    if isinstance(sha256, str):
        yield kind, _int(details.get("page")) or 0, sha256, _int(details.get("size"))
    images = details.get("images")
    if isinstance(images, list):
        for image in images:
            if isinstance(image, dict) and isinstance(image.get("sha256"), str):
                page = _int(image.get("page")) or 0
                yield kind, page, image["sha256"], _int(image.get("size"))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def named_blobs(s: Session, item_ids: Iterable[int] | None = None) -> dict[Key, Named]:
    """The latest derivation event's blob for every (item, kind, page), from the ledger."""
    query = select(CustodyEvent.seq, CustodyEvent.object_id, CustodyEvent.details).where(
        CustodyEvent.event_type == str(EventType.DERIVATION),
        CustodyEvent.object_type == "item",
    )
    if item_ids is not None:
        query = query.where(CustodyEvent.object_id.in_([str(i) for i in item_ids]))
    found: dict[Key, Named] = {}
    for seq, object_id, details in s.execute(query.order_by(CustodyEvent.seq)):
        try:
            item_id = int(object_id)
            parsed = json.loads(details)
        except (TypeError, ValueError):
            continue
        if not isinstance(parsed, dict):
            continue
        for kind, page, sha256, size in _named_in(parsed):
            found[(item_id, kind, page)] = Named(seq, sha256, size)
    return found


def recorded_blobs(s: Session, item_ids: Iterable[int]) -> set[tuple[int, str, str]]:
    """(item, kind, SHA-256) of every derivative blob the ledger's derivation events name for
    these items, latest or not: what a derivative row may be trusted to point at."""
    ids = sorted({str(i) for i in item_ids})
    out: set[tuple[int, str, str]] = set()
    for i in range(0, len(ids), 900):
        for object_id, details in s.execute(
            select(CustodyEvent.object_id, CustodyEvent.details).where(
                CustodyEvent.event_type == str(EventType.DERIVATION),
                CustodyEvent.object_type == "item",
                CustodyEvent.object_id.in_(ids[i : i + 900]),
            )
        ):
            try:
                item_id, parsed = int(object_id), json.loads(details)
            except (TypeError, ValueError):
                continue
            if isinstance(parsed, dict):
                out.update((item_id, kind, sha) for kind, _, sha, _ in _named_in(parsed))
    return out


def describe(d: Derivative) -> str:
    page = f", page {d.page}" if d.page else ""
    return f"derivative {d.kind!r} of item {d.item_id}{page} (id {d.id})"


def check_row(d: Derivative, named: Named | None) -> str | None:
    """The row against its derivation event: None when the event names this blob."""
    if named is None:
        return f"{describe(d)}: no derivation event names its blob {d.sha256}"
    if named.sha256 != d.sha256:
        return (
            f"{describe(d)}: points at blob {d.sha256}, but its derivation event"
            f" #{named.seq} names blob {named.sha256} (derivative row rewritten)"
        )
    if named.size is not None and named.size != d.size:
        return (
            f"{describe(d)}: size {d.size} recorded, but its derivation event #{named.seq}"
            f" says {named.size}"
        )
    return None


def check_derivative(s: Session, ws: Workspace, derivative: Derivative) -> str | None:
    """Before a derivative leaves (a package copies it): its event, then its bytes.

    None when the latest derivation event for its (item, kind, page) names this blob and the
    blob's bytes hash to that name; else the reason, naming the derivative."""
    named = named_blobs(s, [derivative.item_id]).get(
        (derivative.item_id, derivative.kind, derivative.page)
    )
    wrong = check_row(derivative, named)
    if wrong is not None:
        return wrong
    damage = verify_blob(ws.blobs, derivative.sha256, derivative.size)
    return None if damage is None else f"{describe(derivative)}: {damage}"


def check_all(ws: Workspace, batch: int = 500) -> tuple[int, list[str]]:
    """`amanah verify`: every derivative row against its derivation event (bytes are re-hashed
    by the fixity check, which covers every blob). Items are taken a batch at a time, so
    memory stays flat however many derivatives there are."""
    problems: list[str] = []
    count = 0
    with ws.db.reader() as s:
        ids = set(s.execute(select(Derivative.item_id).distinct()).scalars())
        ids |= {
            int(o)
            for o in s.execute(
                select(CustodyEvent.object_id)
                .where(
                    CustodyEvent.event_type == str(EventType.DERIVATION),
                    CustodyEvent.object_type == "item",
                )
                .distinct()
            ).scalars()
            if o.isdigit()
        }
        item_ids = sorted(ids)
        for start in range(0, len(item_ids), batch):
            chunk = item_ids[start : start + batch]
            named = named_blobs(s, chunk)
            rows = s.execute(
                select(Derivative).where(Derivative.item_id.in_(chunk)).order_by(Derivative.id)
            ).scalars()
            present: set[Key] = set()
            for d in rows:
                count += 1
                present.add((d.item_id, d.kind, d.page))
                wrong = check_row(d, named.get((d.item_id, d.kind, d.page)))
                if wrong is not None:
                    problems.append(wrong)
            kept = set(
                s.execute(
                    select(
                        SupersededDerivative.item_id,
                        SupersededDerivative.kind,
                        SupersededDerivative.sha256,
                    ).where(SupersededDerivative.item_id.in_(chunk))
                ).all()
            )
            for key, n in sorted(named.items()):
                if key not in present and (key[0], key[1], n.sha256) not in kept:
                    page = f", page {key[2]}" if key[2] else ""
                    problems.append(
                        f"derivative {key[1]!r} of item {key[0]}{page}, recorded by derivation"
                        f" event {n.seq}, is not in the database (its row was deleted)"
                    )
            s.expunge_all()
    return count, problems
