"""The ways a reader's eye takes a text in which a protected name may hide from a matcher that
reads the text as stored: markup taken out, letters spaced out joined, words glued by a joiner
split, and text written in escapes decoded (`%D8%A3`, `=D8=A3`, `\\u0623`, `&#1571;`: a link's
target, a URL in a message, a JSON export, a vCard). `Matcher.names` reads a text in all of
them; every check that asks "does this text name a protected person" (analyst notes, tags and
saved searches, engagements, consent, the legal officer's forms, the leak check) asks it
there."""

from __future__ import annotations

import re

from amanah.text import (
    codepages,
    disguise,
    escapes,
    formfields,
    margins,
    markupread,
    orthographies,
)

#: Joiners a word needs: Persian writes ZWNJ inside words (می‌خواهم); matching folds them away,
#: a reader may see two words where they glue a name to the next one.
JOINERS = frozenset("\u200c\u200d")

_MARKUP = re.compile(r"<[^<>]{0,200}>|&[#\w]{1,10};")
# Letters spaced out by anything that is no letter (A.h.m.a.d, A✨h✨m, A~h~m, A, h, m), up
# to three characters of it, within a line.
_SPACED = re.compile(r"(?<!\w)(?:\w(?:[^\w\n]|_){1,3}){2,}\w(?!\w)")
_SPACERS = re.compile(r"[^\w\n]|_")


def unescaped(text: str) -> str:
    """The text with every run of escapes decoded as a reader's tool shows it (`%D8%A3`,
    `=D8=A3`, `\\u0623`, `\\xd8`, `\\330`, `&#1571;` …): the text itself when it holds none.
    One decoder for this and the raw readings of a file's bytes (`amanah.text.escapes`)."""
    return escapes.unescape(text)


#: Compound names written as one word or two: عبدالله / عبد الله, Abdulrahman / Abdul Rahman /
#: Abd al-Rahman, أبوبكر / أبو بكر, نورالدين / نور الدين, Nureddine / Nour al-Din. A spelling
#: is recorded one way and the text may write it the other: each text is also read with every
#: compound split, and with every compound joined.
_AR_SPLIT = (
    (re.compile(r"(?<!\w)(عبد)(ال\w{2,})"), r"\1 \2"),
    (re.compile(r"(?<!\w)([أاإ]بو)(\w{2,})"), r"\1 \2"),
    # From a word's start only: tried at every letter of a long word, \w{2,} went back over it
    # each time (a megabyte of letters before a name: hours).
    (re.compile(r"(?<!\w)(\w{2,})(الدين)(?!\w)"), r"\1 \2"),
    # Two words run together before the article (أحمدالخطيب: a space lost by a PDF's text
    # layer, a hashtag, a user name): the article starts a word.
    (re.compile(r"(?<=[\u0621-\u064a]{3})(?=ال[\u0621-\u064a]{2})"), " "),
)
_AR_JOIN = (
    (re.compile(r"(?<!\w)(عبد)\s+(?=ال\w)"), r"\1"),
    (re.compile(r"(?<!\w)([أاإ]بو)\s+(?=\w)"), r"\1"),
    (re.compile(r"(?<=\w)\s+(الدين)(?!\w)"), r"\1"),
)
#: Latin: Abd + (ul, al, el, ur …) + a name; Abu/Abou + a name; a name + (ed, ud, al …) + Din.
#: Names are capitalised (or all capitals): `abduction`, `about` and `sardine` are no names.
_LA_ABD = re.compile(
    r"\b(Abd|ABD)(?:[-\s]?((?i:[uaei]l|[uae][rsndtz]))[-\s]?|[-\s])?"
    r"(?!(?i:a?l?lah)\b)((?i:[a-z]{3,}))\b"
)
_LA_ALLAH = re.compile(r"\b(Abd|ABD)(?i:[-\s]?(?:[uaei]l?)?[-\s]?(?:a?l)?lah)\b")
_LA_ABU = re.compile(r"\b(A(?i:b[uo]u?))[-\s]?((?i:[a-z]{3,}))\b")
_LA_DIN = re.compile(r"\b([A-Z](?i:[a-z]{2,}?))[-\s]?((?i:[eau][dl]?))?[-\s]?((?i:d(?:ee|i)ne?))\b")
_LA_ANY = re.compile(r"\bA(?:bd|BD|b[uo]|B[UO])|(?i:d(?:ee|i)ne?)\b")


