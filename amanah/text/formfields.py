"""Names written in a form's fields or a register's columns, joined as their reader joins them.

An identity card, a civil-registry extract, a detention record or a form filled in writes one
name in several labelled fields: "الاسم: أحمد⏎الشهرة: الخطيب⏎اسم الأب: محمود", "Given name:
Ahmad   Family name: al-Khatib", `{"given_name": "Ahmad", "family_name": "al-Khatib"}`; a
register writes it in columns under a header (`first,father,last⏎أحمد,محمود,الخطيب`). A
reader takes them as one name; the matcher reads words side by side, and the labels, colons
and other cells stand between them. `reading` is the values of a text's name fields alone,
record by record (a record ends at a blank line or where a label comes again), each record's
values joined by spaces in the order written, records parted by a blank line: the
protected-name readings add it (`amanah.sharing.protected_readings`), so a name split over
fields is found, and two people's fields never make a third's name.
"""

from __future__ import annotations

import csv
import re

from amanah.display import BIDI_CONTROLS

# The labels of the fields that hold a part of a person's name, as forms, identity cards and
# registers print them: Arabic (the Levant's and the Maghreb's), Persian and Sorani, English,
# French, Turkish, Kurmanji, German, Spanish, Italian, Dutch and Swedish. Longer labels first:
# the first that matches is taken ("اسم الأب" before "اسم").
_ARABIC = (
    r"(?:[اإأ]سم |نام |ناوی )?(?:ال)?"
    r"(?:[اأ]ب|والد|جد|[اأ]م|والدة|والده|عائلة|عائله|پدر|مادر|باوک|دایک)",
    r"(?:ال)?[اإأ]سم(?: (?:ال)?[اأ]ول| الكامل| الثلاثي| الرباعي| والشهرة| والنسبة| الشخصي| العائلي"
    r"| الشهرة| الشهره)?",
    r"(?:ال)?(?:شهرة|شهره|كنية|كنيه|لقب|نسبة|نسبه|نسب)",
    r"نام(?: خانوادگی)?|ناو|پاشناو|ناوی سیانی",
)
_LATIN = (
    r"(?:full |first |given |middle |last |family |maiden |birth |father'?s? |mother'?s? |"
    r"grandfather'?s? )?names?(?:\(s\))?(?: of (?:the )?(?:father|mother))?",
    r"surnames?(?:\(s\))?|forenames?(?:\(s\))?",
    r"pr[ée]noms?(?:\(s\))?|nom(?: de famille| d'usage| de naissance| du p[èe]re| de la m[èe]re)?",
    r"(?:baba |ana |anne )?ad[ıi]|soyad[ıi]|pa[şs]nav|nav(?:[êe] (?:bav|day)[êe])?",
    r"vornamen?|nachname|familienname|geburtsname|name des vaters",
    r"nombres?|apellidos?|(?:primer |segundo )apellido|cognome|nome",
    r"voornamen?|achternaam|f[öo]rnamn|efternamn",
    # A directory's and a family tree's fields: LDIF's givenName and sn, GEDCOM's GIVN, SURN.
    r"givenname|sn|givn|surn",
)
_LABEL = "|".join((*_ARABIC, *_LATIN))
# Words a register's header names a name's column with (`first,father,last`), besides labels.
_COLUMN = r"first|last|middle|given|family|father|mother|grandfather|fname|lname|mname"
# One label, or several of the same field in other languages ("Given names / Prénoms"), not
# followed by a letter (أمجد is no أم; "Nominees" no "Nom").
_LABELS = rf"(?:{_LABEL})(?:[ \t]*+/[ \t]*+(?:{_LABEL}))*+(?![\w'])"
# A line's start: bullets, numbers and letters that number fields ("أ-", "a)", "(1)"), boxes.
# A GEDCOM line's level number before its tag ("2 GIVN Ahmad").
_LEAD = (
    r"(?:[ \t\u2022*\-\u2610-\u2612\u25a0\u25a1]|\(?(?:\d+|[a-zA-Z\u0621-\u064a])[).\-]"
    r"|\d{1,2}(?=[ \t]++(?i:givn|surn)\b))*+"
)
# A label at a line's start, its colon optional (OCR drops it); or after a space or a bar in a
# line of fields, its colon (or a bar) written: one label there, the last of a bilingual
# chain ("Surname / Nom:"), so that no chain is read again from each of its labels.
# Possessive, and a gap begun only at its first character: a line of a million spaces is
# read in one pass, not tried from each of them.
_FIELD = re.compile(
    rf"(?im)(?:^{_LEAD}[ \t]*+({_LABELS})[ \t]*+[:：\-–=|]?"
    rf"|(?<=[ \t|.…_>\"'{{,/])((?:{_LABEL})(?![\w']))[\"']?[ \t]*+[:：|])[ \t]*+[\"']?"
)
# Where a value ends: a line's end, a tab, a gap of spaces, a bar, a dotted or ruled leader, a
# tag (`Name: Ahmad<br>Surname: …`), a quoted value's end (`{"الاسم": "أحمد", …}`).
_END = re.compile(r"\n|\t|  +|\||\.{3,}|_{3,}|…|<|[\"'][ \t]*[,}]")
# Keys of exported records (JSON, YAML, a query string, XML's attributes): given_name,
# familyName, "father-name" — every such key holds "name", so only where "name" is written is
# a key looked for (a JSON export of millions of records is read in one pass).
_NAME_WORD = re.compile(r"(?i)name")
_KEY_BEFORE = re.compile(r"""[A-Za-z_\-]{0,24}$""")
_KEY_AFTER = re.compile(r"""[A-Za-z]{0,2}["']?[ \t]*[:=][ \t]*["']?([^"'\n,&}{<\]\[]{1,200})""")
_NESTING = re.compile(r"[{}\[\]]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_COLUMN_NAME = rf"(?:{_LABELS}|(?:{_COLUMN})(?:[ _]?names?)?)"
_HEADER_CELL = re.compile(rf"(?i)[ \t\"']*{_COLUMN_NAME}[ \t\"']*[:：]?[ \t]*")
# A header's words, found in one pass over the text (not line by line: a CSV has millions).
_HEADER_WORD = re.compile(rf"(?i)(?<![^\W_]){_COLUMN_NAME}(?![^\W_])")
_KEY_LABEL = re.compile(rf"(?i){_COLUMN_NAME}")

# What a reader does not see: tatweel, harakat, bidi controls, a byte-order mark; spaces of
# other widths; line breaks of other kinds.
_HIDDEN = dict.fromkeys(
    [0x0640, *range(0x064B, 0x0653), 0x0670, 0xFEFF, 0x00AD, *map(ord, BIDI_CONTROLS)]
)
_SPACES = dict.fromkeys([0x00A0, *range(0x2000, 0x200B), 0x202F, 0x3000], " ")
_BREAKS = dict.fromkeys([0x0B, 0x0C, 0x85, 0x2028, 0x2029, 0x0D], "\n")
_PLAIN = {**_HIDDEN, **_SPACES, **_BREAKS}
MIN_FIELDS = 2  # one field alone is a name as written: the matcher reads it already
MAX_HEADER = 2000  # characters of a register's header line


def reading(text: str) -> str | None:
    """The values of the text's name fields, record by record (None when no record holds two):
    "أحمد الخطيب محمود" for an identity card's three fields."""
    if ":" not in text and "：" not in text and "\n" not in text and "=" not in text:
        return None
    plain = text.replace("\r\n", "\n").translate(_PLAIN)
    records = [*_labelled(plain), *_keyed(plain), *_columns(plain)]
    kept = [" ".join(r) for r in records if len(r) >= MIN_FIELDS]
    return "\n\n".join(kept) if kept else None


def _labelled(text: str) -> list[list[str]]:
    """Values of labelled fields ("الاسم: أحمد"), record by record."""
    matches = list(_FIELD.finditer(text))
    records: list[list[str]] = [[]]
    seen: set[str] = set()
    last_end = line_start = fields_on_line = 0
    for k, m in enumerate(matches):
        label = re.sub(r"\s+", " ", (m.group(1) or m.group(2) or "").lower())
        if (nl := text.rfind("\n", last_end, m.start())) >= 0:  # a new line (looked for
            line_start, fields_on_line = nl + 1, 0  # since the last field only: one pass)
        before = text[max(line_start, m.start() - 80) : m.start()]
        if (m.group(2) and not fields_on_line and _LETTER.search(before)) or _OTHER_PERSON.search(
            label
        ):  # "Interviewer name:", "Mother's name:": someone else's name, left out
            last_end = m.end()
            continue
        fields_on_line += 1
        if label in seen or "\n\n" in text[last_end : m.start()]:
            records.append([])
            seen = set()
        seen.add(label)
        at = m.end()
        stop = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        end = _END.search(text, at, stop)
        value = text[at : end.start() if end else stop].strip()
        if not value and end and end.group() == "\n":  # the label alone on its line (a
            # table's cells a line each): the value is the next line, unless it is a label
            nxt = text.find("\n", end.end())
            line = text[end.end() : nxt if nxt >= 0 else len(text)]
            if not _FIELD.match(line):
                value = line.strip(" \t|")
        if value:
            records[-1].append(value)
        last_end = m.end()
    return records


_LETTER = re.compile(r"[^\W\d_]")
# Labels of a mother's name: hers, not a part of the holder's (a father's name is one).
_OTHER_PERSON = re.compile(
    r"(?i)[اأ]م\b|[اأ]م$|والدة|والده|مادر|دایک|mother|m[èe]re|ana |anne |madre"
)


def _keyed(text: str) -> list[list[str]]:
    """Values of an export's name keys (`"given_name": "Ahmad"`, `familyName=al-Khatib`),
    record by record (a key again starts the next)."""
    records: list[list[str]] = [[]]
    seen: set[str] = set()
    last = 0
    for m in _NAME_WORD.finditer(text):
        if m.start() < last:
            continue
        before = _KEY_BEFORE.search(text, max(0, m.start() - 24), m.start())
        after = _KEY_AFTER.match(text, m.end())
        if before is None or after is None:
            continue
        key = text[before.start() : after.start(1)].strip(" \t\"':=")
        words = _CAMEL.sub(" ", key).replace("_", " ").replace("-", " ").strip().lower()
        if not _KEY_LABEL.fullmatch(words):
            continue
        if words in seen or _NESTING.search(text, last, before.start()):
            records.append([])  # a key again, or another object: another record
            seen = set()
        last = after.end()
        if _OTHER_PERSON.search(words):
            continue  # her name, not a part of the holder's
        seen.add(words)
        records[-1].append(after.group(1).strip())
    return records


def _columns(text: str) -> list[list[str]]:
    """A register's rows: under a header with two name columns or more (a CSV, a TSV, a
    spreadsheet's text, a table with bars), each row's cells of those columns, to a blank
    line or a line without the header's separator. A header is the line where a separator
    starts being used: one look a table, not one a line."""
    records: list[list[str]] = []
    lines = text.split("\n")
    before: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        seps = {sep for sep in _SEPARATORS if sep in line}
        new, before = seps - before, seps
        i += 1
        if not new or len(line) > MAX_HEADER or len(_HEADER_WORD.findall(line)) < MIN_FIELDS:
            continue
        for sep in (s for s in _SEPARATORS if s in new):
            columns = [k for k, c in enumerate(_cells(line, sep)) if _HEADER_CELL.fullmatch(c)]
            if len(columns) >= MIN_FIELDS:
                break
        else:
            continue
        while i < len(lines) and lines[i].strip() and sep in lines[i]:
            cells = _cells(lines[i], sep)
            records.append([cells[c].strip() for c in columns if c < len(cells) and cells[c]])
            i += 1
    return records


_SEPARATORS = ("\t", ",", ";", "|")


def _cells(line: str, sep: str) -> list[str]:
    if sep in ",;":
        try:
            return next(csv.reader([line], delimiter=sep))
        except (csv.Error, StopIteration):
            return line.split(sep)
    return line.split(sep)
