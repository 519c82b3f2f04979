"""Tasks that attack the sandbox from inside, for its tests (tests/test_sandbox.py).

The zygote runs them only when AMANAH_SANDBOX_TEST_TASKS=1 is in the worker's environment
(sandbox.TEST_TASKS); production never sets it. Each takes (path, out_dir) like every task and
reads what to attack from `hostile.json` in its folder, put there by the test.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPEC = "hostile.json"
#: Printed when this module is imported, which the zygote does before its first hostile child:
#: an import that prints must never read as one of the zygote's answers (sandbox._ANSWERS).
IMPORT_NOISE = "hostile: printed on import, in the zygote"
print(IMPORT_NOISE, flush=True)  # the attack
OUTSIDE_TMP = "/tmp/amanah-escaped.txt"  # noqa: S108 - the point is that it fails
SHELL = "/bin/sh"


def _spec(out_dir: str) -> dict[str, Any]:
    path = Path(out_dir, SPEC)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _attempt(action: Callable[[], object]) -> str:
    """ "blocked: <errno name or exception>" when the cage stopped it, else "SUCCEEDED"."""
    try:
        action()
    except OSError as exc:
        name = os.strerror(exc.errno) if exc.errno else str(exc)
        return f"blocked: {type(exc).__name__}: {name}"
    except Exception as exc:
        return f"blocked: {type(exc).__name__}: {exc}"
    return "SUCCEEDED"


def _connect(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=3) as s:
        s.sendall(b"escaped\n")


def escape(path: str, out_dir: str) -> dict[str, Any]:
    """Try every way out: read the key and the database, reach the network, write outside."""
    spec = _spec(out_dir)
    home = spec.get("home", "/nonexistent")
    attempts: dict[str, str] = {
        "read_key": _attempt(lambda: Path(home, "keys/ledger-ed25519.pem").read_bytes()),
        "list_home": _attempt(lambda: os.listdir(home)),
        "read_database": _attempt(lambda: Path(spec.get("database", "/none")).read_bytes()),
        "read_blob": _attempt(lambda: Path(spec.get("blob", "/none")).read_bytes()),
        "connect_loopback": _attempt(lambda: _connect("127.0.0.1", int(spec.get("port", 9)))),
        "resolve_external": _attempt(lambda: socket.getaddrinfo("example.org", 443)),
        "connect_external": _attempt(lambda: _connect("93.184.215.14", 443)),
        "write_home": _attempt(lambda: Path(home, "escaped.txt").write_text("x")),
        "write_tmp": _attempt(lambda: Path(OUTSIDE_TMP).write_text("x")),
        "write_scratch_root": _attempt(lambda: Path(out_dir, "../../escaped.txt").write_text("x")),
        "read_other_job": _attempt(lambda: os.listdir(Path(out_dir, "../.."))),
        "exec_shell": _attempt(lambda: subprocess.run([SHELL, "-c", "exit 0"], check=True)),
        "write_own_folder": _attempt(lambda: Path(out_dir, "mine.txt").write_text("mine")),
    }
    return {"attempts": attempts, "uid": os.getuid(), "environ": sorted(os.environ)}


def link(path: str, out_dir: str) -> dict[str, Any]:
    """Leave `text.txt` as a link to a file of the worker's (the key), hoping it gets read."""
    os.symlink(_spec(out_dir).get("target", "/etc/hostname"), Path(out_dir, "text.txt"))
    return {"text_file": "text.txt"}


def segfault(path: str, out_dir: str) -> dict[str, Any]:
    ctypes.string_at(0)  # reads address 0: SIGSEGV
    return {}


def allocate(path: str, out_dir: str) -> dict[str, Any]:
    """Ask for more memory than the limit allows (MemoryError under RLIMIT_AS)."""
    hog = bytearray(int(_spec(out_dir).get("bytes", 1 << 40)))
    return {"allocated": len(hog)}


def c_reader(path: str, out_dir: str) -> dict[str, Any]:
    """Do what a reader in C does at its memory limit: allocate with malloc (a refusal is a
    NULL, never a MemoryError), free what it got, then raise a parse error of its own, as
    selectolax's "Can't parse HTML." (or, told to swallow it, return as if all went well)."""
    spec = _spec(out_dir)
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    chunk, wanted = int(spec.get("chunk", 1 << 20)), int(spec["bytes"])
    held: list[int] = []
    try:
        while len(held) * chunk < wanted:
            block = libc.malloc(chunk)
            if not block:
                break
            held.append(block)
    finally:
        for block in held:
            libc.free(block)
    if spec.get("swallow"):
        return {"allocated": len(held) * chunk}
    raise RuntimeError("Can't parse the file.")


