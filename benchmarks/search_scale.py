"""Search at scale: index N generated documents, then time a realistic mix of queries.

    python -m benchmarks.search_scale [--docs 1000000] [--queries 1000]
        [--backends fts5,tantivy,postgresql]

Documents are generated (Arabic 60 %, English 40 %) from Zipf-distributed vocabularies with
Arabic particles and the article attached as in real text, lengths drawn from a log-normal
distribution (median 150 words, capped at 3,000), dates 2011-2024, ten collections in two
compartments; 60 rare names and places are planted in 3-30 documents each. Generation is
not timed. Indexing is timed end to end: analysis on every core, one writer.

The queries: 25 % a rare name, 35 % two or three content words of one document, 15 % a
two-word phrase, 25 % two words with a filter (language, date or collection) and all facets.
Content words: not among the 200 most frequent of their vocabulary, which stand for the
stopwords (في، من، the, of) that analysts do not search for; a tenth as many queries made of
those words only are timed apart, as the worst case.
Each goes through `amanah.search.service.search` as the CLI calls it: parse, need-to-know,
count, ten highlighted snippets, and the search-log write (a ledger event) included.

`--backends` runs every named backend in one run, each in a home of its own with
`search_backend` set to its name: fts5 and tantivy on SQLite, postgresql on a PostgreSQL
server the benchmark starts. For tantivy the outbox is applied to its index after the rows
are written (analysis again on every core, one writer), timed apart. Every query's total is
compared with the first backend's. Figures per query kind and for the stopword queries; when
the result of the other size (100,000 or 1,000,000) is in benchmarks/out, the p95 ratio
between the two sizes is added per backend (the target: at most 1.5).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from amanah.access import Caller
from amanah.config import write_default_config
from amanah.search import index, tantivy_index
from amanah.search.service import search
from amanah.workspace import open_workspace
from benchmarks.common import OUT, machine, save

AR_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
EN_LETTERS = "abcdefghijklmnopqrstuvwxyz"
VOCAB = 200_000
COLLECTIONS = 10
BATCH = 2_000


def _vocab(rng: np.random.Generator, letters: str, n: int) -> list[str]:
    lengths = rng.integers(3, 8, size=n)
    chars = rng.integers(0, len(letters), size=int(lengths.sum()))
    out, i = [], 0
    for n_ in lengths:
        out.append("".join(letters[c] for c in chars[i : i + n_]))
        i += n_
    return out


def _zipf_cdf(n: int, s: float = 1.07) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return np.cumsum(w) / w.sum()


def _planted(rng: np.random.Generator) -> list[str]:
    names = []
    for k in range(60):
        letters = AR_LETTERS if k % 2 == 0 else EN_LETTERS.upper()
        w = _vocab(rng, letters, 2)
        names.append(
            f"{w[0]}{letters[k % len(letters)]}ظ {w[1]}"
            if k % 2 == 0
            else f"{w[0].title()}x {w[1].title()}q"
        )
    return names


def _generate(args: tuple[int, int, int, int, str]) -> int:
    """Write documents [start, stop) as JSON lines; deterministic from the seeds."""
    start, stop, total, seed, path = args
    rng = np.random.default_rng(seed)
    vocab_rng = np.random.default_rng(7)
    ar, en = _vocab(vocab_rng, AR_LETTERS, VOCAB), _vocab(vocab_rng, EN_LETTERS, VOCAB)
    names = _planted(np.random.default_rng(11))
    plant = {}
    prng = np.random.default_rng(13)
    for name in names:
        for doc in prng.integers(1, total + 1, size=int(prng.integers(3, 31))):
            plant.setdefault(int(doc), []).append(name)
    cdf = _zipf_cdf(VOCAB)
    with open(path, "w", encoding="utf-8") as f:
        for doc_id in range(start, stop):
            arabic = rng.random() < 0.6
            n = int(min(3000, max(5, rng.lognormal(np.log(150), 0.9))))
            ranks = np.searchsorted(cdf, rng.random(n))
            vocab = ar if arabic else en
            words = [vocab[r] for r in ranks]
            if arabic:
                for i in np.nonzero(rng.random(n) < 0.3)[0]:
                    words[i] = "ال" + words[i]
                for i in np.nonzero(rng.random(n) < 0.12)[0]:
                    words[i] = ("و", "ب", "ل", "وال", "بال")[int(rng.integers(0, 5))] + words[i]
            else:
                for i in np.nonzero(rng.random(n) < 0.1)[0]:
                    words[i] = words[i] + "s"
            for name in plant.get(doc_id, []):
                words.insert(int(rng.integers(0, len(words) + 1)), name)
            coll = int(rng.integers(0, COLLECTIONS))
            f.write(
                json.dumps(
                    {
                        "id": doc_id,
                        "lang": "ar" if arabic else "en",
                        "coll": coll,
                        "date": f"{int(rng.integers(2011, 2025))}-"
                        f"{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}",
                        "body": " ".join(words),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return stop - start


def generate(n: int, folder: Path, workers: int) -> list[Path]:
    parts = max(workers * 4, 1)
    step = (n + parts - 1) // parts
    jobs = [
        (1 + i * step, min(n, (i + 1) * step) + 1, n, 1000 + i, str(folder / f"docs-{i:03d}.jsonl"))
        for i in range(parts)
        if 1 + i * step <= n
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_generate, jobs))
    return [Path(j[4]) for j in jobs]


def _read(files: list[Path]) -> Iterator[list[dict[str, object]]]:
    batch: list[dict[str, object]] = []
    for path in files:
        with path.open(encoding="utf-8") as f:
            for line in f:
                batch.append(json.loads(line))
                if len(batch) == BATCH:
                    yield batch
                    batch = []
    if batch:
        yield batch


def _setup_catalogue(ws: object) -> dict[int, tuple[int, int, str]]:
    """Providers and collections rows, as intake would have made them."""
    from datetime import UTC, datetime

    from amanah.db.models import Collection, Provider

    out = {}
    with ws.db.session() as s:  # type: ignore[attr-defined]
        providers = []
        for p in range(3):
            prov = Provider(name=f"Provider {p}", created_at=datetime.now(UTC))
            s.add(prov)
            providers.append(prov)
        s.flush()
        for c in range(COLLECTIONS):
            coll = Collection(
                name=f"collection-{c}",
                provider_id=providers[c % 3].id,
                compartment="restricted" if c == COLLECTIONS - 1 else "default",
                created_at=datetime.now(UTC),
            )
            s.add(coll)
            s.flush()
            out[c] = (coll.id, coll.provider_id, coll.compartment)
    return out


def build_index(ws: object, files: list[Path], workers: int) -> dict[str, float]:
    """Write the search rows (search_docs, search_texts, and FTS5's terms or PostgreSQL's
    tsvectors where the backend keeps them), as processing does, in batches; the terms are
    made on every core, a batch ahead of the writer. A home feeding tantivy writes no terms
    here (tantivy's writer analyses the text when it applies the outbox), so none are made."""
    catalogue = _setup_catalogue(ws)
    with ws.db.reader() as s:  # type: ignore[attr-defined]
        needs_terms = index.backend_for(s).needs_terms
    t0 = time.perf_counter()
    done = 0
    with index.bulk(ws), ProcessPoolExecutor(max_workers=workers) as pool:  # type: ignore[arg-type]
        pending = None
        for batch in _read(files):
            docs = [
                index.IndexDoc(
                    item_id=int(d["id"]),  # type: ignore[arg-type]
                    collection_id=catalogue[int(d["coll"])][0],  # type: ignore[arg-type]
                    provider_id=catalogue[int(d["coll"])][1],  # type: ignore[arg-type]
                    compartment=catalogue[int(d["coll"])][2],  # type: ignore[arg-type]
                    media_type="text/plain" if d["lang"] == "en" else "application/pdf",
                    langs=f",{d['lang']},",
                    doc_date=str(d["date"]),
                    year=int(str(d["date"])[:4]),
                    has_ocr=d["lang"] == "ar" and int(d["id"]) % 3 == 0,  # type: ignore[call-overload]
                    has_text=True,
                    path=f"/handover/{d['coll']}/doc-{d['id']}.txt",
                    body=str(d["body"]),
                )
                for d in batch
            ]
            future = (
                pool.submit(index._analyze_all, [d.body for d in docs]) if needs_terms else None
            )
            if pending is not None:
                _write(ws, *pending)
                done += len(pending[0])
            pending = (docs, future)
            if done and done % 100_000 < BATCH:
                rate = done / (time.perf_counter() - t0)
                print(f"  {done:,} documents, {rate:,.0f}/s", file=sys.stderr, flush=True)
        if pending is not None:
            _write(ws, *pending)
            done += len(pending[0])
    indexed = time.perf_counter() - t0  # rows and terms, then the GIN build or FTS5 merge
    with ws.db.reader() as s:  # type: ignore[attr-defined]
        size = index.backend_for(s).size_bytes(s)
    return {
        "documents": done,
        "index_seconds": round(indexed, 1),
        "documents_per_second": round(done / indexed),
        "index_bytes": size,
    }


def _write(ws: object, docs: list[index.IndexDoc], future: object) -> None:
    terms = future.result() if future is not None else None  # type: ignore[attr-defined]
    with ws.db.session() as s:  # type: ignore[attr-defined]
        index.put(s, docs, terms, fresh=True)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the analysis pools): on a
    shared machine the wall time says how busy the others were, this what indexing cost."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def build_tantivy(ws: object, files: list[Path], workers: int) -> dict[str, float]:
    """The embedded default's indexing, end to end: the feed is registered first (as
    `amanah process` does), the rows written (the outbox filled by the database's triggers in
    the same transactions), then the outbox applied to tantivy (analysis on every core, one
    writer), timed apart and together."""
    tantivy_index.open_index(ws)  # type: ignore[arg-type]
    cpu = cpu_seconds()
    built = build_index(ws, files, workers)
    rows_cpu = cpu_seconds() - cpu
    t = time.perf_counter()
    tantivy_index.catch_up(ws, workers=workers)  # type: ignore[arg-type]
    took = time.perf_counter() - t
    total = built["index_seconds"] + took
    cpu = cpu_seconds() - cpu
    n = built["documents"]
    return {
        **built,
        "rows_cpu_ms_per_document": round(rows_cpu * 1000 / n, 3),
        "tantivy_cpu_ms_per_document": round((cpu - rows_cpu) * 1000 / n, 3),
        "cpu_ms_per_document": round(cpu * 1000 / n, 3),
        # what two idle cores would reach were every stage overlapped: the CPU's bound
        "idle_bound_documents_per_second": round((os.cpu_count() or 1) * n / cpu),
        "load_average_after": os.getloadavg(),
        "tantivy_seconds": round(took, 1),
        "tantivy_documents_per_second": round(built["documents"] / took),
        "tantivy_bytes": tantivy_index.size_bytes(ws),  # type: ignore[arg-type]
        "end_to_end_seconds": round(total, 1),
        "end_to_end_documents_per_second": round(built["documents"] / total),
    }


