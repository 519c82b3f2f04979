"""The scale-out runner: jobs deferred to procrastinate with the item, run by `amanah worker`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from amanah.config import CONFIG_NAME
from amanah.processing import scaleout
from amanah.workspace import open_workspace
from tests.conftest import amanah, ingest_cli
from tests.fixtures import email_with, minimal_pdf, write, zip_of


@pytest.fixture
def pg_home(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    from amanah.config import write_default_config

    url = request.getfixturevalue("postgres").create_database()
    home = tmp_path / "home"
    write_default_config(home, url)
    config = home / CONFIG_NAME
    config.write_text(config.read_text().replace('runner = "embedded"', 'runner = "procrastinate"'))
    return home


def test_worker_processes_jobs_deferred_in_the_intake_transaction(
    pg_home: Path, tmp_path: Path
) -> None:
    archive = zip_of({"report.pdf": minimal_pdf(["Convoy seen at the checkpoint"])})
    write(tmp_path / "h", {"mail.eml": email_with({"r.zip": ("application/zip", archive)})})
    ingest_cli(pg_home, tmp_path / "h")
    ws = open_workspace(pg_home)
    with ws.db.reader() as s:
        deferred = s.execute(
            text("SELECT args->>'job_id', status FROM procrastinate_jobs ORDER BY id")
        ).all()
    assert deferred == [("1", "todo")]  # the intake deferred it, atomically with the item
    ws.close()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amanah.cli",
            "--home",
            str(pg_home),
            "worker",
            "--concurrency",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # The email's job finds the zip, whose job finds the PDF: all through procrastinate.
        deadline = time.monotonic() + 120
        while True:
            jobs = json.loads(amanah(pg_home, "jobs", "--json", check=True).stdout)
            # email, zip, PDF, the PDF's page images, and the vectors of the three texts
            if jobs["counts"] == {"done": 7}:
                break
            assert time.monotonic() < deadline and worker.poll() is None, jobs
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)  # a worker stops cleanly on SIGTERM
        output = worker.communicate(timeout=60)[0].decode(errors="replace")
    assert worker.returncode == 0, output[-2000:]
    items = json.loads(amanah(pg_home, "items", "--json", check=True).stdout)
    pdf = next(i for i in items if i["original_path"] == "report.pdf")
    assert "Convoy seen" in amanah(pg_home, "item", "text", str(pdf["id"]), check=True).stdout
    ws = open_workspace(pg_home)
    with ws.db.reader() as s:
        statuses = s.execute(
            text("SELECT task_name, status FROM procrastinate_jobs ORDER BY id")
        ).all()
    # The seven jobs, each run once; besides them only the periodic stalled-job recovery ran.
    assert [st for task, st in statuses if task == scaleout.TASK] == ["succeeded"] * 7
    # (one deferred at the last tick may not have run before the worker stopped)
    assert {(task, st) for task, st in statuses if task != scaleout.TASK} <= {
        (scaleout.RECOVER_TASK, "succeeded"),
        (scaleout.RECOVER_TASK, "todo"),
    }
    ws.close()
    assert amanah(pg_home, "verify", "--quiet").returncode == 0


def test_worker_refuses_the_embedded_default(sqlite_home: Path) -> None:
    proc = amanah(sqlite_home, "worker", "--no-wait")
    assert proc.returncode == 2 and 'runner = "procrastinate"' in proc.stderr
