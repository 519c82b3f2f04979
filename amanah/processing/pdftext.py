"""A PDF page's text layer in logical order, Arabic as written.

PDF producers draw glyphs, not text: a browser or an office suite draws an Arabic line left to
right in visual order (often word by word, in an order of its own), a ligature such as lam-alef
is one glyph whose Unicode is two letters, a mark (tanween) is a glyph of its own placed beside
its letter. Readers that follow the content stream (pdfium) return words reversed; readers that
reorder by characters (poppler, MuPDF) split the lam-alef glyph and reverse its letters (الحقا
for لاحقا). Here each glyph stays one unit with its Unicode (from MuPDF's text trace, which
marks a glyph's further characters), marks join their letter, units are put in visual order by
their boxes and reordered to logical order by the Unicode bidirectional algorithm
(python-bidi), and presentation forms (U+FB50–FDFF, U+FE70–FEFF) become letters. MuPDF's
layout analysis (blocks, lines, columns) is kept; only lines with right-to-left text are
rebuilt, and a line whose glyphs cannot be matched is kept as MuPDF reads it.
"""

from __future__ import annotations

import gc
import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter
from typing import Any

from amanah.processing.logicalorder import logical_order, right_to_left

Box = tuple[float, float, float, float]
ENGINE = "pymupdf text trace + unicode bidi (python-bidi)"


#: Direction marks and embeddings a producer writes into the text layer: not part of a word.
_FORMAT = dict.fromkeys(
    [0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)


_FORMAT_CHARS = re.compile("[" + "".join(map(chr, _FORMAT)) + "]")


_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")


def _presentation_table() -> dict[int, str]:
    """Each presentation form as the letters it shows (its compatibility decomposition; the
    isolated forms of the marks, U+FE70 …, decompose to a space and the mark)."""
    table: dict[int, str] = {}
    for cp in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)):
        mapped = unicodedata.normalize("NFKC", chr(cp))
        mapped = mapped.lstrip(" ") if mapped.strip() else ""
        if mapped != chr(cp):
            table[cp] = mapped
    return table


_LETTERS = _presentation_table()


def letters(text: str) -> str:
    """Arabic presentation forms (contextual shapes, lam-alef and other ligatures) as the
    letters they show, in logical order; everything else unchanged."""
    if _PRESENTATION.search(text) is None:
        return text
    return text.translate(_LETTERS)


#: letters() of one glyph's text, cached: a page draws the same few hundred glyphs.
_unit_letters = lru_cache(maxsize=4096)(letters)


#: Letters of the right-to-left scripts (Hebrew to Arabic Extended, presentation forms) and
#: the right-to-left mark and embeddings.
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u200f\u202b\u202e\u2067]")
#: What a letter count leaves out: spaces and the marks drawn as glyphs of their own.
_NOT_COUNTED = re.compile(r"[\s\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")


def has_rtl(text: str) -> bool:
    return _RTL_LETTER.search(text) is not None


#: The right-to-left marks and embeddings `_RTL_LETTER` matches outside its letter ranges
#: (the glyph loop tests code points against the same ranges, without the expression).
_RTL_MARKS = frozenset((0x200F, 0x202B, 0x202E, 0x2067))


#: A glyph is a row (a list): the hot loops make and read thousands a page, and a list made
#: from a literal costs no call, unlike a class's instance. Its places:
_TEXT, _X0, _Y0, _X1, _Y1, _SIZE, _MIRRORED, _RIGHT_TO_LEFT, _SEQ, _CX, _CY = range(11)
#: _TEXT: its Unicode (one or more characters, logical); _X0 to _Y1: its box; _MIRRORED:
#: drawn by a right-to-left text matrix (its letters already in logical order); _RIGHT_TO_LEFT:
#: whether its first Unicode (as drawn, before any further character of a ligature) is
#: right-to-left; _SEQ: its place in the content stream; _CX, _CY: the centre of its box.
Row = list[Any]


