"""`amanah serve` killed outright (SIGKILL, the out-of-memory killer) leaves nothing running.

Before amanah/orphans.py, its web processes went on answering on its port, with the code and
settings they had started with, and a new server could not bind the port.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx

from tests.servers import start_serve


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                if kid not in found:
                    found.add(kid)
                    todo.append(kid)
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever reaps it here)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "Z" not in state.split()[1:2]


def test_a_server_killed_outright_leaves_no_web_process_or_runner_behind(
    sqlite_home: Path, tmp_path: Path
) -> None:
    proc, base = start_serve(sqlite_home, "--web-workers", "2", log_path=tmp_path / "serve.log")
    try:
        kids = _descendants(proc.pid)
        commands = {k: Path(f"/proc/{k}/cmdline").read_bytes() for k in kids}
        assert sum(b"spawn_main" in c for c in commands.values()) == 2, "two web processes"
        assert any(b"--follow" in c for c in commands.values()), "the embedded runner"
        assert httpx.get(f"{base}/signin", timeout=30).status_code == 200
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 60  # a web process's graceful end, on a busy machine
    while any(map(_running, kids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [commands[k][:120] for k in kids if _running(k)]
    for k in kids:  # never leave them to the next test, whatever the assertion says
        if _running(k):
            os.kill(k, signal.SIGKILL)
    assert not left, left
    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as s:  # nothing listens there any more: a new server may bind it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
