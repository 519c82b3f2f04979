"""The children an unpacked container writes: numbered files under limits.

Shared by the archive and email unpackers (`processing.unpack`) and the Outlook store reader
(`processing.mailbox`): a member's name is recorded, never used as a path, and the limits
(members, a member's bytes, total bytes, expansion ratio) stop a bomb wherever it is found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Limits:
    max_members: int = 10_000
    max_member_bytes: int = 8 << 30
    max_total_bytes: int = 20 << 30
    #: Expanded size over stored size beyond which unpacking stops (zip bombs reach 1000s).
    max_ratio: float = 200.0


class LimitReached(Exception):
    pass


class Writer:
    """Writes children as numbered files and keeps the tally the limits are checked against."""

    def __init__(self, out_dir: Path, limits: Limits, source_size: int) -> None:
        self.dir = out_dir / "children"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.limits = limits
        self.source_size = max(source_size, 1)
        self.total = 0
        self.children: list[dict[str, Any]] = []

    def _check(self, more: int) -> None:
        self.total += more
        if self.total > self.limits.max_total_bytes:
            raise LimitReached(f"expanded size passed {self.limits.max_total_bytes:,} bytes")
        if self.total > 1 << 20 and self.total / self.source_size > self.limits.max_ratio:
            raise LimitReached(
                f"expansion ratio passed {self.limits.max_ratio:.0f}:1 (possible archive bomb)"
            )

    def add(
        self, member_path: bytes, chunks: Any, mtime: float | None = None, **extra: Any
    ) -> None:
        if len(self.children) >= self.limits.max_members:
            raise LimitReached(f"more than {self.limits.max_members:,} members")
        name = f"{len(self.children) + 1:06d}"
        size = 0
        with (self.dir / name).open("wb") as f:
            for chunk in chunks:
                size += len(chunk)
                if size > self.limits.max_member_bytes:
                    raise LimitReached(f"a member is larger than {self.limits.max_member_bytes:,}")
                self._check(len(chunk))
                f.write(chunk)
        self.children.append(
            {
                "file": f"children/{name}",
                "path_hex": member_path.hex(),
                "mtime_ns": int(mtime * 1e9) if mtime is not None else None,
                "size": size,
                **extra,
            }
        )
