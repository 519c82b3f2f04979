"""A content inventory that runs out of memory fails its job (to be retried with room), never
records the file as "incomplete" as if it were damaged. The memory limit is real: the child
process lowers its own address-space limit just above what it uses, then reads a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CHILD = r"""
import json, resource, sys
from pathlib import Path
from amanah.processing import analyze, inventory  # imported before the limit is set

what, path, limited = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
if limited:
    vm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize"))
    room = vm * 1024 + (6 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
try:
    if what == "raw":
        inv = inventory.Inventory()
        inventory.raw_readings(inv, path)
    else:
        inv = inventory.take(path, "application/octet-stream", "", [], {}, path.parent / "w")
except MemoryError:
    print("MemoryError")
    sys.exit(3)
print(json.dumps({"reasons": inv.reasons, "raw": inv.raw}))
"""


def _run(what: str, path: Path, limited: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, what, str(path), "1" if limited else "0"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "recording.bin"  # binary bytes of no known format, 12 MiB
    rng = np.random.default_rng(18)
    path.write_bytes(rng.integers(0, 256, 12 << 20, dtype=np.uint8).tobytes())
    (tmp_path / "w").mkdir()
    return path


@pytest.mark.parametrize("what", ["raw", "take"])
def test_out_of_memory_fails_the_inventory_instead_of_calling_it_incomplete(
    binary: Path, what: str
) -> None:
    limited = _run(what, binary, limited=True)
    assert limited.returncode == 3, limited.stdout + limited.stderr[-2000:]
    assert limited.stdout.strip() == "MemoryError"
    # Negative control: with room, the same file is inventoried and nothing fails.
    roomy = _run(what, binary, limited=False)
    assert roomy.returncode == 0, roomy.stderr[-2000:]
    doc = json.loads(roomy.stdout)
    assert doc["raw"] is True
    assert not any("raw reading" in r or "MemoryError" in r for r in doc["reasons"]), doc
