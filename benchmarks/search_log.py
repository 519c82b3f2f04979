"""The search call's fixed cost: the search log written behind against a commit per search.

    python -m benchmarks.search_log [--docs 5000] [--queries 400] [--backend fts5]

One generated home (benchmarks.search_scale's corpus and query mix), the same queries run
twice, interleaved query by query so that both modes see the same load:

- `behind` (what Amanah does): the record is appended to the search journal and flushed
  before the search returns; the drainer thread commits batches to the database;
- `synced` (what it did before issue 19): the same search, then the journal applied at once,
  so each search waits for its own commit and signed checkpoint.

Each query is the whole `search.service.search` call. The difference of the medians is
what the search log costs on the hot path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from amanah.access import Caller
from amanah.config import write_default_config
from amanah.search import searchlog, tantivy_index
from amanah.search.service import search
from amanah.workspace import open_workspace
from benchmarks import search_scale
from benchmarks.common import OUT, machine, save


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--backend", default="fts5", choices=search_scale.BACKENDS[:2])
    args = ap.parse_args()
    workers = os.cpu_count() or 1
    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="search-log-", dir=OUT))
    result: dict[str, object] = {
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "docs": args.docs,
        "backend": args.backend,
    }
    try:
        files = search_scale.generate(args.docs, work, workers)
        home = work / "home"
        write_default_config(home)
        search_scale.use_backend(home, args.backend)
        ws = open_workspace(home)
        try:
            search_scale.build_index(ws, files, workers)
            if args.backend == "tantivy":
                tantivy_index.catch_up(ws, workers=workers)
            queries = search_scale.make_queries(files, args.queries)
            caller = Caller(actor="benchmark", compartments=frozenset({"default"}))
            journal = searchlog._journal(ws)
            search_scale.run_queries(ws, queries[:50])  # warm up
            times: dict[str, list[float]] = {"behind": [], "synced": []}
            for i, (_, q, facets) in enumerate(queries):
                for mode in ("behind", "synced") if i % 2 else ("synced", "behind"):
                    t = time.perf_counter()
                    search(ws, caller, q, limit=10, facets=facets)
                    if mode == "synced":
                        journal.drain()
                    times[mode].append((time.perf_counter() - t) * 1000)
            for mode, xs in times.items():
                result[mode] = {
                    "p50_ms": round(float(np.percentile(xs, 50)), 1),
                    "p95_ms": round(float(np.percentile(xs, 95)), 1),
                    "mean_ms": round(float(np.mean(xs)), 1),
                }
            result["load_average_after"] = os.getloadavg()
        finally:
            ws.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(save(f"search_log_{args.backend}_{args.docs}", result))
    print(result)


if __name__ == "__main__":
    main()
