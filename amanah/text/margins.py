"""What a reader reads past between two lines of a text: a transcript's line numbers, a page's
number or running footer, a subtitle's cue number and timing, a double-spaced text's blank
lines. A name wrapped across them is one name to the reader ("12 the witness Ahmad⏎13
al-Khatib said"), but the matcher reads the number, the timing or the blank line between its
words, and a blank line or a number parts two names. `reading` is the text without them:
the protected-name readings add it (`amanah.sharing.protected_readings`).
"""

from __future__ import annotations

import itertools
import re

# A transcript's or a pleading's line number at a line's start ("12 the witness"), bare, or
# its time ("[00:01:02] the witness"): a list numbers its items with a mark ("1. ", "1- ",
# "1) "), and a list's marker parts names.
_NUMBERED = re.compile(
    r"(?m)^[ \t]*+(?:\d{1,5}+|[\[(]?(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[,.]\d{1,3})?[\])]?)(?:[ \t]++|$)"
)
# The same number at a line's end: a right-to-left transcript's margin number, drawn at the
# line's right, is read after its words once the line is in logical order ("قال الشاهد أحمد 12").
_NUMBERED_END = re.compile(r"(?m)(?<=[^\d\s])[ \t]++\d{1,5}+[ \t]*+$")
# A line that is a page's number alone ("3", "- 3 -", "Page 3 of 12", "صفحة 3 من 12", "3/12"),
# or a short footer that ends in one ("Case No. IT-95-14-T   Page 3").
# Possessive: a line of a million spaces or dashes is read once, not tried from each.
_PAGE = re.compile(
    r"(?im)^(?:[^\n]{0,80}?(?=(?:page|صفحة|الصفحة)[ \t]))?[ \t]*+[-–—]?[ \t]*+"
    r"(?:page|p\.|صفحة|الصفحة)?[ \t]*+[\d\u0660-\u0669]{1,4}+"
    r"(?:[ \t]*+(?:of|/|من)[ \t]*+[\d\u0660-\u0669]{1,4}+)?[ \t]*+[-–—]?[ \t]*+$\n?"
)
# A subtitle's timing (SRT's, WebVTT's with its cue settings, Whisper's "[00:00.000 -->
# 00:03.000]", YouTube's SBV "0:00:01.000,0:00:04.000") with its cue's name on the line before
# (after a blank line), WebVTT's header and notes, an ASS/SSA dialogue's fields, a speaker's
# head with its time ("Speaker 1  00:01").
_CLOCK = r"(?:\d{1,2}:)?\d{1,2}:\d{2}[,.]\d{2,3}"
_SPEAKER_HEAD = r"^[^\n]{1,40}?[ \t]++(?:\d{1,2}:)?\d{1,2}:\d{2}[ \t]*+$"
_TIMING = re.compile(
    rf"(?m)^(?:(?:\A|(?<=\n\n))(?:(?!-->)[^\n]){{0,60}}\n)?"
    rf"[ \t]*+\[?{_CLOCK}(?:[ \t]*+-->[ \t]*+|,){_CLOCK}\]?"
    r"(?:[ \t]++[\w\-]++:[^\s]*+)*+(?:[^\S\n]*+$\n?|[ \t]++)"
    r"|^WEBVTT[^\n]*+$\n?|^NOTE\b[^\n]*+(?:\n[^\n]++)*+\n?|^Dialogue:(?:[^,\n]*+,){9}"
    rf"|{_SPEAKER_HEAD}\n?"
)
_SPEAKER = re.compile(rf"(?m){_SPEAKER_HEAD}")
# Tags: HTML's and WebVTT's (<i>, <c>, <00:00:01.500>), SRT's and ASS's overrides ({\an8}).
_MARKUP = re.compile(r"<[^<>\n]{0,200}>|\{\\[^{}\n]{0,60}\}")
_SBV = re.compile(rf"(?m)^{_CLOCK},{_CLOCK}$")
_BLANK = re.compile(r"\n[ \t]*+\n")
_BLANKS = re.compile(r"\n(?:[ \t]*+\n)++")
MIN_LINES = 3  # lines a text has at least before its lines' numbers count as a transcript's
NUMBERED_SHARE = 0.6  # of its lines that begin with a number
PROSE_LINE = 24  # characters a numbered line holds on average in a transcript (a list's: names)


