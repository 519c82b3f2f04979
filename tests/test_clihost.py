"""The tests' command-line host (tests/clihost.py) gives what a started `python -m amanah.cli`
gives: output, exit status, input, a refusal's message; a command that hangs is killed at its
timeout; a test that changes the environment gets a host started in that environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amanah import __version__
from tests.conftest import _BASE_ENV, _cli_host, amanah
from tests.servers import free_port


def spawned(home: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amanah.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def test_the_host_is_used_and_answers_as_a_started_command(sqlite_home: Path) -> None:
    if _BASE_ENV.get("AMANAH_TEST_CLI") == "spawn" or "COVERAGE_FILE" in _BASE_ENV:
        pytest.skip("this run starts every command from nothing")
    assert _cli_host(dict(_BASE_ENV)) is not None
    for args in (
        ("--version",),
        ("--help",),
        ("user", "add", "--help"),
        ("collection", "list"),
        ("no-such-command",),  # a refusal: usage on stderr, exit 2
        ("collection", "show", "nothing-by-this-name"),
    ):
        forked, started = amanah(sqlite_home, *args), spawned(sqlite_home, *args)
        assert (forked.returncode, forked.stdout, forked.stderr) == (
            started.returncode,
            started.stdout,
            started.stderr,
        ), args
    assert amanah(sqlite_home, "no-such-command").returncode == 2
    version = amanah(sqlite_home, "--version")  # alone, no command needed
    assert (version.returncode, version.stdout) == (0, f"amanah {__version__}\n"), version


def test_input_reaches_the_command_and_its_files_keep_the_commands_umask(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """A prompt reads the test's input; a file the command writes is the owner's alone."""
    add = ("--role", "analyst", "--password-stdin")
    forked = amanah(sqlite_home, "user", "add", "rania", *add, input="correct horse battery\n")
    started = spawned(sqlite_home, "user", "add", "sami", *add, input="correct horse battery\n")
    assert forked.returncode == started.returncode, (forked.stderr, started.stderr)
    assert forked.stdout.replace("rania", "sami") == started.stdout
    assert forked.returncode == 0, forked.stderr
    listed = amanah(sqlite_home, "user", "list", check=True).stdout
    assert "rania" in listed and "sami" in listed
    written = [p for p in sqlite_home.rglob("*") if p.is_file()]
    assert written and all(p.stat().st_mode & 0o077 == 0 for p in written), written


def test_a_hanging_command_is_killed_at_its_timeout(sqlite_home: Path) -> None:
    port = free_port()
    began = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        amanah(sqlite_home, "serve", "--port", str(port), "--web-workers", "1", timeout=4)
    assert time.monotonic() - began < 15
    # Nothing listens any more: the command and its web server ended with it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail("the killed command's server still listens")


def test_another_environment_gets_a_host_of_its_own(
    sqlite_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module reads AMANAH_JOB_BACKOFF at import: a host imported without it cannot serve a
    test that sets it, so that test's commands come from a host started with it."""
    if _BASE_ENV.get("AMANAH_TEST_CLI") == "spawn" or "COVERAGE_FILE" in _BASE_ENV:
        pytest.skip("this run starts every command from nothing")
    base = _cli_host({**os.environ, "COLUMNS": "200"})
    monkeypatch.setenv("AMANAH_JOB_BACKOFF", "0")
    env = {**os.environ, "COLUMNS": "200"}
    other = _cli_host(env)
    assert base is not None and other is not None and other is not base
    started_with = Path(f"/proc/{other.proc.pid}/environ").read_bytes().split(b"\0")
    assert b"AMANAH_JOB_BACKOFF=0" in started_with
    assert b"AMANAH_JOB_BACKOFF=0" not in Path(f"/proc/{base.proc.pid}/environ").read_bytes()
    assert amanah(sqlite_home, "collection", "list").returncode == 0
    assert _cli_host(env) is other, "kept for the test's next command"
    assert _cli_host({**_BASE_ENV, "AMANAH_TEST_CLI": "spawn"}) is None
