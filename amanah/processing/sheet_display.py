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
_MAKES_TEXT = re.compile(
    r'["&]|CHAR|CONCAT|TEXTJOIN|SUBSTITUTE|REPLACE|MID|LEFT|RIGHT|UPPER|LOWER|PROPER|TRIM|REPT'
    r"|\bT\(|TEXT|INDEX",
    re.I,
)


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
    """The text a formula makes of its literals, characters and cells, as a spreadsheet
    program computes it: joins (`&`, `CONCAT`, `TEXTJOIN`), characters by number (`CHAR`), and
    the text functions a sheet assembles a name with (`SUBSTITUTE`, `REPLACE`, `MID`, `LEFT`,
    `RIGHT`, `UPPER`, `LOWER`, `PROPER`, `TRIM`, `REPT`, `T`, `TEXT`, `INDEX` of a literal
    array). Any other function gives its arguments' text joined in the order written."""
    from openpyxl.formula import Tokenizer

    formula = formula[:MAX_FORMULA]
    try:
        items = Tokenizer("=" + formula.lstrip("=")).items
        tree = _parse(items)
    except Exception:
        return "".join(_literals(formula))[:MAX_SHOWN]
    return _Evaluator(value_of).expression(tree)[:MAX_SHOWN]


#: Deepest nesting of functions read (Excel allows 64).
_MAX_DEPTH = 64


def _parse(items: list) -> list:
    """The formula's tokens as nested expressions: an expression is a list of nodes
    ("text"|"num"|"ref"|"op", value), ("func", NAME, [expressions]), ("array", [[expr…]…]),
    ("group", expression)."""
    stack: list[list] = []  # open frames: [kind, name, arguments, current expression]
    top: list = []
    current = top
    for item in items:
        kind, sub, value = item.type, item.subtype, item.value
        if kind in ("FUNC", "PAREN", "ARRAY") and sub == "OPEN":
            if len(stack) >= _MAX_DEPTH:
                raise ValueError("nested too deep")
            frame = [kind, value[:-1].upper(), [[]], None]
            frame[3] = frame[2][0]
            stack.append(frame)
            current = frame[3]
            if kind == "ARRAY":
                frame[2] = [[frame[3]]]  # rows of expressions
        elif kind in ("FUNC", "PAREN", "ARRAY") and sub == "CLOSE":
            if not stack:
                continue
            current = _close(stack, top)
        elif kind == "SEP" and stack:
            frame = stack[-1]
            expression: list = []
            if frame[0] == "ARRAY":
                if sub == "ROW":
                    frame[2].append([expression])
                else:
                    frame[2][-1].append(expression)
            else:
                frame[2].append(expression)
            frame[3] = current = expression
        elif kind == "OPERAND":
            node = {"TEXT": "text", "NUMBER": "num", "RANGE": "ref"}.get(sub)
            if node == "text":
                current.append(("text", value[1:-1].replace('""', '"')))
            elif node:
                current.append((node, value))
        elif kind.startswith("OPERATOR"):
            current.append(("op", value))
    while stack:  # a formula cut short: its open functions end where it ends
        _close(stack, top)
    return top


def _close(stack: list, top: list) -> list:
    """The innermost open function, array or group closed onto the expression around it;
    returns that expression (where what follows goes)."""
    frame = stack.pop()
    current = stack[-1][3] if stack else top
    if frame[0] == "FUNC":
        current.append(("func", frame[1], frame[2]))
    elif frame[0] == "ARRAY":
        current.append(("array", frame[2]))
    else:
        current.append(("group", frame[2][0]))
    return current


