"""Reading a person list's file: CSV in whatever encoding it came in, or XLSX; its columns
recognised by their Arabic or English headers; each row read into a record's fields, or
refused with its line number and the reason. Pure: no database, nothing written.

A reason never quotes a cell: a name in the wrong column must not reach a report or a log.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from amanah.persons.vocab import (
    DATE_FIELDS,
    FIELDS,
    HEADERS,
    NAME_FIELDS,
    SEX_VALUES,
    STATUS_WORDS,
)
from amanah.processing.sheetbudget import FILE_CELL_BUDGET
from amanah.processing.textfile import MAX_TEXT_CHARS
from amanah.text.names import fold

MAX_AGE = 120
MAX_KEY = 200  # person_records.key
#: The longest cell read, in any kind of file: a spreadsheet's own limit (Excel's, which
#: openpyxl writes to), so a cell of a workbook written by hand in its XML, or of a CSV, is
#: held to what a spreadsheet holds (a 100 MB "name" is not a name).
MAX_CELL = 32767
#: A list's file is read whole (its encoding is judged on all its lines): past this it is
#: refused before it is read, not read to the memory limit.
MAX_TABLE_BYTES = 4 * MAX_TEXT_CHARS
EARLIEST_YEAR = 1880
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_SPACES = re.compile(r"[\s_\-:.]+")
_DELIMITERS = ",;\t|"


class TableError(Exception):
    """The file cannot be read as a table at all (not CSV, not XLSX, no header)."""


class RowError(Exception):
    """One row cannot be read; the message is the reason, without the cell's content."""


def header_key(text: str) -> str:
    """A header compared: folded (marks, hamza, letter variants, case) and spacing."""
    return _SPACES.sub(" ", fold(str(text))).strip(" '’")


_BY_HEADER: dict[str, str] = {}
for _field, _names in HEADERS.items():
    for _name in _names:
        _BY_HEADER.setdefault(header_key(_name), _field)
_SEX: dict[str, str] = {fold(v): sex for sex, vs in SEX_VALUES.items() for v in vs}
_STATUS = tuple((status, tuple(fold(w) for w in ws)) for status, ws in STATUS_WORDS)


def field_of_header(header: str) -> str | None:
    return _BY_HEADER.get(header_key(header))


@dataclass
class Table:
    """A file read as rows: the header, then (line or row number, cells) for each row."""

    kind: str  # csv, xlsx
    encoding: str
    headers: list[str]
    rows: Iterator[tuple[int, list[Any] | RowError]]
    sheet: str = ""
    delimiter: str = ""
    #: How many rows follow the header, when known (for the progress bar).
    total: int | None = None
    #: What a reader should know about the file (a hidden sheet, sheets not read).
    notes: list[str] = field(default_factory=list)
    #: The line (CSV) or row (XLSX) the header was read from; 0 when there is none.
    header_line: int = 0


# -- reading the file ----------------------------------------------------------------------


def read_table(data: bytes, sheet: str | None = None, columns: list[str] | None = None) -> Table:
    """The file's rows, XLSX when it is a zip holding a workbook, CSV otherwise. With
    `columns` the file has no header row: its first row is a record, and the columns are
    named, in order, by `columns` (see `without_header`)."""
    if len(data) > MAX_TABLE_BYTES:
        raise TableError(too_large(len(data)))
    if data[:4] == b"PK\x03\x04":
        table = _xlsx(data, sheet)
    elif sheet:
        raise TableError("--sheet applies to an XLSX workbook; this file is read as CSV")
    else:
        table = _csv(data)
    table = table if columns is None else without_header(table, columns)
    return replace(table, rows=_within_budget(table))


def too_large(size: int) -> str:
    return f"the file is {size:,} bytes, more than the {MAX_TABLE_BYTES:,} a list is read to"


def _within_budget(table: Table) -> Iterator[tuple[int, list[Any] | RowError]]:
    """The table's rows up to the spreadsheet budget of cells (rows × columns, the padding of
    a row to the header's width counted): a few kilobytes of XLSX or CSV can claim far more.
    Past it, the row where reading stopped is refused with the reason, none after it is read,
    and a note says so: a list is never imported short without the report saying where."""
    cells = 0
    for line, row in table.rows:
        if not isinstance(row, RowError):
            cells += len(row)
            if cells > FILE_CELL_BUDGET:
                said = f"more than {FILE_CELL_BUDGET:,} cells (rows × columns)"
                table.notes.append(f"rows from line {line} on were not read: the list has {said}")
                yield line, RowError(f"not read: the list has {said}; nor is any row after it")
                return
        yield line, row


