"""What witness protection's withdrawal check costs on every read, at scale.

    python -m benchmarks.withheld [--items 100000] [--repeat 15] [--db-url URL]

Every read of an item asks `amanah.access.item_withheld` (the rule is
`person_consent.withheld_condition`: one EXISTS per ancestry level, each joining
`items` by id and parent, copies by SHA-256, `person_items` and the latest consent record). One
home with `--items` items (rows copied from one ingested file, each its own bytes' SHA-256);
10 % are parts, with a parent chain of 1 to 3 levels; 1,000 items linked to 200 protected
persons, 100 of whom withdrew consent. Timed, interleaved so that all see the same load, on
three states of the same home:

- `none`: no person link at all (what the reads cost with nothing to withhold);
- `links`: the 1,000 links and 100 withdrawals;
- `derived`: the same, and each linked item has a near-duplicate elsewhere in the home that
  got a derived link (`amanah.sharing.near_duplicate_links`: about 1,000 more `person_items`
  rows; the condition is the same SQL). Skipped by code without that module.

Run it on this code and on the code before the change (a `git archive` of the base branch
on `PYTHONPATH`) for before/after in the same session.

The reads: `visible_set`, what a search asks (`withheld_item_ids`: every withheld item and
its parts); `item_check`, an item page's check (`withheld_reason` and `visible_item` of one
item); `list_50`, a page of 50 items (`items_visible`). Each is given in wall and CPU
seconds of this process (the database is in-process on SQLite; on PostgreSQL the server's
CPU is not in it).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from amanah.access import (
    Caller,
    NotVisible,
    items_visible,
    local_administrator,
    visible_item,
    withheld_item_ids,
    withheld_reason,
)
from amanah.config import write_default_config
from amanah.db.models import (
    Blob,
    Item,
    PersonConsent,
    PersonItem,
    ProtectedPerson,
    Relation,
)
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.workspace import Workspace, open_workspace
from benchmarks.common import machine, save

CHUNK = 5000
PERSONS, LINKS, WITHDRAWN = 200, 1000, 100


def build(ws: Workspace, folder: Path, n: int, seed: int = 17) -> dict[str, list[int]]:
    """The home: `n` items (10 % parts), persons, links, consents. Returns the linked items
    and the items chosen to be their near-duplicates."""
    folder.mkdir()
    (folder / "seed.txt").write_text("seed\n", encoding="utf-8")
    ingest(ws, IntakeRequest(sources=[str(folder)], collection="c", provider="P", actor="b"))
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with ws.db.session() as s:
        first = s.execute(select(Item)).scalar_one()
        base = {c.key: getattr(first, c.key) for c in Item.__table__.columns if c.key != "id"}
        start = first.id
    for at in range(0, n - 1, CHUNK):
        ks = range(at, min(n - 1, at + CHUNK))
        shas = [f"{k + 1:064x}" for k in ks]
        with ws.db.session() as s:
            s.execute(
                Blob.__table__.insert(), [{"sha256": h, "size": 5, "stored_at": now} for h in shas]
            )
            s.execute(
                Item.__table__.insert(),
                [
                    base
                    | {
                        "sha256": h,
                        "path_hash": h,
                        "path_key": h,
                        "original_path": f"c/f-{k:07d}.txt",
                        "original_path_raw": f"c/f-{k:07d}.txt".encode(),
                    }
                    for k, h in zip(ks, shas, strict=True)
                ],
            )
    with ws.db.session() as s:
        ids = list(s.execute(select(Item.id).order_by(Item.id)).scalars())
        # 10 % are parts: a chain of 1 to 3 levels under a top-level item
        tops = ids[: len(ids) // 2]
        parts = rng.sample(ids[len(ids) // 2 :], len(ids) // 10)
        updates = []
        for p in parts:
            parent = rng.choice(tops)
            for _ in range(rng.randint(0, 2)):  # deeper: a part of a part
                parent = parts[rng.randrange(len(parts))] if rng.random() < 0.5 else parent
            if parent != p:
                updates.append({"i": p, "parent": parent})
        for u in updates:
            s.execute(
                Item.__table__.update().where(Item.id == u["i"]).values(parent_id=u["parent"])
            )
        s.execute(
            ProtectedPerson.__table__.insert(),
            [
                {"pseudonym": f"Witness {k}", "created_at": now, "created_by": "b"}
                for k in range(PERSONS)
            ],
        )
        persons = list(s.execute(select(ProtectedPerson.id)).scalars())
        linked = rng.sample(ids[1:], LINKS)
        twins = rng.sample(sorted(set(ids[1:]) - set(linked)), LINKS)
        s.execute(
            PersonItem.__table__.insert(),
            [
                {
                    "protected_person_id": persons[k % PERSONS],
                    "item_id": i,
                    "source": "by hand",
                    "linked_by": "b",
                    "linked_at": now,
                }
                for k, i in enumerate(linked)
            ],
        )
        s.execute(
            PersonConsent.__table__.insert(),
            [
                {
                    "protected_person_id": p,
                    "status": "withdrawn" if k < WITHDRAWN else "given",
                    "uses": "[]" if k < WITHDRAWN else '["investigation"]',
                    "recipients": '["all"]',
                    "recorded_by": "b",
                    "recorded_at": now,
                }
                for k, p in enumerate(persons)
            ],
        )
    assert start == ids[0]
    return {"linked": linked, "twins": twins}


def derive(ws: Workspace, linked: list[int], twins: list[int]) -> int:
    """Each linked item gets a near-duplicate (a relation, as processing records one); the
    derived links are made by the code the pipeline calls."""
    from amanah.sharing import near_duplicate_links

    now = datetime.now(UTC)
    with ws.db.session() as s:
        s.execute(
            Relation.__table__.insert(),
            [
                {
                    "item_a": min(a, b),
                    "item_b": max(a, b),
                    "kind": "near_duplicate_text",
                    "score": 0.9,
                    "created_at": now,
                }
                for a, b in zip(linked, twins, strict=True)
            ],
        )
        return near_duplicate_links.follow(s, twins, "agent:benchmark")


def reads(ws: Workspace, caller: Caller, probe: list[int]) -> dict[str, Callable[[], Any]]:
    rng = random.Random(5)
    top = max(probe)

    def visible_set() -> int:
        with ws.db.reader() as s:
            return len(withheld_item_ids(s))

    def item_check() -> int:
        i = rng.choice(probe)
        with ws.db.reader() as s:
            shown = withheld_reason(s, caller, i) is None
            try:
                visible_item(s, caller, i)
            except NotVisible:
                shown = False
        return int(shown)

    def list_50() -> int:
        after = rng.randrange(top)
        with ws.db.reader() as s:
            return len(
                s.execute(
                    select(Item.id)
                    .where(Item.id > after, items_visible(caller))
                    .order_by(Item.id)
                    .limit(50)
                ).all()
            )

    return {"visible_set": visible_set, "item_check": item_check, "list_50": list_50}


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--db-url", default=None, help="PostgreSQL URL (default: SQLite)")
    ap.add_argument("--label", default="now", help="names the output (e.g. before, after)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-withheld-"))
    try:
        home = tmp / "home"
        write_default_config(home, args.db_url)
        ws = open_workspace(home)
        t0 = time.perf_counter()
        chosen = build(ws, tmp / "src", args.items)
        built = time.perf_counter() - t0
        caller = local_administrator(ws)
        probe = chosen["linked"][:200] + chosen["twins"][:200]
        with ws.db.reader() as s:
            probe += list(s.execute(select(Item.id).limit(400)).scalars())
        # the three states, each held in its own copy of the person links
        with ws.db.session() as s:
            saved = [dict(r._mapping) for r in s.execute(select(PersonItem.__table__)).all()]
        results: dict[str, dict[str, list[tuple[float, float]]]] = {}
        counts: dict[str, int] = {}

        def state(name: str) -> None:
            with ws.db.session() as s:
                s.execute(delete(PersonItem))
                if name != "none":
                    s.execute(PersonItem.__table__.insert(), saved)
            if name == "derived":
                counts["derived_links"] = derive(ws, chosen["linked"], chosen["twins"])
            with ws.db.reader() as s:
                counts[name] = s.execute(select(func.count()).select_from(PersonItem)).scalar_one()
            with ws.db.reader() as s:
                counts[f"{name}_withheld"] = len(withheld_item_ids(s))

        try:
            import amanah.sharing.near_duplicate_links  # noqa: F401

            states = ("none", "links", "derived")
        except ImportError:  # the code before consent followed near-duplicates
            states = ("none", "links")
        for name in states:
            state(name)
            fns = reads(ws, caller, probe)
            for fn in fns.values():
                fn()  # warm
            per: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
            for _ in range(args.repeat):
                for key, fn in fns.items():
                    per[key].append(timed(fn))
            results[name] = per
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary: dict[str, Any] = {}
    for name, per in results.items():
        for key, runs in per.items():
            walls = sorted(w for w, _ in runs)
            cpus = sorted(c for _, c in runs)
            summary[f"{name}.{key}"] = {
                "wall_p50_ms": round(statistics.median(walls) * 1000, 2),
                "wall_p95_ms": round(walls[int(0.95 * (len(walls) - 1))] * 1000, 2),
                "cpu_p50_ms": round(statistics.median(cpus) * 1000, 2),
            }
    engine = "postgresql" if args.db_url else "sqlite"
    out = {
        "machine": machine(),
        "items": args.items,
        "engine": engine,
        "label": args.label,
        "cpu_seconds_total": round(time.process_time(), 1),
        "build_seconds": round(built, 1),
        "counts": counts,
        "results": summary,
    }
    save(f"withheld_{engine}_{args.items}_{args.label}", out)
    for k, v in summary.items():
        print(f"{k:24} {v}")
    print(counts)


if __name__ == "__main__":
    main()
