"""Names across scripts: recall@1/@10 and false matches of `amanah.text.name_match`, Arabic
queries against Latin records, next to plain rapidfuzz and the romanizer + rapidfuzz in the
same run; and pair scorings per second on one core.

    python -m benchmarks.name_match [--data ../shared/data] [--limit N] [--pairs 20000]
        [--split test|train] [--threshold 0.8]

Sets (held-out splits; `--split train` the training splits, to calibrate on; no name is
printed or written, only counts and rates; both files are sorted by the Arabic, so `--limit N`
takes the first N, alphabetical neighbours):
- google_ar2en_names/ar2en-test.txt (Wikipedia titles, one word each);
- anetac/translit_dev.{ar,en} (ANETAC's development split: it ships no test split);
- "full names": three-part names (ism, father, family) built from the Google test words, each
  with a brother (another ism) and a son (the ism moved to the father's place) among the
  candidates: a brother or son scored as a match is a false match.

Each Arabic query is ranked against every Latin record of its set: a vectorised rapidfuzz
pass over the romanised skeletons keeps the 20 nearest (blocking), which the matcher
re-scores. Recall@k: the record paired with the query is among the first k. False matches:
wrong records the matcher calls a match, per query (any) and per pair (of all pairs ranked).
Figures go to benchmarks/out/name_match.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from amanah.text import name_match as nm
from amanah.text import names as nk
from benchmarks.common import OUT, machine

BLOCK = 20
#: yente's default threshold for a match by logic-v2.
LOGIC_V2_THRESHOLD = 0.7
# A letter-by-letter reading of Arabic, for the "plain rapidfuzz" baseline (no package).
_PLAIN = str.maketrans(
    {
        "ا": "a",
        "ب": "b",
        "ت": "t",
        "ث": "th",
        "ج": "j",
        "ح": "h",
        "خ": "kh",
        "د": "d",
        "ذ": "dh",
        "ر": "r",
        "ز": "z",
        "س": "s",
        "ش": "sh",
        "ص": "s",
        "ض": "d",
        "ط": "t",
        "ظ": "z",
        "ع": "a",
        "غ": "gh",
        "ف": "f",
        "ق": "q",
        "ك": "k",
        "ل": "l",
        "م": "m",
        "ن": "n",
        "ه": "h",
        "و": "w",
        "ي": "y",
        "ء": "",
    }
)


def load(data: Path, limit: int, split: str = "test") -> dict[str, list[tuple[str, str]]]:
    """The held-out splits (`split` "test"), or the training splits ("train": what a
    threshold or a reading is calibrated on, never the test split)."""
    sets: dict[str, list[tuple[str, str]]] = {}
    g = data / "google_ar2en_names" / f"ar2en-{split}.txt"
    if g.exists():
        rows = [ln.rstrip("\n").split("\t") for ln in g.open(encoding="utf-8")]
        sets[f"google_ar2en {split}"] = [(r[0], r[1]) for r in rows if len(r) == 2]
    a = data / "anetac"
    own = "dev" if split == "test" else split
    if (a / f"translit_{own}.ar").exists():
        ar = (a / f"translit_{own}.ar").read_text(encoding="utf-8").splitlines()
        en = (a / f"translit_{own}.en").read_text(encoding="utf-8").splitlines()
        sets[f"anetac {own}"] = [(x.strip(), y.strip()) for x, y in zip(ar, en, strict=True) if x]
    for k in sets:
        seen: dict[str, str] = {}
        for x, y in sets[k]:
            seen.setdefault(x, y)  # one record per query: the first pairing
        sets[k] = list(seen.items())[:limit] if limit else list(seen.items())
    return sets


def full_names(pairs: list[tuple[str, str]], n: int) -> list[tuple[str, str, str, str]]:
    """(query, record, brother, son) four-tuples of three-part names from one-word pairs."""
    rnd = random.Random(15)
    out = []
    for _ in range(n):
        (a1, e1), (a2, e2), (a3, e3), (_a4, e4) = rnd.sample(pairs, 4)
        out.append((f"{a1} {a2} {a3}", f"{e1} {e2} {e3}", f"{e4} {e2} {e3}", f"{e4} {e1} {e3}"))
    return out


def _plain(text: str) -> str:
    return nk.fold(text).translate(_PLAIN)


def _skeleton(text: str) -> str:
    return " ".join(nk.latin_skeleton(w) for w in nk.name_words(text) if nk.is_latin(w))


def _logic_v2() -> tuple[object, object, float] | None:
    """nomenklatura's logic-v2 (OpenSanctions' matcher), its configuration and yente's
    default match threshold; None when the package is not installed."""
    try:
        from nomenklatura.matching import get_algorithm
        from nomenklatura.matching.types import ScoringConfig
    except ImportError:
        return None
    return get_algorithm("logic-v2"), ScoringConfig.defaults(), LOGIC_V2_THRESHOLD


def _person(name: str, i: int) -> object:
    from followthemoney import model

    e = model.make_entity("Person")
    e.id = f"p{i}"
    e.add("name", name)
    return e


class Records:
    """The records as the vectorised pass compares them: their Latin skeletons, and their
    readings by sound (several a record, each pointing back to it)."""

    def __init__(self, records: list[str]) -> None:
        self.skeletons = [_skeleton(r) for r in records]
        self.sounds: list[str] = []
        self.owner: list[int] = []
        for i, r in enumerate(records):
            for s in nm.sound_readings(nm.parse(r)):
                self.sounds.append(s)
                self.owner.append(i)


def nearest(q: str, parsed: nm.ParsedName, recs: Records) -> dict[int, float]:
    """The BLOCK records nearest to a query by any of its readings (the likeliest
    romanisation, the foreign reading's skeleton, the romanizer's candidates, against the
    records' skeletons; the reading by sound against theirs), by a vectorised pass: the
    records the matcher re-scores."""
    skels = nm.readings(parsed) + [_skeleton(r) for r in nm.romanise(q)]
    block: dict[int, float] = {}
    for s in skels:
        if not s.strip():
            continue
        for _, v, i in process.extract(
            s, recs.skeletons, scorer=Levenshtein.normalized_similarity, limit=BLOCK
        ):
            block[i] = max(block.get(i, 0.0), v)
    for s in nm.sound_readings(parsed):
        found: dict[int, float] = {}
        # a record has several readings: ask for more, keep BLOCK records
        for _, v, j in process.extract(
            s, recs.sounds, scorer=Levenshtein.normalized_similarity, limit=4 * BLOCK
        ):
            i = recs.owner[j]
            if i not in found and len(found) < BLOCK:
                found[i] = v
        for i, v in found.items():
            block[i] = max(block.get(i, 0.0), v)
    return block


def evaluate(
    queries: list[str], records: list[str], gold: list[int], threshold: float = nm.THRESHOLD
) -> dict[str, object]:
    """Rank every record for every query with each method; recall and false matches.
    nomenklatura's logic-v2 (when installed) re-scores the same BLOCK nearest records as
    `name_match` (at about 0.5 ms a pair it cannot score every record): the two scorers
    compared on the same candidates."""
    nm.prepare_many(queries)
    logic = _logic_v2()
    proxies: dict[int, object] = {}
    theirs: list[list[int]] = []
    their_false = their_gold = 0
    recs = Records(records)
    lowered = [r.lower() for r in records]
    methods: dict[str, list[list[int]]] = {
        "rapidfuzz (letter map)": [],
        "romanizer + rapidfuzz": [],
    }
    ours: list[list[int]] = []
    false_pairs = false_queries = pairs = gold_matched = 0
    for qi, q in enumerate(queries):
        plain = process.extract(_plain(q), lowered, scorer=fuzz.WRatio, limit=10)
        methods["rapidfuzz (letter map)"].append([i for _, _, i in plain])
        roman = [r.lower() for r in nm.romanise(q)[:3]] or [_plain(q)]
        best: dict[int, float] = {}
        for r in roman:
            for _, s, i in process.extract(r, lowered, scorer=fuzz.ratio, limit=10):
                best[i] = max(best.get(i, 0.0), s)
        methods["romanizer + rapidfuzz"].append(sorted(best, key=lambda i: -best[i])[:10])
        parsed = nm.parse(q)
        block = nearest(q, parsed, recs)
        scored, scores = [], []
        wrong_match = False
        for i in block:
            sc = nm.score(parsed, records[i], threshold)
            scored.append((sc.value, i))
            scores.append(sc)
            pairs += 1
            if sc.match and i != gold[qi]:
                false_pairs += 1
                wrong_match = True
            if sc.match and i == gold[qi]:
                gold_matched += 1
        false_queries += wrong_match
        ours.append([scored[k][1] for k in nm.order([v for v, _ in scored], scores)][:10])
        if logic is not None:
            algo, config, threshold = logic
            asked = _person(q, -1)
            rated = []
            for i in block:
                if i not in proxies:
                    proxies[i] = _person(records[i], i)
                v = algo.compare(asked, proxies[i], config).score  # type: ignore[attr-defined]
                rated.append((v, i))
                their_false += v >= threshold and i != gold[qi]
                their_gold += v >= threshold and i == gold[qi]
            theirs.append([i for _, i in sorted(rated, key=lambda t: -t[0])][:10])
    n = len(queries)
    total_pairs = n * len(records)

    def recall(ranks: list[list[int]], k: int) -> float:
        return round(sum(gold[q] in r[:k] for q, r in enumerate(ranks)) / n, 4)

    out: dict[str, object] = {"queries": n, "records": len(records)}
    for name, ranks in methods.items():
        out[name] = {"recall@1": recall(ranks, 1), "recall@10": recall(ranks, 10)}
    if logic is not None:
        out["nomenklatura logic-v2 (same 20 nearest)"] = {
            "recall@1": recall(theirs, 1),
            "recall@10": recall(theirs, 10),
            "gold called a match": round(their_gold / n, 4),
            "false matches per pair re-scored": round(their_false / max(1, pairs), 4),
        }
    out["name_match"] = {
        "recall@1": recall(ours, 1),
        "recall@10": recall(ours, 10),
        "gold called a match": round(gold_matched / n, 4),
        "queries with a false match": round(false_queries / n, 4),
        "false matches per pair (of all pairs)": round(false_pairs / total_pairs, 6),
        "false matches per pair re-scored": round(false_pairs / max(1, pairs), 4),
        "pairs re-scored": pairs,
    }
    return out


def evaluate_full(tuples: list[tuple[str, str, str, str]]) -> dict[str, object]:
    """Three-part names: recall, and brothers and sons called a match."""
    nm.prepare_many([t[0] for t in tuples])
    records = [t[1] for t in tuples]
    gold = list(range(len(tuples)))
    out = evaluate([t[0] for t in tuples], records, gold)
    brothers = sum(nm.score(t[0], t[2]).match for t in tuples)
    sons = sum(nm.score(t[0], t[3]).match for t in tuples)
    out["brother called a match"] = round(brothers / len(tuples), 4)
    out["son called a match"] = round(sons / len(tuples), 4)
    return out


def throughput(pairs: list[tuple[str, str]], n: int) -> dict[str, object]:
    """Pair scorings per second on one core: names parsed (romanised) beforehand, as a
    candidate index holds them; each pair distinct, part comparisons not cached."""
    rnd = random.Random(1)
    queries = [nm.parse(a) for a, _ in pairs]
    records = [nm.parse(b) for _, b in pairs]
    todo = [(rnd.choice(queries), rnd.choice(records)) for _ in range(n)]
    nm.clear_cache()
    t, c = time.perf_counter(), time.process_time()
    for a, b in todo:
        nm.score(a, b)
    dt, cpu = time.perf_counter() - t, time.process_time() - c
    return {
        "pairs": n,
        "wall_seconds": round(dt, 3),
        "cpu_seconds": round(cpu, 3),
        "pairs_per_cpu_second": round(n / cpu),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--limit", type=int, default=0, help="queries per set (0: all)")
    ap.add_argument("--full", type=int, default=500, help="three-part names built")
    ap.add_argument("--pairs", type=int, default=20_000, help="pairs scored for the speed")
    ap.add_argument(
        "--split",
        choices=("test", "train"),
        default="test",
        help="held-out splits (default) or the training splits, to calibrate on",
    )
    ap.add_argument(
        "--threshold",
        type=float,
        default=nm.THRESHOLD,
        help="the verdict's threshold (calibrate it on --split train)",
    )
    args = ap.parse_args(argv)
    sets = load(args.data, args.limit, args.split)
    if not sets:
        raise SystemExit(f"{args.data}: no name sets found (google_ar2en_names, anetac)")
    result: dict[str, object] = {"machine": machine(), "threshold": args.threshold}
    for name, pairs in sets.items():
        t = time.perf_counter()
        queries, records = [a for a, _ in pairs], [b for _, b in pairs]
        result[name] = evaluate(queries, records, list(range(len(pairs))), args.threshold)
        result[name]["seconds"] = round(time.perf_counter() - t, 1)  # type: ignore[index]
        print(name, json.dumps(result[name]), flush=True)
    first = next(iter(sets.values()))
    result["full names (3 parts)"] = evaluate_full(full_names(first, args.full))
    print("full names", json.dumps(result["full names (3 parts)"]), flush=True)
    result["speed"] = throughput(first, args.pairs)
    print("speed", json.dumps(result["speed"]), flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "name_match.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
