"""Peak memory of reading one large text file, by the code at a given path.

    python -m benchmarks.bounded_text [--gib 1] [--before /path/to/older/checkout]

A text file of `--gib` GiB (a log: ASCII lines with some Arabic) is read by
`amanah.processing.extract.plain_text` in a fresh process; the figures are that process's
wall seconds and peak RSS. With `--before`, the same is run with the older checkout first on
the path (before text was read a chunk at a time, the whole file was read, decoded and
cleaned: several copies of the file in memory).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.common import machine, run_timed, save

LINE = "2026-12-02 10:00:00 GET /api/records 200 — طلب من المكتب الإقليمي\n".encode()
CHILD = (
    "import sys; from pathlib import Path; from amanah.processing import extract;"
    " out = extract.plain_text(Path(sys.argv[1]));"
    " print(len(out.pages[0]), [f['code'] for f in out.flags])"
)


def run(path: Path, code: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    try:
        wall, rss, proc = run_timed(
            [sys.executable, "-c", CHILD, str(path)], env=env, cwd=path.parent
        )
    except RuntimeError as exc:
        return {"code": str(code), "failed": str(exc)[-300:]}
    said = proc.stdout.decode().strip() if proc else ""
    return {"code": str(code), "wall_s": round(wall, 2), "peak_rss_mib": rss >> 10, "said": said}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--before", type=Path)
    args = ap.parse_args()
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "server.log"
        block = LINE * (1 << 14)
        with path.open("wb") as f:
            for _ in range(int(args.gib * (1 << 30)) // len(block) + 1):
                f.write(block)
        result: dict[str, object] = {
            "machine": machine(),
            "load": os.getloadavg(),
            "file_bytes": path.stat().st_size,
            "runs": [run(path, c) for c in [args.before, here] if c is not None],
        }
    print(result)
    save("bounded_text", result)


if __name__ == "__main__":
    main()
