"""Files whose text a reader assembles from pieces no stored string spells (an adversary's,
stop 54): a spreadsheet's text functions (`SUBSTITUTE`, `MID`, `REPLACE`, letters picked from
an alphabet cell). Each writer: (folder, latin, arabic) -> one file in the folder."""

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


OFFICE_TEXT: dict[str, Writer] = {
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