STOPWORDS = 200  # the most frequent words of each vocabulary play the part of في, من, the, of


def _stopwords() -> set[str]:
    vocab_rng = np.random.default_rng(7)
    ar, en = _vocab(vocab_rng, AR_LETTERS, VOCAB), _vocab(vocab_rng, EN_LETTERS, VOCAB)
    return set(ar[:STOPWORDS]) | set(en[:STOPWORDS])


def _is_stop(word: str, stop: set[str]) -> bool:
    """Whether a written word is a stopword, with or without what may be attached to it."""
    forms = {word, word[:-1] if word.endswith("s") else word}
    forms |= {word[len(p) :] for p in ("وال", "بال", "ال", "و", "ب", "ل") if word.startswith(p)}
    return bool(forms & stop)


def make_queries(
    files: list[Path], n: int, seed: int = 5, common: bool = False
) -> list[tuple[str, str, bool]]:
    """(kind, query, facets) drawn from the generated documents.

    Words are content words, as an analyst types them (names, places, units, acts), not the
    stopword band; `common` draws only from that band, as a worst case.
    """
    rng = np.random.default_rng(seed)
    names = _planted(np.random.default_rng(11))
    stop = _stopwords()
    sample: list[dict[str, object]] = []
    with files[0].open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 5000:
                break
            sample.append(json.loads(line))
    queries = []
    for i in range(n):
        doc = sample[int(rng.integers(0, len(sample)))]
        words = str(doc["body"]).split()
        kind = ("name", "terms", "phrase", "filtered")[
            int(np.searchsorted([0.25, 0.60, 0.75, 1.0], rng.random(), side="right"))
        ]
        if common:
            kind = ("terms", "phrase", "filtered")[i % 3]
        content = [w for w in words if _is_stop(w, stop) == common] or words
        if kind == "name":
            name = names[i % len(names)]
            queries.append((kind, f'"{name}"' if i % 2 else name.split()[0], False))
        elif kind == "terms":
            k = int(rng.integers(2, 4))
            queries.append((kind, " ".join(rng.choice(content, size=k)), False))
        elif kind == "phrase":
            pairs = [
                (a, b)
                for a, b in itertools.pairwise(words)
                if _is_stop(a, stop) == common or _is_stop(b, stop) == common
            ] or [(words[0], words[-1])]
            a, b = pairs[int(rng.integers(0, len(pairs)))]
            queries.append((kind, f'"{a} {b}"', False))
        else:
            extra = (
                f"lang:{doc['lang']}",
                f"after:{int(rng.integers(2012, 2020))}",
                # The last collection is in the compartment the benchmark's caller lacks.
                f"collection:collection-{int(doc['coll']) % (COLLECTIONS - 1)}",  # type: ignore[call-overload]
            )[i % 3]
            queries.append((kind, " ".join(rng.choice(content, size=2)) + " " + extra, True))
    return queries


