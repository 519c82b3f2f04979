"""What a spreadsheet program shows that a sheet's stored values do not say (`sheet_display`):
formulas computed, values as their number formats print them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from amanah.processing.sheet_display import MAX_FORMULA, MAX_SHOWN, computed, references, shown


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=CONCATENATE("Ah","mad al-Khatib")', "Ahmad al-Khatib"),
        ("=" + "&".join(f"CHAR({ord(c)})" for c in "Ahmad"), "Ahmad"),
        ("=UNICHAR(1571)&UNICHAR(1581)", "أح"),
        ('=TEXTJOIN(" ",TRUE,"Ahmad","al-Khatib")', "Ahmad al-Khatib"),
        ('=A2&" "&$B$2', "Ahmad al-Khatib"),
        ('="say ""no"""', 'say "no"'),
        ("=CHAR(55296)&CHAR(0)&CHAR(9999999)", ""),  # no lone surrogate, nothing out of range
        ("=SUM(A1:A9)", ""),
        ('=Other!A2&"x"', "x"),  # another sheet's cell is not looked up
    ],
)
def test_a_formula_is_computed_as_text(formula: str, expected: str) -> None:
    values = {"A2": "Ahmad", "B2": "al-Khatib"}
    assert computed(formula, lambda ref: values.get(ref, "")) == expected


ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -"


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=SUBSTITUTE("AhmQd Ql-KhQtib","Q","a")', "Ahmad al-Khatib"),
        ('=SUBSTITUTE("AhmQd al-Khatib","Q","a",1)', "Ahmad al-Khatib"),
        ('=MID("zzzzzzzzAhmad al-Khatibzzzzzz",9,15)', "Ahmad al-Khatib"),
        ('=REPLACE("Ahm#d al-Khatib",4,1,"a")', "Ahmad al-Khatib"),
        ('=LEFT("Ahmadxx",5)&" "&RIGHT("xxal-Khatib",9)', "Ahmad al-Khatib"),
        ('=PROPER("ahmad")&" "&LOWER("AL-")&UPPER("k")&TRIM("  hatib ")', "Ahmad al-Khatib"),
        ('=CONCAT(T("Ahmad")," ",REPT("al-Khatib",1))', "Ahmad al-Khatib"),
        ('=INDEX({"x","Ahmad al-Khatib"},2)', "Ahmad al-Khatib"),
        ('=INDEX({"x";"Ahmad"},2,1)&" al-"&INDEX({"x","y";"z","Khatib"},2,2)', "Ahmad al-Khatib"),
        ('=TEXT("Ahm","@""ad al-Khatib""")', "Ahmad al-Khatib"),
        ('=SUBSTITUTE(SUBSTITUTE("Q R","Q","Ahmad"),"R",A2)', "Ahmad al-Khatib"),
        ("=" + "&".join(f"MID(A3,{ALPHABET.index(c) + 1},1)" for c in "Ahmad"), "Ahmad"),
        ('=SUBSTITUTE("أQمد","Q","ح")', "أحمد"),
        ('=SUM(A1:A9)&"x"', "x"),
        ('=MID("Ahmad",A9,2)', "Ahmad"),  # a position not known: the letters as written
    ],
)
def test_the_text_functions_a_sheet_spells_a_name_with_are_computed(
    formula: str, expected: str
) -> None:
    values = {"A2": "al-Khatib", "A3": ALPHABET}
    assert computed(formula, lambda ref: values.get(ref, "")) == expected


def test_text_functions_stay_within_the_budget() -> None:
    assert len(computed('=REPT("ab",100000000)')) == MAX_SHOWN
    assert len(computed('=REPT(REPT("ab",5000),5000)')) <= MAX_SHOWN
    assert len(computed('=SUBSTITUTE(REPT("a",4000),"a",REPT("b",4000))')) <= MAX_SHOWN
    deep = "=" + "UPPER(" * 200 + '"a"' + ")" * 200
    assert computed(deep) == "a"  # nested deeper than Excel allows: its literals


