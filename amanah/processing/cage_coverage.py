"""Coverage of the code that runs in the cage, when the test suite is measured.

`./run coverage` measures every process the suite starts through coverage.py's start-up
variable, which the cage does not pass (only `cage.KEEP_ENV` does), and a caged child may
write only in its own job folder. So the cage is not widened for measuring: when the worker
itself is measured, the cage is told so by one flag (`FLAG`), each child measures itself
and saves its data inside its own job folder, and the worker moves those data files next to
its own before the job folder goes. The child's paths (`/opt/amanah/amanah/...`) are mapped
back by `[tool.coverage.paths]` when the data is combined.

A child's data file is written by code a hostile file may have taken over: only regular
files of a bounded size named like coverage's are moved, and only when the worker is
measured; outside a measured run none of this runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

FLAG = "AMANAH_SANDBOX_COVERAGE"
#: What a child's data file is called in its job folder, and the zygote's in the scratch
#: root (coverage adds a suffix). The zygote's holds what it imported for its children.
DATA = ".coverage-child"
ZYGOTE_DATA = ".coverage-zygote"
#: Larger than any child's data (a few hundred kB); what is larger is not coverage's.
MOST_BYTES = 64 << 20


def measured() -> Path | None:
    """The worker's own data file when the worker is measured by coverage.py, else None."""
    config = os.environ.get("COVERAGE_PROCESS_CONFIG")
    data = os.environ.get("COVERAGE_FILE")
    if not config or not data or "coverage" not in sys.modules:
        return None
    return Path(data).absolute()


def cage_env() -> dict[str, str]:
    """What the cage's environment gains when the worker is measured: the flag alone."""
    return {FLAG: "1"} if measured() is not None else {}


def wanted() -> bool:
    """In the zygote or a child: whether to measure the children."""
    return os.environ.get(FLAG) == "1"


def start(folder: str, name: str = DATA, inherited: Any = None) -> Any:
    """Measure this process, its data in `folder`: the zygote at its start, each caged child
    after its confinement (`inherited`: the zygote's measuring, stopped unsaved there)."""
    if not wanted():
        return None
    import coverage

    if inherited is not None:
        inherited.stop()
    cov = coverage.Coverage(
        data_file=str(Path(folder, name)),
        data_suffix=True,
        branch=True,
        source_pkgs=["amanah"],
        config_file=False,
    )
    cov.start()
    return cov


def save(cov: Any) -> None:
    """Before the child's `os._exit` (no atexit runs there)."""
    if cov is None:
        return
    with contextlib.suppress(Exception):
        cov.stop()
        cov.save()


def collect(folder: Path, name: str = DATA) -> None:
    """In the worker, before a job folder (or the scratch root) is removed: move the data
    files there beside the worker's, named so that `coverage combine` takes them."""
    target = measured()
    if target is None:
        return
    for entry in folder.glob(f"{name}.*"):
        with contextlib.suppress(OSError):
            if entry.is_symlink() or not entry.is_file() or entry.stat().st_size > MOST_BYTES:
                continue
            shutil.move(entry, target.parent / f"{target.name}.cage.{uuid.uuid4().hex}")