def run_queries(ws: object, queries: list[tuple[str, str, bool]]) -> dict[str, object]:
    caller = Caller(actor="benchmark", compartments=frozenset({"default"}))
    times: dict[str, list[float]] = {}
    hits: dict[str, list[int]] = {}
    totals = []
    for kind, q, facets in queries:
        t = time.perf_counter()
        r = search(ws, caller, q, limit=10, facets=facets)  # type: ignore[arg-type]
        times.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        hits.setdefault(kind, []).append(r.total)
        totals.append(r.total)
    every = [x for v in times.values() for x in v]

    def pct(xs: list[float], p: float) -> float:
        return round(float(np.percentile(xs, p)), 1)

    return {
        "queries": len(every),
        "p50_ms": pct(every, 50),
        "p95_ms": pct(every, 95),
        "max_ms": round(max(every), 1),
        "by_kind": {
            k: {
                "n": len(v),
                "p50_ms": pct(v, 50),
                "p95_ms": pct(v, 95),
                "median_hits": statistics.median(hits[k]),
            }
            for k, v in times.items()
        },
        "totals": totals,
    }


BACKENDS = ("fts5", "tantivy", "postgresql")
RATIO_SIZES = (100_000, 1_000_000)


def use_backend(home: Path, name: str) -> None:
    """Select a search backend in a home's amanah.toml (whatever its default is)."""
    config = home / "amanah.toml"
    text, n = re.subn(
        r'(?m)^search_backend = ".*"$', f'search_backend = "{name}"', config.read_text()
    )
    if n != 1:
        raise SystemExit(f"{config}: no search_backend line to set")
    config.write_text(text)


