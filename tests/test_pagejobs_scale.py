"""A long scan's page jobs on the scale-out queue (PostgreSQL + procrastinate workers), with a
worker killed (SIGKILL) in the middle of a page: the page is taken back from the dead worker
and read again, and the join still makes one OCR derivative with every page once, in order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from amanah.config import CONFIG_NAME
from amanah.db.models import Derivative, Job, OcrPart
from amanah.items import text as item_text
from amanah.preservation.audit import verify
from amanah.processing import pagejobs
from amanah.workspace import open_workspace
from tests.conftest import amanah, ingest_cli
from tests.fixtures import scanned_book, write

PAGES = 8  # the smallest scan that is split (ocr.SPLIT_FROM), one page per job
MEMO = [
    "إدارة المخابرات العامة - الفرع 285",
    "يتم نقل الموقوفين إلى سجن صيدنايا العسكري",
]


@pytest.fixture
def pg_home(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    from amanah.config import write_default_config

    url = request.getfixturevalue("postgres").create_database()
    home = tmp_path / "home"
    write_default_config(home, url)
    config = home / CONFIG_NAME
    config.write_text(
        config.read_text()
        .replace('runner = "embedded"', 'runner = "procrastinate"')
        .replace("semantic = true", "semantic = false")
    )
    return home


def _worker(home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AMANAH_OCR_SPLIT_FROM": str(PAGES),
        "AMANAH_OCR_PAGES_PER_JOB": "1",
        "AMANAH_STALLED_AFTER": "15",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "amanah.cli", "--home", str(home), "worker", "--concurrency", "1"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its sandbox children go with it when it is killed
    )


def _jobs(home: Path) -> list[tuple[str, str, str, int]]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            rows = s.execute(select(Job.kind, Job.state, Job.locked_by, Job.id))
            return [(r.kind, r.state, r.locked_by, r.id) for r in rows]
    finally:
        ws.close()


@pytest.mark.slow
@pytest.mark.needs("arabic-font")
def test_page_jobs_on_procrastinate_survive_a_worker_killed_mid_page(
    pg_home: Path, tmp_path: Path
) -> None:
    book = [[f"الصفحة {n}", MEMO[n % 2]] for n in range(1, PAGES + 1)]
    write(tmp_path / "h", {"book.pdf": scanned_book(book, "light")})
    ingest_cli(pg_home, tmp_path / "h", "c", "--ocr-languages", "ara")
    doomed = _worker(pg_home, tmp_path / "doomed.log")
    survivor: subprocess.Popen[bytes] | None = None
    try:
        # Wait until the first worker is inside a page job, then kill it without warning.
        # It is frozen while its jobs are read, so the page seen running cannot finish before
        # the kill however fast the machine reads it.
        deadline = time.monotonic() + 300
        while True:
            os.killpg(doomed.pid, signal.SIGSTOP)
            mine = [
                (k, job_id)
                for k, state, by, job_id in _jobs(pg_home)
                if pagejobs.is_page_job(k) and state == "running" and f":{doomed.pid}/" in by
            ]
            if mine:
                break
            os.killpg(doomed.pid, signal.SIGCONT)
            assert doomed.poll() is None and time.monotonic() < deadline, _jobs(pg_home)
            time.sleep(0.2)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=30)
        killed_page, killed_id = mine[0]
        assert (killed_page, "running") in {(k, s) for k, s, _, _ in _jobs(pg_home)}
        survivor = _worker(pg_home, tmp_path / "survivor.log")
        deadline = time.monotonic() + 600
        while True:
            states = {(k, s) for k, s, _, _ in _jobs(pg_home)}
            if (pagejobs.JOIN_JOB, "done") in states and all(s == "done" for _, s in states):
                break
            assert survivor.poll() is None and time.monotonic() < deadline, (
                sorted(states),
                (tmp_path / "survivor.log").read_text(errors="replace")[-3000:],
            )
            time.sleep(1.0)
    finally:
        for proc in (doomed, survivor):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)

    ws = open_workspace(pg_home)
    try:
        with ws.db.reader() as s:
            jobs = s.execute(select(Job.kind, Job.state, Job.attempts, Job.last_error)).all()
            page_jobs = [j for j in jobs if pagejobs.is_page_job(j.kind)]
            assert len(page_jobs) == PAGES and all(j.state == "done" for j in page_jobs)
            assert [j.state for j in jobs if j.kind == pagejobs.JOIN_JOB] == ["done"]
            parts = s.execute(select(OcrPart.first_page, OcrPart.sha256)).all()
            assert sorted(p.first_page for p in parts) == list(range(1, PAGES + 1))
            assert all(p.sha256 for p in parts)
            ocrs = s.execute(select(Derivative).where(Derivative.kind == "ocr")).scalars().all()
            assert len(ocrs) == 1, [d.id for d in ocrs]  # one derivative, not one per worker
            item_id = ocrs[0].item_id
            runs = s.execute(
                text(
                    "SELECT (args->>'job_id')::int, status, attempts FROM procrastinate_jobs"
                    " WHERE task_name = 'amanah.process_job'"
                )
            ).all()
            # procrastinate counts a run when it ends and a retry when it is made: the killed
            # page, and only it, was taken back from the dead worker and run a second time
            assert {(job, status) for job, status, _ in runs} == {
                (job, "succeeded") for job, _, _ in runs
            }
            assert sorted(job for job, _, n in runs if n != 1) == [killed_id], runs
            assert [n for job, _, n in runs if job == killed_id] == [2], runs
        pages = item_text(ws, item_id, "t").split("\f")
        assert len(pages) == PAGES  # no page lost, none doubled
        for n, page in enumerate(pages, 1):
            found = " ".join(page.replace("\u200e", "").replace("\u200f", "").split())
            assert f"الصفحة {n}" in found, (n, found)
        assert verify(ws, "t").ok
    finally:
        ws.close()
    assert json.loads(amanah(pg_home, "jobs", "--json", check=True).stdout)["counts"] == {
        "done": len(jobs)
    }
