"""The vectors of one long text on 2 workers: how long search by meaning waits for them.

An Arabic statement of about --passages passages of 1,000 characters (a text file made here
from tests/arabic_corpus.py's lines, numbered) is ingested into a fresh home and processed
with `run(workers=2)`; from the job rows: the item's job, then the vectors (the `embed` job
and, where the text is shared over the workers, its `embed:N` shares: processing/vectorjobs.py)
as wall time from the first vector job's start to the last one's end, and as job seconds; the
sandbox children's CPU seconds of the `embed` task. Each job's timeline goes to stderr.

Usage: python -m benchmarks.vectors [--passages N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CODE = """
import json, sys, time
from pathlib import Path
from sqlalchemy import select
from amanah.config import write_default_config
from amanah.db.models import Job, SearchVector
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.processing.sandbox import CPU_SECONDS
from amanah.workspace import open_workspace
home = Path(sys.argv[1]); write_default_config(home / "home")
ws = open_workspace(home / "home")
ingest(ws, IntakeRequest(sources=[str(home / "in")], collection="c", provider="P", actor="b"))
t = time.perf_counter(); r = run(ws, workers=2); s = time.perf_counter() - t
assert r.failed == 0, r.failures
with ws.db.reader() as db:
    jobs = db.execute(select(Job.kind, Job.locked_at, Job.finished_at)).all()
    n = len(db.execute(select(SearchVector.chunk)).all())
t0 = min(j.locked_at for j in jobs)
print(json.dumps([[j.kind, round((j.locked_at - t0).total_seconds(), 2),
      round((j.finished_at - t0).total_seconds(), 2)] for j in sorted(jobs, key=lambda j: j[1])]))
print(json.dumps({"vectors": n, "cpu": CPU_SECONDS, "seconds": s}))
"""


def statement(passages: int) -> str:
    from tests.arabic_corpus import LINES

    lines, n = [], 0
    while sum(len(x) + 1 for x in lines) < passages * 1000 - 200:
        lines.append(f"{n} {LINES[n % len(LINES)]}")
        n += 1
    return "\n".join(lines)


def once(text: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in").mkdir()
        (Path(tmp) / "in" / "statement.txt").write_text(text, encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-c", CODE, tmp], capture_output=True, check=True, text=True
        )
    lines = out.stdout.strip().splitlines()
    print("timeline", lines[-2], file=sys.stderr)
    timeline, found = json.loads(lines[-2]), json.loads(lines[-1])
    vectors = [(start, end) for kind, start, end in timeline if kind.startswith("embed")]
    item = next((start, end) for kind, start, end in timeline if kind == "process")
    return {
        "seconds": round(found["seconds"], 2),
        "item_job_s": round(item[1] - item[0], 2),
        "vector_jobs": len(vectors),
        "vectors_wall_s": round(max(e for _, e in vectors) - min(s for s, _ in vectors), 2),
        "vectors_job_s": round(sum(e - s for s, e in vectors), 2),
        "embed_cpu_s": round(found["cpu"].get("embed", 0.0), 2),
        "passages": found["vectors"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passages", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    text = statement(args.passages)
    runs = []
    for _ in range(args.rounds):
        load = round(os.getloadavg()[0], 2)
        runs.append({"load_average_1m": load, **once(text)})
        print(runs[-1], file=sys.stderr)
    print(json.dumps({"cpus": os.cpu_count(), "chars": len(text), "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
