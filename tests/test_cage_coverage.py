"""Code run in the cage is measured when the worker is, without widening the cage.

`./run coverage` counts the parsers only if each caged child saves its data in its own job
folder and the worker moves it out (amanah/processing/cage_coverage.py). These tests run a
measured worker for real, and hand the worker's collection what a hostile child could leave.
"""

from __future__ import annotations

import inspect
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from amanah.processing import cage, cage_coverage, extract
from tests.conftest import require_isolation

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
from pathlib import Path
from amanah.processing.sandbox import Sandbox

sandbox = Sandbox(work_dir=sys.argv[1])
for n in range(2):
    out = Path(sys.argv[1], f"out-{n}")
    out.mkdir()
    manifest = sandbox.analyze(sys.argv[2], "memo.txt", str(out))
    assert manifest["text_file"] == "text.txt", manifest
sandbox.close()
"""


def _measured_files(data: Path) -> dict[str, set[int]]:
    """Lines recorded per measured file in one coverage data file (its SQLite schema)."""
    with sqlite3.connect(data) as db:
        rows = db.execute(
            "select file.path, arc.fromno, arc.tono from arc join file on file.id = arc.file_id"
        ).fetchall()
    lines: dict[str, set[int]] = {}
    for path, a, b in rows:
        lines.setdefault(path, set()).update(n for n in (a, b) if n > 0)
    return lines


def test_a_measured_worker_brings_out_its_caged_childrens_and_zygotes_coverage(
    tmp_path: Path,
) -> None:
    require_isolation()
    memo = tmp_path / "memo.txt"
    memo.write_text("The detainees were moved at night to the second branch.\n" * 20)
    data = tmp_path / "data"
    data.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env["COVERAGE_FILE"] = str(data / ".coverage")
    run = [sys.executable, "-m", "coverage", "run", f"--rcfile={ROOT / 'pyproject.toml'}"]
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [*run, str(script), str(work), str(memo)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    caged = sorted(data.glob(".coverage.cage.*"))
    # Two children (one per file) and the zygote, each its own data file.
    assert len(caged) == 3, [p.name for p in data.iterdir()]
    recorded = [_measured_files(p) for p in caged]
    # Paths are the cage's own; `[tool.coverage.paths]` maps them back when combined.
    lines, first = inspect.getsourcelines(extract.plain_text)
    body = set(range(first + 1, first + len(lines)))  # run by a child only, never the zygote
    ran = [r.get("/opt/amanah/amanah/processing/extract.py", set()) & body for r in recorded]
    assert sorted(map(bool, ran)) == [False, True, True], "each child measured its reader"
    assert all(p.startswith("/opt/amanah/amanah/") for r in recorded for p in r)
    # Nothing was left behind in the worker's folder (job folders and scratch root are gone).
    assert not list(work.rglob(".coverage*"))


def test_only_a_measured_worker_tells_the_cage(monkeypatch: pytest.MonkeyPatch) -> None:
    import coverage  # noqa: F401 - the worker is measured only when coverage runs in it

    monkeypatch.setenv("COVERAGE_FILE", "/tmp/anything/.coverage")
    monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", "measured")
    assert cage.env()[cage_coverage.FLAG] == "1"
    monkeypatch.delenv("COVERAGE_PROCESS_CONFIG")
    assert cage_coverage.FLAG not in cage.env()
    # A child without the flag measures nothing, whatever else its environment says.
    monkeypatch.delenv(cage_coverage.FLAG, raising=False)
    assert cage_coverage.start("/nonexistent") is None


def test_the_worker_moves_only_what_looks_like_a_childs_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child a hostile file took over controls its job folder: links, folders and huge
    files named like coverage's data stay where they are and go with the folder."""
    import coverage  # noqa: F401 - the worker is measured only when coverage runs in it

    target = tmp_path / "data"
    target.mkdir()
    monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", "measured")
    monkeypatch.setenv("COVERAGE_FILE", str(target / ".coverage"))
    secret = tmp_path / "secret"
    secret.write_text("not coverage")
    job = tmp_path / "job"
    job.mkdir()
    (job / f"{cage_coverage.DATA}.good").write_bytes(b"SQLite format 3\x00")
    (job / f"{cage_coverage.DATA}.link").symlink_to(secret)
    (job / f"{cage_coverage.DATA}.folder").mkdir()
    with open(job / f"{cage_coverage.DATA}.huge", "wb") as f:
        f.truncate(cage_coverage.MOST_BYTES + 1)
    (job / "other.coverage").write_bytes(b"x")

    cage_coverage.collect(job)

    moved = sorted(p.name for p in target.iterdir())
    assert len(moved) == 1 and moved[0].startswith(".coverage.cage.")
    assert (target / moved[0]).read_bytes() == b"SQLite format 3\x00"
    assert sorted(p.name for p in job.iterdir()) == sorted(
        [*(f"{cage_coverage.DATA}.{n}" for n in ("link", "folder", "huge")), "other.coverage"]
    )
    assert secret.read_text() == "not coverage"
