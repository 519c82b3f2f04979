"""How an expected error is told to a person, on the command line and on the web."""

from __future__ import annotations


def message(exc: BaseException) -> str:
    """The error's own words. A KeyError's str() quotes its argument; only that quoting goes
    (a message that itself ends with a quoted name keeps its quotes)."""
    text = str(exc)
    if isinstance(exc, KeyError) and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
