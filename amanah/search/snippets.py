"""Snippets: a short window of the text as written, with the words that matched marked.

Words are matched by their analyzed forms but marked at their offsets in the original, so a
hit on "الفرع" highlights "وَالفَرْع" exactly as the document spells it. Control characters and
bidirectional overrides are blanked one for one (offsets stay true): evidence text must never
steer a terminal or reorder what an analyst reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from amanah.search.query import Phrase, QueryError, Term, parse
from amanah.text.analyzer import (
    ENGLISH_REWRITES,
    PARTICLES,
    folded_in_place,
    folded_text,
    known,
    spans,
    stem_part,
    stream_terms,
    token_forms,
    token_offsets,
    token_pattern,
    tokens,
)

WIDTH = 240
#: A snippet is chosen among the hits of the first window that has any: the first window is
#: FIRST characters, each next one four times longer up to SCAN (then SCAN each). A hit's text
#: is read only as far as its first hits (most texts end within the first window; a long one
#: cost milliseconds a hit when read to SCAN at once), as highlighters bound what they analyse.
FIRST = 4_000
SCAN = 200_000
OVERLAP = 100  # read past a window's end, so that a phrase begun before it is seen whole
#: A text this long or longer, searched without a phrase, is read only at the tokens holding
#: a part a match must hold (`_spotted`); past MAX_SPOTS such tokens a window is read whole.
SPOT_FROM = 500
MAX_SPOTS = 64
#: How far the rest of a word cut at a window's start is looked for (a longer run of letters
#: is one word whatever follows: analysed, it is cut to its first 64 characters).
MAX_TOKEN = 4_096
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s")
_LATIN_STEM = re.compile("[a-z]")


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: list[tuple[int, int]]  # [start, end) in `text`


def clean(text: str) -> str:
    """Blank what could steer a display, keeping every offset where it was."""
    return _SPACE.sub(" ", _UNSAFE.sub(" ", text))


def _matches(
    leaves: list[Term | Phrase], body: str, first_only: bool = True, fast: bool | None = None
) -> list[tuple[int, int]]:
    """Where the terms match in `body`. A window is read word by word from the analyzer's
    streams (`_window_terms`) when it is long and its words are new to the token cache (`fast`
    None: `_unseen`), token by token otherwise; True or False forces one way (the tests
    compare them)."""
    words = {t.stem for t in leaves if isinstance(t, Term) and t.kind == "word"}
    exact = {t.exact for t in leaves if isinstance(t, Term) and t.kind in ("word", "exact")}
    prefixes = [(t.exact, t.stem) for t in leaves if isinstance(t, Term) and t.kind == "prefix"]
    phrases = [t.stem for t in leaves if isinstance(t, Phrase)]
    found: list[tuple[int, int]] = []
    # A long text is read window by window of FIRST characters, each looked at first for the
    # parts any match must hold (at C speed): most windows of a text whose words first occur
    # far in are passed over, not analysed. Without such parts, windows grow as they go.
    ways = _ways(leaves) if len(body) > FIRST else None
    # A long enough window is read only at the tokens holding such a part (`_spotted`).
    spot_parts = _spot_parts(leaves) if fast is None and len(body) >= SPOT_FROM else None
    for offset, cut in _windows(body, grow=ways is None):
        window = body[offset : cut + OVERLAP]
        in_place = folded_in_place(window) if spot_parts is not None else None
        if ways is not None and not _may_match(window, ways, in_place):
            continue
        more = cut < len(body)  # past the cut, the next window takes over
        stop = cut - offset if more else None
        before = len(found)
        read = None
        if spot_parts is not None and in_place is not None:
            read = _spotted(window, in_place, spot_parts, words, exact, prefixes, phrases, stop)
        streamed = read is None and (fast if fast is not None else _unseen(window))
        if streamed:
            read = _window_terms(window, words, exact, prefixes, phrases, stop)
        if read is not None:
            found.extend((offset + a, offset + b) for a, b in read)
        elif phrases:
            _phrases(window, offset, stop, words, exact, prefixes, phrases, found)
        else:
            # The common case, kept lean: one cached lookup per token, no objects made.
            for m in tokens(window):
                if stop is not None and m.start() >= stop:
                    break
                for ex, st in token_forms(m.group()):
                    if (
                        st in words
                        or ex in exact
                        or (
                            prefixes
                            and any(ex.startswith(e) or st.startswith(p) for e, p in prefixes)
                        )
                    ):
                        found.append((offset + m.start(), offset + m.end()))
                        break
        if (lead := _continued(body, offset)) and len(found) > before:
            found[before:] = [f for f in found[before:] if f[0] >= offset + lead]
        if found and first_only:
            break
    return found


def _continued(body: str, offset: int) -> int:
    """How much of the window at `offset` is the rest of a word begun before it (a cut with no
    white space near, inside a glued run of letters): that word is the window before's to read
    whole, never a word of its own here."""
    if offset == 0:
        return 0
    joined = next(tokens(body[offset - 1 : offset + 1]), None)
    if joined is None or joined.end() - joined.start() < 2:
        return 0
    first = next(tokens(body[offset : offset + MAX_TOKEN]), None)
    return first.end() if first is not None and first.start() == 0 else MAX_TOKEN


#: Below this many characters a window is read token by token: the streams' fixed cost (about
#: 30 µs) is more than a short text's cached lookups.
STREAM_FROM = 500
#: Tokens looked up before choosing, and how many of them may be new to the cache: a cached
#: token costs about 0.3 µs token by token, a new one about 15 µs; the streams about 1.8 µs a
#: word whatever the cache holds.
SAMPLE, UNSEEN = 64, 4


def _unseen(window: str) -> bool:
    """Whether a long window's words are mostly new to the token cache (a hit's text full of
    names and forms no earlier text had): then the streams read it faster. The cache is only
    asked, not filled: analysing the sample's new words here cost up to a millisecond a hit,
    paid again by whichever reading followed."""
    if len(window) < STREAM_FROM:
        return False
    new = sum(1 for m in islice(tokens(window), SAMPLE) if not known(m.group()))
    return new > UNSEEN


def _windows(body: str, grow: bool = True) -> Iterator[tuple[int, int]]:
    """(start, cut) of each window: FIRST characters, then (`grow`) four times longer up to
    SCAN each, every cut moved to the next white space (within OVERLAP) so that no word is
    split between two windows."""
    start, size = 0, FIRST
    while start < len(body):
        cut = min(len(body), start + size)
        if cut < len(body):
            space = _SPACE.search(body, cut, cut + OVERLAP)
            cut = space.start() if space else cut
        yield start, cut
        start, size = cut, min(size * 4, SCAN) if grow else size


def _ways(leaves: list[Term | Phrase]) -> list[tuple[str, ...]] | None:
    """Each way one of the leaves can match, as the folded parts a window must then hold all
    of (`analyzer.stem_part`): a word by its stem or its exact form, a phrase by every word's.
    None when some way holds no certain part (a short English stem): every window is read."""
    ways: list[tuple[str, ...]] = []
    for t in leaves:
        if isinstance(t, Phrase):
            parts = tuple(part for part in map(stem_part, t.stem) if part)
            if not parts:
                return None
            ways.append(parts)
        elif t.kind == "exact":
            ways.append((t.exact,))
        elif t.kind in ("word", "prefix"):
            part = stem_part(t.stem)
            if part is None or not t.exact:
                return None
            ways += [(part,), (t.exact,)]
        else:
            return None
    return ways


def _may_match(window: str, ways: list[tuple[str, ...]], in_place: str | None = None) -> bool:
    folded = in_place if in_place is not None else folded_text(window)
    return any(all(part in folded for part in way) for way in ways)


def _spot_parts(leaves: list[Term | Phrase]) -> set[str] | None:
    """What `_spotted` looks for: a part each word's match holds (`_ways`), and a part of each
    phrase's first word (a phrase's match begins at a word holding it). A short English stem
    has no certain part anywhere in the word, but the word begins with all of it but the two
    letters Snowball may rewrite (`analyzer.stem_part`): that beginning, after a space. None
    when a leaf has not even that (a stem of two letters): the window is read whole."""
    parts: set[str] = set()
    for t in leaves:
        if isinstance(t, Phrase):
            if t.stem:
                first = stem_part(t.stem[0]) or _beginning(t.stem[0])
                if first is None:
                    return None
                parts.add(first)
            continue
        ways = _ways([t])
        if ways is not None:
            parts.update(p for way in ways for p in way)
            continue
        begins = _beginning(t.stem) if t.kind in ("word", "prefix") and t.exact else None
        if begins is None:
            return None
        parts.add(begins)
    return parts if all(p.strip() for p in parts) else None  # an empty part is everywhere


def _places(folded: str, part: str) -> Iterator[int]:
    """Where `part` is in the folded text; a beginning (a part after a space, `_beginning`)
    where it begins a word or follows the particles and article the analyzer peels off."""
    if part[0] == " ":
        yield from (m.start() for m in _begins(part[1:]).finditer(folded))
        return
    at = folded.find(part)
    while at != -1:
        yield at
        at = folded.find(part, at + 1)


@lru_cache(maxsize=256)
def _begins(kept: str) -> re.Pattern[str]:
    return re.compile(f"(?:^|(?<=[ {PARTICLES}])){re.escape(kept)}")


def _beginning(stem: str) -> str | None:
    """A short English stem's certain beginning, marked by a leading space (`_places`): every
    word with this stem (or, for a prefix, a stem beginning so) and the query's own word begin
    with it once the Arabic particles and article the analyzer peels are off (each ends in
    one of `PARTICLES`)."""
    kept = stem[: len(stem) - ENGLISH_REWRITES]
    return " " + kept if kept and _LATIN_STEM.search(stem) else None


def _spotted(
    window: str,
    folded: str,
    parts: set[str],
    words: set[str],
    exact: set[str],
    prefixes: list[tuple[str, str]],
    phrases: list[tuple[str, ...]],
    stop: int | None,
) -> list[tuple[int, int]] | None:
    """The matches of a window read only at the tokens that hold one of `parts`
    (`_spot_parts`), found at C speed in its folded text: no other token can match a word or
    begin a phrase. `folded` is `folded_in_place(window)`, offset for offset, so a token's ends
    are its spaces there. Each token found is read word by word as the token-by-token reading
    does (a phrase with the words after it); None (read the window whole) when a token's ends
    disagree with the pattern's, or parts are in too many places for this to be cheaper."""
    pattern = token_pattern(window)
    spots: dict[int, int] = {}
    for part in parts:
        done = 0  # the end of the last token this part was found in
        for at in _places(folded, part):
            if at < done:
                continue  # again inside a token already taken
            start = folded.rfind(" ", 0, at) + 1
            end = folded.find(" ", at)
            end = len(folded) if end == -1 else end
            token = pattern.match(window, start)
            if token is None or token.end() != end:
                return None  # the text's tokens are not the folded text's words here
            spots[start] = done = end
            if len(spots) > MAX_SPOTS:
                return None
    firsts = {ph[0] for ph in phrases}
    longest = max((len(ph) for ph in phrases), default=1)
    hits: list[tuple[int, int]] = []
    for start in sorted(spots):
        if stop is not None and start >= stop:
            break
        end = spots[start]
        forms = token_forms(window[start:end])
        after: list[tuple[str, int]] | None = None  # (stem, token end) of the words from here
        for w, (ex, st) in enumerate(forms):
            if _word_hit(ex, st, words, exact, prefixes):
                hits.append((start, end))
                if not phrases:
                    break  # as the token-by-token reading: a token is marked once
                continue
            if st not in firsts:
                continue
            if after is None:
                after = [(s, end) for _, s in forms]
                for m in pattern.finditer(window, end):
                    if len(after) >= len(forms) + longest:
                        break
                    after += [(s, m.end()) for _, s in token_forms(m.group())]
            for ph in phrases:
                run = after[w : w + len(ph)]
                if st == ph[0] and tuple(s for s, _ in run) == ph:
                    hits.append((start, run[-1][1]))
    return hits


