"""What a spreadsheet shows that its cells' stored values do not say: a formula's text as a
spreadsheet program computes it, and a value as its number format prints it.

A sheet may hold `=CONCATENATE("Ah","mad al-Khatib")` or `=CHAR(65)&CHAR(104)…` with no cached
value (a program computes it on opening), or the value `Ahmad` in a cell whose format adds
`" al-Khatib"`: the program shows a name no stored string holds. The leak check reads these
readings (`inventory_office`). Formulas are read with openpyxl's tokenizer; only what joins
text is computed (literals, `&`, `CHAR`/`UNICHAR` of a number, references to single cells,
text functions that keep their arguments' letters); anything else adds its literals in the
order written, which is how such a name is spelled into a formula.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_CHAR = frozenset({"CHAR", "UNICHAR", "_XLFN.UNICHAR"})
_TEXTJOIN = frozenset({"TEXTJOIN", "_XLFN.TEXTJOIN"})
#: The longest formula read (Excel's own limit is 8,192 characters), the most text one cell is
#: shown making (a name is short; a formula of formulas grows as a power of their lengths),
#: and the longest number format read (Excel's limit is 255).
MAX_FORMULA = 16_384
MAX_SHOWN = 4_096
MAX_FORMAT = 255
_CELL = re.compile(r"^(?:(?:'[^']+'|[^!]+)!)?\$?([A-Z]{1,3})\$?(\d{1,7})$")


def cell_reference(token: str) -> tuple[str, str] | None:
    """A reference to one cell (`A1`, `$B$2`, `Sheet2!C3`) as (sheet or "", "B2")."""
    m = _CELL.match(token)
    if not m:
        return None
    sheet = token.rsplit("!", 1)[0].strip("'") if "!" in token else ""
    return sheet, m.group(1) + m.group(2)


#: What a formula that makes text holds: a literal, a join, a character by its number.
_MAKES_TEXT = re.compile(r'["&]|CHAR|CONCAT|TEXTJOIN', re.I)


def makes_text(formula: str) -> bool:
    """Whether a formula may make text no cell holds (most formulas compute numbers: a sheet
    of a million `=SUM(…)` is not tokenized twice a cell)."""
    return _MAKES_TEXT.search(formula) is not None


#: A reference to one cell of the same sheet, outside a literal: not one end of a range
#: (`A1:B9`), not another sheet's (`Other!A1`), not a function's name (`LOG10(`).
_SAME_SHEET_CELL = re.compile(r"(?<![\w!.$:'])\$?([A-Z]{1,3})\$?(\d{1,7})(?![\w(:!])")


def references(formula: str) -> set[str]:
    """The cells of the same sheet a formula names (for their values); found without the
    tokenizer (a sheet's every formula would be split twice)."""
    bare = _LITERAL.sub('""', formula[:MAX_FORMULA])
    return {col + row for col, row in _SAME_SHEET_CELL.findall(bare)}


def computed(formula: str, value_of: Callable[[str], str] = lambda ref: "") -> str:
    """The text a formula makes of its literals, characters and cells, joined as written."""
    from openpyxl.formula import Tokenizer

    formula = formula[:MAX_FORMULA]
    try:
        items = Tokenizer("=" + formula.lstrip("=")).items
    except Exception:
        return "".join(_literals(formula))
    out: list[str] = []
    size = 0
    stack: list[list[str]] = []  # open functions: [name, argument index, TEXTJOIN's delimiter]
    for item in items:
        kind, sub, value = item.type, item.subtype, item.value
        if kind == "FUNC" and sub == "OPEN":
            stack.append([value[:-1].upper(), "0", ""])
        elif kind == "FUNC" and sub == "CLOSE":
            if stack:
                stack.pop()
        elif kind == "SEP" and sub == "ARG" and stack:
            stack[-1][1] = str(int(stack[-1][1]) + 1)
        elif kind == "OPERAND":
            piece = ""
            if sub == "TEXT":
                piece = value[1:-1].replace('""', '"')
            elif sub == "NUMBER" and stack and stack[-1][0] in _CHAR:
                piece = _char(value)
            elif sub == "RANGE":
                ref = cell_reference(value)
                piece = value_of(ref[1]) if ref and not ref[0] else ""
            if stack and stack[-1][0] in _TEXTJOIN:
                argument = int(stack[-1][1])
                if argument == 0:
                    stack[-1][2] = piece
                    continue
                if argument == 1:
                    continue  # whether empty values are left out
                if argument > 2:
                    piece = stack[-1][2] + piece
            out.append(piece)
            size += len(piece)
            if size > MAX_SHOWN:
                break
    return "".join(out)


def _char(value: str) -> str:
    try:
        n = int(float(value))
    except ValueError:
        return ""
    return chr(n) if 0 < n < 0x110000 and not 0xD800 <= n < 0xE000 else ""


_LITERAL = re.compile(r'"((?:[^"]|"")*)"')


def _literals(formula: str) -> list[str]:
    return [m.group(1).replace('""', '"') for m in _LITERAL.finditer(formula)]


#: A number format's parts: a quoted literal, an escaped character, a colour or condition in
#: brackets, a padding or fill code, the text placeholder, a run of digit placeholders.
_FORMAT_PART = re.compile(
    r'"([^"]*)"|\\(.)|(\[[^\]]*\])|([_*].)|(@)|([0#?.,%Ee+\-/]+|General)|([ $():!^&\'~{}<>=])'
)


def shows_words(code: str) -> bool:
    """Whether a number format adds text of its own (a quoted literal or escaped letters)."""
    return '"' in code or bool(re.search(r"\\[^\W\d_]", code))


def shown(value: str, code: str, is_text: bool) -> str:
    """A cell's value as its number format prints it (an approximation that keeps every
    literal of the section used, in order, with the value where its placeholder stands)."""
    sections = _split_sections(code[:MAX_FORMAT])
    if is_text:
        section = (
            sections[3]
            if len(sections) > 3
            else next((s for s in sections if "@" in s), sections[0] if len(sections) == 1 else "@")
        )
    else:
        section = sections[0]
    out: list[str] = []
    placed = False
    for m in _FORMAT_PART.finditer(section):
        literal, escaped, _bracket, _pad, at, digits, plain = m.groups()
        if literal is not None:
            out.append(literal)
        elif escaped is not None or plain is not None:
            out.append(escaped or plain)
        elif (at or digits) and not placed:
            out.append(value)
            placed = True
    if not placed:
        out.insert(0, value)
    return "".join(out)


def _split_sections(code: str) -> list[str]:
    sections, current, quoted = [], [], False
    for ch in code:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            sections.append("".join(current))
            current = []
        else:
            current.append(ch)
    sections.append("".join(current))
    return sections


def number_formats(styles: bytes) -> dict[int, str]:
    """The number format of each cell style (`s` of a cell) that adds text of its own."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(styles)
    codes: dict[str, str] = {}
    out: dict[int, str] = {}
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local == "numFmt" and el.get("numFmtId") is not None:
            codes[el.get("numFmtId", "")] = el.get("formatCode", "")
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "cellXfs":
            for i, xf in enumerate(x for x in el if x.tag.rsplit("}", 1)[-1] == "xf"):
                code = codes.get(xf.get("numFmtId", ""), "")[:MAX_FORMAT]
                if code and shows_words(code):
                    out[i] = code
    return out
