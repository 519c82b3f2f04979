"""Readings of a text as the program that opens it shows it, where markup or an encoding the
plain markup-stripping reading reads wrong stands inside a name.

- `tags_read`: markup taken out as a browser or an XML reader takes it: a CDATA section's
  contents are text (`Ah<![CDATA[mad]]>`), a comment is one whole even with a `>` inside
  (`Ah<!-- > -->mad`), a quoted attribute value may hold `>` (`<span title='a>b'>`), a
  ruby annotation (`<rt>`, `<rp>`) is left out (`K<ruby>ha<rt>1</rt></ruby>tib`), and an
  internal entity is expanded once (`<!ENTITY p1 "Ah">` … `&p1;mad`);
- `ooxml_unescaped`: OOXML's ST_Xstring escapes (`_x0041_`), which Excel shows as letters;
- `uudecoded`: each uuencoded block (`begin 644 name` … `end`) decoded as UTF-8 text;
- `formulas_computed`: a CSV's cells that are formulas (`="Ahm"&"ad …"`) as a spreadsheet
  computes them on opening;
- `script_decoded`: a script's text as it builds it, never run: `String.fromCharCode(65,104,…)`
  (decimal or hex numbers) as its letters, and string literals joined by `+` (`"Ahm"+"ad"`)
  as one.

Every pattern is bounded or never crosses the character that starts the next match: linear
time on hostile input; expansion is bounded (entities one level, a total budget).
"""

from __future__ import annotations

import binascii
import contextlib
import csv
import re

# A tag whose quoted attribute values may hold `>` (never `<`): linear, each scan stops at
# the next `<`. Comments are taken out before, by `_comments_removed`.
_TAG = re.compile(r"<[A-Za-z/!?](?:[^<>\"']++|\"[^\"<]{0,1000}+\"|'[^'<]{0,1000}+')*+>")
_CDATA = re.compile(r"<!\[CDATA\[|\]\]>")
#: A ruby note (`<rt>`, `<rp>`) with the markup inside it (`<rt><b>1</b></rt>`), ended by its
#: end tag or, as HTML lets it be, by the next note or the ruby's end; possessive, bounded.
_RUBY_NOTE = re.compile(
    r"(?i)<(r[tp])\b[^<>]{0,200}+>(?:[^<]{1,200}+|<(?!/?r[tp]\b|/ruby\b)[^<>]{0,200}+>){0,50}+"
    r"(?:</\1\s*>|(?=<r[tp]\b|</ruby\b))"
)
_HINT = re.compile(r"(?i)<!--|<!\[CDATA\[|<r[tp]\b|<!ENTITY|=\s*+[\"'][^\"'<>\n]{0,200}+>")
#: An internal general entity (`<!ENTITY p1 "Ah">`): never a parameter entity (`%`), never an
#: external one (SYSTEM, PUBLIC), never a value that refers to another (one level only).
_ENTITY = re.compile(
    r"<!ENTITY\s++([\w.:-]{1,64})\s++"
    r"(?:\"((?:[^\"&%<]|&#\w{1,8};){0,1000}+)\"|'((?:[^'&%<]|&#\w{1,8};){0,1000}+)')\s*+>?"
)
#: A character reference inside an entity's value (`&#65;`, `&#x41;`): read when declared.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));")
_REFERENCE = re.compile(r"&([\w.:-]{1,64});")
MAX_ENTITIES = 500
#: Characters the expanded entities may add to a text, beyond its own length (a billion laughs
#: of one level: a thousand references to a thousand-character entity).
MAX_EXPANSION = 1 << 20
_XML_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def tags_read(text: str) -> list[str]:
    """The text with its markup taken out as an XML or HTML reader takes it, each tag as
    nothing and as a space (an element's end and the next one's start part two words); none
    when it has no comment, CDATA section, ruby annotation, entity declaration or quoted `>`."""
    if "<" not in text or _HINT.search(text) is None:
        return []
    out = _expanded(text) if "<!ENTITY" in text else text
    out = _RUBY_NOTE.sub("", out)
    # CDATA sections opened as text first: their markers are no tags, their contents words.
    out = _comments_removed(_CDATA.sub("", out))
    return [_TAG.sub("", out), _TAG.sub(" ", out)]


