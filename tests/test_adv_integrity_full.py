"""A full local disk is the machine's fault, not the evidence's (an adversary's, stop 54): with
the processing scratch folder (HOME/work) full, `amanah process --wait` flagged every item
`processing_failed` with a signed validation failure. The job now goes back to the queue without
counting an attempt, no item is flagged, and `process` says why in one line and exits 1.
A real tmpfs is mounted (root only; skipped otherwise)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from amanah import queue
from amanah.processing import pipeline
from amanah.processing.sandbox import SandboxError
from amanah.workspace import open_workspace
from tests.conftest import amanah, ingest_cli
from tests.test_durability import tmpfs


def _home(tmp_path: Path, n: int = 3) -> Path:
    home = tmp_path / "home"
    amanah(home, "init", check=True)
    toml = home / "amanah.toml"
    toml.write_text(toml.read_text().replace("semantic = true", "semantic = false"))
    folder = tmp_path / "handover"
    folder.mkdir()
    for i in range(n):
        (folder / f"doc{i}.txt").write_text(f"synthetic statement number {i}\n" * 200)
    ingest_cli(home, folder, "c")
    return home


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(home / "amanah.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _fill(folder: Path) -> None:
    try:
        with (folder / "fill").open("wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass


def test_a_full_scratch_folder_puts_jobs_back_and_blames_no_item(tmp_path: Path) -> None:
    home = _home(tmp_path)
    with tmpfs(home / "work", "64k") as work:
        _fill(work)
        done = amanah(home, "process", "--wait", "--quiet")
    assert done.returncode == 1, done.stdout + done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(said) == 1 and "processing stopped: a local disk is full" in said[0]
    assert "Traceback" not in done.stderr
    assert {r[0] for r in _rows(home, "select status from items")} != {"flagged"}
    for (flags,) in _rows(home, "select flags from items"):
        assert "processing_failed" not in str(flags)
    assert _rows(home, "select count(*) from custody_events where outcome='failure'") == [(0,)]
    jobs = _rows(home, "select state, attempts from jobs where kind='process'")
    assert {j for j in jobs} == {("queued", 0)}
    again = amanah(home, "process", "--quiet")  # room again: the same jobs are done
    assert again.returncode == 0, again.stderr
    assert {r[0] for r in _rows(home, "select processing from items")} == {"done"}


def test_a_sandbox_failing_on_a_full_scratch_folder_is_a_machine_fault(tmp_path: Path) -> None:
    home = _home(tmp_path, 1)
    (sha,) = _rows(home, "select sha256 from items")[0]
    ws = open_workspace(home)
    try:
        with tmpfs(home / "work", "1m"), pytest.raises(pipeline.MachineFault):
            job = queue.Claimed(id=1, item_id=1, attempts=1)
            with pipeline._scratch(ws, job, str(sha)) as (path, out_dir):
                assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
                _fill(out_dir)  # the sandbox's output filled it: exit 70, no answer
                raise SandboxError("the analysis ended without an answer (exit 70)")
        # with room, the same failure stays the item's
        with pytest.raises(SandboxError):
            job = queue.Claimed(id=1, item_id=1, attempts=1)
            with pipeline._scratch(ws, job, str(sha)):
                raise SandboxError("the analysis ended without an answer (exit 70)")
    finally:
        ws.close()
    assert json.dumps(pipeline.machine_fault(OSError(28, "x"))).startswith('"a local disk')


def test_a_home_that_fills_during_process_stops_it_with_one_line(tmp_path: Path) -> None:
    """The database and the search index on a home with 40k left: `database or disk is full`
    and tantivy's StorageFull were tracebacks, worker threads died, the run exited 0 with jobs
    left running."""
    mount = tmp_path / "mnt"
    with tmpfs(mount, "6m"):
        home = _home(mount)
        st = os.statvfs(mount)
        free = st.f_bavail * st.f_frsize
        (mount / "fill").write_bytes(b"\0" * max(0, free - 40 * 1024))
        done = amanah(home, "process", "--quiet")
        (mount / "fill").unlink()
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        said = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(said) == 1 and "processing stopped: a local disk is full" in said[0]
        states = {r[0] for r in _rows(home, "select state from jobs")}
        assert "running" not in states and "failed" not in states
        for (flags,) in _rows(home, "select flags from items"):
            assert "processing_failed" not in str(flags)
        again = amanah(home, "process", "--quiet")
        assert again.returncode == 0, again.stderr


def test_a_worker_that_dies_fails_the_run_and_puts_its_job_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amanah.processing import runner

    home = _home(tmp_path, 1)

    def broken_job(*_: object) -> None:
        raise ValueError("a reader's error")

    def broken_recording(*_: object) -> None:
        raise RuntimeError("recording the failure broke")

    monkeypatch.setattr(runner, "run_job", broken_job)
    monkeypatch.setattr(runner, "record_failure", broken_recording)
    ws = open_workspace(home)
    try:
        with pytest.raises(runner.WorkerDied, match="recording the failure broke"):
            runner.run(ws, workers=1)
    finally:
        ws.close()
    assert _rows(home, "select state, attempts from jobs where kind='process'") == [("queued", 0)]
