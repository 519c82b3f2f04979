"""The command line run by a process forked from one that has already imported it.

Each `python -m amanah.cli` spends about a second of CPU on its imports (SQLAlchemy's
mapped classes, typer's 114 commands, the libraries) before it does anything, and the
suite runs the command line about a thousand times on two cores. A host per pytest worker
imports `amanah.cli` once; for each command it forks a process that takes the test's own
stdin, stdout and stderr, folder, environment and umask, and runs `amanah.cli` as
`python -m` would (`runpy`, `sys.argv`, `SystemExit`, exit handlers), so the command is
still a process of its own with its own exit status, killed or crashed as a user's would be.

What a fork cannot give is a fresh interpreter: a module that reads the environment at import
keeps the host's value. So `tests.conftest.amanah` forks a command only from a host started in
the test's own environment (`matches`), and starts another host when the environment changes
(a fixture's S3 keys, a test's setting); `AMANAH_TEST_CLI=spawn` starts every command itself.
Tests whose subject is the start itself (imports, a killed process's leftovers) start their
own.

Protocol, one Unix socket connection per command: the test sends a JSON request and its
three descriptors (SCM_RIGHTS); the host forks a waiter that forks the command, replies
`{"pid": N}`, then `{"status": S}` (a negative signal number as `subprocess` gives), and
kills the command if the test goes away first."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

#: Variables that differ between tests without changing what any import reads.
IGNORED = frozenset({"PYTEST_CURRENT_TEST"})


def _environment(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in IGNORED}


def key(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What tells one host's environment from another's."""
    return tuple(sorted(_environment(env).items()))


# -- the host -------------------------------------------------------------------------------


def _serve(path: str) -> None:
    import runpy

    import amanah.cli

    # What commands import once they run: the workspace, the database and its models,
    # need-to-know, the ledger and the search index (about 390 modules, 0.3 s of CPU for any
    # command), and what `process`, `ingest` and `search` add (0.4 s more each). The command
    # line's own start is checked without them, in fresh processes (test_startup_imports.py);
    # `AMANAH_TEST_CLI=spawn`, and coverage, start every command as a process of its own.
    import amanah.geo.placed
    import amanah.intake.ingest
    import amanah.items
    import amanah.processing.runner
    import amanah.search.service
    import amanah.workspace

    amanah.cli.command()  # the Click tree of the 114 commands (about 0.15 s of CPU each time)
    _settle()
    gc.collect()
    gc.freeze()  # a command's collections never walk (and so copy) what the host made

    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        conn, _ = listener.accept()
        message, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _wait_for(conn, json.loads(message), fds, runpy)
        conn.close()
        for fd in fds:
            os.close(fd)


def _settle() -> None:
    """What every command's first query and a home on PostgreSQL or S3 would do again in each
    forked command: SQLAlchemy's mappers configured (the first ORM query in a process), the
    PostgreSQL driver and the S3 client's libraries imported, and typer's parsing of options
    (it imports pydantic: a fifth of `collection list`'s own CPU). What an import reads of the
    environment (psycopg: `PSYCOPG_IMPL`) is the test's: the host runs in its environment."""
    import boto3  # noqa: F401
    import psycopg  # noqa: F401
    import sqlalchemy.orm
    import typer._adapters  # noqa: F401  (imported when a command's options are parsed)

    import amanah.db.models  # noqa: F401  (the mapped classes)

    sqlalchemy.orm.configure_mappers()


def _wait_for(conn: socket.socket, request: dict[str, object], fds: list[int], runpy: Any) -> None:
    """In the waiter: fork the command, report its pid and then its exit status."""
    pid = os.fork()
    if pid == 0:
        conn.close()
        _command(request, fds, runpy)  # never returns
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    pidfd = os.pidfd_open(pid)
    while True:
        ready, _, _ = select.select([conn, pidfd], [], [])
        if pidfd in ready:
            break
        if not conn.recv(1):  # the test went away: so does its command
            os.kill(pid, signal.SIGKILL)
            break
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps({"status": code}).encode() + b"\n")
    os._exit(0)


def _command(request: dict[str, object], fds: list[int], runpy: Any) -> None:
    """In the command's process: become what `python -m amanah.cli ARGS` would be."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as CPython sets them at start
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    os.umask(int(request["umask"]))  # type: ignore[call-overload]
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(request["env"])  # type: ignore[arg-type]
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.argv = ["amanah.cli", *request["argv"]]  # type: ignore[misc]
    _name(request["argv"])  # type: ignore[arg-type]
    runpy.run_module("amanah.cli", run_name="__main__", alter_sys=True)
    raise SystemExit(0)


def _name(argv: list[str]) -> None:
    """Name the command's process after its command (`cli-process`, `cli-user`), so that a
    profile of the whole suite (`perf record -a`, then `perf report --sort comm`) tells the
    commands apart from each other and from the pytest workers they were forked from."""
    args = argv[2:] if argv[:1] == ["--home"] else argv
    command = next((a for a in args if not a.startswith("-")), "")
    with contextlib.suppress(OSError), open("/proc/self/comm", "w", encoding="utf-8") as f:
        f.write(f"cli-{command}"[:15])


# -- the test's side ------------------------------------------------------------------------


class Host:
    """One host process per pytest worker, started on first use."""

    def __init__(self, env: dict[str, str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="amanah-clihost-"))
        self.path = str(self.folder / "socket")
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.clihost", self.path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line != "ready\n":
            raise RuntimeError(f"the command line's host did not start ({self.proc.wait()})")

    def matches(self, env: dict[str, str]) -> bool:
        return self.proc.poll() is None and _environment(env) == _environment(self.env)

    def run(
        self, argv: list[str], env: dict[str, str], input: str | None, timeout: float | None
    ) -> subprocess.CompletedProcess[str]:
        with (
            tempfile.TemporaryFile() as stdin,
            tempfile.TemporaryFile() as stdout,
            tempfile.TemporaryFile() as stderr,
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
        ):
            if input is not None:
                stdin.write(input.encode())
                stdin.seek(0)
            mask = os.umask(0o077)
            os.umask(mask)
            request = {"argv": argv, "env": env, "cwd": os.getcwd(), "umask": mask}
            conn.connect(self.path)
            socket.send_fds(
                conn,
                [json.dumps(request).encode()],
                [stdin.fileno(), stdout.fileno(), stderr.fileno()],
            )
            replies = conn.makefile("rb")
            pid = json.loads(replies.readline())["pid"]
            conn.settimeout(timeout)
            try:
                line = replies.readline()
            except TimeoutError:
                _kill(pid)
                raise subprocess.TimeoutExpired(argv, timeout or 0) from None
            status = json.loads(line)["status"]
            return subprocess.CompletedProcess(argv, status, _text(stdout), _text(stderr))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            self.folder.rmdir()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _text(f: IO[bytes]) -> str:
    """What `subprocess.run(text=True)` gives: the locale's UTF-8 with universal newlines."""
    f.seek(0)
    data = f.read()
    return data.decode().replace("\r\n", "\n").replace("\r", "\n")


if __name__ == "__main__":
    _serve(sys.argv[1])
