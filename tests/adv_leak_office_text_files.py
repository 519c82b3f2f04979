"""Files whose text a reader assembles from pieces no stored string spells (an adversary's,
stop 54): a spreadsheet's text functions (`SUBSTITUTE`, `MID`, `REPLACE`, letters picked from
an alphabet cell), a link's tooltip holding an all-lowercase address, a script's
`String.fromCharCode`, Hebrew, Greek or Russian in a code page nothing names, an RTF's style
and font names and embedded objects, a conditional format's number format. Each writer:
(folder, latin, arabic) -> one file in the folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Writer = Callable[[Path, str, str], None]
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -"


def _xlsx_formula(name: str, make: Callable[[str, str], str], alphabet: bool = False) -> Writer:
    def write(folder: Path, latin: str, arabic: str) -> None:
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws["A1"] = "Witness"
        ws["B1"] = make(latin, arabic)
        ws["A2"] = "Statement taken 2024"
        if alphabet:
            ws["A3"] = ALPHABET
        wb.save(folder / name)

    return write


def _picked(latin: str, _arabic: str) -> str:
    return "=" + "&".join(f"MID(A3,{ALPHABET.index(c) + 1},1)" for c in latin)


def _csv_substitute(folder: Path, latin: str, _arabic: str) -> None:
    cell = '"=SUBSTITUTE(""' + latin.replace("a", "Q") + '"",""Q"",""a"")"'
    (folder / "substitute.csv").write_text(f"id,name,place\n14,{cell},Damascus\n")


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _address(latin: str) -> str:
    """`ahmad.alkhatib@example.org`: lowercase ASCII, no space."""
    return latin.lower().replace(" ", ".").replace("al-", "al") + "@example.org"


def _docx_tooltip(folder: Path, latin: str, _arabic: str) -> None:
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.add_paragraph("Statement about the centre.")
    d.add_paragraph()._p.append(
        parse_xml(
            f'<w:hyperlink {_W} w:anchor="_top" w:tooltip="{_address(latin)}"><w:r><w:t>'
            "contact the source</w:t></w:r></w:hyperlink>"
        )
    )
    d.save(str(folder / "tooltip.docx"))


def _xlsx_tooltip(folder: Path, latin: str, _arabic: str) -> None:
    import openpyxl
    from openpyxl.worksheet.hyperlink import Hyperlink

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Contact the source"
    ws["A1"].hyperlink = Hyperlink(
        ref="A1", location="Sheet!A1", tooltip=_address(latin), display="Contact the source"
    )
    wb.save(folder / "tooltip.xlsx")


def _js_charcodes(folder: Path, latin: str, _arabic: str) -> None:
    codes = ",".join(str(ord(c)) for c in latin)
    (folder / "jscodes.html").write_text(
        "<!doctype html><html><body><p>Statement of the witness: <span id='w'></span></p>"
        f"<script>document.getElementById('w').textContent=String.fromCharCode({codes});"
        "</script></body></html>"
    )


def _js_charcodes_arabic(folder: Path, _latin: str, arabic: str) -> None:
    half = len(arabic) // 2
    first = ",".join(hex(ord(c)) for c in arabic[:half])
    rest = ",".join(str(ord(c)) for c in arabic[half:])
    (folder / "jscodes_ar.html").write_text(
        "<html><body><span id='w'></span><script>w.textContent=String.fromCharCode("
        f"{first}) + String.fromCodePoint({rest});</script></body></html>"
    )


#: The name as written in Hebrew, Greek and Russian, a template around it, and a word of the
#: script that names nobody (the clean control).
_SCRIPTS = {
    "he": ("אחמד אל-ח'טיב", "הצהרה של העד {} על המרכז. העד מסר את עדותו בפני החוקרים.\n", "המרכז"),
    "el": (
        "Αχμάντ αλ-Χατίμπ",
        "Δήλωση του μάρτυρα {} για το κέντρο κράτησης στη Δαμασκό.\n",
        "κέντρο",
    ),
    "ru": ("Ахмад аль-Хатиб", "Показания свидетеля {} о центре содержания в Дамаске.\n", "центр"),
}


def _code_page(script: str, encoding: str) -> Writer:
    def write(folder: Path, latin: str, _arabic: str) -> None:
        spelled, template, neutral = _SCRIPTS[script]
        text = template.format(spelled if latin == "Ahmad al-Khatib" else neutral)
        (folder / f"cp_{encoding}.txt").write_bytes(text.encode(encoding))

    return write


def _zip_name(script: str, encoding: str) -> Writer:
    def write(folder: Path, latin: str, _arabic: str) -> None:
        import io
        import zipfile

        spelled, _template, neutral = _SCRIPTS[script]
        name = ((spelled if latin == "Ahmad al-Khatib" else neutral) + ".txt").encode(encoding)
        stand_in = b"Q" * len(name)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("readme.txt", "Photos of the checkpoint.\n")
            z.writestr(stand_in.decode("ascii"), b"Statement, page 1.\n")
        (folder / f"names_{encoding}.zip").write_bytes(buf.getvalue().replace(stand_in, name))

    return write


def _rtf_u(text: str) -> str:
    return "".join(f"\\u{ord(c) if ord(c) < 32768 else ord(c) - 65536}?" for c in text)


def _rtf_table(name: str, arabic: bool, table: str) -> Writer:
    def write(folder: Path, latin: str, ar: str) -> None:
        spelled = _rtf_u(ar if arabic else latin)
        tables = (
            "{\\fonttbl{\\f0 Arial;}{\\f1 " + spelled + ";}}"
            if table == "font"
            else "{\\fonttbl{\\f0 Arial;}}{\\stylesheet{\\s0 Normal;}{\\s15 " + spelled + ";}}"
        )
        (folder / name).write_text(
            "{\\rtf1\\ansi\\deff0" + tables + "\\pard\\plain Statement about the centre.\\par"
            "\\pard\\plain\\s15\\f1 The witness spoke.\\par}"
        )

    return write


def _rtf_package(folder: Path, latin: str, _arabic: str) -> None:
    """An OLE1 "Package" object (as Word embeds a file dropped into a document) holding a DOCX."""
    import io
    import struct

    import docx

    d = docx.Document()
    d.add_paragraph(f"Interview notes. Source: {latin}.")
    buf = io.BytesIO()
    d.save(buf)
    payload = buf.getvalue()
    label, where = b"notes.docx\0", b"C:\\tmp\\notes.docx\0"
    native = (
        b"\x02\x00" + label + where + b"\x00\x00\x03\x00" + struct.pack("<I", len(where)) + where
        + struct.pack("<I", len(payload)) + payload + b"\x00\x00"
    )  # fmt: skip
    cls = b"Package\0"
    ole = (
        struct.pack("<II", 0x0501, 2) + struct.pack("<I", len(cls)) + cls
        + struct.pack("<II", 0, 0) + struct.pack("<I", len(native)) + native
    )  # fmt: skip
    hexed = ole.hex()
    lines = "\n".join(hexed[i : i + 128] for i in range(0, len(hexed), 128))
    (folder / "objdata.rtf").write_text(
        "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\pard Statement. Notes attached:\\par"
        "{\\object\\objemb{\\*\\objclass Package}\\objw1000\\objh800{\\*\\objdata\n"
        + lines
        + "\n}}\\par}"
    )


def _conditional(name: str, whole: bool) -> Writer:
    """A conditional format whose differential style's number format spells the name (split
    in two literals), or adds its end to the cell's text."""

    def write(folder: Path, latin: str, _arabic: str) -> None:
        import openpyxl
        from openpyxl.formatting.rule import Rule
        from openpyxl.styles.differential import DifferentialStyle
        from openpyxl.styles.numbers import NumberFormat

        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws["A1"] = "Witness"
        ws["B1"] = latin[:3] if whole else 7
        code = f'@"{latin[3:]}"' if whole else f'"{latin[:3]}""{latin[3:]}"'
        dxf = DifferentialStyle(numFmt=NumberFormat(numFmtId=200, formatCode=code))
        ws.conditional_formatting.add("B1", Rule(type="expression", formula=["TRUE"], dxf=dxf))
        wb.save(folder / name)

    return write