def without_header(table: Table, columns: list[str]) -> Table:
    """A table whose first row was taken for a header read as a list without one: that row
    goes back among the records (at its own line), and the columns take the names given
    (a field's name, or any name for a column kept unmapped; columns past the names given
    are "column N"). The first row's cells are never used as names: they are a person's."""
    if not columns or not all(c.strip() for c in columns):
        raise TableError("--columns needs a name for every column (e.g. full_name,sex,age)")
    if len({header_key(c) for c in columns}) != len(columns):
        raise TableError("--columns names a column twice")
    first = table.headers
    names = [c.strip() for c in columns]
    names += [f"column {i + 1}" for i in range(len(names), len(first))]

    def rows() -> Iterator[tuple[int, list[Any] | RowError]]:
        yield table.header_line, [*first, *([None] * (len(names) - len(first)))]
        yield from table.rows

    total = None if table.total is None else table.total + 1
    return replace(table, headers=names, rows=rows(), total=total, header_line=0)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read in. Undecodable bytes stay as lone surrogates
    (surrogateescape), so that the rows holding them are refused one by one, not the file."""
    for bom, enc in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(enc, "surrogateescape" if enc == "utf-8-sig" else "replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return data.decode("utf-8", "surrogateescape"), "utf-8"
    from charset_normalizer import from_bytes

    from amanah.processing.textfile import LIKELY_ENCODINGS

    best = from_bytes(data, cp_isolation=LIKELY_ENCODINGS).best() or from_bytes(data).best()
    if best is None:
        return data.decode("utf-8", "surrogateescape"), "utf-8"
    return data.decode(best.encoding, "surrogateescape"), best.encoding


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few damaged lines (a cell pasted from elsewhere) is still UTF-8: at least
    nine in ten of the lines holding non-ASCII bytes decode."""
    good = bad = 0
    for line in data.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good >= 1 and good >= 9 * bad