def _window_terms(
    window: str,
    words: set[str],
    exact: set[str],
    prefixes: list[tuple[str, str]],
    phrases: list[tuple[str, ...]],
    stop: int | None,
) -> list[tuple[int, int]] | None:
    """The matches of one window read word by word from the analyzer's streams (C speed), not
    token by token in Python: a hit's text holds thousands of words no cache has seen. Each
    token of the original is paired with one analyzed word; where that pairing is not one to
    one (a token the analyzer splits or drops), or a marked token's own analysis disagrees,
    None: the caller reads the window token by token."""
    import numpy as np  # here: a query is parsed without loading it

    starts, ends = token_offsets(window)
    terms = stream_terms(window)
    if len(terms.exact) != len(starts) or len(terms.stem) != len(starts):
        return None
    n = len(starts) if stop is None else int(np.searchsorted(starts, stop))
    ex, st = terms.exact, terms.stem
    hits: list[tuple[int, int]] = []
    if not phrases and not prefixes:
        found = np.fromiter(map(words.__contains__, st[:n]), dtype=bool, count=n)
        found |= np.fromiter(map(exact.__contains__, ex[:n]), dtype=bool, count=n)
        pairs = [(i, i) for i in np.flatnonzero(found).tolist()]
    else:
        firsts = {ph[0] for ph in phrases}
        pairs = []
        for i in range(n):
            e, t = ex[i], st[i]
            if (
                t in words
                or e in exact
                or (prefixes and any(e.startswith(a) or t.startswith(b) for a, b in prefixes))
            ):
                pairs.append((i, i))
                continue
            if t in firsts:
                pairs.extend(
                    (i, i + len(ph) - 1)
                    for ph in phrases
                    if t == ph[0] and tuple(st[i : i + len(ph)]) == ph
                )
    for i, j in pairs:
        for k in {i, j}:  # the pairing proven where it is used
            if (ex[k], st[k]) not in token_forms(window[starts[k] : ends[k]]):
                return None
        hits.append((int(starts[i]), int(ends[j])))
    return hits


