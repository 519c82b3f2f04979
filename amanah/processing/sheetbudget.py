"""What one spreadsheet may expand to when read, whatever extent it claims for itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amanah.processing.textfile import MAX_TEXT_CHARS

#: What one spreadsheet may expand to. A file states its own extent: a cell "repeated" a
#: thousand times in a row repeated a thousand times, or one cell in the last column that pads
#: every row to 16,384, makes a few kilobytes into gigabytes of text. Past a budget the rest
#: of the sheet (or file) is not read, and a flag says so, by sheet number (a sheet's name
#: is the evidence's words, which a flag does not repeat).
SHEET_CELL_BUDGET = 2_000_000
#: An XLSX's shared strings are read whole; unpacking to more than this they are not read.
XLSX_SHARED_STRINGS_LIMIT = 256 << 20
FILE_CELL_BUDGET = 10_000_000


class SheetBudget:
    """Cells and characters a spreadsheet reader may still write, per sheet and per file."""

    def __init__(self, flags: list[dict[str, str]]) -> None:
        self.flags = flags
        self.file_cells = 0
        self.chars = 0
        self.sheet = 0
        self.sheet_cells = 0
        self.cut = False

    def start(self, sheet: int) -> None:
        self.sheet, self.sheet_cells, self.cut = sheet, 0, False

    def fits(self, cells: int, times: int, chars: int = 0) -> int:
        """How many of `times` writings of `cells` cells and `chars` characters still fit."""
        room = min(SHEET_CELL_BUDGET - self.sheet_cells, FILE_CELL_BUDGET - self.file_cells)
        n = times if cells == 0 else max(0, min(times, room // cells))
        return n if chars == 0 else max(0, min(n, (MAX_TEXT_CHARS - self.chars) // chars))

    def line(self, row: Sequence[Any]) -> str | None:
        """One row as a tab-separated line ("" when empty), counted cell by cell and character
        by character before it is made; None once a budget is spent, to stop the sheet."""
        if not self.take(len(row), 1):
            return None
        cells = ["" if v is None else str(v) for v in row]
        if not any(cells):
            return ""
        # Counted before the line is made: one row of 16,384 cells that each point to the
        # same 30,000-character shared string is a gigabyte once joined.
        size = sum(map(len, cells)) + len(cells) - 1
        if self.fits(0, 1, size) < 1:
            self.take(0, 1, size)  # past the budget: flags, stops the sheet
            return None
        line = "\t".join(cells).rstrip("\t")
        self.take(0, 1, len(line))
        return line

    def spent(self) -> bool:
        """Whether the file's budget (cells or characters) is used up."""
        return self.file_cells >= FILE_CELL_BUDGET or self.chars >= MAX_TEXT_CHARS

    def rest_not_read(self, first: int, last: int) -> dict[str, str]:
        """The flag for sheets `first`..`last`, not read because the file's budget is spent."""
        which = f"sheet {first}" if first == last else f"sheets {first}-{last}"
        return {
            "code": "sheet_cut",
            "message": f"{which}: the file's budget of cells or characters is spent; not read",
        }

    def take(self, cells: int, times: int = 1, chars: int = 0) -> bool:
        """Count `cells` and `chars` written `times` over; False (and the flag) once a budget
        is spent, so the caller stops reading this sheet."""
        self.sheet_cells += cells * times
        self.file_cells += cells * times
        self.chars += chars * times
        if self.cut:
            return False
        if self.sheet_cells > SHEET_CELL_BUDGET:
            what = f"more than {SHEET_CELL_BUDGET:,} cells"
        elif self.file_cells > FILE_CELL_BUDGET:
            what = f"the file has more than {FILE_CELL_BUDGET:,} cells"
        elif self.chars > MAX_TEXT_CHARS:
            what = f"the file has more than {MAX_TEXT_CHARS:,} characters"
        else:
            return True
        self.cut = True
        self.flags.append(
            {
                "code": "sheet_cut",
                "message": f"sheet {self.sheet}: {what}; the rest of the sheet was not read",
            }
        )
        return False