def sleep(path: str, out_dir: str) -> dict[str, Any]:
    time.sleep(float(_spec(out_dir).get("seconds", 3600)))
    return {"slept": True}


def spin(path: str, out_dir: str) -> dict[str, Any]:
    """Burn CPU until the CPU-time limit stops it."""
    n = 0
    while True:
        n += 1


def plant(path: str, out_dir: str) -> dict[str, Any]:
    """Leave a module named like a library the zygote imports later, in the working folder of
    the zygote (and so of this child), in the hope that the zygote imports it instead."""
    spec = _spec(out_dir)
    module = Path.cwd() / f"{spec['module']}.py"
    code = f"open({spec['marker']!r}, 'w').write('planted code ran')\n"
    return {"planted": _attempt(lambda: module.write_text(code, encoding="utf-8"))}


def peek(path: str, out_dir: str) -> dict[str, Any]:
    """Look for what an earlier job left (anything in its temporary folder, job folder, the
    scratch root, /tmp), then leave a file in each of those places for the next job to find."""
    import tempfile

    places = {
        "tmp": tempfile.gettempdir(),
        "cwd": os.getcwd(),
        "out": out_dir,
        "scratch": str(Path.cwd().parent),
        "/tmp": "/tmp",  # noqa: S108 - the cage's own
    }
    seen: dict[str, list[str]] = {}
    for place, folder in places.items():
        try:
            seen[place] = sorted(
                os.path.relpath(os.path.join(d, n), folder)
                for d, dirs, files in os.walk(folder, onerror=_raise)
                for n in dirs + files
                if "left-by" in n
            )
        except OSError as exc:
            seen[place] = [f"blocked: {type(exc).__name__}"]
    left = {
        place: _attempt(lambda f=folder: Path(f, f"left-by-{os.getpid()}").write_text("x"))
        for place, folder in places.items()
    }
    return {"seen": seen, "left": left, "places": places}


def _raise(exc: OSError) -> None:
    raise exc


def linger(path: str, out_dir: str) -> dict[str, Any]:
    """Leave processes (`count`, one by default) behind in a session of their own (out of
    reach of their group's kill), sleeping, in the hope that one is still there when the next
    job runs."""
    spec = _spec(out_dir)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        for _ in range(int(spec.get("count", 1))):
            if os.fork() == 0:
                time.sleep(float(spec.get("seconds", 120)))
                os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
    return {"left_behind": True}


def forge(path: str, out_dir: str) -> dict[str, Any]:
    """Write a reply of the zygote's protocol on the inherited standard output, hoping the
    worker reads it as this job's (or the next job's) answer."""
    forged = (json.dumps({"status": "error", "error": "FORGED by the child"}) + "\n").encode()
    attempt = _attempt(lambda: os.write(1, forged))
    # And down every pipe it inherited but its standard ones: the zygote's answers have one.
    pipes = []
    for entry in os.listdir("/proc/self/fd"):
        fd = int(entry)
        with contextlib.suppress(OSError):
            if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode) and os.write(fd, forged):
                pipes.append(fd)
    # And (spec: reopen) down the zygote's own pipes, reopened through /proc, which closing
    # cannot stop: only the cage can (limits-only lets a child do it, as it lets it read the key).
    parent = f"/proc/{os.getppid()}/fd"
    for entry in _attempt_list(parent) if _spec(out_dir).get("reopen") else []:
        with contextlib.suppress(OSError):
            fd = os.open(f"{parent}/{entry}", os.O_WRONLY | os.O_NONBLOCK)
            try:
                if stat.S_ISFIFO(os.fstat(fd).st_mode) and os.write(fd, forged):
                    pipes.append(f"zygote's {entry}")
            finally:
                os.close(fd)
    return {"forged": attempt, "pipes": pipes}


def _attempt_list(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def scribble(path: str, out_dir: str) -> dict[str, Any]:
    """Leave an answer of its own making where the child's goes, and end before the child
    writes its own: what a child a hostile file took over can do."""
    from amanah.processing.sandbox import MANIFEST

    Path(out_dir, MANIFEST).write_text(str(_spec(out_dir)["manifest"]), encoding="utf-8")
    os._exit(0)


def squeeze(path: str, out_dir: str) -> dict[str, Any]:
    """Import a library (spec: module) within the job's memory limit, which the test sets
    small: a native library that allocates in a loop until it succeeds would spin here until
    the CPU limit instead of failing at once."""
    import importlib

    importlib.import_module(str(_spec(out_dir)["module"]))
    return {"imported": True}
