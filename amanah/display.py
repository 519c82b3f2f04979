"""How text supplied by evidence is shown to people: with its direction controls made visible.

A file name such as `report<U+202E>txt.exe` reads as `reportexe.txt` once a browser or a PDF
applies the right-to-left override; an analyst deciding what to open, or a provider reading a
letter, must see the control itself. Pages (a Jinja2 `finalize` plus the `reveal` filter)
and letters render evidence text through `reveal`; the JSON API keeps the exact value.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

#: Bidirectional formatting characters (Unicode UAX #9): embeddings and overrides, isolates,
#: and the implicit marks (LRM, RLM, ALM). Each is shown as ⟨U+XXXX⟩.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI
    + ["\u200e", "\u200f", "\u061c"]  # LRM RLM ALM
)
_CONTROLS = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


class Exact(str):
    """Text a template must show as it is (e.g. the user's own query in a search box, where a
    changed value would change the next search): `finalize` leaves it alone."""


def reveal(value: Any) -> Any:
    """`value` with each bidi control written out as ⟨U+XXXX⟩; other values unchanged.

    Escaped Markup (e.g. a joined list) is revealed too and stays Markup: the replacement
    holds no character HTML treats specially. Exact passes through untouched."""
    if isinstance(value, Exact) or not isinstance(value, str):
        return value
    if not _CONTROLS.search(value):
        return value
    for control in set(_CONTROLS.findall(value)):
        value = value.replace(control, f"⟨U+{ord(control):04X}⟩")  # Markup stays Markup
    return value


def own(text: str) -> Markup:
    """The app's own text for a page (a date or number Babel formatted): escaped, with each bidi
    control written as a character reference (&#x200F;) that the browser applies and `reveal`
    never sees, however many macros or filters the text passes through. Babel's Arabic dates
    hold RLM marks that place their parts; revealed, they read as a literal ⟨U+200F⟩."""
    escaped = str(escape(text))
    for control in set(_CONTROLS.findall(escaped)):
        escaped = escaped.replace(control, f"&#x{ord(control):04X};")
    return Markup(escaped)  # noqa: S704 (escaped above; the references are ours)


def exact(value: Any) -> Any:
    """Mark a string to be shown as it is (the template filter `exact`)."""
    return Exact(value) if isinstance(value, str) else value


#: What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list): a CSV we
#: write is opened by people in Excel or LibreOffice, and a file name is chosen upstream.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def for_spreadsheet(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as the text it is: text that would start a formula
    gets a leading apostrophe (the exact value stays in the JSON beside the CSV)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
