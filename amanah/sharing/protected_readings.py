"""The ways a reader's eye takes a text in which a protected name may hide from a matcher that
reads the text as stored: markup taken out, letters spaced out joined, words glued by a joiner
split. `Matcher.names` reads a text in all of them; every check that asks "does this text name
a protected person" (analyst notes, tags and saved searches, engagements, consent, the legal
officer's forms, the leak check) asks it there."""

from __future__ import annotations

import re

#: Joiners a word needs: Persian writes ZWNJ inside words (می‌خواهم); matching folds them away,
#: a reader may see two words where they glue a name to the next one.
JOINERS = frozenset("\u200c\u200d")

_MARKUP = re.compile(r"<[^<>]{0,200}>|&[#\w]{1,10};")
_SPACED = re.compile(r"(?<!\w)(?:\w[\s.\-_*·•/|]{1,3}){2,}\w(?!\w)")
_SPACERS = re.compile(r"[\s.\-_*·•/|]")


def _joined(text: str) -> str:
    return _SPACED.sub(lambda m: _SPACERS.sub("", m.group()), text)


def readings(text: str) -> list[str]:
    """Other readings of a text than as stored (none equal to it, none twice): markup taken
    out, as nothing and as a space (`<b>Ah</b>mad`, `Ahmad<br>Khatib`), letters spaced out
    joined (`A.h.m.a.d`, `ا ح م د`), words glued by a joiner split (`أحمد‌الخطيب`), and all of
    these at once."""
    split = text  # each joiner as a space, in C: a raw reading is megabytes
    for joiner in JOINERS:
        split = split.replace(joiner, " ")
    out = [_MARKUP.sub("", text), _MARKUP.sub(" ", text), _joined(text), split]
    out.append(_joined(_MARKUP.sub("", split)))
    return [r for r in dict.fromkeys(out) if r != text]
