"""Why `name_match` misses: the queries of Google's ar2en *training* split whose right record
is not ranked first, counted by class (never the test split: what is learnt here is tuned on).

    python -m benchmarks.name_misses [--data ../shared/data] [--limit 400] [--samples 5]

Each sample is `--limit` queries drawn at random (seeded) from the training split, ranked
against the sample's records as `benchmarks.name_match` ranks them (the 20 nearest by any
reading, re-scored and ordered by `name_match.order`). A miss is counted once by its cause
(not among the nearest, near-equal to a wrong record whose spelling the romanizer's model
finds more usual, outscored) and once under every class of spelling it shows (a miss may
show several). Only counts are printed and written (benchmarks/out/name_misses.json): no
name.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path

from amanah.text import name_match as nm
from benchmarks.common import OUT
from benchmarks.name_match import Records, _skeleton, nearest

_ENDING = re.compile(r"(os|us|is|es|ius|ia|ium|ov|ev|ova|eva|ski|sky|ska|ini|ino|ano|elli|ez)$")
_DOUBLE = re.compile(r"([b-df-hj-np-tv-z])\1")
_SILENT = re.compile(r"[^aeiou]e$|[aeiou]h(?![aeiouy])|eau|ault|ois$|x$")
_CH = re.compile("ch|sch|tch|cz|sz")
_INNER_VOWELS = re.compile("[aeiouy]+")


def classes(arabic: str, latin: str) -> set[str]:
    """The classes of spelling one pair of names shows (an Arabic one and its Latin record)."""
    a = "".join(p.key for p in nm.parse(arabic).parts)
    w = "".join(p.key for p in nm.parse(latin).parts)
    out = set()
    inner = sum(a[1:-1].count(c) for c in "اوي")
    if inner >= 2:
        out.add("vowels written as long letters (2 or more)")
    if len(_INNER_VOWELS.findall(w[1:-1])) > inner:
        out.add("Latin vowels the Arabic leaves out")
    if re.search("g(?!h)", w) and re.search("[جغ]", a):
        out.add("g written ج or غ")
    if "v" in w and "ف" in a:
        out.add("v written ف")
    if "p" in w and "ب" in a:
        out.add("p written ب")
    if _CH.search(w) and "ش" in a:
        out.add("ch/sch/tch/cz written تش or ش")
    if _ENDING.search(w):
        out.add("Greek, Latin or Slavic ending")
    if _DOUBLE.search(w):
        out.add("double letters")
    if _SILENT.search(w):
        out.add("silent letters (final e, h, French endings)")
    if nm._frequencies().get(nm._arabic_key(a), 0) >= 10:
        out.add("an Arab name (in the romanizer's dictionary)")
    else:
        out.add("not in the romanizer's dictionary (foreign)")
    return out


def sample(data: Path, n: int, seed: int) -> list[tuple[str, str]]:
    rows = (data / "google_ar2en_names" / "ar2en-train.txt").read_text(encoding="utf-8")
    seen: dict[str, str] = {}
    for line in rows.splitlines():
        r = line.split("\t")
        if len(r) == 2:
            seen.setdefault(r[0], r[1])
    items = list(seen.items())
    random.Random(seed).shuffle(items)
    return items[:n]


def misses(pairs: list[tuple[str, str]], cause: Counter[str], kind: Counter[str]) -> int:
    """Rank the sample; count each miss by cause and by class; the number of queries."""
    queries, records = [a for a, _ in pairs], [b for _, b in pairs]
    nm.prepare_many(queries)
    recs = Records(records)
    for qi, q in enumerate(queries):
        parsed = nm.parse(q)
        block = nearest(q, parsed, recs)
        found = [(nm.score(parsed, records[i]), i) for i in block]
        ranked = nm.order([sc.value for sc, _ in found], [sc for sc, _ in found])
        scored = [(found[k][0].value, found[k][1]) for k in ranked]
        if scored and scored[0][1] == qi:
            continue
        mine = dict((i, v) for v, i in scored).get(qi)
        if mine is None:
            cause["not among the 20 nearest"] += 1
        elif mine >= max(v for v, _ in scored) - nm.NEAR:
            cause["near-equal, a wrong record's spelling more usual"] += 1
        else:
            cause["outscored by a wrong record"] += 1
        kind.update(classes(q, records[qi]))
        if scored and _skeleton(records[scored[0][1]]) == _skeleton(records[qi]):
            kind["a wrong record with the same Latin skeleton"] += 1
    return len(queries)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--limit", type=int, default=400, help="queries (and records) a sample")
    ap.add_argument("--samples", type=int, default=5, help="samples drawn (seeds 0, 1, ...)")
    args = ap.parse_args(argv)
    if not (args.data / "google_ar2en_names" / "ar2en-train.txt").exists():
        raise SystemExit(f"{args.data}: no google_ar2en_names/ar2en-train.txt")
    cause: Counter[str] = Counter()
    kind: Counter[str] = Counter()
    queries = sum(
        misses(sample(args.data, args.limit, s), cause, kind) for s in range(args.samples)
    )
    result = {
        "queries": queries,
        "misses": sum(cause.values()),
        "by cause": dict(cause.most_common()),
        "by class (a miss may show several)": dict(kind.most_common()),
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))
    OUT.mkdir(exist_ok=True)
    (OUT / "name_misses.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