def _latin_compounds(text: str) -> list[str]:
    """Latin compounds as `Abd al-X`, as `Abdul X`, and joined (`Abdulx`, lower case after the
    join: a capital inside a word is read as the start of another)."""
    if not _LA_ANY.search(text):
        return []

    def joined_abd(m: re.Match[str]) -> str:
        return m.group(1) + (m.group(2) or "").lower() + m.group(3).lower()

    out = [
        _LA_DIN.sub(
            r"\1 al-Din",
            _LA_ABU.sub(r"\1 \2", _LA_ABD.sub(r"\1 al-\3", _LA_ALLAH.sub(r"\1 Allah", text))),
        ),
        _LA_ABD.sub(
            lambda m: f"{m.group(1)}{m.group(2) or 'ul'} {m.group(3)}",
            _LA_ALLAH.sub(r"\1 Allah", text),
        ),
        _LA_DIN.sub(
            lambda m: m.group(1) + (m.group(2) or "").lower() + m.group(3).lower(),
            _LA_ABU.sub(
                lambda m: m.group(1) + m.group(2).lower(),
                _LA_ABD.sub(joined_abd, _LA_ALLAH.sub(r"\1ullah", text)),
            ),
        ),
    ]
    return out


def compounds(text: str) -> list[str]:
    """The text with every compound name split (Latin ones two ways: `Abd al-X`, `Abdul X`),
    and with every one joined; none that is the text itself."""
    split, joined = text, text
    if "ال" in text or "بو" in text:  # a substring search in C spares Latin text the patterns
        for pattern, by in _AR_SPLIT:
            split = pattern.sub(by, split)
        for pattern, by in _AR_JOIN:
            joined = pattern.sub(by, joined)
    out = _latin_compounds(split)[:2] or [split]
    out.append((_latin_compounds(joined) or [joined, joined, joined])[2])
    return [t for t in dict.fromkeys(out) if t != text]


def _joined(text: str) -> str:
    return _SPACED.sub(lambda m: _SPACERS.sub("", m.group()), text)


_GAP = re.compile(r"(?:[^\w\n]|_)+")


def _letters_then_words(m: re.Match[str]) -> str:
    """A spaced-out run with its narrowest gaps closed and the wider ones kept as spaces:
    `A h m a d   a l - K h a t i b` is two words, not one."""
    run = m.group()
    narrow = min(len(g) for g in _GAP.findall(run))
    return _GAP.sub(lambda g: "" if len(g.group()) == narrow else " ", run)


def _joined_words(text: str) -> str:
    return _SPACED.sub(_letters_then_words, text)


_LIGHT_HINT = re.compile(
    r"\x08|\*\w|\w\*|\]\(|\\[a-zA-Z]+\{|\\ |\{\}|\w''|''\w"
    r"|\[/?[a-zA-Z*]{1,10}(?:=[^\]\[\n]{0,100})?\]"
)
_OVERSTRIKE = re.compile("[^\n]\x08")
_MD_LINK = re.compile("\\[([^\\]\n]{0,200})\\]\\([^)\n]{0,200}\\)")
#: LaTeX: a command's opening brace, a closing brace after a letter, an empty group (Ah{}mad).
_LATEX = re.compile(r"\\[a-zA-Z]{1,20}\{|(?<=\w)\}|\\ |\{\}")
#: BBCode's tags ([b], [/i], [color=red]): a forum post's emphasis inside a word.
_BBCODE = re.compile(r"\[/?[a-zA-Z*]{1,10}(?:=[^\]\[\n]{0,100})?\]")
#: Emphasis marks: Markdown's and reST's (* _ `), MediaWiki's italic and bold ('' ''').
_EMPHASIS = re.compile(r"(?<=\w)(?:[*_`]{1,3}+|'{2,5}+)|(?:[*_`]{1,3}+|'{2,5}+)(?=\w)")


def _light_markup_undone(text: str) -> str:
    """Text with light markup read as shown: a terminal's overstrike (bold as A\bA), a
    Markdown link's words, LaTeX commands' braces and empty groups (Ah{}mad), BBCode tags,
    emphasis marks (Markdown, reST, MediaWiki's ''italic''). Every pattern is bounded or
    possessive: linear in the text."""
    out = _OVERSTRIKE.sub("", text)
    out = _MD_LINK.sub(lambda m: m.group(1), out)
    out = _LATEX.sub("", out)
    out = _BBCODE.sub("", out)
    return _EMPHASIS.sub("", out)