def _row(
    text: str,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    size: float,
    mirrored: bool = False,
    rtl: bool | None = None,
) -> Row:
    return [
        text,
        x0,
        y0,
        x1,
        y1,
        size,
        mirrored,
        has_rtl(text) if rtl is None else rtl,
        0,
        (x0 + x1) / 2,
        (y0 + y1) / 2,
    ]


def _place(index: int) -> property:
    """A row's place as a named attribute."""

    def get(self: list[Any]) -> Any:
        return self[index]

    def put(self: list[Any], value: Any) -> None:
        self[index] = value

    return property(get, put)


class Glyph(list):  # type: ignore[type-arg]
    """One drawn glyph as a row (see `_row`) with names for its places: what callers outside
    the hot loops (tests, tools) make and read; the reader itself makes plain rows."""

    __slots__ = ()

    def __init__(
        self,
        text: str,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        size: float,
        mirrored: bool = False,
        rtl: bool | None = None,
    ) -> None:
        super().__init__(_row(text, x0, y0, x1, y1, size, mirrored, rtl))

    text = _place(_TEXT)
    x0, y0, x1, y1 = _place(_X0), _place(_Y0), _place(_X1), _place(_Y1)
    size, mirrored, rtl = _place(_SIZE), _place(_MIRRORED), _place(_RIGHT_TO_LEFT)
    seq, cx, cy = _place(_SEQ), _place(_CX), _place(_CY)


@dataclass
class Line:
    """One line of a page: its words in logical order, each with its rectangles."""

    words: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    text: str = ""
    rebuilt: bool = False


@dataclass
class PageText:
    text: str
    lines: list[Line]
    #: How the page's right-to-left lines were drawn: "visual", "logical", "mixed" or "".
    drawn_order: str = ""
    rebuilt_lines: int = 0
    kept_lines: int = 0
    presentation_forms: int = 0
    #: Why right-to-left lines were not read by the bidirectional algorithm (one entry per
    #: line: its number and the reason, never its text), for the derivation event.
    unread: list[str] = field(default_factory=list)
    #: Other readings of those lines (MuPDF's, the glyphs as drawn from the right): the
    #: leak check and redaction read them too, so that a name on such a line is found in
    #: whichever reading holds it in logical order.
    other_readings: list[str] = field(default_factory=list)
    #: Each line's box and text, for the page read as it is laid out (`laid_out`).
    boxes: list[tuple[Box, str]] = field(default_factory=list)


def _char(unicode: int) -> str:
    """A glyph's Unicode as a character: U+FFFD for what is no Unicode scalar value (a
    surrogate, a negative or too large number), which no text derivative could encode."""
    if 0 <= unicode < 0x110000 and not 0xD800 <= unicode < 0xE000:
        return chr(unicode)
    return "\ufffd"


def _glyphs(page: Any) -> list[Row]:
    """Every horizontal glyph of the page, in the order the content stream draws them."""
    out: list[Row] = []
    append = out.append
    for span in page.get_texttrace():
        dx, dy = span["dir"]
        if abs(dy) > 0.05 or span.get("wmode", 0):
            continue  # rotated or vertical text: MuPDF's own reading is kept
        size = float(span.get("size") or 10.0)
        if dx < 0:
            out.extend(_mirrored_run(span, size))
            continue
        for unicode, gid, _origin, (x0, y0, x1, y1) in span["chars"]:
            # _char(unicode) without its call: this loop runs once per glyph of the page
            ch = chr(unicode) if 0 <= unicode < 0xD800 or 0xE000 <= unicode < 0x110000 else "\ufffd"
            if gid < 0 and out:  # a further character of the glyph before (a ligature)
                out[-1][_TEXT] += ch
                continue
            left = x1 if x1 < x0 else x0  # min() and max() of each pair, as the builtins
            top = y1 if y1 < y0 else y0  # decide ties, without their call
            right = x1 if x1 > x0 else x0
            bottom = y1 if y1 > y0 else y0
            append(
                [
                    ch,
                    left,
                    top,
                    right,
                    bottom,
                    size,
                    False,
                    # has_rtl(ch) by code point
                    0x590 <= unicode <= 0x8FF
                    or 0xFB1D <= unicode <= 0xFDFF
                    or 0xFE70 <= unicode <= 0xFEFC
                    or unicode in _RTL_MARKS,
                    0,
                    (left + right) / 2,
                    (top + bottom) / 2,
                ]
            )
    for n, g in enumerate(out):
        g[_SEQ] = n
    return out


