"""Warm sandboxes that a long-lived process (the web application) lends to its requests.

Starting a sandbox (the cage, an interpreter, the readers' imports) costs a redaction preview
3-4 s; a request that finds one warm pays a fork. The pool makes at most `size` sandboxes, each
on first need; a request waits for a free one at most `wait_seconds`, then is told the server
is busy (SandboxBusy, a 503 on the web) instead of queueing without end.

Isolation is the sandbox's own (processing/sandbox.py): each task runs in a child forked for
it, in a job folder of its own that is removed after it, and nothing it started outlives it.
A sandbox whose task failed in any way (a crash, a limit, a time-out, a zygote that died) is
closed and never lent again: the next request gets a fresh one. Tasks run under a ceiling
(`web_sandbox_seconds`): a hostile file cannot hold one of the few sandboxes for the hour a
batch worker allows.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from amanah.config import ConfigError, Settings
from amanah.processing.sandbox import Limits, Sandbox

#: Sandboxes a web process keeps warm (`web_sandboxes` in amanah.toml).
DEFAULT_SIZE = 2
#: Longest a request waits for a free sandbox before it is told to try again.
WAIT_SECONDS = 60.0
#: Longest one task of a web request may run (`web_sandbox_seconds` in amanah.toml).
DEFAULT_SECONDS = 600


#: What a request is told (fixed words: the web translates them).
BUSY = "Every sandbox of this server is busy reading other files: try again in a minute."
STOPPING = "The server is stopping: try again in a minute."


class SandboxBusy(Exception):
    """No sandbox freed in time (or the server is stopping): try again shortly."""

    retry_after = 30


def pool_settings(settings: Settings) -> tuple[int, int]:
    """(`web_sandboxes`, `web_sandbox_seconds`) from amanah.toml, checked."""
    path = settings.home / "amanah.toml"
    found = []
    for key, default, most in (
        ("web_sandboxes", DEFAULT_SIZE, 32),
        ("web_sandbox_seconds", DEFAULT_SECONDS, 86_400),
    ):
        value = settings.extra.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise ConfigError(
                f"{path}: {key} must be a whole number from 1 to {most}, not {value!r}"
            )
        found.append(value)
    return found[0], found[1]


class SandboxPool:
    """At most `size` sandboxes, lent one request at a time; `analyze` is Sandbox.analyze on a
    free one, so code that takes a `sandbox=` (redaction, previews) takes a pool as well."""

    def __init__(
        self,
        make: Callable[[], Sandbox],
        size: int = DEFAULT_SIZE,
        wait_seconds: float = WAIT_SECONDS,
        ceiling: Limits | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a sandbox pool holds at least one sandbox")
        self.size = size
        self.wait_seconds = wait_seconds
        self.ceiling = ceiling
        self._make = make
        self._idle: list[Sandbox] = []
        self._lent: set[Sandbox] = set()
        self._starting = 0
        self._closed = False
        self._cond = threading.Condition()
        # One thread that lives as long as the pool starts every zygote: a cage dies with the
        # thread that started it, and a request's thread may end right after the request.
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="sandbox-start")

    @classmethod
    def for_settings(cls, settings: Settings, wait_seconds: float = WAIT_SECONDS) -> SandboxPool:
        size, seconds = pool_settings(settings)
        ceiling = Limits(cpu_seconds=seconds, wall_seconds=seconds)
        return cls(lambda: Sandbox.for_settings(settings), size, wait_seconds, ceiling)

    def analyze(
        self, path: str, name: str, out_dir: str, limits: Limits | None = None, **kw: Any
    ) -> dict[str, Any]:
        """Run one task on a free sandbox, within the pool's ceiling."""
        limits = limits or Limits()
        if self.ceiling is not None:
            limits = replace(
                limits,
                **{
                    f: min(getattr(limits, f), getattr(self.ceiling, f))
                    for f in ("cpu_seconds", "memory_bytes", "wall_seconds", "file_bytes")
                },
            )
        with self.lend() as box:
            return box.analyze(path, name, out_dir, limits, **kw)

    @contextlib.contextmanager
    def lend(self) -> Iterator[Sandbox]:
        """A sandbox for one task; given back warm if the task succeeded, else closed."""
        box = self._take()
        failures = box.failures
        try:
            yield box
        finally:
            self._give_back(box, spoiled=box.failures != failures or not box.alive)

    def _take(self) -> Sandbox:
        deadline = time.monotonic() + self.wait_seconds
        with self._cond:
            while True:
                if self._closed:
                    raise SandboxBusy(STOPPING)
                if self._idle:
                    box = self._idle.pop()  # the last one used: the warmest
                    self._lent.add(box)
                    return box
                if len(self._lent) + self._starting < self.size:
                    self._starting += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxBusy(BUSY)
                self._cond.wait(left)
        try:
            box = self._make()
            box.launch = self._launch
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            self._lent.add(box)
        return box

    def _launch(self, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        return self._starter.submit(start).result()

    def _give_back(self, box: Sandbox, spoiled: bool) -> None:
        with self._cond:
            self._lent.discard(box)
            keep = not spoiled and not self._closed
            if keep:
                self._idle.append(box)
            self._cond.notify()
        if not keep:
            box.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pids(self) -> list[int]:
        """The process ids of the running sandboxes (idle or lent), for tests and status."""
        with self._cond:
            boxes = [*self._idle, *self._lent]
        return sorted(p for b in boxes if (p := b.pid) is not None)

    def close(self, wait_seconds: float = 30.0) -> None:
        """Close every sandbox: idle ones now, lent ones when their task ends (waited for)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for box in idle:
            box.close()
        deadline = time.monotonic() + wait_seconds
        with self._cond:
            while (self._lent or self._starting) and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
        self._starter.shutdown(wait=False)
