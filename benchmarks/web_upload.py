"""A 2 GB upload through the browser's API: server memory stays flat; receipt = sha256sum.

    python -m benchmarks.web_upload [--gib 2]

The file is sent as the upload page's script sends it (8 MiB parts, PUT at the offset
received so far). The server's peak RSS (VmHWM of the `amanah serve` process) is read before
and after; the receipt's SHA-256 is compared with `sha256sum` of the same file, timed in the
same session as the baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from amanah.workspace import open_workspace
from benchmarks.common import machine, save
from benchmarks.webserver import Server, accounts

PART = 8 << 20


def make_file(path: Path, size: int) -> None:
    """Incompressible bytes, written once (not timed)."""
    block = os.urandom(64 << 20)
    with path.open("wb") as f:
        written = 0
        while written < size:
            chunk = block[: min(len(block), size - written)]
            # Vary each block so that no two parts are alike.
            f.write(written.to_bytes(8, "big") + chunk[8:])
            written += len(chunk)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=2.0)
    args = ap.parse_args()
    size = int(args.gib * (1 << 30))
    tmp = Path(tempfile.mkdtemp(prefix="amanah-upload-bench-"))
    try:
        big = tmp / "handover.bin"
        make_file(big, size)
        home = tmp / "home"
        ws = open_workspace(home)
        from amanah.intake import registry

        with ws.db.session() as s:
            registry.collection(s, "field-uploads", "Field team")
        tokens = accounts(ws)
        ws.close()
        server = Server(home, runner=False, web_workers=1)
        try:
            before = server.peak_rss_kib()
            headers = {"Authorization": f"Bearer {tokens['intake']}"}
            with httpx.Client(base_url=server.base, headers=headers, timeout=300) as c:
                t0 = time.perf_counter()
                up = c.post(
                    "/api/v1/collections/field-uploads/uploads",
                    json={"filename": big.name, "size": size},
                ).json()
                state = up
                peak_during = 0
                with big.open("rb") as f:
                    while not state["complete"]:
                        f.seek(state["received"])
                        data = f.read(PART)
                        r = c.put(
                            f"/api/v1/uploads/{up['upload_id']}",
                            params={"offset": state["received"]},
                            content=data,
                        )
                        r.raise_for_status()
                        state = r.json()
                        peak_during = max(peak_during, server.rss_kib())
                upload_s = time.perf_counter() - t0
            after = server.peak_rss_kib()
        finally:
            server.stop()
        t0 = time.perf_counter()
        baseline = subprocess.run(
            ["sha256sum", str(big)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        sha_s = time.perf_counter() - t0
        result = {
            "machine": machine(),
            "bytes": size,
            "upload_seconds": round(upload_s, 1),
            "upload_mb_per_s": round(size / upload_s / 1e6, 1),
            "sha256sum_seconds": round(sha_s, 1),
            "receipt_sha256": state["sha256"],
            "sha256sum": baseline,
            "receipt_matches": state["sha256"] == baseline,
            "server_peak_rss_mib_before": round(before / 1024, 1),
            "server_peak_rss_mib_after": round(after / 1024, 1),
            "server_rss_mib_max_sampled": round(peak_during / 1024, 1),
        }
        print(save("web_upload", result))
        for k, v in result.items():
            if k != "machine":
                print(f"{k}: {v}", file=sys.stderr)
        if not result["receipt_matches"]:
            raise SystemExit("the receipt does not match sha256sum")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
