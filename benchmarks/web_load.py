"""20 concurrent clients against `amanah serve` on a workspace of 100,000 items.

    python -m benchmarks.web_load [--items 100000] [--clients 20] [--seconds 120]

The workspace: N generated documents (the search benchmark's generator: Arabic and English,
Zipf vocabularies, median 150 words) written as files and ingested for real (items, blobs,
custody events), then given what processing makes of a UTF-8 text file (media type, language,
the text derivative, which for such a file is its own bytes) and indexed with `amanah
reindex`. Building it is not timed.

The load: each client holds a browser session (signed in through the form) and a token, and
loops for the duration over: the search page (35 %), the search API (15 %), an item page with
its text and highlights (35 %), and a small upload through the API (15 %, 2-20 KB, processed
by the embedded runner meanwhile, as `amanah serve` runs it). Latency is measured by the
client around each request on loopback; the clients share the machine's two cores with the
server and its runner.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select, update

from amanah.db.models import Derivative, Item, Job
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.search.index import reindex
from amanah.workspace import open_workspace
from benchmarks.common import machine, save
from benchmarks.search_scale import COLLECTIONS, generate
from benchmarks.webserver import Server, accounts, signed_in_client

MIX = (("search page", 35), ("search api", 15), ("item page", 35), ("upload", 15))


def build(home: Path, n: int, tmp: Path) -> tuple[list[int], list[str]]:
    """Ingest n documents and record what processing makes of text files; return the item
    ids and a pool of words to search for."""
    (tmp / "gen").mkdir()
    files = generate(n, tmp / "gen", 2)
    words: list[str] = []
    rng = random.Random(5)
    for path in files:
        with path.open(encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                target = tmp / "handover" / f"collection-{d['coll']}" / f"doc-{d['id']}.txt"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(d["body"], encoding="utf-8")
                if rng.random() < 0.01:
                    ws_ = [w for w in d["body"].split() if len(w) > 4]
                    words.extend(rng.sample(ws_, min(3, len(ws_))))
        path.unlink()
    ws = open_workspace(home)
    t0 = time.perf_counter()
    for c in range(COLLECTIONS):
        ingest(
            ws,
            IntakeRequest(
                sources=[str(tmp / "handover" / f"collection-{c}")],
                collection=f"collection-{c}",
                provider=f"Provider {c % 3}",
                actor="local:benchmark",
            ),
        )
    print(f"  ingested {n:,} files in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    shutil.rmtree(tmp / "handover")
    now = datetime.now(UTC)
    with ws.db.session() as s:
        rows = s.execute(select(Item.id, Item.sha256, Item.size)).all()
        s.execute(
            update(Item).values(
                processing="done",
                media_type="text/plain",
                languages='[{"language": "ar", "confidence": 0.99, "method": "lingua"}]',
            )
        )
        s.execute(
            Derivative.__table__.insert(),
            [
                {
                    "item_id": i,
                    "kind": "text",
                    "page": 0,
                    "sha256": sha,
                    "size": size,
                    "media_type": "text/plain; charset=utf-8",
                    "details": "{}",
                    "created_at": now,
                }
                for i, sha, size in rows
            ],
        )
        s.execute(Job.__table__.delete())
    stats = reindex(ws)
    print(f"  indexed {stats.items:,} items in {stats.seconds:.0f} s", file=sys.stderr)
    ws.close()
    return [r[0] for r in rows], words


def client(
    base: str,
    tokens: dict[str, str],
    page: httpx.Client,
    ids: list[int],
    words: list[str],
    until: float,
    seed: int,
    out: dict[str, list[float]],
    errors: list[str],
    lock: threading.Lock,
    think: float,
) -> None:
    rng = random.Random(seed)
    api = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {tokens['analyst']}"}, timeout=60
    )
    uploader = {"Authorization": f"Bearer {tokens['intake']}"}  # analysts do not upload
    routes = [r for r, _ in MIX]
    weights = [w for _, w in MIX]
    while time.monotonic() < until:
        if think:
            time.sleep(rng.uniform(0, 2 * think))
        route = rng.choices(routes, weights)[0]
        q = " ".join(rng.sample(words, rng.choice((1, 2))))
        t0 = time.perf_counter()
        try:
            if route == "search page":
                r = page.get("/search", params={"q": q})
            elif route == "search api":
                r = api.get("/api/v1/search", params={"q": q, "facets": "true"})
            elif route == "item page":
                r = page.get(f"/items/{rng.choice(ids)}", params={"q": q})
            else:
                body = rng.randbytes(rng.randint(2_000, 20_000))
                r = api.post(
                    f"/api/v1/collections/collection-{rng.randrange(COLLECTIONS)}/items",
                    params={"filename": f"load/{seed}-{t0}.bin"},
                    content=body,
                    headers=uploader,
                )
            elapsed = (time.perf_counter() - t0) * 1000
            ok = r.status_code in (200, 201)
        except httpx.HTTPError as exc:
            elapsed, ok, r = (time.perf_counter() - t0) * 1000, False, None
            reason = f"{route}: {exc}"
        with lock:
            out.setdefault(route, []).append(elapsed)
            if not ok:
                errors.append(reason if r is None else f"{route}: {r.status_code} {r.text[:200]}")


def pct(values: list[float], p: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(p) - 1], 1) if len(values) > 1 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--web-workers", type=int, default=None, help="amanah serve --web-workers")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="build the workspace in this folder and keep it; reuse it when it is there",
    )
    ap.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean pause between one client's requests, seconds (0: as fast as answered)",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="amanah-web-load-"))
    try:
        home = args.keep or tmp / "home"
        saved = home / "web-load.json"
        if saved.exists():
            ids, words = json.loads(saved.read_text())
        else:
            ids, words = build(home, args.items, tmp)
            saved.write_text(json.dumps([ids, words]))
        ws = open_workspace(home)
        tokens = accounts(ws, run=tmp.name)
        ws.close()
        server = Server(home, web_workers=args.web_workers)
        try:
            out: dict[str, list[float]] = {}
            errors: list[str] = []
            lock = threading.Lock()
            # Signed in one after another, as people arrive: twenty sign-ins of one name at
            # the same instant are what the guessing limit refuses (amanah.access.limits).
            pages = [
                signed_in_client(server.base, f"bench-analyst-{tmp.name}")
                for _ in range(args.clients)
            ]
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(
                    target=client,
                    args=(
                        server.base,
                        tokens,
                        pages[n],
                        ids,
                        words,
                        until,
                        n,
                        out,
                        errors,
                        lock,
                        args.think,
                    ),
                )
                for n in range(args.clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            peak = server.peak_rss_kib()
            anon = server.anon_kib()
        finally:
            server.stop()
        routes = {
            route: {
                "requests": len(v),
                "p50_ms": pct(v, 50),
                "p95_ms": pct(v, 95),
                "p99_ms": pct(v, 99),
            }
            for route, v in sorted(out.items())
        }
        result = {
            "machine": machine(),
            "items": args.items,
            "clients": args.clients,
            "seconds": args.seconds,
            "think_seconds": args.think,
            "requests": sum(len(v) for v in out.values()),
            "requests_per_second": round(sum(len(v) for v in out.values()) / args.seconds, 1),
            "errors": len(errors),
            "first_errors": errors[:5],
            "routes": routes,
            "server_peak_rss_mib": round(peak / 1024, 1),
            "server_private_rss_mib_at_end": round(anon / 1024, 1),
        }
        print(save(f"web_load-think{args.think:g}", result))
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