def _word_hit(
    ex: str, st: str, words: set[str], exact: set[str], prefixes: list[tuple[str, str]]
) -> bool:
    """Whether one analysed word (exact, stem) matches a word of the query."""
    return (
        st in words
        or ex in exact
        or bool(prefixes and any(ex.startswith(e) or st.startswith(p) for e, p in prefixes))
    )


def _phrases(
    window: str,
    offset: int,
    stop: int | None,
    words: set[str],
    exact: set[str],
    prefixes: list[tuple[str, str]],
    phrases: list[tuple[str, ...]],
    found: list[tuple[int, int]],
) -> None:
    firsts = {ph[0] for ph in phrases}
    part = list(spans(window))
    for i, (start, end, ex, st) in enumerate(part):
        if stop is not None and start >= stop:
            break
        if _word_hit(ex, st, words, exact, prefixes):
            found.append((offset + start, offset + end))
            continue
        if st in firsts:
            for ph in phrases:
                if st == ph[0] and tuple(x.stem for x in part[i : i + len(ph)]) == ph:
                    found.append((offset + start, offset + part[i + len(ph) - 1].end))


def marks(body: str, query: str) -> list[tuple[int, int]]:
    """Every place in `body` the query's words match (for showing a whole text with hits)."""
    try:
        leaves = parse(query).terms()
    except QueryError:
        return []
    return _matches(leaves, body, first_only=False) if leaves else []


