"""Longest test files first, so that both xdist workers end together.

`./run test` runs `-n 2 --dist loadfile`: xdist hands out whole files in collection order, one
at a time to whichever worker is free. A file of ten minutes handed out last keeps one worker
busy while the other has finished (by default xdist orders files by their number of tests,
which says little: the fixture file's 600 s are one module fixture). Handing out the longest
files first (LPT scheduling) bounds the idle tail by the length of the shortest files instead.

Seconds per file come from the last complete run on this machine (pytest's cache) and, for
files it does not know, from `tests/file_seconds.json` (committed, refreshed with
`--file-seconds-out tests/file_seconds.json` after a whole-suite run). Files known to neither
keep xdist's order, after the known ones. The sort is stable: pytest-randomly's order within a
file and among files of equal weight is kept, and every worker computes the same order.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

SEED = Path(__file__).with_name("file_seconds.json")


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _cache_key(config: pytest.Config) -> str:
    # A run of only the serial tests measures other seconds than the parallel run.
    return "amanah/file_seconds/" + (config.getoption("markexpr", "") or "all").replace("/", "_")


def known_seconds(config: pytest.Config) -> dict[str, float]:
    """Seconds per test file: the committed seed, overridden by this machine's last run."""
    seconds: dict[str, float] = {}
    seed = Path(config.getoption("file_seconds_seed", "") or SEED)
    if seed.is_file():
        seconds.update(json.loads(seed.read_text("utf-8")))
    cache = getattr(config, "cache", None)
    if cache is not None:
        seconds.update(cache.get(_cache_key(config), {}))
    return seconds


def longest_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Reorder `items` in place: whole files, longest known first, then by number of tests."""
    seconds = known_seconds(config)
    counts = Counter(_file(i.nodeid) for i in items)
    items.sort(key=lambda i: (-seconds.get(_file(i.nodeid), 0.0), -counts[_file(i.nodeid)]))


class Recorder:
    """Sums each file's setup, call and teardown seconds where the reports arrive (the xdist
    controller, or the only process), and keeps them when the whole suite ran."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[_file(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        measured = {f: round(s, 1) for f, s in sorted(self.seconds.items())}
        out = self.config.getoption("file_seconds_out")
        if out:
            Path(out).write_text(json.dumps(measured, indent=1) + "\n", "utf-8")
        explicit = session.config.args_source == pytest.Config.ArgsSource.ARGS
        # A filtered run, or one stopped at its first failures, did not time every file.
        whole = not (self.config.getoption("keyword") or explicit or self.config.option.maxfail)
        cache = getattr(self.config, "cache", None)
        if whole and cache is not None and measured and exitstatus in (0, 1):
            cache.set(_cache_key(self.config), measured)


def addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--file-seconds-seed",
        default="",
        metavar="PATH",
        help="seconds per test file to order by when this machine has none (default: "
        "tests/file_seconds.json)",
    )
    parser.addoption(
        "--file-seconds-out",
        default="",
        metavar="PATH",
        help="write the seconds each test file took (JSON), e.g. tests/file_seconds.json",
    )


def configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # an xdist worker's reports reach the controller
        config.pluginmanager.register(Recorder(config), "amanah-file-seconds")
