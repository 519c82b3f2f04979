"""Mention extraction speed: `NameIndex.find` (every spelling of every entity name, either
script) over items' text, in items per second on one core; and the cost of building the index
(romanising every Arabic name word) once.

    python -m benchmarks.mentions [--items 1000] [--names 1000] [--data ../shared/data]

Items: XQuAD's Arabic and English paragraphs (../shared/data/xquad_ar_en), three to an item
(about 2 KB), with a known name planted in every tenth; without the data, generated words.
Names: generated from common Arabic name parts, half recorded in Arabic, half in Latin. The
database writes of a real run (one row per mention) are not in this figure.
Figures go to benchmarks/out/mentions.json and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from amanah.entities.mentions import NameIndex
from benchmarks.common import OUT, machine

ISM = [
    ("محمد", "Mohammad"),
    ("أحمد", "Ahmad"),
    ("خالد", "Khaled"),
    ("يوسف", "Yusuf"),
    ("عمر", "Omar"),
    ("علي", "Ali"),
    ("حسن", "Hassan"),
    ("نزار", "Nizar"),
    ("جميل", "Jamil"),
    ("سامر", "Samer"),
    ("رامي", "Rami"),
    ("ماهر", "Maher"),
]
FAMILY = [
    ("الحبو", "al-Habbo"),
    ("الخطيب", "al-Khatib"),
    ("القباني", "Qabbani"),
    ("حداد", "Haddad"),
    ("الأسعد", "al-Asaad"),
    ("الشامي", "al-Shami"),
    ("المصري", "al-Masri"),
    ("الحلبي", "al-Halabi"),
    ("العلي", "al-Ali"),
    ("النجار", "al-Najjar"),
]


def names(n: int) -> list[tuple[int, int, str, str]]:
    rng = random.Random(15)
    out = []
    for i in range(n):
        a, f, g = rng.choice(ISM), rng.choice(ISM), rng.choice(FAMILY)
        arabic = i % 2 == 0
        spelling = (
            f"{a[0]} {f[0]} {g[0]}" if arabic else f"{a[1]} {f[1]} {g[1]}"
        )  # ism, father, family
        out.append((i + 1, i + 1, "person", spelling))
    return out


def items(n: int, data: Path | None) -> list[str]:
    from tests.conftest import SHARED_DATA

    folder = (data or SHARED_DATA) / "xquad_ar_en"
    paragraphs: list[str] = []
    if folder.exists():
        for lang in ("ar", "en"):
            doc = json.loads((folder / f"xquad.{lang}.json").read_text(encoding="utf-8"))
            paragraphs += [p["context"] for a in doc["data"] for p in a["paragraphs"]]
    else:
        paragraphs = ["قال الشاهد إن الاجتماع عقد في السوق القديم the meeting was held"] * 30
    out = []
    for i in range(n):
        text = "\f".join(paragraphs[(3 * i + k) % len(paragraphs)] for k in range(3))
        if i % 10 == 0:
            text += " Muhammad Ahmed Al-Hebo " if i % 20 else " محمد احمد الحبو "
        out.append(text)
    return out


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--names", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args(argv)
    recorded = [*names(args.names), (0, 0, "person", "محمد أحمد الحبو")]
    texts = items(args.items, args.data)
    start = time.perf_counter()
    index = NameIndex(recorded)
    built = time.perf_counter() - start
    index.find(texts[0])  # warm the caches of the first words
    start = time.perf_counter()
    found = sum(len(index.find(t)) for t in texts)
    spent = time.perf_counter() - start
    planted = sum(1 for i in range(args.items) if i % 10 == 0)
    hits = sum(
        1 for i in range(0, args.items, 10) if any(f.entity_id == 0 for f in index.find(texts[i]))
    )
    result: dict[str, object] = {
        "machine": machine(),
        "items": args.items,
        "names": len(recorded),
        "kb_per_item": round(sum(len(t.encode()) for t in texts) / len(texts) / 1024, 1),
        "index_build_s": round(built, 2),
        "items_per_s": round(args.items / spent, 1),
        "mentions": found,
        "planted_found": f"{hits}/{planted}",
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "mentions.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