def test_the_cells_a_formula_names_on_its_own_sheet() -> None:
    assert references('=A2&" "&$B$2&Other!C3&SUM(D1:D4)') == {"A2", "B2"}


def test_a_formula_the_tokenizer_cannot_split_gives_its_literals() -> None:
    assert computed('=CONCATENATE("Ah","mad"') == "Ahmad"
    assert computed('="Ah"&"mad"&') == "Ahmad"


@pytest.mark.parametrize(
    ("value", "code", "is_text", "expected"),
    [
        ("Ahmad", '@" al-Khatib"', True, "Ahmad al-Khatib"),
        ("Ahmad", '"Mr "@', True, "Mr Ahmad"),
        ("12", '0" al-Khatib";-0;0;@', False, "12 al-Khatib"),
        ("Ahmad", '0;-0;0;@" al-Khatib"', True, "Ahmad al-Khatib"),
        ("Ahmad", r"\A\h\m @", True, "Ahm Ahmad"),
        ("5", "[Red]0.00_)", False, "5"),
    ],
)
def test_a_value_as_its_number_format_prints_it(
    value: str, code: str, is_text: bool, expected: str
) -> None:
    assert shown(value, code, is_text) == expected


def test_a_formula_longer_than_excel_allows_is_read_to_the_limit() -> None:
    formula = "=" + "&".join(['"a"'] * 20_000)
    assert computed(formula) == "a" * (MAX_FORMULA // 4)


def test_an_ods_formula_without_a_value_is_computed(tmp_path: Path) -> None:
    """LibreOffice writes a formula in the cell's `table:formula` attribute (`of:=…`, `;`
    between arguments); with no value cached, the cell's text is empty and Calc shows the
    name the formula makes."""
    from amanah.processing import inventory
    from amanah.sharing.matcher import Matcher

    t = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    o = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    content = (
        f'<office:document-content xmlns:office="{o}" xmlns:table="{t}" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="S"><table:table-row>'
        '<table:table-cell table:formula="of:=CONCATENATE(&quot;Ah&quot;;&quot;mad al-'
        'Khatib&quot;)"/></table:table-row></table:table></office:spreadsheet></office:body>'
        "</office:document-content>"
    )
    path = tmp_path / "register.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
    inv = inventory.of_file(path, path.name, tmp_path)
    matcher = Matcher.of([("Witness A", ["Ahmad al-Khatib"])])
    assert [p.place for p in inv.parts if matcher.names(p.text)] == [
        "the document body, its formulas computed"
    ]


def test_the_cells_a_formula_names_are_found_near_far_ahead_and_chained(tmp_path: Path) -> None:
    """A formula's cells in its row, far above it (read in a second pass), below it, and a
    cell that is itself a formula without a value: each shown as the program shows it."""
    import openpyxl

    from amanah.processing import inventory

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Ahmad"
    for r in range(2, 200):
        sheet[f"C{r}"] = f"row {r}"
    sheet["A200"] = "Hassan"
    sheet["B200"] = '=A200&" al-Haddad"'  # its row
    sheet["B201"] = '=A1&" al-Khatib"'  # 200 rows above
    sheet["B202"] = '=A300&" al-Nouri"'  # below
    sheet["A300"] = "Omar"
    sheet["B203"] = '="Sa"&"mir"'
    sheet["B204"] = '=B203&" al-Masri"'  # a formula's cell
    path = tmp_path / "register.xlsx"
    book.save(path)
    inv = inventory.of_file(path, path.name, tmp_path)
    shown = next(p.text for p in inv.parts if "as a spreadsheet program shows it" in p.place)
    for name in ("Hassan al-Haddad", "Ahmad al-Khatib", "Omar al-Nouri", "Samir al-Masri"):
        assert name in shown