def make(body: str, leaves: list[Term | Phrase], width: int = WIDTH) -> Snippet:
    """The best window of `body` for these query terms (its start when none is found)."""
    hits = _matches(leaves, body) if leaves else []
    if not hits:
        end = _cut_after(body, min(len(body), width))
        return _render(body, 0, end, [])
    best, best_n = 0, 0
    for i, (start, _) in enumerate(hits):
        n = sum(1 for s, _ in hits[i:] if s < start + width)
        if n > best_n:
            best, best_n = i, n
    centre = hits[best][0]
    start = _cut_before(body, max(0, centre - width // 4))
    end = _cut_after(body, min(len(body), start + width))
    return _render(body, start, end, [(s, e) for s, e in hits if s >= start and e <= end])


def _cut_before(body: str, i: int) -> int:
    if i <= 0:
        return 0
    j = body.rfind(" ", max(0, i - 30), i)
    return j + 1 if j >= 0 else i


def _cut_after(body: str, i: int) -> int:
    if i >= len(body):
        return len(body)
    j = body.find(" ", i, i + 30)
    return j if j >= 0 else i


def _render(body: str, start: int, end: int, hits: list[tuple[int, int]]) -> Snippet:
    lead = "… " if start > 0 else ""
    tail = " …" if end < len(body) else ""
    shift = len(lead) - start
    return Snippet(
        text=lead + clean(body[start:end]) + tail,
        highlights=[(s + shift, e + shift) for s, e in hits],
    )


def segments(text: str, marks: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Text cut into (piece, highlighted) at the marks, for a template that escapes every piece
    (the search hit and the item page cut the same way)."""
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(marks):
        if start < at:
            continue
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out
