"""The signing key is not rotated under a running worker (an adversary's, stop 53): `custody
rotate-key` ran while `amanah process` worked; the worker's jobs failed to sign once the key
was gone, were retried to permanent failure, and `process` still exited 0. A rotation is now
refused while a processing job is held by a live worker, and goes ahead once it is not."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import amanah, ingest_cli


def test_a_rotation_waits_for_running_workers(sqlite_home: Path, tmp_path: Path) -> None:
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "a.txt").write_text("a statement\n")
    ingest_cli(sqlite_home, tmp_path / "h")
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        db = sqlite3.connect(sqlite_home / "amanah.db")
        # the job as a worker holds it (`queue.claim`): a live process of this host
        db.execute(
            "update jobs set state='running', locked_by=?, locked_at=datetime('now'), attempts=1",
            (f"{socket.gethostname()}:{worker.pid}",),
        )
        db.commit()
        refused = amanah(sqlite_home, "custody", "rotate-key", "--reason", "yearly")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"processing workers are running ({socket.gethostname()}:{worker.pid})" in (
            refused.stderr
        )
        assert "Traceback" not in refused.stderr
    finally:
        worker.kill()
        worker.wait()
    db.execute("update jobs set state='queued', locked_by='' ")
    db.commit()
    db.close()
    done = amanah(sqlite_home, "custody", "rotate-key", "--reason", "yearly", check=True)
    assert "handed the ledger over to key" in done.stdout
