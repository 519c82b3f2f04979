"""Per-package coverage from combined data, and a floor no package may fall under.

Reads the coverage data of a whole run (every subprocess combined: `coverage combine`),
groups the files by package (amanah/<package>/, and the top-level modules of amanah/ as one
group), prints lines and branches covered per group, and exits 1 when any group's lines fall
under the floor. A total hides a package nobody tests; a floor per package does not.

    python tools/coverage_floors.py [--data-file .coverage] [--floor 85] [--markdown]

Exit status: 0 every group at or above the floor, 1 a group under it, 2 no data to read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

TOP_LEVEL = "amanah (top-level modules)"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Group:
    """Sums of one package's files."""

    statements: int = 0
    covered_lines: int = 0
    branches: int = 0
    covered_branches: int = 0

    @property
    def lines_percent(self) -> float:
        return 100.0 * self.covered_lines / self.statements if self.statements else 100.0

    @property
    def branches_percent(self) -> float:
        return 100.0 * self.covered_branches / self.branches if self.branches else 100.0


def group_of(filename: str, root: Path = ROOT) -> str | None:
    """The group a measured file belongs to, or None for a file outside the amanah package
    (paths are taken from the checkout's root: the checkout's own path may say "amanah")."""
    path = Path(filename)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(root)
        except ValueError:
            return None
    parts = PurePosixPath(path.as_posix()).parts
    if len(parts) < 2 or parts[0] != "amanah":
        return None
    return TOP_LEVEL if len(parts) == 2 else f"amanah/{parts[1]}/"


def groups(report: dict) -> dict[str, Group]:
    """Sum coverage.py's JSON report per group."""
    found: dict[str, Group] = {}
    for filename, data in report["files"].items():
        name = group_of(filename)
        if name is None:
            continue
        summary = data["summary"]
        group = found.setdefault(name, Group())
        group.statements += summary["num_statements"]
        group.covered_lines += summary["covered_lines"]
        group.branches += summary.get("num_branches", 0)
        group.covered_branches += summary.get("covered_branches", 0)
    return dict(sorted(found.items()))


def json_report(data_file: Path) -> dict:
    """coverage.py's own JSON report of the combined data (its figures, not ours)."""
    import coverage

    cov = coverage.Coverage(data_file=str(data_file))
    cov.load()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder, "coverage.json")
        cov.json_report(outfile=str(out), ignore_errors=True)
        return json.loads(out.read_text(encoding="utf-8"))


def table(found: dict[str, Group], floor: float, markdown: bool) -> list[str]:
    total = Group()
    for g in found.values():
        total.statements += g.statements
        total.covered_lines += g.covered_lines
        total.branches += g.branches
        total.covered_branches += g.covered_branches
    rows = [*found.items(), ("total", total)]
    if markdown:
        out = [
            "| package | lines | lines covered | branches | branches covered |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, g in rows:
            out.append(
                f"| {name} | {g.statements} | {g.lines_percent:.1f}% | {g.branches} "
                f"| {g.branches_percent:.1f}% |"
            )
        return out
    out = [f"{'package':<30} {'lines':>7} {'covered':>8} {'branches':>9} {'covered':>8}"]
    for name, g in rows:
        mark = "  UNDER FLOOR" if name != "total" and g.lines_percent < floor else ""
        out.append(
            f"{name:<30} {g.statements:>7} {g.lines_percent:>7.1f}% {g.branches:>9} "
            f"{g.branches_percent:>7.1f}%{mark}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-file", type=Path, default=None, help="combined coverage data")
    parser.add_argument("--floor", type=float, default=85.0, help="minimum lines %% per package")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    data_file = args.data_file
    if data_file is None:
        data_file = Path(os.environ.get("COVERAGE_FILE", ".coverage"))
    if not data_file.is_file():
        print(f"{data_file}: no coverage data (run the suite under coverage, then combine)")
        return 2
    try:
        report = json_report(data_file)
    except Exception as exc:  # a data file coverage.py cannot read: say which and why
        print(f"{data_file}: cannot read coverage data: {exc}")
        return 2
    found = groups(report)
    if not found:
        print(f"{data_file}: no file of the amanah package was measured")
        return 2
    print("\n".join(table(found, args.floor, args.markdown)))
    under = [name for name, g in found.items() if g.lines_percent < args.floor]
    if under:
        print(f"under the floor of {args.floor:g}% of lines: {', '.join(under)}")
        return 1
    print(f"every package at or above {args.floor:g}% of lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
