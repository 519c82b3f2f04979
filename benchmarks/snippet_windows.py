"""Snippets and item-page marks of long texts whose query word first occurs far in, and of
search hits of the length most hits have.

    python -m benchmarks.snippet_windows [--repeat 5]

Generated texts of about 300,000 characters (a bilingual filler sentence repeated), the word
placed at the end (Arabic, English) or at the start; CPU milliseconds per call of
`snippets.make` (a search hit's snippet) and `snippets.marks` (every hit of an item page).
Then hits as the search benchmark makes them: 3,500 characters of words no earlier text had
(a new text for every call, as each hit of a search is another document), the query's word
or phrase in the middle. Run it in two checkouts to compare (each imports the `amanah` beside
it).
"""

from __future__ import annotations

import argparse
import random
import time

from amanah.search import snippets
from amanah.search.query import parse
from benchmarks.common import machine, save

FILLER = "كلام عن الموضوع في التقرير some other words about the report here "


def cases() -> dict[str, tuple[str, str]]:
    far = FILLER * 4_600
    return {
        "arabic word at the end": (far + " صيدنايا", "صيدنايا"),
        "english word at the end": (far + " checkpoint", "checkpoint"),
        "arabic word at the start": ("صيدنايا " + far, "صيدنايا"),
    }


def fresh_hit(rng: random.Random, middle: str) -> str:
    """About 3,500 characters of made-up Arabic and English words, `middle` halfway."""
    letters = ("ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "abcdefghijklmnopqrstuvwxyz")
    words = [
        "".join(rng.choice(letters[i % 5 == 0]) for _ in range(rng.randint(3, 7)))
        for i in range(560)
    ]
    return " ".join([*words[:280], middle, *words[280:]])


def hits(repeat: int) -> dict[str, dict[str, float]]:
    """CPU ms per snippet of a fresh hit, for a word and for a phrase."""
    out = {}
    for name, middle, query in (
        ("hit, a word in the middle", "والمخابرات", "مخابرات"),
        ("hit, a phrase in the middle", "الفرع المخابرات", '"الفرع المخابرات"'),
        ("hit, a short English word in the middle", "runs", "running"),
    ):
        leaves = parse(query).terms()
        rng = random.Random(7)
        bodies = [fresh_hit(rng, middle) for _ in range(repeat * 20)]
        started = time.process_time()
        for body in bodies:
            assert snippets.make(body, leaves).highlights
        ms = round((time.process_time() - started) / len(bodies) * 1000, 3)
        out[name] = {"characters": len(bodies[0]), "make_cpu_ms": ms}
        print(f"{name}: make {ms} ms (CPU)")
    return out


def timed(call: object, repeat: int) -> float:
    call()  # type: ignore[operator]
    started = time.process_time()
    for _ in range(repeat):
        call()  # type: ignore[operator]
    return round((time.process_time() - started) / repeat * 1000, 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    out: dict[str, object] = {"machine": machine()}
    for name, (body, query) in cases().items():
        leaves = parse(query).terms()
        make_ms = timed(lambda b=body, lv=leaves: snippets.make(b, lv), args.repeat)
        marks_ms = timed(lambda b=body, q=query: snippets.marks(b, q), args.repeat)
        out[name] = {"characters": len(body), "make_cpu_ms": make_ms, "marks_cpu_ms": marks_ms}
        print(f"{name}: make {make_ms} ms, marks {marks_ms} ms (CPU)")
    out.update(hits(args.repeat))
    print(save("snippet_windows", out))


if __name__ == "__main__":
    main()
