"""kill -9 at any moment of an intake loses nothing and duplicates nothing; a re-run completes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from amanah.db.models import Blob, CustodyEvent, Item
from amanah.preservation.audit import verify
from amanah.workspace import open_workspace
from tests.conftest import amanah, make_home


def make_tree(root: Path, rng: random.Random) -> dict[str, str]:
    expected = {}
    for i in range(1500):
        size = rng.randint(1, 60_000) if i % 5 else rng.randint(200_000, 4_000_000)
        data = rng.randbytes(size)
        rel = f"box-{i % 7}/doc-{i:04d}.bin"
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        expected[f"{root.name}/{rel}"] = hashlib.sha256(data).hexdigest()
    return expected


def count_items(home: Path) -> int:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            return int(s.execute(select(func.count()).select_from(Item)).scalar_one())
    finally:
        ws.close()


def check_invariants(home: Path) -> int:
    """No item without its blob row, stored bytes and ingestion event; no duplicates."""
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            items = s.execute(select(Item)).scalars().all()
            blobs = {b.sha256 for b in s.execute(select(Blob)).scalars()}
            ingested = {
                e.object_id
                for e in s.execute(
                    select(CustodyEvent).where(CustodyEvent.event_type == "ingestion")
                ).scalars()
            }
        paths = [i.original_path for i in items]
        assert len(paths) == len(set(paths)), "an item was ingested twice"
        for item in items:
            assert item.sha256 in blobs
            assert ws.blobs.exists(item.sha256)
            assert str(item.id) in ingested
        report = verify(ws, "test:auditor", fixity=False)
        assert report.ok, report.problems
        return len(items)
    finally:
        ws.close()


@pytest.mark.slow
@pytest.mark.serial
@pytest.mark.parametrize("engines", ["sqlite-file", "postgresql-file"])
def test_kill_9_during_ingest_then_rerun(
    request: pytest.FixtureRequest, tmp_path: Path, engines: str
) -> None:
    home = make_home(request, tmp_path, engines)
    open_workspace(home).close()  # schema and key exist before any intake races to make them
    rng = random.Random(20261122)
    src = tmp_path / "handover"
    expected = make_tree(src, rng)
    cmd = [
        sys.executable,
        "-m",
        "amanah.cli",
        "--home",
        str(home),
        "ingest",
        str(src),
        "--collection",
        "seized",
        "--provider",
        "P",
        "--quiet",
    ]
    kills = 0
    seen_counts = [0]
    for attempt in range(8):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt:
            # Wait until this run has committed something new, then kill at a random moment
            # of what follows: mid-batch, mid-file, mid-commit.
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if count_items(home) > seen_counts[-1]:
                    break
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.6))
        else:
            time.sleep(0.3)  # the first kill lands during start-up, before anything is written
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        seen_counts.append(check_invariants(home))
        if kills == 5:
            break
    assert kills >= 3, "the intake finished before it could be killed; make the tree larger"
    assert any(0 < n < len(expected) for n in seen_counts), (
        f"no kill landed mid-intake: {seen_counts}"
    )
    final = amanah(home, "ingest", str(src), "--collection", "seized", "--provider", "P", "--json")
    assert final.returncode == 0, final.stderr
    items = json.loads(amanah(home, "items", "--json", check=True).stdout)
    assert {i["original_path"]: i["sha256"] for i in items} == expected
    assert seen_counts == sorted(seen_counts)  # progress is kept across kills
    done = amanah(home, "verify", "--quiet")
    assert done.returncode == 0, done.stdout
    runs = json.loads(amanah(home, "intake", "runs", "--json", check=True).stdout)
    assert runs[-1]["status"] == "complete"
    # Killed runs are not left looking as if they were still going.
    assert {r["status"] for r in runs[:-1]} <= {"interrupted", "complete"}
    # (a kill during start-up, before the run row commits, leaves no run at all)
    assert 1 <= sum(r["status"] == "interrupted" for r in runs) <= kills