class _Evaluator:
    def __init__(self, value_of: Callable[[str], str]) -> None:
        self.value_of = value_of

    def expression(self, nodes: list) -> str:
        """An expression's text: its operands joined (a lone number, or numbers in
        arithmetic, are not text and give nothing but where `&` joins them)."""
        joins = any(n[0] == "op" and n[1] == "&" for n in nodes)
        out: list[str] = []
        size = 0
        for n in nodes:
            if n[0] == "op":
                continue
            if n[0] == "num" and not joins:
                continue
            piece = self.node(n)
            out.append(piece)
            size += len(piece)
            if size > MAX_SHOWN:
                break
        return "".join(out)[: MAX_SHOWN + 1]

    def number(self, nodes: list) -> int | None:
        """An argument that is a number (`9`, `-1`, a cell holding one)."""
        sign = -1 if any(n == ("op", "-") for n in nodes) else 1
        values = [n for n in nodes if n[0] != "op"]
        if len(values) != 1:
            return None
        text = values[0][1] if values[0][0] == "num" else self.node(values[0])
        try:
            return sign * int(float(text))
        except (TypeError, ValueError, OverflowError):
            return None

    def node(self, n: tuple) -> str:
        kind = n[0]
        if kind in ("text", "num"):
            return n[1]
        if kind == "ref":
            ref = cell_reference(n[1])
            return self.value_of(ref[1])[:MAX_SHOWN] if ref and not ref[0] else ""
        if kind == "group":
            return self.expression(n[1])
        if kind == "array":
            return "".join(self.expression(e) for row in n[1] for e in row)[: MAX_SHOWN + 1]
        if kind == "func":
            return self.function(n[1], n[2])[: MAX_SHOWN + 1]
        return ""

    def function(self, name: str, args: list[list]) -> str:
        name = name.removeprefix("_XLFN.")
        arg = self._arg
        if name in ("CHAR", "UNICHAR"):
            return _char(arg(args, 0)) if args and args[0] else ""
        if name in ("TEXTJOIN",) and len(args) >= 3:
            return arg(args, 0).join(self._spread(a) for a in args[2:])
        if name in ("CONCAT", "CONCATENATE"):
            return "".join(self._spread(a) for a in args)
        if name in ("UPPER", "LOWER", "PROPER", "TRIM", "T", "CLEAN") and args:
            text = arg(args, 0)
            return {
                "UPPER": str.upper,
                "LOWER": str.lower,
                "PROPER": str.title,
                "TRIM": lambda t: " ".join(w for w in t.split(" ") if w),
            }.get(name, lambda t: t)(text)
        whole = self._joined(args)
        if name == "SUBSTITUTE" and len(args) >= 3:
            text, old, new = arg(args, 0), arg(args, 1), arg(args, 2)
            if not old:
                return text
            if len(args) > 3:
                nth = self.number(args[3])
                if nth is None or nth < 1:
                    return whole
                at = -1
                for _ in range(nth):
                    at = text.find(old, at + 1)
                    if at < 0:
                        return text
                return text[:at] + new + text[at + len(old) :]
            if len(new) > len(old) and text.count(old) * (len(new) - len(old)) > MAX_SHOWN:
                return (text.replace(old, new, MAX_SHOWN // max(len(new), 1) + 1))[: MAX_SHOWN + 1]
            return text.replace(old, new)
        if name in ("MID", "MIDB") and len(args) >= 3:
            start, count = self.number(args[1]), self.number(args[2])
            if start is None or count is None or start < 1 or count < 0:
                return whole
            return arg(args, 0)[start - 1 : start - 1 + count]
        if name in ("LEFT", "LEFTB", "RIGHT", "RIGHTB") and args:
            count = self.number(args[1]) if len(args) > 1 else 1
            if count is None or count < 0:
                return whole
            text = arg(args, 0)
            if name.startswith("LEFT"):
                return text[:count]
            return text[len(text) - count :] if count else ""
        if name in ("REPLACE", "REPLACEB") and len(args) >= 4:
            start, count = self.number(args[1]), self.number(args[2])
            if start is None or count is None or start < 1 or count < 0:
                return whole
            text = arg(args, 0)
            return text[: start - 1] + arg(args, 3) + text[start - 1 + count :]
        if name == "REPT" and len(args) >= 2:
            text, times = arg(args, 0), self.number(args[1])
            if times is None or times < 0 or not text:
                return whole
            return text * min(times, MAX_SHOWN // len(text) + 1)
        if name == "TEXT" and len(args) >= 2:
            value = arg(args, 0)
            return shown(value, arg(args, 1), self.number(args[0]) is None)
        if name == "INDEX" and len(args) >= 2 and len(args[0]) == 1 and args[0][0][0] == "array":
            rows = args[0][0][1]
            row = self.number(args[1])
            col = self.number(args[2]) if len(args) > 2 else None
            if len(rows) == 1 and col is None and row is not None:  # one row: INDEX(arr, n)
                row, col = 1, row
            if row is None or not 0 < row <= len(rows):
                return whole
            col = col or 1
            if not 0 < col <= len(rows[row - 1]):
                return whole
            return self.expression(rows[row - 1][col - 1])
        return whole

    def _arg(self, args: list[list], i: int) -> str:
        if i >= len(args):
            return ""
        nodes = args[i]
        if len(nodes) == 1 and nodes[0][0] == "num":
            return nodes[0][1]  # a number given where text is wanted is its digits
        return self.expression(nodes)

    def _spread(self, nodes: list) -> str:
        return self._arg([nodes], 0)

    def _joined(self, args: list[list]) -> str:
        """What a function not computed shows: its arguments' text in the order written."""
        return "".join(self.expression(a) for a in args)[: MAX_SHOWN + 1]


def _char(value: str) -> str:
    try:
        n = int(float(value))
    except (ValueError, OverflowError):  # CHAR(1E400): no character, not an error
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


#: The most number formats of conditional formats each cell is read through.
MAX_CONDITIONAL = 16


def conditional_formats(styles: bytes) -> list[str]:
    """The number formats of the workbook's differential styles (`dxfs`, which conditional
    formats give a cell when their condition holds) that add text of their own: a cell under
    a conditional format is shown through one of them when its condition holds, which is
    not computed here, so every cell of a sheet with conditional formats is read through
    each."""
    from defusedxml.ElementTree import fromstring

    out: list[str] = []
    for el in fromstring(styles).iter():
        if el.tag.rsplit("}", 1)[-1] != "dxfs":
            continue
        for fmt in el.iter():
            if fmt.tag.rsplit("}", 1)[-1] == "numFmt":
                code = fmt.get("formatCode", "")[:MAX_FORMAT]
                if code and shows_words(code) and code not in out:
                    out.append(code)
    return out[:MAX_CONDITIONAL]