def _mirrored_run(span: dict[str, Any], size: float) -> list[Row]:
    """A span drawn right to left by its own text matrix (as OCR text layers are) holds its
    words in logical order, and its glyph boxes are spread evenly, not measured: each word
    is one unit, its letters in the order drawn."""
    out: list[Row] = []
    word: list[tuple[str, Any]] = []

    def flush() -> None:
        if word:
            boxes = [b for _, b in word]
            x0 = min(min(b[0], b[2]) for b in boxes)
            x1 = max(max(b[0], b[2]) for b in boxes)
            y0 = min(min(b[1], b[3]) for b in boxes)
            y1 = max(max(b[1], b[3]) for b in boxes)
            out.append(_row("".join(c for c, _ in word), x0, y0, x1, y1, size, mirrored=True))
            word.clear()

    for unicode, _gid, _origin, bbox in span["chars"]:
        ch = _char(unicode)
        if ch.isspace():
            flush()
            x0, y0, x1, y1 = bbox
            out.append(_row(" ", min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), size))
        else:
            word.append((ch, bbox))
    flush()
    return out


@lru_cache(maxsize=4096)
def _is_mark(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c) in ("Mn", "Me") for c in text)


def _join_marks(units: list[Row]) -> list[Row]:
    """A mark drawn as its own glyph joins its letter: the one to its right in an
    Arabic word (drawn from right to left), else the one to its left."""
    # Which units are marks and, for each, the first letter to its right: read before any
    # text is joined (a unit's text only changes once the loop has passed it).
    marks = [_is_mark(u[_TEXT]) for u in units]
    right_of: list[Row | None] = [None] * len(units)
    nearest: Row | None = None
    for i in range(len(units) - 1, -1, -1):
        right_of[i] = nearest
        if not marks[i] and units[i][_TEXT].strip():
            nearest = units[i]
    out: list[Row] = []
    pending: list[Row] = []
    for i, g in enumerate(units):
        if not marks[i]:
            if pending and g[_TEXT].strip():
                if g[_RIGHT_TO_LEFT]:
                    g[_TEXT] += "".join(m[_TEXT] for m in pending)
                elif out:
                    out[-1][_TEXT] += "".join(m[_TEXT] for m in pending)
                else:
                    g[_TEXT] += "".join(m[_TEXT] for m in pending)
                pending = []
            out.append(g)
            continue
        right = right_of[i]
        near = right is not None and right[_X0] - g[_X1] < 0.4 * g[_SIZE]
        if right is not None and near and right[_RIGHT_TO_LEFT]:
            pending.append(g)
        elif out:
            out[-1][_TEXT] += g[_TEXT]
        else:
            pending.append(g)
    if pending and out:
        out[-1][_TEXT] += "".join(m[_TEXT] for m in pending)
    elif pending:  # marks without any letter in the line: kept as units of their own
        out.extend(pending)
    return out


def _drawn(glyphs: list[Row]) -> tuple[int, int]:
    """Pairs of successive Arabic glyphs drawn left to right (visual) and right to left."""
    visual, logical = 0, sum(1 for g in glyphs if g[_MIRRORED] and g[_RIGHT_TO_LEFT])
    for a, b in pairwise(glyphs):
        if a[_RIGHT_TO_LEFT] and b[_RIGHT_TO_LEFT] and abs(a[_CY] - b[_CY]) < a[_SIZE] / 2:
            if b[_CX] > a[_CX] + 0.1:
                visual += 1
            elif b[_CX] < a[_CX] - 0.1:
                logical += 1
    return visual, logical


