"""The home's checkpoint log: every signed checkpoint, appended outside the database.

A checkpoint is appended after its transaction commits and before the commit returns to the
caller (O_APPEND, fsynced), so the log never names a checkpoint whose events did not commit;
a crash can only lose the line being written, which readers skip. `amanah verify` holds the
database against the log: a ledger cut short, or an older database put back, is behind it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from amanah.custody import verifier

LOG_NAME = "checkpoints.log"
#: Session.info key holding the log's path (set by the workspace).
CHECKPOINT_LOG = "amanah.checkpoint_log"


class CheckpointLogError(Exception):
    """The checkpoint log could not be written (the database change did commit)."""


def append(path: Path, checkpoints: Sequence[dict[str, Any]]) -> None:
    data = b"".join(verifier.canonical_json(cp) + b"\n" for cp in checkpoints)
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line torn by a crash stays alone on its line
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise CheckpointLogError(
            f"{path}: cannot append the signed checkpoint to the checkpoint log: {exc.strerror}"
            " (the change itself was saved; the next checkpoint is logged again)"
        ) from exc


def read(path: Path) -> list[dict[str, Any]]:
    """Every readable checkpoint in the log (lines torn by a crash are skipped)."""
    if not path.exists():
        return []
    return verifier.read_jsonl(path, torn_tail_ok=True)
