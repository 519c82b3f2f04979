"""A real `amanah serve` on loopback for the web benchmarks, with accounts to drive it."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import time
from pathlib import Path

import httpx

from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.workspace import Workspace
from benchmarks.common import amanah_cmd

PASSWORD = secrets.token_urlsafe(16)  # accounts live only as long as the run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accounts(
    ws: Workspace, compartments: tuple[str, ...] = ("default",), run: str = "run"
) -> dict[str, str]:
    """An analyst and an intake officer (bench-ROLE-RUN) with tokens; returns role -> token."""
    tokens = {}
    for role in ("analyst", "intake"):
        name = f"bench-{role}-{run}"
        add_user(ws, name, role, PASSWORD, compartments=compartments, by="benchmark")
        tokens[role] = create_token(ws, name)
    return tokens


class Server:
    """`amanah serve` (with its embedded runner unless told otherwise) as a child process."""

    def __init__(self, home: Path, runner: bool = True, web_workers: int | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--port", str(self.port)] + ([] if runner else ["--no-runner"])
        if web_workers:
            args += ["--web-workers", str(web_workers)]
        self.proc = subprocess.Popen(
            amanah_cmd(home, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/signin", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("amanah serve did not start")

    def web_pids(self) -> list[int]:
        """The serving processes: `amanah serve` and its web workers, not the job runner."""
        pids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"--follow" in cmd or b"amanah.processing.sandbox" in cmd:
                continue
            pids.append(pid)
            children = Path(f"/proc/{pid}/task/{pid}/children")
            todo += [int(c) for c in children.read_text().split()] if children.exists() else []
        return pids

    def _status(self, field: str) -> int:
        """The largest value of a /proc status field among the serving processes (KiB)."""
        values = []
        for pid in self.web_pids():
            found = re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            values.append(int(found.group(1)) if found else 0)
        return max(values, default=0)

    def peak_rss_kib(self) -> int:
        """Peak resident memory (VmHWM) of the largest serving process so far."""
        return self._status("VmHWM")

    def rss_kib(self) -> int:
        return self._status("VmRSS")

    def anon_kib(self) -> int:
        """Private memory of the largest serving process: RSS without the memory-mapped
        database pages (SQLite's mmap makes those count as resident)."""
        return self._status("RssAnon")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def signed_in_client(base: str, name: str) -> httpx.Client:
    """A client holding a browser session, signed in through the form as a person would."""
    c = httpx.Client(base_url=base, timeout=60)
    form = c.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    r = c.post("/signin", data={"name": name, "password": PASSWORD, "csrf": token.group(1)})
    assert r.status_code in (200, 303), r.text[:300]
    return c
