"""The analyst's own layer: tags and notes on items, saved searches, bulk actions on hits.

All of it is work product beside the evidence, never part of it: nothing here changes an
item, and nothing here goes into a sharing package. Need-to-know is decided in
`amanah.access` (`annotations_visible`, `annotatable_item`, `saved_searches_visible`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# The readings a name may hide in belong to the matcher (one concept: does this text name a
# protected person); re-exported for the callers that still import them from here.
from amanah.sharing.protected_readings import JOINERS as JOINERS
from amanah.sharing.protected_readings import readings as readings


class AnalystError(ValueError):
    """A tag, note or saved search that cannot be made as asked (said as it is, HTTP 400)."""


def now() -> datetime:
    return datetime.now(UTC)


#: Bidirectional overrides, embeddings and isolates: they reorder what follows them, so a
#: label or note could show words in another order than they are stored and searched in.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Direction marks: harmless in running text (Arabic keyboards type them), refused in a label.
BIDI_MARKS = frozenset("\u200e\u200f\u061c")


def check_text(text: str, what: str, *, lines: bool = False) -> str:
    """Refuse what no database keeps as text: a lone surrogate (not UTF-8) or a control
    character (NUL is refused by PostgreSQL), and bidi overrides, embeddings and isolates
    (they would show the text in another order than it is kept); a note may keep its line
    breaks and tabs, and direction marks."""
    allowed = "\n\r\t" if lines else ""
    for ch in text:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise AnalystError(f"{what} is not valid text (a lone surrogate)")
        if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) and ch not in allowed:
            raise AnalystError(f"{what} may not contain control characters")
        if ch in BIDI_CONTROLS:
            raise AnalystError(
                f"{what} may not contain a bidirectional control character (U+{ord(ch):04X}):"
                " it would show the text in another order than it is kept"
            )
    return text


def check_label(text: str, what: str) -> str:
    """A short label (a tag, a saved search's name) on one line: `check_text`, and no
    invisible character but the joiners words need (ZWNJ, ZWJ): no direction mark, no
    zero-width space or soft hyphen that would make two labels look alike."""
    check_text(text, what)
    for ch in text:
        if ch in JOINERS:
            continue
        if ch in BIDI_MARKS:
            raise AnalystError(
                f"{what} may not contain a direction mark (U+{ord(ch):04X}):"
                " the page sets each label's direction itself"
            )
        if not ch.isprintable() and not ch.isspace():
            raise AnalystError(f"{what} may not contain an invisible character (U+{ord(ch):04X})")
    return text


def refuse_hidden_names(matcher: Any, text: str, what: str) -> None:
    """Refuse a text that still names a protected person once read as a person would (after
    the names as written were replaced by pseudonyms): a name split by markup, spaced out or
    glued by a joiner cannot be replaced in place, and must not rest in clear. The reason
    never says the name."""
    from amanah.sharing.protected import HIDDEN_NAME

    if matcher.hidden(text):
        raise AnalystError(HIDDEN_NAME.format(what=what))