def _delimiter(header_line: str) -> str:
    """The delimiter the header uses most (a header has no quoted delimiters, as a rule);
    the sniffer of the csv module where the header has none of them."""
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best]:
        return best
    try:
        return csv.Sniffer().sniff(header_line, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _csv(data: bytes) -> Table:
    text, encoding = decode(data)
    if text[:4096].count("\x00") > 16:  # binary, or UTF-16 without its BOM; one NUL is a row's
        raise TableError("the file holds NUL bytes: not a text table (CSV)")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise TableError("the file is empty: no header row")
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    while headers is None:
        try:
            cells = next(reader)
        except StopIteration:
            raise TableError("the file is empty: no header row") from None
        except csv.Error as exc:
            raise TableError(f"the header row cannot be read as CSV: {exc}") from None
        if any(c.strip() for c in cells):
            headers = [c.strip() for c in cells]
    at = reader.line_num
    return Table("csv", encoding, headers, _csv_rows(reader), delimiter=delimiter, header_line=at)


def _csv_rows(reader: Any) -> Iterator[tuple[int, list[Any] | RowError]]:
    last = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if reader.line_num == last:
                return
            yield last + 1, RowError(f"not readable as CSV: {exc}")
            last = reader.line_num
            continue
        yield last + 1, cells
        last = reader.line_num


def _xlsx(data: bytes, sheet: str | None) -> Table:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TableError(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    except Exception as exc:  # openpyxl raises its own and lxml's errors on damaged parts
        raise TableError(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    if sheet is not None and sheet not in book.sheetnames:
        raise TableError(f"the workbook has no sheet {sheet!r}; it has {book.sheetnames}")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    # Read-only mode stops at the extent the sheet claims (<dimension ref="A1:B2">): a sheet
    # that understates it, by a careless exporter or on purpose, would lose rows silently.
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=True)
    number = 0
    headers: list[str] | None = None
    for cells in rows:
        number += 1
        if any(c is not None and str(c).strip() for c in cells):
            headers = ["" if c is None else str(c).strip() for c in cells]
            break
    if headers is None:
        raise TableError(f"sheet {ws.title!r} is empty: no header row")

    def body() -> Iterator[tuple[int, list[Any] | RowError]]:
        # A sheet stores no empty trailing cells: without the sheet's claimed extent a row
        # is as long as its last value, so it is filled out to the header's width.
        n, width = number, len(headers)
        for cells in rows:
            n += 1
            yield n, [*cells, *([None] * (width - len(cells)))]

    table = Table("xlsx", "", headers, body(), sheet=ws.title, header_line=number)
    if getattr(ws, "sheet_state", "visible") != "visible":
        table.notes.append(f"sheet {ws.title!r} is {ws.sheet_state} in the workbook")
    others = [w.title for w in book.worksheets if w.title != ws.title]
    if others:
        table.notes.append(f"other sheets not read (use --sheet): {others}")
    return table


# -- reading the cells -----------------------------------------------------------------------


@dataclass
class Reading:
    """How the columns are read: field → column index, the key's column, the rest kept.
    `labels` name each column in reasons and reports: with its header only when the header
    row is known to be one (`header_row`); otherwise the "header" may be a list's first row,
    a person, and a reason never quotes a cell."""

    fields: dict[str, int]
    key: int | None
    extra: list[int]
    notes: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    header_row: bool = True

    def label(self, i: int) -> str:
        """The column as a reason names it: its number, and its header when it is one."""
        h = self.headers[i] if self.header_row and i < len(self.headers) else ""
        return f"column {i + 1} ({_label(h)})" if h else f"column {i + 1}"

    def shown(self, i: int) -> str:
        """The column as a report names it: its header, or its number."""
        return self.headers[i] if self.header_row else f"column {i + 1}"


class MappingError(Exception):
    """The request names a field or a column that is not there (exit status 2)."""


def column_index(headers: list[str], column: str) -> int:
    """A column by its header (exactly, then folded), or by its 1-based number."""
    if column in headers:
        return headers.index(column)
    wanted = header_key(column)
    for i, h in enumerate(headers):
        if header_key(h) == wanted:
            return i
    if column.isdigit() and 1 <= int(column) <= len(headers):
        return int(column) - 1
    known = [h for h in headers if field_of_header(h)]
    raise MappingError(
        f"no column {column!r} in the file; it has {len(headers)} columns"
        + (f", of which these headers are known: {known}" if known else "")
        + " (a column may be named by its number, from 1)"
    )


def header_is_known(headers: list[str], named: list[str]) -> bool:
    """Whether the first row is a header row: one of its cells reads as a field's header, or
    is a column the request names by its header (not its number). A list without a header
    row has a person there."""
    if any(field_of_header(h) for h in headers):
        return True
    return any(c in headers or header_key(c) in map(header_key, headers) for c in named)


def reading(headers: list[str], key: str | None, overrides: dict[str, str]) -> Reading:
    """Which column feeds which field: the overrides first, then the headers recognised."""
    for name in overrides:
        if name not in FIELDS:
            raise MappingError(f"unknown field {name!r} in --map; fields are {', '.join(FIELDS)}")
    fields = {name: column_index(headers, col) for name, col in overrides.items()}
    key_index = column_index(headers, key) if key else None
    taken = set(fields.values()) | ({key_index} if key_index is not None else set())
    notes = []
    for i, h in enumerate(headers):
        if i in taken:
            continue
        found = field_of_header(h)
        if found is None:
            continue
        if found in fields:
            notes.append(f"column {i + 1} also reads as {found}; kept as an unmapped column")
            continue
        fields[found] = i
        taken.add(i)
    extra = [i for i in range(len(headers)) if i not in taken]
    known = header_is_known(headers, [*overrides.values(), *([key] if key else [])])
    if not known:
        notes.append(
            "no column header is known: the first row was read as the header row, not as a"
            " record (name columns by number with --map; add a header row to keep it)"
        )
    return Reading(fields, key_index, extra, notes, list(headers), known)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _undecodable(value: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in value)


_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_YM = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MY = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
_Y = re.compile(r"^(\d{4})$")


def read_date(value: Any, today: date) -> str:
    """A date as YYYY-MM-DD, YYYY-MM or YYYY (as precise as written); day before month in
    D/M/Y, as the lists of the region write it. RowError when it is no possible date."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        found = value
    else:
        text = _text(value).translate(_DIGITS).replace("\u200f", "").strip()
        if not text:
            return ""
        if m := _Y.match(text):
            return _year(int(m[1]), today)
        if m := _YM.match(text):
            return _month(int(m[1]), int(m[2]), today)
        if m := _MY.match(text):
            return _month(int(m[2]), int(m[1]), today)
        m = _YMD.match(text)
        y, mo, d = (int(m[1]), int(m[2]), int(m[3])) if m else (0, 0, 0)
        if not m and (m := _DMY.match(text)):
            y, mo, d = int(m[3]), int(m[2]), int(m[1])
        if not m:
            raise RowError("not a date (expected YYYY-MM-DD, DD/MM/YYYY, MM/YYYY or YYYY)")
        try:
            found = date(y, mo, d)
        except ValueError:
            raise RowError(f"not a possible date (day {d} of month {mo} of {y})") from None
    if found.year < EARLIEST_YEAR or found > today:
        raise RowError(f"date in {found.year} is outside {EARLIEST_YEAR}–{today.year}")
    return found.isoformat()


def _year(y: int, today: date) -> str:
    if not EARLIEST_YEAR <= y <= today.year:
        raise RowError(f"year {y} is outside {EARLIEST_YEAR}–{today.year}")
    return f"{y:04d}"


def _month(y: int, mo: int, today: date) -> str:
    if not 1 <= mo <= 12:
        raise RowError(f"not a possible date (month {mo})")
    return f"{_year(y, today)}-{mo:02d}"


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_MONTHS = tuple(fold(w) for w in ("month", "months", "شهر", "أشهر", "اشهر", "شهور", "day", "يوم"))


def read_age(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        words = ""
    else:
        text = _text(value).translate(_DIGITS)
        m = _NUMBER.search(text)
        if m is None:
            raise RowError("not an age (no number)")
        number = float(m.group().replace(",", "."))
        words = fold(text)
    if any(w in words for w in _MONTHS):
        return 0
    if not 0 <= number <= MAX_AGE:
        raise RowError(f"age {number:g} is outside 0–{MAX_AGE}")
    return int(number)


def read_sex(value: str) -> str | None:
    """m, f, "" for an empty cell; None for a word that is neither (kept, and reported)."""
    if not value:
        return ""
    return _SEX.get(fold(value).strip(" ."))


def read_status(value: str) -> str | None:
    if not value:
        return ""
    folded = fold(value)
    for status, words in _STATUS:
        if any(w in folded for w in words):
            return status
    return None


@dataclass
class Row:
    """One row read: the record's columns (as `PersonListRecord` has them) and warnings."""

    line: int
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def read_row(
    line: int,
    cells: list[Any],
    headers: list[str],
    how: Reading,
    *,
    as_of: date | None,
    today: date,
) -> Row | None:
    """The row's record values; None for a blank row; RowError when it cannot be read."""
    if not any(_text(c) for c in cells):
        return None
    width = len(headers)
    if len(cells) < width:
        raise RowError(f"{len(cells)} fields where the header has {width}")
    if len(cells) > width and any(_text(c) for c in cells[width:]):
        raise RowError(f"{len(cells)} fields where the header has {width}")
    if how.header_row and [header_key(_text(c)) for c in cells[:width]] == [
        header_key(h) for h in headers
    ]:
        raise RowError("the header row again (files joined?): not a record")
    for i, c in enumerate(cells[:width]):
        if isinstance(c, str) and len(c) > MAX_CELL:
            raise RowError(f"{how.label(i)}: a cell of {len(c)} characters (at most {MAX_CELL})")
        if isinstance(c, str) and "\x00" in c:
            raise RowError(f"{how.label(i)}: holds a NUL character")
        if isinstance(c, str) and _undecodable(c):
            raise RowError(f"{how.label(i)}: bytes not valid in the file's encoding")
    got = {name: cells[i] for name, i in how.fields.items()}
    values: dict[str, Any] = {}
    warnings: list[str] = []

    def cell(name: str) -> str:
        return _text(got.get(name))

    def column(name: str) -> str:
        return how.label(how.fields[name])

    for name in ("full_name", *NAME_FIELDS, "mother", "place_of_birth", "reporter"):
        values[name] = cell(name)
    values["reporter_relation"] = cell("reporter_relation")
    values["notes"] = cell("notes")
    values["governorate_text"] = cell("governorate")
    values["last_seen_place"] = cell("last_seen_place")
    values["detention_facility"] = cell("detention_facility")
    for name in DATE_FIELDS:
        if name in got:
            try:
                values[name] = read_date(got[name], today)
            except RowError as exc:
                raise RowError(f"{column(name)}: {exc}") from None
    if "last_seen" in got and (seen := cell("last_seen")):
        try:
            values["last_seen_on"] = values.get("last_seen_on") or read_date(
                got["last_seen"], today
            )
        except RowError:
            values["last_seen_place"] = values["last_seen_place"] or seen
    if not values["full_name"] and not any(values[p] for p in NAME_FIELDS):
        raise RowError("no name in any name column")
    sex = read_sex(cell("sex"))
    if sex is None:
        warnings.append(f"{column('sex')}: not a sex this reader knows; left unknown")
        sex = ""
    values["sex"] = sex
    status = read_status(cell("status"))
    values["status_text"] = cell("status")
    if status is None:
        warnings.append(f"{column('status')}: not a status this reader knows; kept as text")
        status = ""
    values["status"] = status
    try:
        age = read_age(got.get("age"))
    except RowError as exc:
        raise RowError(f"{column('age')}: {exc}") from None
    values["age"] = age
    _birth_year(values, got, age, as_of, today, column)
    values["extra"] = {
        how.shown(i) or f"column {i + 1}": _text(cells[i]) for i in how.extra if _text(cells[i])
    }
    values["key"] = _text(cells[how.key]) if how.key is not None else ""
    if len(values["key"]) > MAX_KEY:
        raise RowError(f"the key is longer than {MAX_KEY} characters")
    return Row(line, values, warnings)


def _birth_year(
    values: dict[str, Any],
    got: dict[str, Any],
    age: int | None,
    as_of: date | None,
    today: date,
    column: Any,
) -> None:
    """Birth year from the birth date, else the birth year column, else the age and the date
    it refers to (its own column, the list's --as-of, else the date of disappearance)."""
    birth = values.get("birth_date", "")
    year: int | None = int(birth[:4]) if birth else None
    spread = 0
    if year is None and "birth_year" in got and _text(got["birth_year"]):
        try:
            year = int(read_date(got["birth_year"], today)[:4])
        except RowError as exc:
            raise RowError(f"{column('birth_year')}: {exc}") from None
    refers = values.get("age_as_of") or (as_of.isoformat() if as_of else "")
    refers = refers or values.get("disappeared_on", "")
    if age is not None:
        values["age_as_of"] = refers
        if year is None and refers:
            year, spread = int(refers[:4]) - age, 1
    values["birth_year"] = year
    values["birth_year_spread"] = spread


def _label(header: str) -> str:
    return header if len(header) <= 60 else header[:57] + "..."


# -- in the sandbox ----------------------------------------------------------------------------

SPEC = "table-spec.json"
ROWS = "rows.jsonl"


def _json_cell(value: Any) -> Any:
    """A cell as JSON holds it; a date cell as its ISO text (read back as a date)."""
    if isinstance(value, datetime):
        return _text(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def table_task(path: str, out_dir: str) -> dict[str, Any]:
    """Entry point in the sandbox (a hostile workbook or CSV is parsed in the cage): read the
    file as a table and write its rows, one JSON array per line: [line, cells] or
    [line, {"error": reason}]. Returns the table's description, or {"table_error": reason}."""
    out = Path(out_dir)
    spec = json.loads((out / SPEC).read_text(encoding="utf-8"))
    if (size := Path(path).stat().st_size) > MAX_TABLE_BYTES:
        return {"table_error": too_large(size)}
    try:
        table = read_table(Path(path).read_bytes(), spec.get("sheet"), spec.get("columns"))
    except TableError as exc:
        return {"table_error": str(exc)}
    count = 0
    # ensure_ascii keeps undecodable bytes (lone surrogates) intact through JSON.
    with (out / ROWS).open("w", encoding="ascii") as f:
        for line, cells in table.rows:
            if isinstance(cells, RowError):
                f.write(json.dumps([line, {"error": str(cells)}]) + "\n")
            else:
                f.write(json.dumps([line, [_json_cell(c) for c in cells]]) + "\n")
            count += 1
    return {
        "kind": table.kind,
        "encoding": table.encoding,
        "headers": table.headers,
        "sheet": table.sheet,
        "delimiter": table.delimiter,
        "rows": count,
        "notes": table.notes,
    }


def rows_written(out_dir: Path) -> Iterator[tuple[int, list[Any] | RowError]]:
    """The rows `table_task` wrote, read back (JSON only: nothing of the file is parsed here)."""
    path = out_dir / ROWS
    if not path.exists():
        return
    with path.open(encoding="ascii") as f:
        for text in f:
            line, cells = json.loads(text)
            if isinstance(cells, dict):
                yield int(line), RowError(str(cells.get("error", "not readable")))
            else:
                yield int(line), list(cells)
