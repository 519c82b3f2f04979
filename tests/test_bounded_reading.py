"""Every format is read within a budget, whatever it claims or however large it is: a legacy
Excel file claims 65,536 rows of 256 columns (or many sheets) in a few records, a log file is
4 GB. Past the budget the rest is not read and a flag says so (the content inventory then
counts the item incomplete, so the unread rest leaves in no package unexamined). Ordinary files
are read whole, as before."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from amanah.persons import importer
from amanah.processing import extract, inventory, textfile
from amanah.processing.sheetbudget import FILE_CELL_BUDGET, SHEET_CELL_BUDGET

# -- a legacy Excel (BIFF8) workbook, record by record ----------------------------------------


def _record(code: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", code, len(data)) + data


def _bof(kind: int) -> bytes:  # 0x05 workbook globals, 0x10 worksheet; BIFF8 (0x0600)
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _label(row: int, col: int, text: str) -> bytes:
    raw = text.encode("latin-1")
    return _record(0x0204, struct.pack("<HHHHB", row, col, 0, len(raw), 0) + raw)


def _xls(sheets: list[list[tuple[int, int, str]]]) -> bytes:
    """A BIFF8 workbook stream of the given (row, column, text) cells, sheet by sheet: the
    globals (a BOUNDSHEET record giving each sheet's offset), then each sheet's records."""
    bodies = [_bof(0x10) + b"".join(_label(*c) for c in cells) + _record(0x0A) for cells in sheets]

    def globals_(offsets: list[int]) -> bytes:
        out = _bof(0x05)
        for n, at in enumerate(offsets, 1):
            name = f"Sheet{n}".encode()
            out += _record(0x0085, struct.pack("<IBBBB", at, 0, 0, len(name), 0) + name)
        return out + _record(0x0A)

    at = len(globals_([0] * len(sheets)))
    offsets = []
    for body in bodies:
        offsets.append(at)
        at += len(body)
    return globals_(offsets) + b"".join(bodies)


def _far_right(rows: int, value: str = "b") -> list[tuple[int, int, str]]:
    """`rows` rows with a cell in column A and one in IV, the last: every row 256 cells."""
    return [c for r in range(rows) for c in ((r, 0, "a"), (r, 255, value))]


def _cut(out: extract.Extraction) -> list[str]:
    return [f["message"] for f in out.flags if f["code"] == "sheet_cut"]


def test_a_crafted_xls_claiming_full_rows_is_read_to_the_sheet_budget(tmp_path: Path) -> None:
    path = tmp_path / "register.xls"
    path.write_bytes(_xls([_far_right(10_000)]))  # 2.56 million cells in 300 kB
    assert path.stat().st_size < 400_000
    out = extract.xls(path)
    assert _cut(out) == [
        f"sheet 1: more than {SHEET_CELL_BUDGET:,} cells; the rest of the sheet was not read"
    ]
    rows = out.pages[0].split("\n")[1:]
    assert len(rows) == SHEET_CELL_BUDGET // 256
    assert rows[0].startswith("a\t") and rows[0].endswith("\tb") and rows[0].count("\t") == 255


def test_an_xls_of_many_sheets_stops_at_the_file_budget_with_one_flag_for_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "many.xls"
    path.write_bytes(_xls([_far_right(1000)] * 50))  # 50 sheets of 256,000 cells
    out = extract.xls(path)
    last = FILE_CELL_BUDGET // 256_000 + 1  # the sheet the file's budget runs out in
    assert _cut(out) == [
        f"sheet {last}: the file has more than {FILE_CELL_BUDGET:,} cells;"
        " the rest of the sheet was not read",
        f"sheets {last + 1}-50: the file's budget of cells or characters is spent; not read",
    ]
    assert len(out.pages) == last
    assert sum(p.count("\n") for p in out.pages) * 256 <= FILE_CELL_BUDGET + 256


def test_an_ordinary_xls_is_read_whole_with_no_flag(tmp_path: Path) -> None:
    """Negative control: rows as stored, gaps kept in their columns, no padding, no flag."""
    path = tmp_path / "ordinary.xls"
    path.write_bytes(_xls([[(0, 0, "Name"), (0, 2, "Place"), (1, 0, "x")], [(2, 1, "y")]]))
    out = extract.xls(path)
    assert out.flags == []
    assert out.pages == ["Sheet1\nName\t\tPlace\nx", "Sheet2\n\n\n\ty"]
    assert out.metadata["sheets"] == ["Sheet1", "Sheet2"]


def test_a_cut_spreadsheet_makes_its_inventory_incomplete(tmp_path: Path) -> None:
    """A legacy sheet has no reader but its body text: what the budget left unread cannot be
    said to hold no name, so the item leaves in no package unexamined."""
    path = tmp_path / "register.xls"
    path.write_bytes(_xls([_far_right(10_000)]))
    out = extract.xls(path)
    (tmp_path / "w").mkdir()
    inv = inventory.take(
        path,
        "application/vnd.ms-excel",
        "application/vnd.ms-excel",
        out.pages,
        {},
        tmp_path / "w",
        flags=out.flags,
    )
    assert any(r.startswith("a spreadsheet read only to its budget: sheet 1") for r in inv.reasons)
    ordinary = tmp_path / "ordinary.xls"
    ordinary.write_bytes(_xls([[(0, 0, "Name")]]))
    small = extract.xls(ordinary)
    inv = inventory.take(
        ordinary,
        "application/vnd.ms-excel",
        "application/vnd.ms-excel",
        small.pages,
        {},
        tmp_path / "w",
        flags=small.flags,
    )
    assert not any("budget" in r for r in inv.reasons)


# -- text, a chunk at a time ---------------------------------------------------------------------


ARABIC = "سجل المحتجزين في الفرع 215\n"


def test_text_is_read_to_its_budget_and_flagged(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text(ARABIC * 1000, encoding="cp1256")
    read = textfile.read_text(path, max_chars=500)
    assert read.cut and read.text == (ARABIC * 1000)[:500] and read.encoding == "cp1256"
    whole = textfile.read_text(path, max_chars=len(ARABIC) * 1000)
    assert not whole.cut and whole.text == ARABIC * 1000  # exactly the budget: nothing left


def test_the_encoding_is_chosen_on_the_head_and_decoded_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 7 bytes cut the two-byte letters of UTF-8 and UTF-16 in half; the incremental
    decoder joins them. A 1 kB head chooses the encoding of the whole."""
    monkeypatch.setattr(textfile, "CHUNK_BYTES", 7)
    monkeypatch.setattr(textfile, "HEAD_BYTES", 1024)
    text = ARABIC * 200
    for encoding, said in (
        ("utf-8", "utf-8"),
        ("utf-16", "utf-16"),
        ("utf-32", "utf-32"),  # its byte order mark opens with UTF-16's: read as UTF-16 before
        ("cp1256", "cp1256"),
    ):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        read = textfile.read_text(path)
        assert (read.text, read.encoding, read.cut) == (text, said, False), encoding
        assert textfile.decode_text(text.encode(encoding)) == (text, said)


def test_a_head_of_ascii_leaves_the_encoding_to_the_first_chunk_that_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log's English lines fill the head; its Windows-1256 Arabic comes after. Before the
    head decided alone, the Arabic was read as UTF-8 replacement characters."""
    monkeypatch.setattr(textfile, "HEAD_BYTES", 1024)
    monkeypatch.setattr(textfile, "CHUNK_BYTES", 4096)
    text = "GET /index 200\n" * 200 + ARABIC * 200
    path = tmp_path / "mixed.log"
    path.write_bytes(text.encode("cp1256"))
    read = textfile.read_text(path)
    assert (read.text, read.encoding) == (text, "cp1256")
    ascii_only = tmp_path / "ascii.log"  # negative control: ASCII throughout stays UTF-8
    ascii_only.write_bytes(b"GET /index 200\n" * 1000)
    assert textfile.read_text(ascii_only).encoding == "utf-8"


def test_plain_text_past_its_budget_is_flagged_as_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract, "MAX_TEXT_CHARS", 100)
    monkeypatch.setattr(extract, "read_text", lambda p: textfile.read_text(p, 100))
    path = tmp_path / "log.txt"
    path.write_text("line of a log\n" * 50, encoding="utf-8")
    out = extract.plain_text(path)
    assert out.flags == [
        {"code": "text_truncated", "message": "text cut at 100 characters; the rest was not read"}
    ]
    assert len(out.pages[0]) == 100
    assert inventory.reasons_from_flags(out.flags)  # the inventory counts it incomplete


CHILD = r"""
import resource, sys
from pathlib import Path
from amanah.processing import extract  # imported before the limit is set

vm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize"))
room = vm * 1024 + (int(sys.argv[2]) << 20)
resource.setrlimit(resource.RLIMIT_AS, (room, room))
try:
    out = extract.plain_text(Path(sys.argv[1]))
except MemoryError:
    print("MemoryError")
    sys.exit(3)
print(len(out.pages[0]), [f["code"] for f in out.flags])
"""


def test_a_text_file_larger_than_the_memory_it_may_use_is_read_to_its_budget(
    tmp_path: Path,
) -> None:
    """A 400 MB log read in a process allowed 350 MB more than it has at the start: before,
    the whole file was read, decoded and cleaned (three copies) and the reading died."""
    path = tmp_path / "server.log"
    line = b"2026-12-02 10:00:00 request served from a cache of the regional office\n"
    block = line * (1 << 14)
    with path.open("wb") as f:
        for _ in range((400 << 20) // len(block) + 1):
            f.write(block)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), "350"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.split() == [str(extract.MAX_TEXT_CHARS), "['text_truncated']"]
    # Negative control: a small file in the same limit is read whole, unflagged.
    small = tmp_path / "small.log"
    small.write_bytes(line * 100)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(small), "350"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.split() == [str(len(line) * 100), "[]"], proc.stderr[-2000:]


def test_markup_past_its_budget_makes_the_inventory_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(textfile, "MAX_MARKUP_CHARS", 1000)
    path = tmp_path / "page.html"
    path.write_text("<html><body>" + "<p>a paragraph</p>" * 500 + "</body></html>")
    (tmp_path / "w").mkdir()
    inv = inventory.take(path, "text/html", "text/html", [], {}, tmp_path / "w")
    said = "past an unpack limit: the markup has more than 1,000 characters; the rest was not read"
    assert said in inv.reasons
    path.write_text("<html><body><p>a paragraph</p></body></html>")
    inv = inventory.take(path, "text/html", "text/html", [], {}, tmp_path / "w")
    assert said not in inv.reasons


# -- person lists: rows × columns ---------------------------------------------------------------


def _rows_of(table: importer.Table) -> list[tuple[int, list[Any] | importer.RowError]]:
    return list(table.rows)


def test_a_person_list_claiming_more_cells_than_the_budget_stops_with_a_reason() -> None:
    """A CSV of 1,100 rows of 10,000 columns each (11 million cells in 11 MB): the rows up to
    the budget are read, the row where it ran out is refused saying why, no row after it is
    read, and the table's notes say from which line on."""
    width = 10_000
    data = ("," * (width - 1) + "name\n").encode() + (
        "a" + "," * (width - 1) + "\n"
    ).encode() * 1100
    table = importer.read_table(data)
    rows = _rows_of(table)
    read = [r for r in rows if not isinstance(r[1], importer.RowError)]
    refused = [r for r in rows if isinstance(r[1], importer.RowError)]
    assert len(read) == FILE_CELL_BUDGET // width
    assert len(refused) == 1 and rows[-1] is refused[0]
    line = refused[0][0]
    assert str(refused[0][1]) == (
        f"not read: the list has more than {FILE_CELL_BUDGET:,} cells (rows × columns);"
        " nor is any row after it"
    )
    assert table.notes == [
        f"rows from line {line} on were not read: the list has more than"
        f" {FILE_CELL_BUDGET:,} cells (rows × columns)"
    ]


def test_an_xlsx_list_padded_to_the_last_column_stops_at_the_budget() -> None:
    """A header cell in XFD pads every row to 16,384 cells: 700 rows claim 11.5 million."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "full_name"
    wb.active["XFD1"] = "note"
    for r in range(2, 702):
        wb.active.cell(row=r, column=1, value="a")
    buf = io.BytesIO()
    wb.save(buf)
    rows = _rows_of(importer.read_table(buf.getvalue()))
    assert isinstance(rows[-1][1], importer.RowError)
    assert len(rows) == FILE_CELL_BUDGET // 16_384 + 1


def test_an_ordinary_person_list_is_read_whole() -> None:
    """Negative control: 5,000 rows of four columns, every row read, no note."""
    data = "الاسم,الجنس,العمر,المكان\n" + "علي,ذكر,30,حلب\n" * 5000
    table = importer.read_table(data.encode())
    rows = _rows_of(table)
    assert len(rows) == 5000 and not any(isinstance(c, importer.RowError) for _, c in rows)
    assert table.notes == []


def test_a_person_list_file_past_its_size_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_TABLE_BYTES", 1000)
    path = tmp_path / "list.csv"
    path.write_text("name,age\n" + "a,1\n" * 500)
    out = tmp_path / "out"
    out.mkdir()
    (out / importer.SPEC).write_text("{}")
    said = "the file is 2,009 bytes, more than the 1,000 a list is read to"
    assert importer.table_task(str(path), str(out)) == {"table_error": said}
    with pytest.raises(importer.TableError, match=said):
        importer.read_table(path.read_bytes())