OFFICE_TEXT: dict[str, Writer] = {
    "xlsx-conditional-number-format": _conditional("cf_numfmt.xlsx", False),
    "xlsx-conditional-number-format-suffix": _conditional("cf_numfmt_suffix.xlsx", True),
    "rtf-style-name": _rtf_table("style_name.rtf", False, "style"),
    "rtf-style-name-arabic": _rtf_table("style_name_ar.rtf", True, "style"),
    "rtf-font-name": _rtf_table("font_name.rtf", False, "font"),
    "rtf-objdata-package": _rtf_package,
    **{
        f"txt-{enc}": _code_page(script, enc)
        for script, enc in (
            ("he", "cp1255"),
            ("he", "iso8859_8"),
            ("el", "cp1253"),
            ("el", "iso8859_7"),
            ("ru", "mac_cyrillic"),
            ("ru", "cp866"),
        )
    },
    "html-js-charcodes": _js_charcodes,
    "html-js-charcodes-arabic": _js_charcodes_arabic,
    "docx-tooltip": _docx_tooltip,
    "xlsx-tooltip": _xlsx_tooltip,
    "xlsx-substitute": _xlsx_formula(
        "substitute.xlsx", lambda la, ar: '=SUBSTITUTE("' + la.replace("a", "Q") + '","Q","a")'
    ),
    "xlsx-substitute-arabic": _xlsx_formula(
        "substitute_ar.xlsx",
        lambda la, ar: '=SUBSTITUTE("' + ar.replace("ا", "Q") + '","Q","ا")',
    ),
    "xlsx-mid": _xlsx_formula("mid.xlsx", lambda la, ar: f'=MID("zzzzzzzz{la}zzzzzz",9,{len(la)})'),
    "xlsx-replace": _xlsx_formula(
        "replace.xlsx", lambda la, ar: f'=REPLACE("{la[:3]}#{la[4:]}",4,1,"{la[3]}")'
    ),
    "xlsx-mid-alphabet": _xlsx_formula("mid_alpha.xlsx", _picked, alphabet=True),
    "csv-substitute": _csv_substitute,
}
