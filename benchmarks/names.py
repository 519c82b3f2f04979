"""The protected-name matcher's cost: `Matcher.find` over mixed Arabic/English text, the matcher
before keyed digests and formatting-proof matching (stems of one line at a time, kept below as
it was) against the current one, in the same run, on the same text; `names` (the text as stored
and as a reader takes it: markup, escapes, letters in disguise …) paragraph by paragraph, as
the leak check reads a file's parts; and `find_in_bytes` on the same text as UTF-8 bytes, and
on as many random bytes (what an image or a video looks like).

    python -m benchmarks.names [--mb 10] [--data ../shared/data]

Text: XQuAD's Arabic and English paragraphs (../shared/data/xquad_ar_en) interleaved and
repeated to the size asked, with the names planted every ~100 KB; without the data, generated
words. Figures go to benchmarks/out/names.json and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from amanah.sharing.protected import Matcher
from amanah.text.analyzer import exact_form, stem_form, words
from benchmarks.common import OUT, machine

PERSONS = [
    ("Witness A", ["أحمد الخطيب", "Ahmad al-Khatib"]),
    ("Witness B", ["Yusuf Qabbani"]),
    ("Witness C", ["نزار حداد"]),
]


# -- the matcher as it was (commit 824e55c), for the "before" figure --------------------------


@lru_cache(maxsize=200_000)
def _old_key(word: str) -> str:
    return stem_form(exact_form(word))


class OldMatcher:
    def __init__(self, persons: Sequence[tuple[str, Sequence[str]]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for pseudonym, names in persons:
            for n in names:
                key = tuple(_old_key(w) for w in words(n))
                self._by_first.setdefault(key[0], []).append((key, pseudonym))

    def in_forms(self, forms: list[str]) -> list[str]:
        if self._by_first.keys().isdisjoint(forms):
            return []
        found = []
        for i, form in enumerate(forms):
            for key, pseudonym in self._by_first.get(form, ()):
                if tuple(forms[i : i + len(key)]) == key:
                    found.append(pseudonym)
        return found

    def find(self, text: str) -> set[str]:
        found: set[str] = set()
        for line in text.splitlines() or [text]:
            folded = words(line)
            if not folded:
                continue
            for forms in ([_old_key(w) for w in folded], [_old_key(w[::-1]) for w in folded]):
                found.update(self.in_forms(forms))
                found.update(self.in_forms(forms[::-1]))
        return found


def corpus(size: int, data: Path | None = None) -> str:
    from tests.conftest import SHARED_DATA

    folder = (data or SHARED_DATA) / "xquad_ar_en"
    paragraphs: list[str] = []
    if folder.exists():
        for lang in ("ar", "en"):
            data = json.loads((folder / f"xquad.{lang}.json").read_text(encoding="utf-8"))
            paragraphs += [p["context"] for a in data["data"] for p in a["paragraphs"]]
        paragraphs = [x for pair in zip(paragraphs[: len(paragraphs) // 2],
                                        paragraphs[len(paragraphs) // 2 :], strict=False)
                      for x in pair]  # fmt: skip
    else:
        paragraphs = ["قال الشاهد إن الاجتماع عقد في السوق القديم the meeting was held"] * 100
    out: list[str] = []
    total = 0
    planted = ["Ahmad al-\nKhatib", "يوسف القباني", "Nizar Haddad"]
    i = 0
    while total < size:
        p = paragraphs[i % len(paragraphs)]
        if i % 60 == 0:
            p += f" {planted[(i // 60) % 3]} "
        out.append(p)
        total += len(p.encode())
        i += 1
    return "\n".join(out)


def _has_data(data: Path | None) -> bool:
    from tests.conftest import SHARED_DATA

    return ((data or SHARED_DATA) / "xquad_ar_en").exists()


def _time(fn: object, *args: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start, result


def _names(matcher: Matcher, paragraphs: list[str]) -> set[str]:
    found: set[str] = set()
    for p in paragraphs:
        found |= matcher.names(p)
    return found


def main(mb: float = 10, data: Path | None = None) -> dict[str, object]:
    text = corpus(int(mb * 2**20), data)
    size = len(text.encode())
    old = OldMatcher(PERSONS)
    new = Matcher.of(PERSONS)
    old_s, old_found = _time(old.find, text)
    new_cold, new_found = _time(new.find, text)
    new_warm, _ = _time(new.find, text)
    # `names`, paragraph by paragraph as the leak check reads a file's parts: the text as
    # stored and as a reader takes it (markup, escapes, letters in disguise, …).
    paragraphs = text.split("\n")
    reader = Matcher.of(PERSONS)
    names_cold, names_found = _time(_names, reader, paragraphs)
    names_warm, _ = _time(_names, reader, paragraphs)
    bytes_s, bytes_found = _time(new.find_in_bytes, text.encode())
    noise = random.Random(1).randbytes(size)  # an image's or a video's bytes
    noise_s, noise_found = _time(new.find_in_bytes, noise)
    result = {
        "machine": machine(),
        "text": "xquad_ar_en" if "xquad" in str(data or "") or _has_data(data) else "generated",
        "text_mb": round(size / 2**20, 1),
        "before_find_s": round(old_s, 2),
        "before_found": sorted(old_found),  # type: ignore[arg-type]
        "after_find_cold_s": round(new_cold, 2),
        "after_find_warm_s": round(new_warm, 2),
        "after_found": sorted(new_found),  # type: ignore[arg-type]
        "names_cold_s": round(names_cold, 2),
        "names_warm_s": round(names_warm, 2),
        "names_found": sorted(names_found),  # type: ignore[arg-type]
        "find_in_bytes_s": round(bytes_s, 2),
        "find_in_bytes_found": sorted(bytes_found),  # type: ignore[arg-type]
        "find_in_bytes_random_s": round(noise_s, 2),
        "find_in_bytes_random_found": sorted(noise_found),  # type: ignore[arg-type]
        "mb_per_s_after_cold": round(size / 2**20 / new_cold, 1),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "names.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=10)
    parser.add_argument("--data", type=Path, help="the shared data folder, if not ../shared/data")
    args = parser.parse_args()
    main(args.mb, args.data)
