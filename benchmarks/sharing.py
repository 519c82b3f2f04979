"""A request whose scope is 10,000 items: search, bulk review, a 5 GB package, verification.

    python -m benchmarks.sharing [--items 10000] [--gib 5] [--keep DIR]

Two builds of the same request, in the same run: "before" (no protected person looked for and
no inventory gate: `LeakCheck.item`/`redacted` find nothing and read nothing, a switch of this
benchmark only) and "with the complete inspection" (every stored inventory read and checked,
its raw readings included, a protected person recorded; every item attested as a legal
officer would, since random bytes have no reader).

The items (incompressible bytes, each a distinct file) are ingested and processed for real
before anything is timed. Then, timed: the search run for the request (every hit becomes a
candidate), marking all of them relevant, the package build, and verification with
tools/verify_package.py. The build's baseline is `cp` + `sha256sum` + `sha512sum` of the
same blob files, run in the same session with the page cache in the same (warm) state.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import text

from amanah.access import local_administrator
from amanah.blobs.filesystem import FilesystemStore
from amanah.intake import registry
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.rfa import jurisdictions, requests, review
from amanah.sharing import attestation, package, protected
from amanah.workspace import open_workspace
from benchmarks.common import machine, save

REPO = Path(__file__).resolve().parent.parent
COLLECTION = "bench-handover"


def make_files(folder: Path, count: int, total: int) -> None:
    folder.mkdir(parents=True)
    size = total // count
    block = os.urandom(size + 64)
    for i in range(count):
        # A different prefix per file: no two items share a blob.
        data = i.to_bytes(8, "big") + block[i % 64 : i % 64 + size - 8]
        (folder / f"{i // 1000:02d}" / f"recording-{i:05d}.bin").parent.mkdir(exist_ok=True)
        (folder / f"{i // 1000:02d}" / f"recording-{i:05d}.bin").write_bytes(data)


def timed(label: str, results: dict[str, float], fn, *args, **kw):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn(*args, **kw)
    results[label] = round(time.perf_counter() - start, 2)
    print(f"{label}: {results[label]} s", flush=True)
    return value


@contextlib.contextmanager
def _no_inspection() -> Iterator[None]:
    """The build as it was before the complete inspection (benchmark only): no protected
    person looked for, no inventory read, no completeness gate."""
    from amanah.sharing import leakcheck
    from amanah.sharing.protected import Matcher

    saved = leakcheck.LeakCheck.item, leakcheck.LeakCheck.redacted, Matcher.__dict__["load"]
    leakcheck.LeakCheck.item = lambda self, *a: leakcheck.Findings()  # type: ignore[method-assign]
    leakcheck.LeakCheck.redacted = lambda self, *a: leakcheck.Findings()  # type: ignore[method-assign]
    Matcher.load = classmethod(lambda cls, s: cls(b"\0" * 32, []))  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        leakcheck.LeakCheck.item, leakcheck.LeakCheck.redacted = saved[:2]
        Matcher.load = saved[2]  # type: ignore[method-assign]  # the classmethod itself


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--gib", type=float, default=5.0)
    ap.add_argument("--keep", type=Path, help="keep the workspace here (reused when present)")
    args = ap.parse_args()
    total = int(args.gib * (1 << 30))
    tmp = Path(tempfile.mkdtemp(prefix="amanah-sharing-bench-"))
    home = args.keep or tmp / "home"
    setup: dict[str, float] = {}
    try:
        fresh = not (home / "amanah.db").exists()
        ws = open_workspace(home)
        if fresh:
            timed(
                "make files (not part of the figures)",
                setup,
                make_files,
                tmp / "src",
                args.items,
                total,
            )
            with ws.db.session() as s:
                jurisdictions.add(s, "DE-GBA", state="Germany", authority="GBA")
                fw = registry.add_framework(
                    s, "Bench CSO", "MoU", date(2024, 1, 1), disclosure="any"
                )
                registry.collection(s, COLLECTION, "Bench CSO", framework_id=fw.id)
            timed(
                "ingest (setup)",
                setup,
                ingest,
                ws,
                IntakeRequest(
                    sources=[str(tmp / "src")],
                    collection=COLLECTION,
                    provider="Bench CSO",
                    actor="local:bench",
                ),
            )
            shutil.rmtree(tmp / "src")
            timed("process (setup)", setup, run, ws)
        caller = local_administrator(ws)
        with ws.db.reader() as s:
            todo = s.execute(
                text(
                    "SELECT id FROM items WHERE inventory != 'complete' AND id NOT IN"
                    " (SELECT item_id FROM inventory_attestations)"
                )
            ).scalars()
            todo = list(todo)
        # Random bytes have no reader: their inventories are incomplete, and the build would
        # refuse them unless each is attested (set-up, not timed).
        attestation.attest_many(ws, caller, todo, "benchmark: random bytes, examined")
        with ws.db.session() as s:
            if not protected.list_all(s, caller):
                # A protected person is recorded, so the build runs its name check on every
                # item (text, metadata, name, parts); no file names them.
                protected.add(s, caller, "Witness A", ["أحمد الخطيب", "Ahmad al-Khatib"])
        ref = f"RFA-BENCH-{int(time.time())}"
        with ws.db.session() as s:
            requests.create(s, ref, "DE-GBA", received_on=date.today(), actor=caller.actor)
        t: dict[str, float] = {}
        found = timed(
            "search for the request (all hits become candidates)",
            t,
            review.candidates_from_search,
            ws,
            caller,
            ref,
            f'collection:"{COLLECTION}"',
        )
        assert found["hits"] == args.items, found

        def bulk() -> int:
            with ws.db.session() as s:
                ids = [r["item_id"] for r in review.rows(s, caller, ref)]
                return review.decide(s, caller, ref, ids, "relevant")

        assert timed("bulk review (all relevant)", t, bulk) == args.items
        assert isinstance(ws.blobs, FilesystemStore)
        with ws.db.reader() as s:
            shas = [r["sha256"] for r in s.execute(text("SELECT sha256 FROM items")).mappings()]
        paths = [str(ws.blobs.path(sha)) for sha in shas]
        # Warm the page cache the same way for both: read everything once.
        subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)
        base_dir = tmp / "baseline"
        base_dir.mkdir()
        start = time.perf_counter()
        subprocess.run(["cp", "-t", str(base_dir), *paths], check=True)
        copied = [str(base_dir / Path(p).name) for p in paths]
        subprocess.run(["sha256sum", *copied], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(["sha512sum", *copied], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(["sync"], check=True)
        t["baseline cp + sha256sum + sha512sum (+ sync)"] = round(time.perf_counter() - start, 2)
        print(f"baseline: {t['baseline cp + sha256sum + sha512sum (+ sync)']} s", flush=True)
        shutil.rmtree(base_dir)
        with _no_inspection():
            timed(
                "package build before (no protected person, no inventory gate)",
                t,
                package.build,
                ws,
                caller,
                ref,
                tmp / "package-before",
            )
        shutil.rmtree(tmp / "package-before")
        out = tmp / "package"
        built = timed("package build", t, package.build, ws, caller, ref, out)
        start = time.perf_counter()
        check = subprocess.run(
            [
                sys.executable,
                str(REPO / "tools" / "verify_package.py"),
                str(out),
                "--key-id",
                ws.key.key_id,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        t["verify (tools/verify_package.py)"] = round(time.perf_counter() - start, 2)
        assert check.returncode == 0, check.stdout[-2000:]
        print(f"verify: {t['verify (tools/verify_package.py)']} s", flush=True)
        ratio = t["baseline cp + sha256sum + sha512sum (+ sync)"] / t["package build"]
        before = t["package build before (no protected person, no inventory gate)"]
        gb = built["payload_bytes"] / 1e9
        result = {
            "machine": machine(),
            "items": built["items"],
            "payload_gb": round(gb, 2),
            "setup_seconds": setup,
            "seconds": t,
            "build_mb_per_s": round(built["payload_bytes"] / 1e6 / t["package build"], 1),
            "build_speed_vs_baseline": round(ratio, 2),
            "build_before_speed_vs_baseline": round(
                t["baseline cp + sha256sum + sha512sum (+ sync)"] / before, 2
            ),
            "inspection_cost_seconds": round(t["package build"] - before, 2),
        }
        print(result)
        save("sharing", result)
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
