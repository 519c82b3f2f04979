"""What a reader reads past between two lines of a text: a transcript's line numbers, a page's
number or running footer, a subtitle's cue number and timing, a double-spaced text's blank
lines. A name wrapped across them is one name to the reader ("12 the witness Ahmad⏎13
al-Khatib said"), but the matcher reads the number, the timing or the blank line between its
words, and a blank line or a number parts two names. `reading` is the text without them:
the protected-name readings add it (`amanah.sharing.protected_readings`).
"""

from __future__ import annotations

import re

# A transcript's or a pleading's line number at a line's start ("12 the witness"), bare: a
# list numbers its items with a mark ("1. ", "1- ", "1) "), and a list's marker parts names.
_NUMBERED = re.compile(r"(?m)^[ \t]*+\d{1,5}+(?:[ \t]++|$)")
# A line that is a page's number alone ("3", "- 3 -", "Page 3 of 12", "صفحة 3 من 12", "3/12").
# Possessive: a line of a million spaces or dashes is read once, not tried from each.
_PAGE = re.compile(
    r"(?im)^[ \t]*+[-–—]?[ \t]*+(?:page|p\.|صفحة|الصفحة)?[ \t]*+[\d\u0660-\u0669]{1,4}+"
    r"(?:[ \t]*+(?:of|/|من)[ \t]*+[\d\u0660-\u0669]{1,4}+)?[ \t]*+[-–—]?[ \t]*+$\n?"
)
# A subtitle's timing (SRT's and WebVTT's), and WebVTT's header.
_CLOCK = r"(?:\d{1,2}:)?\d{1,2}:\d{2}[,.]\d{3}"
_TIMING = re.compile(
    rf"(?m)^[ \t]*+{_CLOCK}[ \t]*+-->[ \t]*+{_CLOCK}[^\n]*+$\n?|^WEBVTT[^\n]*+$\n?"
)
_BLANK = re.compile(r"\n[ \t]*+\n")
_BLANKS = re.compile(r"\n(?:[ \t]*+\n)++")
MIN_LINES = 3  # lines a text has at least before its lines' numbers count as a transcript's
NUMBERED_SHARE = 0.6  # of its lines that begin with a number


def reading(text: str) -> str | None:
    """The text as read past its margins' numbers and timings, with blank lines that only
    double-space it taken out; None when it has none."""
    if "\n" not in text:
        return None
    out = text
    if "-->" in out:  # subtitles: cue numbers and timings, and the blank line after each cue
        timed = _TIMING.sub("", out)
        if timed != out:
            out = _BLANKS.sub("\n", _PAGE.sub("", timed))
    lines = out.count("\n") + 1
    if lines >= MIN_LINES and len(_NUMBERED.findall(out)) >= NUMBERED_SHARE * lines:
        out = _NUMBERED.sub("", out)
    out = _PAGE.sub("", out)
    breaks = out.count("\n")
    if breaks >= MIN_LINES and len(_BLANK.findall(out)) * 2 >= breaks * NUMBERED_SHARE:
        out = _BLANKS.sub("\n", out)  # double-spaced: every line a blank line apart
    return out if out != text else None
