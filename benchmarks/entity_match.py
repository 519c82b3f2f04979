"""Candidate search and matching for `entity match`: p50/p95 per query over N stored names.

    python -m benchmarks.entity_match [--names 100000] [--queries 200] [--seed 7]

Names are generated, not taken from any list of people: three parts (ism, father, family)
drawn from the single-word names of the romanizer's shipped dictionary, weighted by how often
each is attested (so محمد and Mohammad are common, as in life); about 40% are stored in Arabic
script, the rest in one of their attested Latin spellings. They are written straight into the
tables (entities, names, keys: the keys `nm.keys` gives, as `entity name parse` would store
them) of a fresh embedded home, without custody events: this measures the search, not intake.

Each query is a stored person asked for in the other script (an Arabic name by an attested
Latin spelling, a Latin one by its Arabic spelling), through `amanah.entities.match` as the
local administrator. Timed per query: candidate search alone (key lookup and need-to-know
filter) and the whole match (candidates, scoring, ranking). Also recall@1 and @5 of the person
asked for. Figures go to benchmarks/out/entity_match.json; no name is printed.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from amanah.access import local_administrator
from amanah.db.models import Entity, EntityName, EntityNameKey
from amanah.entities import match as em
from amanah.text import name_match as nm
from amanah.text import names as nk
from amanah.workspace import open_workspace
from benchmarks.common import OUT, machine

VOCABULARY = 1500


def vocabulary() -> list[tuple[str, list[str], int]]:
    """(Arabic word, its attested Latin spellings, count), the commonest VOCABULARY."""
    import arabic_name_romanizer

    db = Path(arabic_name_romanizer.__file__).parent / "resources" / "names.sqlite3"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT arabic_key, latin, count FROM units").fetchall()
    con.close()
    words: dict[str, dict[str, int]] = {}
    for arabic, latin, count in rows:
        if " " in arabic.strip() or " " in latin.strip() or not nk.is_arabic(arabic):
            continue
        if not latin.isalpha():
            continue
        words.setdefault(arabic, {})
        words[arabic][latin] = words[arabic].get(latin, 0) + count
    ranked = sorted(words.items(), key=lambda kv: -sum(kv[1].values()))[:VOCABULARY]
    return [(a, sorted(ls, key=lambda x: -ls[x]), sum(ls.values())) for a, ls in ranked]


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    vocab = vocabulary()
    weights = [c**0.7 for _, _, c in vocab]
    t0 = time.perf_counter()
    nm.prepare_many([a for a, _, _ in vocab])  # romanise every Arabic part once
    prepared = time.perf_counter() - t0

    home = Path(tempfile.mkdtemp(prefix="entity-match-"))
    ws = open_workspace(home, create=True)
    caller = local_administrator(ws, "local:benchmark")
    now = datetime.now(UTC)
    people: list[tuple[list[int], bool]] = []  # parts (vocabulary indexes), stored in Arabic
    t0 = time.perf_counter()
    with ws.db.session() as s:
        batch_e, batch_n, batch_k = [], [], []
        for i in range(1, args.names + 1):
            parts = rnd.choices(range(len(vocab)), weights, k=3)
            arabic = rnd.random() < 0.4
            people.append((parts, arabic))
            if arabic:
                name = " ".join(vocab[p][0] for p in parts)
            else:
                name = " ".join(rnd.choice(vocab[p][1][:3]) for p in parts)
            batch_e.append(
                {"id": i, "kind": "person", "subkind": "", "sex": "", "birth_date_precision": "",
                 "birth_place": "", "nationality": "", "rank": "", "father_name": "",
                 "mother_name": "", "identifiers": "[]", "pcode": "", "notes": "",
                 "origin": "benchmark", "created_at": now, "created_by": "benchmark"}
            )  # fmt: skip
            batch_n.append(
                {"id": i, "entity_id": i, "full_name": name, "script": "Arab" if arabic else "Latn",
                 "language": "", "kind": "official", "ism": "", "father": "", "grandfather": "",
                 "family": "", "kunya": "", "created_at": now, "created_by": "benchmark"}
            )  # fmt: skip
            batch_k.extend({"name_id": i, "key": k, "entity_id": i} for k in nm.keys(name))
            if len(batch_e) == 5000 or i == args.names:
                s.execute(insert(Entity), batch_e)
                s.execute(insert(EntityName), batch_n)
                s.execute(insert(EntityNameKey), batch_k)
                batch_e, batch_n, batch_k = [], [], []
    built = time.perf_counter() - t0

    asked = rnd.sample(range(args.names), min(args.queries, args.names))
    queries = []
    for idx in asked:
        parts, arabic = people[idx]
        if arabic:  # asked for by a Latin spelling
            name = " ".join(rnd.choice(vocab[p][1][:3]) for p in parts)
        else:
            name = " ".join(vocab[p][0] for p in parts)
        queries.append((idx + 1, em.Query(f"q{idx + 1}", ("person",), (name,), frozenset())))
    nm.prepare_many([q.names[0] for _, q in queries])
    search_ms, match_ms, candidates, cpu_ms = [], [], [], []
    hit1 = hit5 = 0
    with ws.db.reader() as s:
        for want, q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            found = em._candidates(s, caller, nm.keys(q.names[0]), q.kinds)
            search_ms.append((time.perf_counter() - t0) * 1000)
            cpu_ms.append((time.process_time() - c0) * 1000)
            candidates.append(len(found))
            t0 = time.perf_counter()
            answer = em.match(s, caller, q, limit=5)
            match_ms.append((time.perf_counter() - t0) * 1000)
            got = [r["entity"] for r in answer["results"]]
            hit1 += got[:1] == [want]
            hit5 += want in got
    ws.close()
    n = len(queries)
    result = {
        "benchmark": "entity_match",
        "machine": machine(),
        "names": args.names,
        "queries": n,
        "romanise_vocabulary_s": round(prepared, 1),
        "build_s": round(built, 1),
        "candidates_mean": round(statistics.mean(candidates), 1),
        "candidate_search_ms": {
            "p50": round(percentile(search_ms, 0.5), 2),
            "p95": round(percentile(search_ms, 0.95), 2),
        },
        "candidate_search_cpu_ms": {
            "p50": round(percentile(cpu_ms, 0.5), 2),
            "p95": round(percentile(cpu_ms, 0.95), 2),
        },
        "match_ms": {
            "p50": round(percentile(match_ms, 0.5), 2),
            "p95": round(percentile(match_ms, 0.95), 2),
        },
        "recall_at_1": round(hit1 / n, 3),
        "recall_at_5": round(hit5 / n, 3),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "entity_match.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