def _comments_removed(text: str) -> str:
    """Every `<!-- … -->` taken out whole, whatever it holds (`<`, `>`), as a browser ends a
    comment only at `-->`: each end looked for once, in C (linear); a comment never ended is
    left as it is (what follows it a browser does not show at all)."""
    out: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[at:start])
        at = end + 3
    out.append(text[at:])
    return "".join(out)


def _expanded(text: str) -> str:
    """Internal entities expanded once, to a budget (never external ones, never nested)."""
    values: dict[str, str] = {}
    for m in _ENTITY.finditer(text):
        if len(values) >= MAX_ENTITIES:
            break
        value = m.group(2) if m.group(2) is not None else m.group(3)
        values.setdefault(m.group(1), _CHAR_REF.sub(_char_ref, value))
    budget = [MAX_EXPANSION]

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        value = values.get(name)
        if value is None:
            return _XML_REFS.get(name, m.group())
        if budget[0] < len(value):
            return m.group()
        budget[0] -= len(value)
        return value

    body = _ENTITY.sub("", text) if values else text
    return _REFERENCE.sub(one, body)


def _char_ref(m: re.Match[str]) -> str:
    n = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    return chr(n) if 0 < n < 0x110000 and not 0xD800 <= n < 0xE000 else "\ufffd"


_XSTRING = re.compile(r"_x([0-9A-Fa-f]{4})_")


def ooxml_unescaped(text: str) -> str | None:
    """OOXML's `_xHHHH_` escapes decoded as Excel and Word show them (None when none)."""
    if "_x" not in text or _XSTRING.search(text) is None:
        return None
    return _XSTRING.sub(_xchar, text)


def _xchar(m: re.Match[str]) -> str:
    n = int(m.group(1), 16)
    return "\ufffd" if 0xD800 <= n < 0xE000 else chr(n)


_UU_BEGIN = re.compile(r"(?m)^begin(?:-base64)?[ \t]++[0-7]{3,4}[ \t]++[^\n]{0,300}$")
#: One line of a uuencoded block, matched where the last ended (no copy of the text's rest).
_UU_LINE = re.compile(r"([ -`]{1,62})\r?(?:\n|$)")
MAX_UU_BLOCKS = 100
MAX_UU_BYTES = 16 << 20


def uudecoded(text: str) -> str | None:
    """Each uuencoded block (`begin 644 name` … `end`) decoded and read as UTF-8 text, the
    blocks a line apart (None when the text has none); to a budget of blocks and bytes."""
    found = uu_files(text)
    out = [data.decode("utf-8", "replace") for _, data in found]
    return "\n".join(out) if any(t.strip() for t in out) else None


def uu_files(text: str) -> list[tuple[str, bytes]]:
    """The files of a text's uuencoded blocks, (name from the `begin` line, bytes), to a
    budget of blocks (`MAX_UU_BLOCKS`) and bytes (`MAX_UU_BYTES`)."""
    return uu_files_cut(text)[0]


def uu_files_cut(text: str) -> tuple[list[tuple[str, bytes]], bool]:
    """`uu_files`, and whether the budget cut the reading short (blocks left unread: the
    inventory is then incomplete). A `begin-base64` block (uuencode -m) is base64 to its
    `====` line."""
    if "begin" not in text:
        return [], False
    out: list[tuple[str, bytes]] = []
    size = 0
    for n, m in enumerate(_UU_BEGIN.finditer(text)):
        if n >= MAX_UU_BLOCKS or size >= MAX_UU_BYTES:
            return out, True
        data = bytearray()
        at = m.end() + 1
        line_of = _B64_LINE if m.group().startswith("begin-base64") else _UU_LINE
        while size + len(data) < MAX_UU_BYTES and (line := line_of.match(text, at)):
            at = line.end()
            body = line.group(1).rstrip("\r")
            if line_of is _B64_LINE:
                if body.startswith("===="):
                    break
                with contextlib.suppress(binascii.Error, ValueError):
                    data += binascii.a2b_base64(body)
            else:
                data += _uu_line(body)
        size += len(data)
        name = m.group().split(None, 2)[-1].strip() if len(m.group().split(None, 2)) > 2 else ""
        out.append((name.rsplit("/", 1)[-1] or f"uuencoded-{n + 1}", bytes(data)))
    return out, size >= MAX_UU_BYTES


