"""A spreadsheet states its own extent, and a hostile one states a huge one in a few bytes: an
OpenDocument cell "repeated" a thousand times in rows repeated a thousand times, or an XLSX
with one cell in the last column, which pads every row to 16,384. Past a budget of cells the
rest of a sheet is not read and a flag says so; the item is still read, indexed and
preserved. Ordinary files (whose unused rest is marked the same way) are read whole."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from amanah.processing import extract
from amanah.processing.sandbox import Limits, Sandbox
from tests.conftest import SHARED_DATA

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods(sheets: list[str]) -> bytes:
    """An OpenDocument spreadsheet whose sheets are the given table-row markup."""
    tables = "".join(
        f'<table:table table:name="Sheet{n}">{rows}</table:table>'
        for n, rows in enumerate(sheets, 1)
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}>'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        # First and stored, as the format requires: that is how the file is identified.
        z.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        z.writestr("content.xml", content)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
    return buf.getvalue()


def _cell(value: str, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    body = f"<text:p>{value}</text:p>" if value else ""
    return f"<table:table-cell{rep}>{body}</table:table-cell>"


def _row(cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{cells}</table:table-row>"


def _hostile_ods(value: str = "detainee record") -> bytes:
    """About a kilobyte that claims 10^9 cells: a thousand rows, each a cell of text repeated
    a thousand times, each row repeated a thousand times."""
    first = _row(_cell("Header") + _cell("Name"))
    bomb = _row(_cell(value, 1000), 1000)
    return _ods([first + bomb * 1000])


def _ordinary_ods() -> bytes:
    """Twenty sheets marked the way a spreadsheet program marks them: a few cells, then the
    unused rest of each row and of each sheet as one repeated empty cell and row."""
    sheet = (
        _row(_cell("الاسم") + _cell("") + _cell("المكان") + _cell("", 1021))
        + _row(_cell("علي") + _cell("", 2) + _cell("٣") + _cell("", 1020))
        + _row(_cell("", 1024), 1048573)
    )
    return _ods([sheet] * 20)


def _wide_xlsx(rows: int) -> bytes:
    """An XLSX of `rows` rows, each with a cell in column A and one in XFD, the last."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    plain = io.BytesIO()
    wb.save(plain)
    data = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>a</t></is></c>'
        f'<c r="XFD{i}" t="inlineStr"><is><t>b</t></is></c></row>'
        for i in range(1, rows + 1)
    ).encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(
                    rb"<sheetData>.*</sheetData>|<sheetData/>",
                    lambda _: b"<sheetData>" + data + b"</sheetData>",
                    body,
                    flags=re.S,
                )
            zout.writestr(info, body)
    return out.getvalue()


CUT = f"sheet 1: more than {extract.SHEET_CELL_BUDGET:,} cells; the rest of the sheet was not read"


def _flags(out: extract.Extraction) -> list[str]:
    return [f["message"] for f in out.flags if f["code"] == "sheet_cut"]


def test_a_kilobyte_ods_claiming_a_billion_cells_is_read_to_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "bomb.ods"
    path.write_bytes(_hostile_ods())
    assert path.stat().st_size < 4096
    out = extract.odf(path)
    assert _flags(out) == [CUT]
    page = out.pages[0]
    assert page.startswith("Sheet1\nHeader\tName\ndetainee record\tdetainee record")
    cells = page.count("detainee record")
    assert extract.SHEET_CELL_BUDGET - 2000 <= cells <= extract.SHEET_CELL_BUDGET + 1000


def test_the_file_budget_holds_across_sheets(tmp_path: Path) -> None:
    """Many sheets each under the sheet's budget still stop at the file's."""
    sheet = _row(_cell("x", 1000), 1000) * 1  # a million cells, half a sheet's budget
    path = tmp_path / "many.ods"
    path.write_bytes(_ods([sheet] * 30))
    out = extract.odf(path)
    per_sheet = extract.SHEET_CELL_BUDGET // 1_000_000
    assert per_sheet < 30  # the test means what it says only if no sheet alone is cut
    flagged = _flags(out)
    assert len(flagged) == 30 - extract.FILE_CELL_BUDGET // 1_000_000
    assert "the file has more than" in flagged[0]
    read = sum(p.count("x") for p in out.pages)
    assert read <= extract.FILE_CELL_BUDGET + 1000