_BY_X = itemgetter(_CX, _X0)
_BY_Y = itemgetter(_CY)
_BY_SEQ = itemgetter(_SEQ)


def _rebuild(
    glyphs: list[Row], rtl: bool | None = None, bidi: bool = True
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Words in logical order from one line's glyphs. `bidi` False: without the algorithm,
    the units as drawn from the paragraph's start edge (right to left in a right-to-left
    paragraph), the reading kept when the algorithm fails on a line: logical for every
    right-to-left word, ligatures whole, only left-to-right runs inside it reversed."""
    units = sorted(glyphs, key=_BY_X)
    texts = [g[_TEXT] for g in units]
    # A unit opening with a mark needs a mark in the line: the line's distinct characters
    # (a few dozen) are tested first, each unit only when one is a mark.
    if any(map(_is_mark, set("".join(texts)))) and any(map(_is_mark, {t[:1] for t in texts})):
        units = _join_marks(units)
        texts = [g[_TEXT] for g in units]
    # A gap wider than a third of the font's size is a space the producer did not draw.
    spaced: list[Row] = units[:1]
    gaps = False
    for last, g in pairwise(units):
        if g[_X0] - last[_X1] > g[_SIZE] * 0.3 and last[_TEXT].strip() and g[_TEXT].strip():
            spaced.append(_row(" ", last[_X1], g[_Y0], g[_X0], g[_Y1], g[_SIZE], False, False))
            gaps = True
        spaced.append(g)
    if gaps:
        texts = [g[_TEXT] for g in spaced]
    # letters() maps character by character: a line without presentation forms is as drawn.
    line = "".join(texts)
    shown = list(map(_unit_letters, texts)) if _PRESENTATION.search(line) else texts
    formats = _FORMAT_CHARS.search(line) is not None
    if bidi:
        order = logical_order(shown, rtl)
    else:
        rtl = right_to_left(line) if rtl is None else rtl
        order = list(range(len(shown) - 1, -1, -1)) if rtl else list(range(len(shown)))
    words: list[tuple[str, tuple[float, float, float, float]]] = []
    parts: list[str] = []
    x0 = y0 = x1 = y1 = 0.0
    for i in order:
        g = spaced[i]
        if not texts[i].strip():
            if parts:
                text = "".join(parts)
                text = text.translate(_FORMAT) if formats else text
                if text:
                    words.append((text, (x0, y0, x1, y1)))
                parts = []
            continue
        if parts:  # the word's box: min() and max() as the builtins decide ties
            x0 = g[_X0] if g[_X0] < x0 else x0
            y0 = g[_Y0] if g[_Y0] < y0 else y0
            x1 = g[_X1] if g[_X1] > x1 else x1
            y1 = g[_Y1] if g[_Y1] > y1 else y1
        else:
            x0, y0, x1, y1 = g[_X0], g[_Y0], g[_X1], g[_Y1]
        parts.append(shown[i])
    if parts:
        text = "".join(parts)
        text = text.translate(_FORMAT) if formats else text
        if text:
            words.append((text, (x0, y0, x1, y1)))
    return words


def _mupdf_words(line: dict[str, Any]) -> list[tuple[str, tuple[float, float, float, float]]]:
    words: list[tuple[str, tuple[float, float, float, float]]] = []
    text, boxes = "", []
    for span in line["spans"]:
        for c in span["chars"]:
            if c["c"].isspace():
                if text:
                    words.append((letters(text), _union(boxes)))
                text, boxes = "", []
                continue
            text += c["c"]
            boxes.append(c["bbox"])
    if text:
        words.append((letters(text), _union(boxes)))
    return [(w.translate(_FORMAT), box) for w, box in words if w.translate(_FORMAT)]


def _union(boxes: list[Any]) -> tuple[float, float, float, float]:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _counted_table() -> dict[int, str | None]:
    """letters() and the removal of what a letter count leaves out, as one translate table:
    presentation forms become their letters less any mark; spaces and marks go."""
    # Every space (str.isspace) and every mark counted out lies below U+3001.
    table: dict[int, str | None] = {cp: None for cp in range(0x3001) if _NOT_COUNTED.match(chr(cp))}
    for cp, mapped in _LETTERS.items():
        table[cp] = _NOT_COUNTED.sub("", mapped) or None
    return table


_COUNTED = _counted_table()


def _same_letters(a: str, b: str) -> bool:
    """Whether two readings of a line hold the same letters, give or take a ligature that
    one reader maps to fewer letters (at most one in ten)."""
    ta, tb = a.translate(_COUNTED), b.translate(_COUNTED)
    if len(ta) == len(tb) and sorted(ta) == sorted(tb):  # the usual case, without a Counter
        return True
    ca, cb = Counter(ta), Counter(tb)
    differ = sum(((ca - cb) + (cb - ca)).values())
    return differ <= max(1, sum(ca.values()) // 10)


def _line_text(line: dict[str, Any]) -> str:
    if "chars" in (line["spans"] or [{}])[0]:
        return "".join(c["c"] for s in line["spans"] for c in s["chars"])
    return "".join(s["text"] for s in line["spans"])


def _direction(block: dict[str, Any], text: str, margins: tuple[float, float]) -> bool:
    """Whether a paragraph runs right to left: by where its lines stand when one is set
    against one margin only (a right-aligned paragraph of mostly English words in an Arabic
    document is still an Arabic paragraph), else by the majority of its letters."""
    if has_rtl(text):
        left, right = margins
        for line in block["lines"]:  # the first line set against one margin only decides
            x0, _, x1, _ = line["bbox"]
            size = max((s.get("size", 10.0) for s in line["spans"]), default=10.0)
            at_left, at_right = x0 - left < size, right - x1 < size
            if at_right != at_left:
                return at_right
    return right_to_left(text)


_PAIRS = {"(": ")", "[": "]", "{": "}", "«": "»", "‹": "›"}


def _brackets(
    words: list[tuple[str, tuple[float, float, float, float]]],
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Brackets the producer mapped by their drawn shape: in a right-to-left run the glyph
    of "(" is a mirrored ")", and some producers (browsers) write the shape's character. A
    line whose pair only balances when each bracket is swapped for its mirror is swapped."""
    text = " ".join(w for w, _ in words)
    swap: dict[str, str] = {}
    for opening, closing in _PAIRS.items():
        if opening not in text and closing not in text:
            continue
        if not _balanced(text, opening, closing) and _balanced(text, closing, opening):
            swap[opening], swap[closing] = closing, opening
    if not swap:
        return words
    table = str.maketrans(swap)
    return [(w.translate(table), box) for w, box in words]


