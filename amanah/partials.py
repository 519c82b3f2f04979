"""Hidden work folders of package builds, backups and restores, and what a killed run leaves.

A package is built in `.NAME.partial-…` beside its folder, a backup in `.NAME.partial-…`, a
restore in `.NAME.restoring-…`, and renamed into place when whole. A run killed outright
(kill -9, the out-of-memory killer, a power cut) runs no clean-up, and its folder holds copies
of evidence and, for backup and restore, the database, the private ledger key and the names
key. So each run names its folder with its process id and host, and the next run into the same
parent folder removes the folders of its host whose process is gone, saying so; `amanah
partials FOLDER` lists them. A folder whose process still runs is never touched; nor is one
from another host, or one that names no process (an older version's package build), which
nor one named the way older versions named them (no host), which may belong to another
program: these are listed for a person to judge.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from amanah.system import pid_alive

log = logging.getLogger(__name__)
KINDS = ("partial", "restoring")


def _host() -> str:
    return socket.gethostname().replace("/", "_")[:64] or "localhost"


def work_folder(target: Path, kind: str, tag: str = "") -> Path:
    """The hidden folder beside `target` that this process builds it in."""
    assert kind in KINDS
    middle = f"{tag}-" if tag else ""
    return target.with_name(f".{target.name}.{kind}-{middle}{os.getpid()}@{_host()}")


@dataclass
class Leftover:
    path: Path
    kind: str
    pid: int | None
    host: str | None
    #: "running" (its process is alive: never removed), "gone" (removable), or "unknown"
    #: (another host's, or naming no process).
    state: str


def _started_after(pid: int, when: float) -> bool:
    """Whether process `pid` started after `when` (so it reused the id of the folder's dead
    owner, which made the folder before that); False where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    return boot + ticks / os.sysconf("SC_CLK_TCK") > when + 2


def _parse(path: Path) -> Leftover | None:
    name = path.name
    if not name.startswith("."):
        return None
    for kind in KINDS:
        marker = f".{kind}-"
        at = name.rfind(marker)
        if at <= 1:
            continue
        rest = name[at + len(marker) :]
        host: str | None = None
        if "@" in rest:
            rest, host = rest.rsplit("@", 1)
        last = rest.rsplit("-", 1)[-1]
        pid = int(last) if last.isdigit() else None
        if pid is None and host is None and kind == "restoring":
            return None
        return Leftover(path, kind, pid, host, "unknown")
    return None


def _state(found: Leftover) -> str:
    # A name without our host mark may be an older version's or another program's: listed,
    # never removed by itself.
    if found.pid is None or found.host is None or found.host != _host():
        return "unknown"
    if not pid_alive(found.pid):
        return "gone"
    try:
        made = found.path.stat().st_mtime
    except OSError:
        return "gone"
    return "gone" if _started_after(found.pid, made) else "running"


def find(parent: Path) -> list[Leftover]:
    """The hidden work folders in `parent`, each with the state of its process."""
    found = []
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return []
    for path in entries:
        item = _parse(path)
        if item is None or not path.is_dir() or path.is_symlink():
            continue
        item.state = _state(item)
        found.append(item)
    return found


def sweep(parent: Path, keep: frozenset[Path] = frozenset()) -> list[Leftover]:
    """Remove the folders in `parent` whose run was killed on this host, but those in `keep`
    (a package recorded as sent that could not be put in place); return them."""
    removed = []
    for item in find(parent):
        if item.state != "gone" or item.pid == os.getpid() or item.path in keep:
            continue
        shutil.rmtree(item.path, ignore_errors=True)
        if not item.path.exists():
            log.warning(
                "removed %s, left by a %s run (process %d) killed before it finished",
                item.path,
                "restore" if item.kind == "restoring" else "package build or backup",
                item.pid,
            )
            removed.append(item)
    return removed
