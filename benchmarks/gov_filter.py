"""What `gov:` and the map's complete counts cost at scale, against a plain filter.

    python -m benchmarks.gov_filter [--items 100000] [--repeat 15] [--backend tantivy]

One home with `--items` items that have GPS coordinates (rows copied from one ingested
file, each given its own point across Syria and a 2 KB metadata dump, as a phone photo's
EXIF makes; indexed as processing indexes them). Timed, interleaved so that all see the
same load, each the whole call:

- `has_gps`: `search("has:gps")`, a filter the index holds (the baseline);
- `gov`: `search("gov:Aleppo")`, the governorate read from each item's stored key
  (`amanah.geo.placed`);
- `per_query_pip` (timed once): what `gov:` would cost without the stored key: every GPS
  item's metadata read and parsed, and its point run through the point-in-polygon;
- `map_counts`: the map of everything (`amanah.geo.evidence.build`), every item counted in
  its governorate, 5,000 points drawn.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.config import write_default_config
from amanah.db.models import Collection, Item, SearchDoc
from amanah.geo import evidence, placed
from amanah.geo.boundaries import governorate_of, load
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.search import index
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from benchmarks import search_scale
from benchmarks.common import OUT, machine, save

CHUNK = 5000
#: Where the generated photographs cluster: Aleppo, Damascus, Douma, Homs, Hama, Idlib,
#: Raqqa, Deir ez-Zor, Daraa.
TOWNS = (
    (36.20, 37.13),
    (33.51, 36.28),
    (33.57, 36.40),
    (34.73, 36.71),
    (35.13, 36.75),
    (35.93, 36.63),
    (35.95, 39.01),
    (35.34, 40.14),
    (32.62, 36.10),
)


def build(ws: Workspace, folder: Path, n: int) -> None:
    folder.mkdir()
    (folder / "seed.txt").write_text("seed\n", encoding="utf-8")
    ingest(ws, IntakeRequest(sources=[str(folder)], collection="gps", provider="P", actor="b"))
    rng = random.Random(16)
    west, south, east, north = load().bbox
    towns = list(TOWNS)
    dump = {"exif": {f"Tag{k:03d}": "x" * 12 for k in range(100)}}
    with ws.db.session() as s:
        seed = s.execute(select(Item)).scalar_one()
        coll = s.get(Collection, seed.collection_id)
        base = {c.name: getattr(seed, c.key) for c in Item.__table__.columns if c.name != "id"}
    for at in range(0, n, CHUNK):
        rows = []
        for k in range(at, min(n, at + CHUNK)):
            if rng.random() < 0.05:  # anywhere in the box: some outside Syria
                lat, lon = rng.uniform(south, north), rng.uniform(west, east)
            else:  # around a town, as photographs cluster
                lat, lon = rng.choice(towns)
                lat, lon = lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.05)
            point = {"latitude": lat, "longitude": lon}
            path = f"gps/photo-{k:07d}.jpg"
            rows.append(
                base
                | {
                    "path_hash": f"{k:064d}",
                    "path_key": f"{k:064x}",
                    "original_path": path,
                    "original_path_raw": path.encode(),
                    "processing": "done",
                    "doc_metadata": placed.dumps(placed.place(dump | point)),
                }
            )
        with ws.db.session() as s:
            s.execute(Item.__table__.insert(), rows)
            made = s.execute(
                select(Item).where(Item.original_path.in_([r["original_path"] for r in rows]))
            ).scalars()
            index.put(s, [index.document(i, coll, "", False) for i in made], fresh=True)
    index.settle(ws, build=True)


def per_query_pip(ws: Workspace, pcode: str) -> int:
    """The cost the stored key saves: every GPS item's metadata parsed and placed."""
    found = 0
    with ws.db.reader() as s:
        gps = select(SearchDoc.item_id).where(SearchDoc.has_gps.is_(True))
        for (text,) in s.execute(select(Item.doc_metadata).where(Item.id.in_(gps))):
            data = json.loads(text)
            gov = governorate_of(data["latitude"], data["longitude"])
            found += gov is not None and gov.pcode == pcode
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--backend", default="tantivy", choices=search_scale.BACKENDS[:2])
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gov-filter-", dir=OUT))
    result: dict[str, object] = {
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "items": args.items,
        "backend": args.backend,
    }
    try:
        home = work / "home"
        write_default_config(home)
        search_scale.use_backend(home, args.backend)
        ws = open_workspace(home)
        try:
            t = time.perf_counter()
            build(ws, work / "seed", args.items)
            result["build_s"] = round(time.perf_counter() - t, 1)
            admin = local_administrator(ws, "benchmark")
            calls = {
                "has_gps": lambda: search(ws, admin, "has:gps", limit=20).total,
                "gov": lambda: search(ws, admin, "gov:Aleppo", limit=20).total,
                "per_query_pip": lambda: per_query_pip(ws, "SY02"),
                "map_counts": lambda: evidence.build(ws, admin, "", []).found,
            }
            answers = {name: call() for name, call in calls.items()}  # warm up
            t = time.perf_counter()
            answers["per_query_pip"] = per_query_pip(ws, "SY02")  # timed once: it is slow
            pip_ms = (time.perf_counter() - t) * 1000
            assert answers["gov"] == answers["per_query_pip"], answers  # they agree
            result["answers"] = answers
            del calls["per_query_pip"]
            times: dict[str, list[float]] = {name: [] for name in calls}
            for i in range(args.repeat):
                order = list(calls) if i % 2 else list(reversed(calls))
                for name in order:
                    t = time.perf_counter()
                    calls[name]()
                    times[name].append((time.perf_counter() - t) * 1000)
            for name, xs in times.items():
                result[name] = {
                    "p50_ms": round(float(np.percentile(xs, 50)), 1),
                    "p95_ms": round(float(np.percentile(xs, 95)), 1),
                }
            result["per_query_pip"] = {"once_ms": round(pip_ms, 1)}
            base = result["has_gps"]["p50_ms"]  # type: ignore[index]
            result["ratio_to_has_gps"] = {
                name: round(result[name]["p50_ms"] / base, 2)  # type: ignore[index]
                for name in calls
            } | {"per_query_pip": round(pip_ms / base, 1)}
            result["load_average_after"] = os.getloadavg()
        finally:
            ws.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = save(f"gov_filter_{args.backend}_{args.items}", result)
    print(json.dumps(result, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