def test_an_ordinary_spreadsheets_unused_rest_costs_nothing(tmp_path: Path) -> None:
    """Negative control: 20 sheets, each marking 10^9 unused cells as one repeated empty row,
    are read whole with no flag, empty cells between values kept in their columns."""
    path = tmp_path / "ordinary.ods"
    path.write_bytes(_ordinary_ods())
    out = extract.odf(path)
    assert out.flags == []
    assert len(out.pages) == 20
    assert out.pages[0] == "Sheet1\nالاسم\t\tالمكان\nعلي\t\t\t٣"


def test_an_ods_whose_content_would_unpack_past_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract, "ODF_CONTENT_LIMIT", 1000)
    path = tmp_path / "big.ods"
    path.write_bytes(_ordinary_ods())
    said = r"content.xml unpacks to [\d,]+ bytes, more than the 1,000"
    with pytest.raises(ValueError, match=said):
        extract.odf(path)


def test_an_xlsx_padded_to_the_last_column_is_read_to_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    path.write_bytes(_wide_xlsx(400))
    assert path.stat().st_size < 10_000
    out = extract.xlsx(path)
    assert _flags(out) == [CUT]
    rows = out.pages[0].split("\n")[1:]
    assert 100 <= len(rows) <= extract.SHEET_CELL_BUDGET // 16384 + 1
    assert rows[0].startswith("a\t") and rows[0].endswith("\tb")
    assert rows[0].count("\t") == 16383


def test_an_xlsx_that_understates_its_extent_hides_no_cell(tmp_path: Path) -> None:
    """A sheet that says it is one cell (`<dimension ref="A1:A1">`) has its other rows and
    columns read all the same: search finds what the sheet holds, not what it claims."""
    path = tmp_path / "small-claim.xlsx"
    path.write_bytes(_wide_xlsx(3))
    with zipfile.ZipFile(path) as z:
        assert b'<dimension ref="A1:A1"/>' in z.read("xl/worksheets/sheet1.xml")
    out = extract.xlsx(path)
    rows = out.pages[0].split("\n")[1:]
    assert len(rows) == 3 and all(r.endswith("\tb") for r in rows)


def test_an_ordinary_xlsx_is_read_whole(tmp_path: Path) -> None:
    """Negative control: the same shape, narrow, is read with no flag."""
    wb = openpyxl.Workbook()
    for r in range(1, 3001):
        wb.active.append([f"row {r}", "", "تفاصيل"])
    path = tmp_path / "narrow.xlsx"
    wb.save(path)
    out = extract.xlsx(path)
    assert out.flags == []
    assert out.pages[0].count("تفاصيل") == 3000


@pytest.mark.skipif(
    not (SHARED_DATA / "ingest_file_fixtures" / "rom.ods").is_file(),
    reason="../shared/data/ingest_file_fixtures is absent",
)
def test_a_real_ods_is_read_with_no_flag() -> None:
    out = extract.odf(SHARED_DATA / "ingest_file_fixtures" / "rom.ods")
    assert out.flags == []
    assert "Tip procedură" in "".join(out.pages)


def test_in_the_sandbox_the_hostile_ods_is_read_and_flagged_within_two_gigabytes(
    tmp_path: Path,
) -> None:
    """Read in its sandbox under a memory limit of 2 GiB (before, the expansion passed the
    sandbox's 3 GiB and the item was left unread): flagged, and its text is what was read."""
    src = tmp_path / "register.ods"
    src.write_bytes(_hostile_ods("x"))  # the budget's text kept small: the reading is the point
    out = tmp_path / "out"
    out.mkdir()
    sb = Sandbox("limits-only", work_dir=tmp_path)
    try:
        manifest = sb.analyze(str(src), "register.ods", str(out), Limits(memory_bytes=2 << 30))
    finally:
        sb.close()
    assert "error" not in manifest, manifest.get("error")
    assert [f["code"] for f in manifest["flags"]] == ["sheet_cut"], manifest["flags"]
    assert (out / "text.txt").read_text().startswith("Sheet1\nHeader\tName\nx\tx\tx")
