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


def test_files_are_collected_longest_first_whatever_the_order_given(tmp_path: Path) -> None:
    a, b, c = "tests/test_merkle.py", "tests/test_name_match.py", "tests/test_gazetteer.py"
    seed = tmp_path / "seconds.json"
    seed.write_text(json.dumps({b: 300.0, a: 80.0}))  # c is not in it: after the known files
    done = _pytest("--collect-only", "-q", "--file-seconds-seed", str(seed), c, a, b)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _files(done.stdout) == [b, a, c], done.stdout


def test_the_committed_seed_names_existing_test_files() -> None:
    seed = json.loads(SEED.read_text("utf-8"))
    assert seed and all((REPO / f).is_file() for f in seed), seed


def test_a_run_is_ordered_by_its_seed_and_records_the_seconds_of_each_file(
    tmp_path: Path,
) -> None:
    a, b = "tests/test_merkle.py", "tests/test_name_match.py"
    seed, out = tmp_path / "seconds.json", tmp_path / "out.json"
    seed.write_text(json.dumps({a: 10.0, b: 20.0}))
    done = _pytest("-v", "--file-seconds-seed", str(seed), "--file-seconds-out", str(out),
                   "-k", "test_known_vector_for_empty_tree or test_path_of_wrong_length_is_rejected"
                   " or test_parse_empty_name_scores_zero", a, b)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert _files(done.stdout) == [b, a], done.stdout  # the longer file first
    recorded = json.loads(out.read_text("utf-8"))
    assert sorted(recorded) == [a, b]
    assert all(isinstance(s, float) and s >= 0 for s in recorded.values()), recorded