def _balanced(text: str, opening: str, closing: str) -> bool:
    depth = 0
    for c in text:
        depth += (c == opening) - (c == closing)
        if depth < 0:
            return False
    return depth == 0


def read_page(page: Any, flags: int | None = None, boxes: bool = False) -> PageText:
    """The page's text, line by line in MuPDF's reading order, right-to-left lines rebuilt.
    `boxes`: every word's rectangle too (redaction), at the cost of reading every character."""
    with _no_cycle_collection():
        return _read_page(page, flags, boxes)


_PAUSE = threading.Lock()
_PAUSED_BY = 0  # reads in progress that hold the collector paused
_WAS_ENABLED = False


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a page is read: MuPDF's trace and layout and
    the glyph rows are thousands of short-lived containers without cycles (freed by their
    reference counts), which the collector would otherwise scan over and over, along with
    everything else the process holds (about 7% of `extract.pdf`'s time with Amanah loaded).
    Counted across threads: the first read pauses it, the last one leaves it as it found it
    (two threads each restoring what they saw would leave it off for good)."""
    global _PAUSED_BY, _WAS_ENABLED
    with _PAUSE:
        if _PAUSED_BY == 0:
            _WAS_ENABLED = gc.isenabled()
            gc.disable()
        _PAUSED_BY += 1
    try:
        yield
    finally:
        with _PAUSE:
            _PAUSED_BY -= 1
            if _PAUSED_BY == 0 and _WAS_ENABLED:
                gc.enable()


def _read_page(page: Any, flags: int | None, boxes: bool) -> PageText:
    import pymupdf

    if flags is None:
        flags = pymupdf.TEXTFLAGS_TEXT
    flags |= pymupdf.TEXT_PRESERVE_LIGATURES
    # Without TEXT_MEDIABOX_CLIP the caller wants text outside the visible page too, but
    # PyMuPDF clips to the page's rectangle whenever no clip is given: give it none.
    clip = None if flags & pymupdf.TEXT_MEDIABOX_CLIP else pymupdf.INFINITE_RECT()
    layout = page.get_text("rawdict" if boxes else "dict", flags=flags, clip=clip)
    text_blocks = [b for b in layout["blocks"] if b.get("type") == 0 and b.get("lines")]
    margins = (
        min((b["bbox"][0] for b in text_blocks), default=0.0),
        max((b["bbox"][2] for b in text_blocks), default=0.0),
    )
    glyphs: list[Row] | None = None
    tops: list[float] = []
    centres: list[float] = []
    used: set[int] = set()
    result = PageText(text="", lines=[])
    visual = logical = 0
    blocks_text: list[str] = []
    for block in layout["blocks"]:
        if block.get("type") != 0:
            continue
        block_lines: list[str] = []
        raws = [_line_text(line) for line in block["lines"]]
        rtl = _direction(block, "".join(raws), margins)
        for line, raw in zip(block["lines"], raws, strict=True):
            if not raw.strip():
                continue
            out: Line | None = None
            if has_rtl(raw) and line.get("wmode", 0) == 0 and abs(line["dir"][1]) < 0.05:
                if glyphs is None:
                    glyphs = sorted(_page_glyphs(page, result), key=_BY_Y)
                    tops = [g[_CY] for g in glyphs]
                    centres = [g[_CX] for g in glyphs]
                bx0, by0, bx1, by1 = line["bbox"]
                left, right, top, bottom = bx0 - 1.5, bx1 + 1.5, by0 - 0.5, by1 + 0.5
                # The glyphs whose centre is inside the line's box, among those the bisection
                # of the sorted centres finds (tested again: a NaN box breaks the sort).
                lo, hi = bisect_left(tops, top), bisect_right(tops, bottom)
                mine = [
                    i
                    for i in range(lo, hi)
                    if left <= centres[i] <= right and top <= tops[i] <= bottom and i not in used
                ]
                picked = [glyphs[i] for i in mine]
                drawn = "".join([g[_TEXT] for g in picked])
                # Rebuilt only when the glyphs found are the line's characters:
                # anything else (text drawn twice, clipped) keeps MuPDF's reading.
                if picked and _same_letters(drawn, raw):
                    v, lg = _drawn(sorted(picked, key=_BY_SEQ))
                    visual, logical = visual + v, logical + lg
                    used.update(mine)
                    result.presentation_forms += len(_PRESENTATION.findall(drawn))
                    out = _rebuilt_line(picked, rtl, raw, len(result.lines) + 1, result)
                    if out is None:
                        result.kept_lines += 1
                    else:
                        result.rebuilt_lines += 1
                else:
                    result.kept_lines += 1
                    if picked:  # the glyphs found, as drawn from the right: another reading
                        result.other_readings.append(_as_drawn(picked, rtl))
            if out is None:
                out = Line(words=_mupdf_words(line) if boxes else [])
                out.text = scalar(letters(raw).translate(_FORMAT))
            result.lines.append(out)
            result.boxes.append((tuple(line["bbox"]), out.text))
            block_lines.append(out.text)
        if block_lines:
            blocks_text.append("\n".join(block_lines))
    result.text = "\n".join(blocks_text) + ("\n" if blocks_text else "")
    if visual or logical:
        result.drawn_order = (
            "visual"
            if logical == 0
            else "logical"
            if visual == 0
            else ("mostly visual" if visual > logical else "mostly logical")
        )
    return result


def _page_glyphs(page: Any, result: PageText) -> list[Row]:
    """The page's glyphs, or none when MuPDF's text trace of the page fails (a damaged font):
    every line then keeps MuPDF's reading, and the page says why."""
    try:
        return _glyphs(page)
    except MemoryError:
        raise
    except Exception as exc:
        result.unread.append(f"the glyph trace failed ({type(exc).__name__}): lines as MuPDF reads")
        return []


def _rebuilt_line(
    picked: list[Row], rtl: bool, raw: str, number: int, result: PageText
) -> Line | None:
    """One line rebuilt in logical order; a line the bidirectional algorithm fails on (an
    input no test foresaw) is read as drawn from the paragraph's start edge, the reason is
    recorded and MuPDF's reading of it kept as another reading: one line, never the page,
    loses the algorithm."""
    try:
        words = _rebuild(picked, rtl)
    except MemoryError:
        raise
    except Exception as exc:
        result.unread.append(
            f"line {number}: the bidirectional algorithm failed ({type(exc).__name__});"
            " read as drawn from the paragraph's start"
        )
        result.other_readings.append(scalar(letters(raw).translate(_FORMAT)))
        try:
            words = _rebuild(picked, rtl, bidi=False)
        except MemoryError:
            raise
        except Exception:  # the glyphs themselves cannot be put in a line: MuPDF's reading
            return None
    words = [(scalar(w), box) for w, box in _brackets(words)]
    return Line(words=words, text=" ".join(w for w, _ in words), rebuilt=True)


#: Pieces of one row closer than this share of their height are one word, as the eye reads
#: them ("ad al-Khatib" drawn first, then "Ahm" just before it: "Ahmad al-Khatib").
_GLUED_GAP = 0.15


def laid_out(result: PageText, page: Any = None, flags: int | None = None) -> str:
    """The page as it is laid out rather than as its content stream draws it: lines that
    share a row (their boxes overlap by half their height) read in the row's direction,
    pieces that touch joined without a space. A producer (or an adversary) may draw a name's
    pieces in any order, each its own line to MuPDF; the eye reads them where they stand.
    Where lines of a row overlap (letters drawn one at a time in a shuffled order, which
    MuPDF gathers into lines of its own), the row is read letter by letter from `page`."""
    pieces = [(box, text) for box, text in result.boxes if text.strip() and all(map(_finite, box))]
    rows = _rows(pieces)
    if page is not None and any(_overlapping(row) for row in rows):
        import pymupdf

        layout = page.get_text(
            "rawdict", flags=pymupdf.TEXTFLAGS_TEXT if flags is None else flags,
            clip=None if (flags or 0) & pymupdf.TEXT_MEDIABOX_CLIP else pymupdf.INFINITE_RECT(),
        )  # fmt: skip
        chars = [
            (tuple(c["bbox"]), c["c"])
            for block in layout["blocks"]
            if block.get("type") == 0
            for line in block["lines"]
            if abs(line["dir"][1]) < 0.05
            for span in line["spans"]
            for c in span["chars"]
            if not c["c"].isspace() and all(map(_finite, c["bbox"]))
        ]
        rows = _rows(chars)
    return "\n".join(scalar(letters(line).translate(_FORMAT)) for line in _joined(rows))


def read_as_laid_out(pieces: list[tuple[Box, str]]) -> str:
    """Pieces of text at their places (boxes x0, y0, x1, y1, y growing down) read as the eye
    reads them: in rows, each in its direction, pieces that touch joined without a space.
    For any layout (a slide's text boxes, a page's lines)."""
    pieces = [(box, text) for box, text in pieces if text.strip() and all(map(_finite, box))]
    return "\n".join(_joined(_rows(pieces)))


def _joined(rows: list[list[tuple[Box, str]]]) -> list[str]:
    """Each row's pieces joined in its direction; a row that mixes right-to-left pieces with
    others is read both ways (two Latin words beside an Arabic name must not turn the name's
    pieces around: each reading holds one script's words in their order)."""
    out: list[str] = []
    for row in rows:
        rtl_pieces = sum(has_rtl(t) for _, t in row)
        directions = [rtl_pieces * 2 > len(row)]
        if 0 < rtl_pieces < len(row):
            directions.append(not directions[0])
        for rtl in directions:
            ordered = sorted(row, key=lambda b: -b[0][2] if rtl else b[0][0])
            line = ordered[0][1]
            for (a, _), (b, text) in pairwise(ordered):
                gap = (a[0] - b[2]) if rtl else (b[0] - a[2])
                glued = gap < _GLUED_GAP * min(a[3] - a[1], b[3] - b[1])
                line += text if glued else " " + text
            out.append(line)
    return out


def _rows(pieces: list[tuple[Box, str]]) -> list[list[tuple[Box, str]]]:
    """Pieces in rows (by their vertical overlap), each row in its direction's order."""
    rows: list[list[tuple[Box, str]]] = []
    for box, text in sorted(pieces, key=lambda b: (b[0][1] + b[0][3]) / 2):
        if rows:
            (_, top, _, bottom), _ = rows[-1][0]
            overlap = min(bottom, box[3]) - max(top, box[1])
            if overlap >= 0.5 * min(bottom - top, box[3] - box[1]):
                rows[-1].append((box, text))
                continue
        rows.append([(box, text)])
    for row in rows:
        rtl = sum(has_rtl(t) for _, t in row) * 2 > len(row)
        row.sort(key=lambda b: -b[0][2] if rtl else b[0][0])
    return rows


def _overlapping(row: list[tuple[Box, str]]) -> bool:
    """Whether two pieces of a row overlap across (more than a letter's kerning)."""
    ends = [max(a[0][2], b[0][2]) - min(a[0][0], b[0][0]) for a, b in pairwise(row)]
    widths = [(a[0][2] - a[0][0]) + (b[0][2] - b[0][0]) for a, b in pairwise(row)]
    return any(end < width - 2.0 for end, width in zip(ends, widths, strict=True))


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def _as_drawn(glyphs: list[Row], rtl: bool) -> str:
    try:
        return scalar(" ".join(w for w, _ in _rebuild(glyphs, rtl, bidi=False)))
    except MemoryError:
        raise
    except Exception:
        return ""


_SURROGATE = re.compile("[\ud800-\udfff]")


def scalar(text: str) -> str:
    """Text a derivative can encode: a lone surrogate (a reader's escaped byte) is U+FFFD."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def reads_arabic(text: str) -> int:
    """How well a text reads as Arabic in logical order: words that begin with the article
    (ال) less words that end with it reversed (لا), which is how a reversed text shows."""
    score = 0
    for word in text.split():
        if len(word) > 3:
            score += word.startswith("ال") - word.endswith("لا")
    return score


def page_words(page: Any) -> list[tuple[str, tuple[float, float, float, float], int]]:
    """The page's words in logical reading order with their rectangles and the index of
    their line: what redaction matches names against."""
    return [
        (word, box, n)
        for n, line in enumerate(read_page(page, boxes=True).lines)
        for word, box in line.words
    ]