def size_ratios(docs: int, result: dict[str, object]) -> dict[str, dict[str, float]]:
    """p95 at 1,000,000 over p95 at 100,000, per backend, from this run and the saved one."""
    if docs not in RATIO_SIZES:
        return {}
    other = RATIO_SIZES[1 - RATIO_SIZES.index(docs)]
    saved = OUT / f"search_scale_{other}.json"
    if not saved.exists():
        return {}
    runs = {docs: result, other: json.loads(saved.read_text())}
    small, large = runs[RATIO_SIZES[0]], runs[RATIO_SIZES[1]]
    out = {}
    for name in BACKENDS:
        a, b = small.get(name), large.get(name)
        if name == "fts5":  # results saved before --backends called it "sqlite"
            a, b = a or small.get("sqlite"), b or large.get("sqlite")
        if not isinstance(a, dict) or not isinstance(b, dict) or "p95_ms" not in a:
            continue
        if "p95_ms" not in b:
            continue
        ratios = {"mixed_p95": round(b["p95_ms"] / a["p95_ms"], 2)}
        ratios["stopword_p95"] = round(
            b["stopword_queries"]["p95_ms"] / a["stopword_queries"]["p95_ms"], 2
        )
        for kind, fig in a["by_kind"].items():
            if kind in b["by_kind"]:
                ratios[f"{kind}_p95"] = round(b["by_kind"][kind]["p95_ms"] / fig["p95_ms"], 2)
        out[name] = ratios
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument(
        "--backends",
        default="fts5,tantivy",
        help=f"Comma-separated, in this order of comparison: {', '.join(BACKENDS)}.",
    )
    ap.add_argument("--postgresql", action="store_true", help="Same as adding postgresql.")
    ap.add_argument("--tantivy", action="store_true", help="Same as adding tantivy.")
    ap.add_argument("--keep", action="store_true", help="Keep the generated files and homes.")
    ap.add_argument(
        "--index-only", action="store_true", help="Time the indexing only, run no queries."
    )
    ap.add_argument("--tag", default="", help="Added to the result's name, for runs side by side.")
    args = ap.parse_args()
    engines = [b.strip() for b in args.backends.split(",") if b.strip()]
    engines += [b for b in ("postgresql", "tantivy") if getattr(args, b) and b not in engines]
    unknown = [b for b in engines if b not in BACKENDS]
    if unknown or not engines:
        ap.error(f"--backends: choose among {', '.join(BACKENDS)}, not {unknown or 'nothing'}")
    workers = os.cpu_count() or 1
    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="search-scale-", dir=OUT))
    name = f"search_scale_{args.docs}"
    if args.index_only:  # kept apart: the size ratios read the runs with queries
        name = f"search_scale_index_{args.docs}"
    if args.tag:
        name += f"_{args.tag}"
    result: dict[str, object] = {
        "machine": machine(),
        "load_average": os.getloadavg(),
        "docs": args.docs,
        "backends": engines,
        "complete": False,  # until every backend has run: a run stopped early keeps the others'
    }
    try:
        t = time.perf_counter()
        files = generate(args.docs, work, workers)
        result["generate_seconds"] = round(time.perf_counter() - t, 1)
        queries = make_queries(files, args.queries)
        common = make_queries(files, max(30, args.queries // 10), seed=6, common=True)
        first_totals: list[int] | None = None
        for engine in engines:
            home = work / f"home-{engine}"
            server = None
            if engine == "postgresql":
                from tests.servers import start_postgres

                server = start_postgres()
                if isinstance(server, str):
                    result[engine] = {"skipped": server}
                    continue
                write_default_config(home, server.create_database())
            else:
                write_default_config(home)
            use_backend(home, engine)
            ws = open_workspace(home)
            try:
                print(f"{engine}: indexing {args.docs:,} documents", file=sys.stderr)
                if engine == "tantivy":
                    built = build_tantivy(ws, files, workers)
                else:
                    built = build_index(ws, files, workers)
                print(f"{engine}: {built}", file=sys.stderr)
                if args.index_only:
                    result[engine] = built
                    save(name, result)
                    continue
                print(f"{engine}: {len(queries)} queries", file=sys.stderr)
                run_queries(ws, queries[:50])  # warm the page cache as a server would be
                measured = run_queries(ws, queries)
                worst = run_queries(ws, common)
                totals = measured.pop("totals") + worst.pop("totals")  # type: ignore[operator]
                if first_totals is None:
                    first_totals = totals
                else:
                    measured["same_totals_as_first"] = sum(
                        a == b for a, b in zip(first_totals, totals, strict=True)
                    )
                    measured["totals_compared"] = len(totals)
                result[engine] = {**built, **measured, "stopword_queries": worst}
                result["load_average_end"] = os.getloadavg()
                save(name, result)  # a long run stopped later keeps what it measured
                print(f"{engine}: {measured}", file=sys.stderr)
            finally:
                ws.close()
                if server is not None:
                    server.stop()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result["complete"] = True
    if not args.index_only:
        ratios = size_ratios(args.docs, result)
        if ratios:
            result["p95_ratio_1m_over_100k"] = ratios
    print(save(name, result))
    subprocess.run(["cat", str(OUT / f"{name}.json")], check=False)


if __name__ == "__main__":
    main()
