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

The home built for N names and a seed is kept in benchmarks/out/entity_match/ (git-ignored)
with the people it holds, and reused by the next run of the same code (`--fresh` builds
anew): building 1,000,000 names takes many minutes, the search is what is measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amanah.access import local_administrator
from amanah.entities import candidates as cand
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


def plain(word: str) -> bool:
    """Whether a word stays one part of its own wherever it stands in a three-part name."""
    a, b = ("محمد", "حسن") if nk.is_arabic(word) else ("Karim", "Hassan")
    return len(nm.parse(word).parts) == 1 and all(
        len(nm.parse(n).parts) == 3
        for n in (f"{word} {a} {b}", f"{a} {word} {b}", f"{a} {b} {word}")
    )


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


Vocab = list[tuple[str, list[str], int]]
DATE = "%Y-%m-%d %H:%M:%S.%f"  # how the models' DateTime columns are stored in SQLite
ENTITY_COLS = (
    "id", "kind", "subkind", "sex", "birth_date_precision", "birth_place", "nationality",
    "rank", "father_name", "mother_name", "identifiers", "pcode", "notes", "origin",
    "created_at", "created_by",
)  # fmt: skip
NAME_COLS = (
    "id", "entity_id", "full_name", "script", "language", "kind", "ism", "father",
    "grandfather", "family", "kunya", "created_at", "created_by",
)  # fmt: skip
INDEXES = (  # as migrations 0022 and 0028 make them
    "CREATE INDEX ix_entity_name_keys_key ON entity_name_keys (key, name_id)",
    "CREATE INDEX ix_entity_name_keys_entity ON entity_name_keys (entity_id)",
    "CREATE INDEX ix_entity_name_pairs_name ON entity_name_pairs (name_id)",
)
INSERT_ENTITY = "INSERT INTO entities ({}) VALUES ({})".format(  # noqa: S608 (constants)
    ", ".join(ENTITY_COLS), ", ".join("?" * len(ENTITY_COLS))
)
INSERT_NAME = "INSERT INTO entity_names ({}) VALUES ({})".format(  # noqa: S608 (constants)
    ", ".join(NAME_COLS), ", ".join("?" * len(NAME_COLS))
)


def word_keys(vocab: Vocab) -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """Every spelling of every vocabulary word: its single keys and its part keys, computed
    once (a generated name's keys are the union of its words', its pair keys their pairs)."""
    out = {}
    for arabic, latins, _ in vocab:
        for w in (arabic, *latins[:3]):
            (part,) = nm.parse(w).parts
            out[w] = (frozenset(nm.keys(w)), cand.part_keys(part))
    return out


def build(ws: Any, vocab: Vocab, weights: list[float], count: int, rnd: random.Random) -> tuple:
    """`count` generated persons written straight into entities, names, keys and pair keys
    by executemany on the database's own connection, 20,000 names a statement batch: no
    ORM objects, no custody events, no parsing per name (each word's keys are computed once).
    Returns the people (vocabulary indexes, stored in Arabic) and the share of a sample of
    names whose keys `index_name` would compute the same."""
    wk = word_keys(vocab)
    now = datetime.now(UTC).strftime(DATE)
    people: list[tuple[list[int], bool]] = []
    sample: list[tuple[str, set[str], set[int]]] = []
    raw = ws.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-1000000")
        cur.execute("PRAGMA temp_store=MEMORY")  # the staged pair keys and their sort
        # secondary indexes made once at the end (sorting), pair keys staged and copied in
        # key order (appends to the table's B-tree): random-order inserts into a B-tree of
        # tens of millions of entries is what took the time
        for index in INDEXES:
            cur.execute(f"DROP INDEX {index.split()[2]}")
        cur.execute("CREATE TEMP TABLE pairs_load (key INTEGER, name_id INTEGER)")
        ents, names, keys, pairs = [], [], [], []
        seconds = dict.fromkeys(("entities and names", "keys", "pair keys"), 0.0)
        for i in range(1, count + 1):
            parts = rnd.choices(range(len(vocab)), weights, k=3)
            arabic = rnd.random() < 0.4
            people.append((parts, arabic))
            words = [vocab[p][0] if arabic else rnd.choice(vocab[p][1][:3]) for p in parts]
            name = " ".join(words)
            ents.append((i, "person", "", "", "", "", "", "", "", "", "[]", "", "", "benchmark",
                         now, "benchmark"))  # fmt: skip
            names.append((i, i, name, "Arab" if arabic else "Latn", "", "official", "", "", "",
                          "", "", now, "benchmark"))  # fmt: skip
            ks = set().union(*(wk[w][0] for w in words))
            ps = cand.pairs_of_parts(wk[w][1] for w in words)
            keys.extend((i, k, i) for k in ks)
            pairs.extend((k, i) for k in ps)
            if i % 997 == 0 and len(sample) < 1000:
                sample.append((name, ks, ps))
            if len(ents) == 20_000 or i == count:
                timed = time.perf_counter()
                cur.executemany(INSERT_ENTITY, ents)
                cur.executemany(INSERT_NAME, names)
                seconds["entities and names"] += time.perf_counter() - timed
                timed = time.perf_counter()
                cur.executemany(
                    "INSERT INTO entity_name_keys (name_id, key, entity_id) VALUES (?, ?, ?)", keys
                )
                seconds["keys"] += time.perf_counter() - timed
                timed = time.perf_counter()
                cur.executemany("INSERT INTO pairs_load (key, name_id) VALUES (?, ?)", pairs)
                raw.commit()
                seconds["pair keys"] += time.perf_counter() - timed
                ents, names, keys, pairs = [], [], [], []
        timed = time.perf_counter()
        cur.execute(
            "INSERT INTO entity_name_pairs (key, name_id)"
            " SELECT key, name_id FROM pairs_load ORDER BY key, name_id"
        )
        cur.execute("DROP TABLE pairs_load")
        for index in INDEXES:
            cur.execute(index)
        cur.execute("ANALYZE")
        raw.commit()
        seconds["pair keys"] += time.perf_counter() - timed
    finally:
        raw.close()
    print({k: round(v, 1) for k, v in seconds.items()}, "s inserting")
    same = sum(nm.keys(n) == ks and cand.pair_keys(n) == ps for n, ks, ps in sample)
    return people, round(same / max(1, len(sample)), 3)