def reading(text: str) -> str | None:
    """The text as read past its margins' numbers and timings, with blank lines that only
    double-space it taken out; None when it has none."""
    if "\n" not in text and "\r" not in text:
        return None
    out = text.replace("\r\n", "\n").replace("\r", "\n")
    if "-->" in out or "Dialogue:" in out or _SBV.search(out) or _SPEAKER.search(out):
        # subtitles, a transcript's speakers: their cues' names, timings, tags, blank lines
        timed = _TIMING.sub("", out)
        if timed != out:
            timed = _MARKUP.sub("", timed).replace("\\N", " ").replace("\\n", " ")  # ASS's
            out = _BLANKS.sub("\n", _PAGE.sub("", timed))
    breaks = out.count("\n")
    if breaks >= MIN_LINES and len(_BLANK.findall(out)) * 2 >= breaks * NUMBERED_SHARE:
        out = _BLANKS.sub("\n", out)  # double-spaced: every line a blank line apart
    lines = out.count("\n") + 1
    if lines >= MIN_LINES and len(out) >= PROSE_LINE * lines:
        for numbered in (_NUMBERED, _NUMBERED_END):
            if len(numbered.findall(out)) >= NUMBERED_SHARE * lines:
                out = numbered.sub("", out)
    out = _PAGE.sub("", out)
    return out if out != text else None


#: Characters of a page's end and of the next page's start read together across the turn.
TURN = 300
#: Lines at a page's foot and at the next page's head that may stand between a name's two
#: halves once running heads are left out: a footnote, a page's own number, a first page's
#: letterhead, "(continued overleaf)". Each combination is read, a blank line apart.
EDGE_LINES = 2
_DIGITS = re.compile(r"[\d\u0660-\u0669]+")


def page_turns(pages: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Each turn between consecutive pages of one place, as (the later page's number, the end
    of the one before read with the start of it), its running heads and feet left out (a line
    that starts or ends two pages or more, its numbers aside: "Statement of W-12 — page 3"),
    and read again without up to EDGE_LINES more lines on either side (a footnote, a page's
    number in Roman numerals, a first page's letterhead). A name that a page turn cuts ("the
    witness Ahmad" | "al-Khatib said") is one name to its reader; each page alone holds half."""
    if len(pages) < 2:
        return []
    edges: dict[str, int] = {}
    split = {n: text.strip("\n").split("\n") for n, text in pages}
    for lines in split.values():
        for line in {lines[0], lines[-1]}:
            key = _DIGITS.sub("#", line.strip())
            edges[key] = edges.get(key, 0) + 1
    running = {key for key, count in edges.items() if count >= 2 and key}

    def kept(lines: list[str]) -> list[str]:
        first, last = 0, len(lines)
        while first < last and _DIGITS.sub("#", lines[first].strip()) in running:
            first += 1
        while last > first and _DIGITS.sub("#", lines[last - 1].strip()) in running:
            last -= 1
        return lines[first:last]

    turns = []
    ordered = sorted(pages)
    for (before, _), (after, _) in itertools.pairwise(ordered):
        if after != before + 1:
            continue
        end, start = kept(split[before]), kept(split[after])
        readings = []
        for drop_end in range(EDGE_LINES + 1):
            tail = "\n".join(end[max(0, len(end) - drop_end - 3) : len(end) - drop_end])
            for drop_start in range(EDGE_LINES + 1):
                head = "\n".join(start[drop_start : drop_start + 3])
                readings.append(f"{tail[-TURN:]}\n{head[:TURN]}")
        turns.append((after, "\n\n".join(dict.fromkeys(readings))))
    return turns
