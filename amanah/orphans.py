"""Processes that end with the one that started them.

A server killed outright (SIGKILL, the out-of-memory killer) runs no clean-up: without this,
its web processes would go on answering on its port with the code and settings they started
with, and its runner would go on taking jobs, while a new `amanah serve` cannot bind the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1
#: The pid of `amanah serve`, in its environment: its web processes end with it.
SERVE_PID = "AMANAH_SERVE_PID"


def end_with_parent(parent: int | None = None, sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` to this process when its parent ends. `parent`: the pid
    the parent had; a parent already gone before the request (a race at start) ends this
    process now. Linux only; elsewhere nothing is done."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), sig)
