"""Shared helpers: machine description, timing of commands, peak memory of a child."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def run_timed(
    cmd: list[str], **kw: object
) -> tuple[float, int, subprocess.CompletedProcess[bytes] | None]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stdout = proc.stdout.read() if proc.stdout else b""
    stderr = proc.stderr.read() if proc.stderr else b""
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise RuntimeError(f"{cmd[:4]} exited {code}: {stderr.decode(errors='replace')[-800:]}")
    return elapsed, usage.ru_maxrss, subprocess.CompletedProcess(cmd, code, stdout, stderr)


def amanah_cmd(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "amanah.cli", "--home", str(home), *args]


def drop_caches() -> None:
    """Best effort: start each timed run from the same (cold) page cache where allowed."""
    subprocess.run(["sync"], check=False)
    with contextlib.suppress(OSError):
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def save(name: str, result: dict[str, object]) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