#: A short insert within a name: a kunya, a nickname or a father's name in brackets (one to
#: three words that are capitalised or Arabic: "Ahmad (Abu Khaled) al-Khatib"), a nickname
#: in quotes ('Ahmad "the teacher" al-Khatib').
_INSERT = re.compile(
    "(?<=[^\\W\\d_])[ \\t]++"
    "(?:[(\\[][ \\t]*+(?:[A-Z\u0621-\u064a][^\\s()\\[\\]]{0,20}+[ \\t]*+){1,3}[)\\]]"
    '|[«"“][^«»"“”\\n]{1,40}[»"”])[ \\t]++(?=[^\\W\\d_])'
)
#: A lineage's links (bin, ibn, b., بن، ابن), each with its father's name: the chain a
#: register writes between a given name and a family name, read without them.
_NASAB = re.compile("(?<!\\S)(?:[Bb]in|[Ii]bn|[Bb]en|[Bb]\\.|بن|ابن)[ \\t]++[^\\W\\d_]++[ \\t]++")
_HYPHEN_LEFT = re.compile("(?<=[^\\W\\d_])-[ \\t]++(?=[a-z\u0620-\u064a])")


def readings(text: str) -> list[str]:
    """Other readings of a text than as stored (none equal to it, none twice): markup taken
    out, as nothing and as a space (`<b>Ah</b>mad`, `Ahmad<br>Khatib`), letters spaced out
    joined (`A.h.m.a.d`, `ا ح م د`), words glued by a joiner split (`أحمد‌الخطيب`), and all of
    these at once; escapes decoded (`%D8%A3%D8%AD%D9%85%D8%AF`), then read the same ways;
    letters in disguise read as letters (`disguise`: Ⓐⓗⓜⓐⓓ, A7mad); Arabic decoded twice
    read back (`Ø£Ø­Ù…Ø¯`)."""
    split = text  # each joiner as a space, in C: a raw reading is megabytes
    for joiner in JOINERS:
        split = split.replace(joiner, " ")
    out = [_MARKUP.sub("", text), _MARKUP.sub(" ", text), split]
    if _SPACED.search(text):
        out += [_joined(text), _joined_words(text)]
    out.append(_joined(_MARKUP.sub("", split)))
    out.extend(compounds(text))
    decoded = unescaped(text)
    if decoded != text:
        out += [decoded, _MARKUP.sub(" ", decoded)]
    out.extend(disguise.readings(text))
    # As the program that opens it shows it: CDATA, comments, quoted `>`, ruby notes and
    # internal entities (XML, HTML, WebVTT); `_x0041_` (OOXML); uuencoded blocks; a CSV's
    # formulas computed; a script's `String.fromCharCode(…)` and joined literals.
    out.extend(markupread.tags_read(text))
    for shown in (
        markupread.ooxml_unescaped(text),
        markupread.uudecoded(text),
        markupread.formulas_computed(text),
        markupread.script_decoded(text),
    ):
        if shown is not None:
            out += [shown, _MARKUP.sub("", shown)]
    if _LIGHT_HINT.search(text):  # **Ah**mad, Ah[mad](…), \textbf{Ah}mad, A\bAh\bh…
        out.append(_light_markup_undone(text))
    if _INSERT.search(text):  # Ahmad (Abu Khaled) al-Khatib, Ahmad "the teacher" al-Khatib
        out.append(_INSERT.sub(" ", orthographies.near(text, _INSERT)))
    if _NASAB.search(text):  # أحمد بن محمود بن علي الخطيب, Ahmad b. Mahmoud al-Khatib
        out.append(_NASAB.sub("", orthographies.near(text, _NASAB)))
    if _HYPHEN_LEFT.search(text):  # "al-Kha- tib": a line-end hyphen left in running text
        out.append(_HYPHEN_LEFT.sub("", text))
    out.extend(orthographies.readings(text))  # Ахмад аль-Хатиб, Achmed al-Chatib, Ahmet el-Hatip
    for form in (text, decoded) if decoded != text else (text,):  # a card's, a form's fields
        if (fields := formfields.reading(form)) is not None:
            out.append(fields)
    if (read_past := margins.reading(text)) is not None:  # line numbers, page numbers, cues
        out.append(read_past)
    out.append(codepages.mojibake_undone(decoded))  # Ø£Ø­Ù…Ø¯: Arabic decoded twice
    return [r for r in dict.fromkeys(out) if r != text]