#: One line of a `begin-base64` block (or its `====` end), matched where the last ended.
_B64_LINE = re.compile(r"([A-Za-z0-9+/=]{1,100})\r?(?:\n|$)")


def _uu_line(line: str) -> bytes:
    """One line decoded; a line whose trailing spaces a mailer cut, padded back."""
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        need = ((ord(line[0]) - 32) & 63) * 4 // 3 + 2
        try:
            return binascii.a2b_uu(line.ljust(need))
        except binascii.Error:
            return b""


#: A cell that is a formula: `=`, or `+` and `@`, which a spreadsheet also takes as one.
_FORMULA_CELL = re.compile(r"(?m)(?:^|[,;\t])[ \t]*\"?[=+@]")


def formulas_computed(text: str) -> str | None:
    """A CSV's (or TSV's) lines with every cell that is a formula making text replaced by the
    text a spreadsheet computes on opening (`="Ahm"&"ad al-Khatib"`); None when none is."""
    from amanah.processing.sheet_display import computed, makes_text

    if _FORMULA_CELL.search(text) is None:
        return None
    lines = text.split("\n")
    changed = False
    for k, line in enumerate(lines):
        if _FORMULA_CELL.search(line) is None:
            continue
        sep = "\t" if "\t" in line else (";" if line.count(";") > line.count(",") else ",")
        try:
            cells = next(csv.reader([line], delimiter=sep))
        except (csv.Error, StopIteration):
            continue
        for c, cell in enumerate(cells):
            formula = cell.strip()
            if formula[:1] in ("=", "+", "@") and makes_text(formula):
                cells[c] = computed("=" + formula[1:])
                changed = True
        lines[k] = sep.join(cells)
    return "\n".join(lines) if changed else None


_NUMBER = r"(?:0[xX][0-9a-fA-F]{1,6}|\d{1,7})"
#: `String.fromCharCode(65, 104, …)` with literal numbers only (a list of at most 1,000).
_FROM_CHAR_CODE = re.compile(
    r"(?:String\s*+\.\s*+)?from(?:CharCode|CodePoint)\s*\(\s*+((?:"
    + _NUMBER
    + r"\s*+,\s*+){0,1000}+"
    + _NUMBER
    + r")\s*+\)"
)
_FROM_CHAR_HINT = re.compile(r"from(?:CharCode|CodePoint)")
#: Two string literals joined by `+` in a script: `"Ahm" + "ad"`, `'Ah'+'mad'`, a decoded call.
_LITERAL_JOIN = re.compile(r"([\"'`])[ \t]*+\+[ \t\r\n]*+[\"'`]")


def _code_points(numbers: str) -> str:
    out = []
    for n in numbers.split(","):
        n = n.strip()
        code = int(n, 16) if n[:2] in ("0x", "0X") else int(n)
        if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000:
            out.append(chr(code))
    return "".join(out)


def script_decoded(text: str) -> str | None:
    """The text with each `String.fromCharCode(…)` of literal numbers as the letters it makes
    (in quotes, as the string it is) and string literals joined by `+` read as one; None when
    the text has neither. A script is never run: what it computes otherwise is not known."""
    hint = _FROM_CHAR_HINT.search(text) is not None
    if not hint and _LITERAL_JOIN.search(text) is None:
        return None
    if hint:
        text = _FROM_CHAR_CODE.sub(lambda m: '"' + _code_points(m.group(1)) + '"', text)
    return _LITERAL_JOIN.sub("", text)
