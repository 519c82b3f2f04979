"""What the raw readings of a file's bytes cost, and what they keep, by kind of bytes.

    python -m benchmarks.rawscan [--mib 64] [--repeat 3]

`amanah.text.rawtext.of_file` (the leak check's last net, taken with the content inventory)
reads files of each kind made here: random bytes (what compressed photos, video and zips look
like), zeros, UTF-8 text, UTF-16 text, random bytes with short text strings every 64 KB (an
uncompressed binary format), and text that looks like escapes, base64 or hexadecimal throughout
(a hash list, MIME base64 lines, a log of base64 tokens, JSON written with \\u escapes).
Figures: MB/s of wall time and of CPU time (the best of `--repeat`), and the bytes kept per MB
(what the inventory stores and the build matches).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import machine, save

LINE = "Statement taken in Gaziantep on 3 March 2019; the witness described the cell.\n"
ARABIC = "إفادة الشاهد عن الاعتقال في فرع المخابرات الجوية والزنزانة.\n"


def kinds(size: int) -> dict[str, bytes]:
    rnd = random.Random(1)
    text = (LINE + ARABIC) * (size // len((LINE + ARABIC).encode()) + 1)
    sparse = bytearray(rnd.randbytes(size))
    for at in range(0, size - 200, 64 << 10):
        sparse[at : at + 40] = b"Created with ImageTool 4.2 by Mansour \x00"
    return {
        "random (compressed media, zip)": rnd.randbytes(size),
        "zeros": bytes(size),
        "UTF-8 text (Latin and Arabic)": text.encode()[:size],
        "UTF-16-LE text": text.encode("utf-16-le")[:size],
        "random with a text string every 64 KB": bytes(sparse),
        # what looks like escapes, base64 or hexadecimal throughout (escapes.py's readings)
        "a hash list (hexadecimal)": _fill(
            size, lambda i: rnd.randbytes(32).hex().encode() + b"  statements/f-%d.pdf\n" % i
        ),
        "MIME base64 lines": base64.encodebytes(rnd.randbytes(size * 3 // 4 + 3))[:size],
        "a log of base64 tokens": _fill(
            size,
            lambda i: (
                b"%d GET /api/v1/items?session=" % i
                + base64.urlsafe_b64encode(rnd.randbytes(48))
                + b" 200\n"
            ),
        ),
        "JSON with \\u escapes": _fill(
            size, lambda i: json.dumps({"id": i, "text": ARABIC + LINE}).encode() + b"\n"
        ),
    }


def _fill(size: int, line: Callable[[int], bytes]) -> bytes:
    out, have, i = [], 0, 0
    while have < size:
        out.append(line(i))
        have += len(out[-1])
        i += 1
    return b"".join(out)[:size]


def main() -> None:
    from amanah.text import rawtext

    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    size = args.mib << 20
    rows = {}
    with tempfile.TemporaryDirectory(prefix="amanah-rawscan-") as tmp:
        for kind, data in kinds(size).items():
            path = Path(tmp) / "f"
            path.write_bytes(data)
            wall, cpu, kept = [], [], 0
            for _ in range(args.repeat):
                w, c = time.perf_counter(), time.process_time()
                found = rawtext.of_file(path)
                wall.append(time.perf_counter() - w)
                cpu.append(time.process_time() - c)
                kept = sum(len(t.encode()) for t in found.values())
            mb = size / 1e6
            rows[kind] = {
                "mb_per_s_wall": round(mb / min(wall), 1),
                "mb_per_s_cpu": round(mb / min(cpu), 1),
                "kept_bytes_per_mb": round(kept / mb),
            }
            print(kind, rows[kind], flush=True)
    result = {"machine": machine(), "mib": args.mib, "load": os.getloadavg(), "kinds": rows}
    print(result)
    save("rawscan", result)


if __name__ == "__main__":
    main()
