"""A program a test needs (`@pytest.mark.needs`, tests/conftest.py) that the machine lacks is a
skip that names it on a developer's machine and a failure in CI, never a quiet skip there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

NEEDS_FFMPEG = """
import os
import pytest

@pytest.fixture
def server():  # what a browser or server fixture would start: never for a missing program
    open(os.environ["STARTED"], "a").close()

@pytest.mark.needs("ffmpeg")
def test_it(server):
    pass
"""


def _run(tmp_path: Path, path: str, ci: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_it.py"
    test.write_text(NEEDS_FFMPEG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CI"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-p", "no:xdist", "-q", "-rs", "--rootdir", str(tmp_path),
         str(test)],
        cwd=REPO, env={**env, "PATH": path, "CI": ci, "STARTED": str(tmp_path / "started")},
        capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.needs("ffmpeg")
def test_a_missing_program_skips_here_fails_in_ci_and_runs_where_it_is(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    here = _run(tmp_path, str(empty), "")
    assert here.returncode == 0, here.stdout + here.stderr
    assert "1 skipped" in here.stdout
    assert "ffmpeg is not installed (Debian: ffmpeg)" in here.stdout

    ci = _run(tmp_path, str(empty), "true")
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "1 error" in ci.stdout and "skipped" not in ci.stdout  # failed in its setup
    assert "ffmpeg is not installed (Debian: ffmpeg) (CI=true: every engine must run)" in ci.stdout
    assert not (tmp_path / "started").exists(), "checked before the test's fixtures"

    present = _run(tmp_path, os.environ["PATH"], "true")
    assert present.returncode == 0, present.stdout + present.stderr
    assert "1 passed" in present.stdout
    assert (tmp_path / "started").exists()