CACHE = OUT / "entity_match"


def _version() -> str:
    """A digest of what the stored names and keys depend on (this benchmark, the key
    functions, the schema's migrations, the romanizer's dictionary): any change builds anew."""
    import arabic_name_romanizer

    from amanah.db import migrations

    h = hashlib.sha256()
    for module in (cand, nm, nk):
        h.update(Path(module.__file__ or "").read_bytes())
    h.update(Path(__file__).read_bytes())
    scripts = sorted(p.name for p in Path(migrations.__path__[0]).rglob("*.py"))
    h.update("\n".join(scripts).encode())
    romanizer = Path(arabic_name_romanizer.__file__).parent
    h.update((romanizer / "resources" / "names.sqlite3").read_bytes())
    return h.hexdigest()[:16]


def cached_home(
    count: int, seed: int, fresh: bool, vocab: Vocab, weights: list[float], rnd: random.Random
) -> tuple[Any, list[tuple[list[int], bool]], float, float, bool]:
    """A home holding `count` generated names: built (and kept under CACHE, its people and the
    random state after building beside it, `meta.json` written last), or the kept one
    reopened, so the queries drawn next are the same either way. Returns the open workspace,
    the people, the keys' agreement with `index_name`, the build's seconds, whether reused."""
    home = CACHE / f"home-{count}-{seed}-{_version()}"
    meta = home / "meta.json"
    if meta.exists() and not fresh:
        data = json.loads(meta.read_text())
        version, state, gauss = data["random_state"]
        rnd.setstate((version, tuple(state), gauss))
        people = [(parts, arabic) for parts, arabic in data["people"]]
        ws = open_workspace(home, create=False)
        return ws, people, data["agree"], data["build_s"], True
    if home.exists():  # a build stopped half way, or --fresh
        shutil.rmtree(home)
    home.mkdir(parents=True)
    ws = open_workspace(home, create=True)
    t0 = time.perf_counter()
    people, agree = build(ws, vocab, weights, count, rnd)
    built = time.perf_counter() - t0
    data = {"people": people, "agree": agree, "build_s": round(built, 1)}
    data["random_state"] = rnd.getstate()
    meta.write_text(json.dumps(data))
    return ws, people, agree, built, False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fresh", action="store_true", help="build the names anew, not from out/")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    vocab = vocabulary()
    t0 = time.perf_counter()
    nm.prepare_many([a for a, _, _ in vocab])  # romanise every Arabic part once
    prepared = time.perf_counter() - t0
    # words the parser reads as one part in every spelling and every place of a name (a
    # generated name: three parts, whose keys are its words' keys): not ام, Abu, bin, Abd…,
    # which join the next word into one part (a kunya, a compound)
    vocab = [v for v in vocab if all(plain(w) for w in (v[0], *v[1][:3]))]
    weights = [c**0.7 for _, _, c in vocab]

    ws, people, agree, built, reused = cached_home(
        args.names, args.seed, args.fresh, vocab, weights, rnd
    )
    caller = local_administrator(ws, "local:benchmark")

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
    search_ms, match_ms, candidates, cpu_ms, probe_ms = [], [], [], [], []
    hit1 = hit5 = same1 = 0
    with ws.db.reader() as s:
        for want, q in queries:
            t0 = time.perf_counter()
            cand._ranked_by_pairs(s, cand.pair_keys(q.names[0]))  # the index probes alone
            probe_ms.append((time.perf_counter() - t0) * 1000)
            t0, c0 = time.perf_counter(), time.process_time()
            found = cand.candidates(s, caller, q.names, q.kinds)
            search_ms.append((time.perf_counter() - t0) * 1000)
            cpu_ms.append((time.process_time() - c0) * 1000)
            candidates.append(len(found))
            t0 = time.perf_counter()
            answer = em.match(s, caller, q, limit=5)
            match_ms.append((time.perf_counter() - t0) * 1000)
            got = [r["entity"] for r in answer["results"]]
            hit1 += got[:1] == [want]
            hit5 += want in got
            # or a namesake: another person generated from the same three words
            same1 += bool(got) and people[got[0] - 1][0] == people[want - 1][0]
    ws.close()
    n = len(queries)
    result = {
        "benchmark": "entity_match",
        "machine": machine(),
        "names": args.names,
        "queries": n,
        "romanise_vocabulary_s": round(prepared, 1),
        "build_s": round(built, 1),
        "home_reused": reused,
        "keys_agree_with_index_name": agree,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "candidates_mean": round(statistics.mean(candidates), 1),
        "pair_probe_ms": {
            "p50": round(percentile(probe_ms, 0.5), 2),
            "p95": round(percentile(probe_ms, 0.95), 2),
        },
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
        "recall_at_1_or_namesake": round(same1 / n, 3),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "entity_match.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
