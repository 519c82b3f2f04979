"""Pages scanned turned: what reading them costs, and what is read.

    python -m benchmarks.ocr_turned [--rounds 2] [--tree DIR]

Two typed A4 pages at 300 dpi written for this benchmark (English prose, and Arabic prose in
DejaVu Sans), each upright, turned 90, 180 and 270 degrees, read by `ocr.ocr_image` with
`ara+eng`. Per page: CPU seconds (this process and its Tesseract children), the variant kept,
the readings tried and whether every line's marker word was read. `--tree DIR` also reads
them with the Amanah of another checkout (a worktree of an earlier commit), alternately with
this one, each in a process of its own, for before and after in one session.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ENGLISH = "The clerk wrote down line {n} of the hearing held in the northern district office."
ARABIC = "كتب الكاتب السطر {n} من جلسة الاستماع في مكتب المنطقة الشمالية للجنة"

_READ = """
import json, resource, sys, tempfile
from pathlib import Path
from PIL import Image
from amanah.processing import ocr
image = Image.open(sys.argv[1])
before = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
page = ocr.ocr_image(image, 1, Path(tempfile.mkdtemp()), "ara+eng")
after = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
print(json.dumps({"cpu": cpu, "variant": page.variant, "tried": list(page.tried),
                  "text": page.text, "confidence": page.confidence}))
"""


def _pages(folder: Path) -> dict[str, tuple[Path, str]]:
    """Each page at each turn, saved as PNG, with the line template it was written from."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 46)
    out = {}
    for name, line in (("english", ENGLISH), ("arabic", ARABIC)):
        page = Image.new("L", (2480, 3508), 255)
        draw = ImageDraw.Draw(page)
        for n in range(1, 31):
            if name == "arabic":
                kw = {"anchor": "ra", "direction": "rtl", "language": "ar"}
                draw.text((2300, 150 + 105 * n), line.format(n=n), font=font, fill=0, **kw)
            else:
                draw.text((180, 150 + 105 * n), line.format(n=n), font=font, fill=0)
        for turn in (0, 90, 180, 270):
            path = folder / f"{name}-{turn}.png"
            page.rotate(turn, expand=True).save(path)
            out[f"{name}, turned {turn}"] = (path, line)
    return out


def _read(path: Path, tree: str | None) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": tree} if tree else None
    out = subprocess.run(
        [sys.executable, "-c", _READ, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tree,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _lines_read(text: str, line: str) -> int:
    """Lines whose number and the two words around it were read."""
    words = line.split()
    i = words.index("{n}")
    return sum(f"{words[i - 1]} {n} {words[i + 1]}" in " ".join(text.split()) for n in range(1, 31))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tree", help="another checkout to compare with (before)")
    args = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with tempfile.TemporaryDirectory() as tmp:
        pages = _pages(Path(tmp))
        runs = [("before", args.tree), ("now", None)] if args.tree else [("now", None)]
        for r in range(args.rounds):
            for label, tree in runs:
                for name, (path, line) in pages.items():
                    got = _read(path, tree)
                    print(
                        json.dumps(
                            {
                                "round": r + 1,
                                "code": label,
                                "page": name,
                                "cpu_s": round(float(got["cpu"]), 2),  # type: ignore[arg-type]
                                "variant": got["variant"],
                                "readings": got["tried"],
                                "confidence": got["confidence"],
                                "lines_read": _lines_read(str(got["text"]), line),
                            },
                            ensure_ascii=False,
                        ),
                        flush=True,
                    )


if __name__ == "__main__":
    main()
