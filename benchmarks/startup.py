"""What every command pays before it works, and what the protected-name readings add.

    python -m benchmarks.startup [--runs 5] [--part commands|open|matcher|zygote] [--tree DIR]

- `commands`: wall and CPU seconds (medians) of a fresh `import amanah.cli` and of whole
  commands in their own process: `amanah --help`, `amanah verify --help`, `amanah search`
  and `amanah collection list` on an empty home (the CPU is the child's user + system time);

- `open`: CPU seconds of a fresh process's first `open_workspace` of a home already at the
  newest migration, with the one-query check (`db.engine.newest_migration`) and with alembic
  deciding as before (the check disabled), each in its own process, median of the runs;
- `matcher`: CPU seconds of `Matcher.find` (as stored) and `Matcher.names` (as stored and as
  a reader's eye takes it) over a generated 284,000-character text with markup, Arabic and
  English, two persons recorded: what the leak check's readings cost per text;
- `zygote`: CPU seconds of a sandbox (limits-only, so that its zygote and children are this
  process's children) that reads 1, 2 or 3 English texts, long (1,500 characters, read with
  trigrams) or short (76, read with every model of the Latin script), and stops: the zygote's
  imports and model builds with the children's reading, median of the runs.

`--tree DIR` runs the measured processes of `commands` and `zygote` on the Amanah of another
checkout (a worktree of an earlier commit), for before and after in one session.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_OPEN = """
import sys, time
from amanah.db import engine
if sys.argv[2] == "alembic":
    engine._NEWEST[:] = ["(none)"]
from amanah.workspace import open_workspace
t = time.process_time()
open_workspace(sys.argv[1]).close()
print(time.process_time() - t)
"""

_TEXT = (
    "The convoy left the checkpoint at dawn; <b>witnesses</b> said the A branch held them. " * 2000
    + "نقلوا إلى فرع فلسطين في دمشق وقال الشاهد إنه رأى الضابط " * 2000
)


def _open(home: Path, how: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _OPEN, str(home), how], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


_ZYGOTE = """
import sys, tempfile
from pathlib import Path
from amanah.processing.sandbox import Sandbox
folder = Path(tempfile.mkdtemp())
text = folder / "statement.txt"
text.write_text(sys.argv[2] * int(sys.argv[3]), encoding="utf-8")
box = Sandbox("limits-only", work_dir=folder)
for n in range(int(sys.argv[1])):
    out = folder / f"out{n}"
    out.mkdir()
    assert "error" not in box.analyze(str(text), text.name, str(out))
box.close()
"""

#: The checkout whose Amanah the measured processes run (`--tree`); None: this one.
_TREE: list[str] = []


def _child(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process running argv (stdout discarded)."""
    tree = {"cwd": _TREE[0], "env": {**os.environ, "PYTHONPATH": _TREE[0]}} if _TREE else {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False, **tree)  # type: ignore[call-overload]
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _commands(home: Path, runs: int) -> dict[str, dict[str, float]]:
    """Medians of wall and CPU for the import and for a few whole commands."""
    cli = [sys.executable, "-m", "amanah.cli", "--home", str(home)]
    cases = {
        "import amanah.cli": [sys.executable, "-c", "import amanah.cli"],
        "amanah --help": [*cli, "--help"],
        "amanah verify --help": [*cli, "verify", "--help"],
        "amanah search": [*cli, "search", "checkpoint"],
        "amanah collection list": [*cli, "collection", "list"],
    }
    figures = {}
    for name, argv in cases.items():
        taken = [_child(argv) for _ in range(runs)]
        figures[name] = {
            "wall": round(statistics.median(w for w, _ in taken), 3),
            "cpu": round(statistics.median(c for _, c in taken), 3),
        }
    return figures


def _zygote(runs: int) -> dict[str, float]:
    """Median CPU of a sandbox that reads 1, 2 and 3 texts, zygote and children included: a
    long text (read with trigrams) and a short one (every model of its script)."""
    line = "The witness was held at the branch for three months in the winter of 2012. "
    figures = {}
    for kind, times in (("long", 20), ("short", 1)):
        for files in (1, 2, 3):
            argv = [sys.executable, "-c", _ZYGOTE, str(files), line, str(times)]
            figures[f"{kind}, {files} file(s)"] = round(
                statistics.median(_child(argv)[1] for _ in range(runs)), 3
            )
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--part", choices=["commands", "open", "matcher", "zygote"], action="append")
    ap.add_argument("--tree", help="run the measured processes on this checkout's Amanah")
    args = ap.parse_args()
    parts = set(args.part or ["commands", "open", "matcher", "zygote"])
    if args.tree:
        _TREE.append(str(Path(args.tree).resolve()))

    result: dict[str, object] = {"load": list(os.getloadavg())}
    if "zygote" in parts:
        result["zygote"] = _zygote(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        subprocess.run(
            [sys.executable, "-m", "amanah.cli", "--home", str(home), "init"],
            capture_output=True,
            check=True,
        )
        if "commands" in parts:
            result["commands"] = _commands(home, args.runs)
        if "open" in parts:
            result["open"] = {
                how: statistics.median(_open(home, how) for _ in range(args.runs))
                for how in ("check", "alembic")
            }
    if "matcher" not in parts:
        print(json.dumps(result, indent=1))
        return
    from amanah.sharing.protected import Matcher

    m = Matcher.of([("Witness A", ["Ahmad al-Khatib", "أحمد الخطيب"]), ("B", ["Omar Hallak"])])
    timed = {}
    for how in ("find", "names"):
        runs = []
        for _ in range(args.runs):
            t = time.process_time()
            getattr(m, how)(_TEXT)
            runs.append(time.process_time() - t)
        timed[how] = statistics.median(runs)
    result["matcher"] = {"characters": len(_TEXT), **timed}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
