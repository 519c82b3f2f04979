"""Did you mean: the time a suggestion adds to a search that found nothing.

    python -m benchmarks.search_suggest [--docs 20000] [--queries 200] [--backends fts5,tantivy]

The corpus and the indexing are search_scale's (generated Arabic and English documents, two
compartments, the caller holding one). Each query is one content word of a generated
document with one slip (a letter replaced, dropped, added, or two swapped, at a random place,
the first letter included), alone or with a second, correct word. Timed apart, per backend:

- `suggest`: `search.suggest.suggest_query` on its own: the time a suggestion adds;
- `fallback`: the whole `search(..., fallback=True)` call that finds nothing, suggests, and
  runs the corrected query (two logged searches and the suggestion);
- `exact`: the same queries without the slip (a search with hits: no suggestion is made).

Also: how often the slipped word came back as the word itself (`recovered`), and the number
of indexed words beginning with a letter (what the term-dictionary walk reads: it grows with
the vocabulary, not with the number of documents).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from amanah.access import Caller
from amanah.config import write_default_config
from amanah.search import engine, suggest
from amanah.search.query import parse
from amanah.search.service import search
from amanah.text.analyzer import exact_form, words
from amanah.workspace import open_workspace
from benchmarks.common import OUT, machine, save
from benchmarks.search_scale import (
    AR_LETTERS,
    EN_LETTERS,
    build_index,
    build_tantivy,
    generate,
    make_queries,
    use_backend,
)

CALLER = Caller(actor="benchmark", compartments=frozenset({"default"}))


def slip(word: str, rng: np.random.Generator) -> str:
    """One edit at a random place, with a letter of the word's script."""
    letters = AR_LETTERS if any("\u0600" <= c <= "\u06ff" for c in word) else EN_LETTERS
    i = int(rng.integers(0, len(word)))
    c = letters[int(rng.integers(0, len(letters)))]
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return word[:i] + c + word[i + 1 :]
    if kind == 1 and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if kind == 2 or len(word) < 2:
        return word[:i] + c + word[i:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def typo_queries(files: list[Path], n: int) -> list[tuple[str, str, str]]:
    """(query with a slip, the same query as written, the word slipped in its exact form)."""
    rng = np.random.default_rng(9)
    out = []
    for _, q, _ in make_queries(files, n * 3, seed=8):
        plain = [w for w in q.replace('"', " ").split() if ":" not in w]
        plain = [w for w in plain if len(words(w)) == 1 and len(exact_form(w)) >= 4]
        if not plain:
            continue
        target = plain[0]
        typed = slip(target, rng)
        if exact_form(typed) == exact_form(target) or len(words(typed)) != 1:
            continue
        rest = plain[1:2]
        out.append((" ".join([typed, *rest]), " ".join([target, *rest]), exact_form(target)))
        if len(out) == n:
            break
    return out


def pct(xs: list[float], p: float) -> float:
    return round(float(np.percentile(xs, p)), 2) if xs else 0.0


def measure(ws: object, queries: list[tuple[str, str, str]]) -> dict[str, object]:
    timed: dict[str, list[float]] = {"suggest": [], "fallback": [], "exact": []}
    recovered = offered = 0
    for typed, written, target in queries:
        q = parse(typed)
        t = time.perf_counter()
        found = suggest.suggest_query(ws, CALLER, q)  # type: ignore[arg-type]
        timed["suggest"].append((time.perf_counter() - t) * 1000)
        if found is not None:
            offered += 1
            recovered += any(c.word == target for c in found.corrections)
        t = time.perf_counter()
        search(ws, CALLER, typed, limit=10, fallback=True)  # type: ignore[arg-type]
        timed["fallback"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        search(ws, CALLER, written, limit=10)  # type: ignore[arg-type]
        timed["exact"].append((time.perf_counter() - t) * 1000)
    out: dict[str, object] = {
        k: {"p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "max_ms": round(max(v), 1)}
        for k, v in timed.items()
    }
    out["queries"] = len(queries)
    out["offered"] = offered
    out["recovered"] = recovered
    return out


def dictionary_sizes(ws: object) -> dict[str, int]:
    """Indexed exact forms beginning with a common Latin and Arabic letter."""
    with ws.db.reader() as s:  # type: ignore[attr-defined]
        vocab = suggest.vocabulary(engine.backend(ws, s), s)  # type: ignore[arg-type]
        return {p: len(vocab.starting(p)) for p in ("s", "م")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--backends", default="fts5,tantivy")
    ap.add_argument(
        "--reuse",
        type=Path,
        help="A work folder search_scale kept (--keep): its documents and built homes are"
        " measured as they are, without a second generation and indexing (1,000,000 documents).",
    )
    args = ap.parse_args()
    engines = [b.strip() for b in args.backends.split(",") if b.strip()]
    workers = os.cpu_count() or 1
    OUT.mkdir(exist_ok=True)
    work = args.reuse or Path(tempfile.mkdtemp(prefix="search-suggest-", dir=OUT))
    result: dict[str, object] = {"machine": machine(), "docs": args.docs, "backends": engines}
    result["load_average"] = os.getloadavg()
    try:
        if args.reuse:
            files = sorted(work.glob("docs-*.jsonl"))
            if not files:
                ap.error(f"--reuse {work}: no generated documents there (search_scale --keep)")
        else:
            files = generate(args.docs, work, workers)
        queries = typo_queries(files, args.queries)
        for name in engines:
            home = work / f"home-{name}"
            built: dict[str, object] = {"index_seconds": "reused"}
            if not args.reuse:
                write_default_config(home)
                use_backend(home, name)
            elif not home.is_dir():
                ap.error(f"--reuse {work}: no home-{name} there")
            ws = open_workspace(home)
            try:
                if not args.reuse:
                    print(f"{name}: indexing {args.docs:,} documents", file=sys.stderr)
                    built = (build_tantivy if name == "tantivy" else build_index)(
                        ws, files, workers
                    )
                measure(ws, queries[:20])  # warm the caches as a server would be
                figures = measure(ws, queries)
                figures["terms_beginning_with"] = dictionary_sizes(ws)
                figures["index_seconds"] = built["index_seconds"]
                result[name] = figures
                print(f"{name}: {figures}", file=sys.stderr)
            finally:
                ws.close()
    finally:
        if not args.reuse:
            shutil.rmtree(work, ignore_errors=True)
    result["load_average_end"] = os.getloadavg()
    print(save(f"search_suggest_{args.docs}", result))


if __name__ == "__main__":
    main()
