"""Where the protected names are in what the redaction's sandboxed child read: the areas to
remove in a file's words (`areas`) and the names still read in the written file (`left`).

The child is trusted with the file alone, never with a key, a digest or a name
(docs/sharing.md), so the matching is done here, in Amanah, over its word lists: each page's
text layer as one sequence over every page, each OCR reading, and every pair of readings
across each page turn.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

from amanah.sharing.protected import Matcher


def _box_of(value: Any) -> list[float]:
    box = [float(v) for v in value]
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise ValueError("an area is four finite numbers")
    return box


def _across_turns(pages: list[list[tuple[bool, list[Any]]]], reach: int) -> Iterator[list[Any]]:
    """Each page's readings (`(is_ocr, words)`) ended by the next page's readings begun: the
    last and first `reach` words of every pair of readings across each page turn where OCR read
    either side (two text layers are already read as one sequence). A name whose first word
    ends a scanned page and whose last begins the next is read by whoever turns the page."""
    for before, after in pairwise(pages):
        for ocr_before, last in before:
            for ocr_after, first in after:
                if (ocr_before or ocr_after) and last and first:
                    yield last[-reach:] + first[:reach]


def _reach(matcher: Matcher) -> int:
    """How many words either side of a page turn can hold part of a name: the longest
    spelling's words, each perhaps written as several tokens or with a token between."""
    return 4 * matcher.longest_words + 8


def areas(shown: Any, matcher: Matcher) -> tuple[list[list[float]], dict[str, int]]:
    """The areas of every word that is part of a protected name, looked for in Amanah over
    each page's text-layer sequence and each OCR reading the child listed, and across every
    page turn; and how many areas each pseudonym got."""
    found: list[list[float]] = []
    names: dict[str, int] = {}
    seen: set[tuple[float, ...]] = set()
    # The text layer is read as one sequence over every page: a name whose first word ends
    # a page and whose last begins the next is read by whoever turns the page.
    text = [(number, w) for number, page in enumerate(shown["pages"], 1) for w in page["text"]]
    sequences = [text]
    per_page: list[list[tuple[bool, list[Any]]]] = []
    for number, page in enumerate(shown["pages"], 1):
        readings = [[(number, w) for w in seq] for seq in page["ocr"] or []]
        sequences.extend(readings)
        per_page.append(
            [(False, [(number, w) for w in page["text"]])] + [(True, r) for r in readings]
        )
    sequences.extend(_across_turns(per_page, _reach(matcher)))
    for seq in sequences:
        for index, pseudonym in matcher.in_words([str(w[0]) for _, w in seq]):
            number, (_, boxes) = seq[index]
            for box in boxes:
                area = [number, *_box_of(box)]
                if tuple(area) in seen:  # a word read again across a page turn
                    continue
                seen.add(tuple(area))
                found.append(area)
                names[pseudonym] = names.get(pseudonym, 0) + 1
    return found, names


def _page_of(where: str) -> int | None:
    """The page a re-read sequence was read on ("page 3 text", "page 3 image (OCR)"); None
    for what has no pages (an image)."""
    head, _, rest = where.partition(" ")
    number = rest.split(" ", 1)[0]
    return int(number) if head == "page" and number.isdigit() else None


def left(said: Any, matcher: Matcher, written: Path) -> dict[str, list[str]]:
    """Per pseudonym, where the written file still reads a protected name: in what the child
    read back from it (texts, word sequences) and in the file's own bytes, read here."""
    left: dict[str, set[str]] = {}
    for where, text in said["texts"]:
        # an object's syntax is looked at as stored; what a reader is shown, as read too
        look = matcher.find if str(where).startswith("PDF object") else matcher.names
        for p in look(str(text)):
            left.setdefault(p, set()).add(str(where))
    text: list[tuple[str, str]] = []  # every page's text layer as one sequence (see `areas`)
    per_page: dict[int, list[tuple[bool, list[tuple[str, str]]]]] = {}
    for where, seq in said["sequences"]:
        words = [(str(where), str(w)) for w in seq]
        page = _page_of(str(where))
        if page is not None:
            per_page.setdefault(page, []).append((not str(where).endswith(" text"), words))
        if str(where).endswith(" text"):
            text.extend(words)
            continue
        for _, p in matcher.in_words([w for _, w in words]):
            left.setdefault(p, set()).add(str(where))
    reach = _reach(matcher)
    turned = [  # only pages that follow each other (a page the child left out is no turn)
        seq
        for n in sorted(per_page)
        if n + 1 in per_page
        for seq in _across_turns([per_page[n], per_page[n + 1]], reach)
    ]
    for seq in [text, *turned]:
        for index, p in matcher.in_words([w for _, w in seq]):
            left.setdefault(p, set()).add(seq[index][0])
    for p in matcher.find_in_bytes(written.read_bytes()):
        left.setdefault(p, set()).add("the file's bytes")
    return {p: sorted(w) for p, w in left.items()}
