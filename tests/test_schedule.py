"""The suite hands the longest test files out first (tests/schedule.py), and can record what
each file took to refresh that order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.schedule import SEED


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _files(collected: str) -> list[str]:
    files: list[str] = []
    for line in collected.splitlines():
        if "::" in line and line.split("::")[0] not in files:
            files.append(line.split("::")[0])
    return files


def test_files_are_collected_longest_first_whatever_the_order_given() -> None:
    seed = json.loads(SEED.read_text("utf-8"))
    long, short = "tests/test_sharing.py", "tests/test_rawscan.py"
    assert seed[long] > seed[short]
    unknown = "tests/test_merkle.py"  # not in the seed: after the known files
    assert unknown not in seed
    for order in ([unknown, short, long], [long, unknown, short]):
        done = _pytest("--collect-only", "-q", *order)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _files(done.stdout) == [long, short, unknown], done.stdout


def test_a_run_records_the_seconds_of_each_file(tmp_path: Path) -> None:
    out = tmp_path / "seconds.json"
    done = _pytest(
        "-q",
        "tests/test_merkle.py",
        "-k",
        "test_known_vector_for_empty_tree or test_path_of_wrong_length_is_rejected",
        "--file-seconds-out",
        str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    recorded = json.loads(out.read_text("utf-8"))
    assert list(recorded) == ["tests/test_merkle.py"]
    assert isinstance(recorded["tests/test_merkle.py"], float)
