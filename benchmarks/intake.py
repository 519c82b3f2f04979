"""Intake and fixity, measured against coreutils on the same files in the same session.

1. ~2 GB corpus (a few hundred mixed files plus one file over 1 GB): `amanah ingest` bytes/s
   against `sha256sum` + `cp -r` of the same tree; peak RSS of the intake.
2. The >1 GB file alone: peak RSS of the intake process.
3. 10,000 files of 4 KB: files/s on the embedded default.
4. `amanah fixity` over the corpus's blobs against `sha256sum` over the same blob files.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import amanah_cmd, drop_caches, machine, run_timed, save

MB = 1 << 20


def make_corpus(root: Path, big_mb: int, small_files: int, seed: int = 7) -> int:
    """Mixed sizes from 1 KB to 40 MB, plus one big file; random bytes (no dedup help)."""
    rng = random.Random(seed)
    total = 0
    block = os.urandom(8 * MB)
    for i in range(small_files):
        size = int(
            rng.choice([2_000, 30_000, 300_000, 3 * MB, 12 * MB, 40 * MB]) * rng.uniform(0.5, 1)
        )
        path = root / f"folder-{i % 9}" / f"file-{i:04d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            f.write(i.to_bytes(8, "little"))  # make every file unique
            written = 8
            while written < size:
                n = min(len(block), size - written)
                f.write(block[:n])
                written += n
        total += path.stat().st_size
    big = root / "video" / "camera-dump.bin"
    big.parent.mkdir(parents=True, exist_ok=True)
    with big.open("wb") as f:
        for i in range(big_mb // 8):
            f.write(i.to_bytes(8, "little") + block[8:])
    return total + big.stat().st_size


def baseline(src: Path, work: Path) -> float:
    files = [str(p) for p in sorted(src.rglob("*")) if p.is_file()]
    drop_caches()
    listfile = work / "files.txt"
    listfile.write_bytes(b"\0".join(os.fsencode(f) for f in files))
    with listfile.open("rb") as stdin:
        t_hash, _, _ = run_timed(["xargs", "-0", "sha256sum"], stdin=stdin)
    dest = work / "cp-copy"
    t_cp, _, _ = run_timed(["cp", "-r", str(src), str(dest)])
    subprocess.run(["sync"], check=False)
    shutil.rmtree(dest)
    return t_hash + t_cp


def ingest(home: Path, src: Path, collection: str) -> tuple[float, int]:
    drop_caches()
    seconds, rss, _ = run_timed(
        amanah_cmd(
            home, "ingest", str(src), "--collection", collection, "--provider", "bench", "--quiet"
        )
    )
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (needs ~8 GB)")
    parser.add_argument("--big-mb", type=int, default=1100)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="amanah-bench-", dir=args.work))
    result: dict[str, object] = {"machine": machine()}
    try:
        src = work / "handover"
        size = make_corpus(src, args.big_mb, args.files)
        result["corpus_bytes"] = size
        result["corpus_files"] = args.files + 1
        base_runs, ours_runs, rss_runs = [], [], []
        for r in range(args.repeat):
            base_runs.append(baseline(src, work))
            home = work / f"home-{r}"
            seconds, rss = ingest(home, src, "mixed")
            ours_runs.append(seconds)
            rss_runs.append(rss)
            if r < args.repeat - 1:
                shutil.rmtree(home)
        b, o = min(base_runs), min(ours_runs)
        result["mixed"] = {
            "baseline_seconds": round(b, 2),
            "baseline_mb_s": round(size / b / 1e6, 1),
            "amanah_seconds": round(o, 2),
            "amanah_mb_s": round(size / o / 1e6, 1),
            "ratio": round(b / o, 2),
            "peak_rss_mib": round(max(rss_runs) / 1024, 1),
            "runs": {"baseline": base_runs, "amanah": ours_runs},
        }
        print("mixed corpus:", result["mixed"])

        # The big file alone, in a fresh home: peak RSS while it streams through.
        big_home = work / "home-big"
        seconds, rss = ingest(big_home, src / "video", "big")
        result["big_file"] = {
            "bytes": (src / "video" / "camera-dump.bin").stat().st_size,
            "seconds": round(seconds, 2),
            "peak_rss_mib": round(rss / 1024, 1),
        }
        print("big file:", result["big_file"])
        shutil.rmtree(big_home)

        # Fixity: amanah fixity against sha256sum over the same blob files.
        home = work / f"home-{args.repeat - 1}"
        blob_files = [
            p for p in (home / "blobs").rglob("*") if p.is_file() and ".tmp" not in p.parts
        ]
        listfile = work / "blobs.txt"
        listfile.write_bytes(b"\0".join(os.fsencode(p) for p in blob_files))
        drop_caches()
        with listfile.open("rb") as stdin:
            t_sum, _, _ = run_timed(["xargs", "-0", "sha256sum"], stdin=stdin)
        fixity = {"sha256sum_seconds_1_core": round(t_sum, 2)}
        for workers in (1, 2):
            drop_caches()
            t, _, _ = run_timed(amanah_cmd(home, "fixity", "--workers", str(workers), "--quiet"))
            fixity[f"amanah_seconds_{workers}_workers"] = round(t, 2)
            fixity[f"ratio_per_core_{workers}_workers"] = round(t_sum / (t * workers), 2)
        fixity["bytes"] = size
        result["fixity"] = fixity
        print("fixity:", fixity)
        shutil.rmtree(src)

        # 10,000 small files on SQLite.
        small = work / "small"
        payload = os.urandom(4096)
        for i in range(args.small):
            p = small / f"d{i // 500:02d}" / f"f{i:05d}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(i.to_bytes(8, "little") + payload[8:])
        home = work / "home-small"
        seconds, rss = ingest(home, small, "small")
        result["small_files"] = {
            "files": args.small,
            "seconds": round(seconds, 2),
            "files_per_s": round(args.small / seconds, 1),
            "peak_rss_mib": round(rss / 1024, 1),
        }
        print("small files:", result["small_files"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("written to", save("intake", result))


if __name__ == "__main__":
    main()
