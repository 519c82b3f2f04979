"""Fixtures: a workspace on every engine pair (SQLite/PostgreSQL × folder/SeaweedFS)."""

from __future__ import annotations

import atexit
import fcntl
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

from amanah.config import write_default_config
from amanah.db.engine import Database
from amanah.intake.ingest import IntakeReport, IntakeRequest, ingest
from amanah.processing import cage
from amanah.workspace import Workspace, open_workspace
from tests import clihost
from tests.fixtures import ARABIC_FONT
from tests.servers import Postgres, Seaweed, start_postgres, start_seaweed
from tests.webfixtures import Site

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
#: In CI every engine and the browser must be there: a missing one fails the run instead of
#: turning a whole column of the suite into quiet skips.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def missing_engine(reason: str) -> NoReturn:
    """Skip with the reason on a developer's machine; fail in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: every engine must run)", pytrace=False)
    pytest.skip(reason)


#: The browser the web tests drive (Debian's; Playwright downloads none).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: What a test can need of the machine beyond Python, all installed by `./run test`, by the
#: name `@pytest.mark.needs(...)` gives it: how to tell it is there, and what is missing.
NEEDS: dict[str, tuple[Callable[[], object], str]] = {
    "chromium": (lambda: CHROMIUM, "chromium is not installed (Debian: chromium)"),
    "libreoffice": (
        lambda: shutil.which("soffice"),
        "LibreOffice is not installed (Debian: libreoffice-writer-nogui)",
    ),
    "arabic-font": (
        ARABIC_FONT.is_file,
        "fonts-dejavu-core is not installed (the Arabic test scans and pages)",
    ),
    "ffmpeg": (lambda: shutil.which("ffmpeg"), "ffmpeg is not installed (Debian: ffmpeg)"),
    "pff-tools": (lambda: shutil.which("pffexport"), "pff-tools is not installed (Debian)"),
    "djvulibre": (lambda: shutil.which("c44"), "djvulibre-bin is not installed (Debian)"),
}


def need(what: str) -> None:
    """Skip where `what` (a key of NEEDS) is missing on a developer's machine; fail in CI."""
    present, reason = NEEDS[what]
    if not present():
        missing_engine(reason)


def require_isolation() -> str:
    """The sandbox's cage on this machine (e.g. "bwrap+seccomp+landlock"), or a skip with the
    reason (a failure in CI)."""
    try:
        return cage.probe()
    except cage.Unavailable as exc:
        missing_engine(f"no isolation on this machine: {exc}")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    server = start_postgres()
    if isinstance(server, str):
        missing_engine(f"PostgreSQL column skipped: {server}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    server = start_seaweed(tmp_path_factory.mktemp("weed"))
    if isinstance(server, str):
        missing_engine(f"SeaweedFS column skipped: {server}")
    yield server
    server.stop()


ENGINES = ["sqlite-file", "postgresql-file", "sqlite-s3", "postgresql-s3"]


#: Empty databases at the newest migration, made once per worker by Amanah's own migrations
#: and copied into each new home: a fresh home otherwise runs all of them (0.5-1 s on SQLite,
#: more on PostgreSQL) in every test that makes one. Tests of the migrations make their own.
_MIGRATED: dict[str, str] = {}


def _migrate(url: str, scratch: Path) -> None:
    database = Database(url)
    # Migration 0009 seals existing names with the home's key; an empty database has none.
    database.migration_attributes["names_key_path"] = str(scratch / "unused-names-key")
    database.upgrade()
    database.dispose()  # no connection left: PostgreSQL copies only an unused template


def migrated_sqlite(request: pytest.FixtureRequest, home: Path) -> None:
    """Put an empty database at the newest migration in `home` (the default amanah.db)."""
    if "sqlite" not in _MIGRATED:
        scratch = request.getfixturevalue("tmp_path_factory").mktemp("migrated")
        _migrate(f"sqlite:///{scratch / 'amanah.db'}", scratch)
        _MIGRATED["sqlite"] = str(scratch / "amanah.db")
    target = home / "amanah.db"
    shutil.copyfile(_MIGRATED["sqlite"], target)
    target.chmod(0o600)


def migrated_postgres_template(request: pytest.FixtureRequest) -> str:
    """The name of this worker's PostgreSQL database at the newest migration, to copy."""
    server: Postgres = request.getfixturevalue("postgres")
    if "postgresql" not in _MIGRATED:
        url = server.create_database()
        _migrate(url, request.getfixturevalue("tmp_path_factory").mktemp("migrated-pg"))
        _MIGRATED["postgresql"] = url.rsplit("/", 1)[1]
    return _MIGRATED["postgresql"]


def migrated_postgres(request: pytest.FixtureRequest) -> str:
    """A new PostgreSQL database at the newest migration (a copy of a migrated template)."""
    server: Postgres = request.getfixturevalue("postgres")
    return server.create_database(template=migrated_postgres_template(request))


def make_home(request: pytest.FixtureRequest, tmp_path: Path, engines: str) -> Path:
    db, blobs = engines.split("-")
    home = tmp_path / "home"
    db_url = None
    blob_store = None
    endpoint = ""
    if db == "postgresql":
        db_url = migrated_postgres(request)
    if blobs == "s3":
        server = request.getfixturevalue("seaweed")
        # One bucket, a prefix per test: every bucket costs SeaweedFS a set of volumes.
        blob_store = f"s3://amanah-test/{uuid.uuid4().hex[:12]}"
        endpoint = server.endpoint
    write_default_config(home, db_url, blob_store, endpoint)
    semantic_unless_marked(request, home)
    if db == "sqlite":
        migrated_sqlite(request, home)
    return home


@pytest.fixture(params=ENGINES)
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A configured home on each engine pair."""
    return make_home(request, tmp_path, request.param)


@pytest.fixture
def sqlite_home(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The embedded default only, for tests about behaviour no engine changes."""
    home = tmp_path / "home"
    write_default_config(home)
    semantic_unless_marked(request, home)
    migrated_sqlite(request, home)
    return home


def set_setting(home: Path, key: str, value: str) -> str:
    """Set one quoted setting of a configured home's amanah.toml; returns its old value."""
    config = home / "amanah.toml"
    text = config.read_text("utf-8")
    found = re.search(rf'(?m)^{key} = "(.*)"$', text)
    assert found is not None, f"{key} is not in {config}"
    config.write_text(text.replace(found.group(0), f'{key} = "{value}"'), "utf-8")
    return found.group(1)


def without_semantic(home: Path) -> None:
    """Turn search by meaning off in a configured home, for tests that do not test it: an
    `embed` job per item costs more CPU than reading most files."""
    config = home / "amanah.toml"
    text = config.read_text("utf-8")
    if "\nsemantic = false\n" in text:
        return  # off already (`semantic_unless_marked`)
    assert "\nsemantic = true\n" in text, "the default configuration changed"
    config.write_text(text.replace("\nsemantic = true\n", "\nsemantic = false\n"), "utf-8")


def semantic_unless_marked(request: pytest.FixtureRequest | None, home: Path) -> None:
    """The homes the tests make have search by meaning off, unless the test (or its module)
    is marked `semantic`: an `embed` job per item costs E5 on one core, 0.4-0.5 s a passage,
    in stories that test other things (1.5% of the suite's CPU once most had turned it off
    themselves: docs/testing.md, seventh pass). Search by meaning is tested where it is
    marked, and where a home is made by `write_default_config`, `amanah init` or `amanah
    demo`, as a user makes it (the default: on)."""
    node = getattr(request, "node", None)
    if node is None or node.get_closest_marker("semantic") is None:
        without_semantic(home)


@pytest.fixture
def ws(home: Path) -> Iterator[Workspace]:
    w = open_workspace(home)
    yield w
    w.close()


def amanah(
    home: Path, *args: str | bytes, check: bool = False, **kw: object
) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as a user would: a process of its own, forked from a host
    that has imported it in the test's environment (tests/clihost.py)."""
    env = {**os.environ, "COLUMNS": "200"}
    host = _cli_host(env)
    if host is not None and set(kw) <= {"input", "timeout"}:
        proc = host.run(
            ["--home", str(home), *map(os.fsdecode, args)],
            env,
            kw.get("input"),  # type: ignore[arg-type]
            kw.get("timeout"),  # type: ignore[arg-type]
        )
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "amanah.cli", "--home", str(home), *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            **kw,  # type: ignore[arg-type]
        )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"amanah {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


#: This worker's command-line hosts, one per environment, the most recently used last.
_HOSTS: dict[tuple[tuple[str, str], ...], clihost.Host] = {}
#: A test that changes the environment for one command gets a host of its own, as costly as
#: one started command; a fixture that changes it for good (the S3 keys of SeaweedFS) gets
#: a new host for the rest of the worker's tests. Two: the common case and one change.
HOSTS_KEPT = 2
#: The worker's environment as it started.
_BASE_ENV = {**os.environ, "COLUMNS": "200"}


def _cli_host(env: dict[str, str]) -> clihost.Host | None:
    """The command-line host of this environment, started on first use; None where a command
    must start from nothing: `AMANAH_TEST_CLI=spawn`, or coverage measuring."""
    if env.get("AMANAH_TEST_CLI") == "spawn" or "COVERAGE_FILE" in env:
        return None
    if not _HOSTS:
        atexit.register(_close_hosts)
    key = clihost.key(env)
    host = _HOSTS.pop(key, None)
    if host is None or not host.matches(env):
        if host is not None:
            host.close()
        while len(_HOSTS) >= HOSTS_KEPT:
            _HOSTS.pop(next(iter(_HOSTS))).close()
        host = clihost.Host(env)
    _HOSTS[key] = host
    return host


def _close_hosts() -> None:
    while _HOSTS:
        _HOSTS.popitem()[1].close()


def ingest_folder(
    ws: Workspace,
    folder: Path,
    collection: str = "c",
    provider: str = "P",
    actor: str = "local:test",
    **fields: object,
) -> IntakeReport:
    """Ingest a folder through the API, for tests whose subject comes after; it must complete."""
    report = ingest(
        ws,
        IntakeRequest(
            sources=[str(folder)],
            collection=collection,
            provider=provider,
            actor=actor,
            **fields,  # type: ignore[arg-type]
        ),
    )
    assert report.status == "complete", report
    return report


def ingest_cli(home: Path, folder: Path, collection: str = "c", *extra: str) -> None:
    """`amanah ingest FOLDER` as a user types it, for tests whose subject comes after."""
    amanah(
        home,
        "ingest",
        str(folder),
        "--collection",
        collection,
        "--provider",
        "P",
        "--quiet",
        *extra,
        check=True,
    )


_TEMPLATES: dict[str, Path] = {}


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A folder made by `build(folder)` once for the whole run, whichever worker asks first
    (the others wait for it, under a lock in the temp folder the workers share, as
    pytest-xdist's docs show), for tests in several files that only read what it holds (one
    demo package, 25 s to build). A test that changes anything copies it first."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's base folder is in the run's own
    folder = root / f"built-once-{name}"
    with open(root / f"built-once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when a worker dies
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed part way
            folder.mkdir()
            build(folder)
            (folder / ".built").touch()
    return folder


def copied_home(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    name: str,
    build: Callable[[Path, Path], None],
) -> Path:
    """A home on the embedded default built once per worker by `build(home, scratch)` and
    copied for each test (as `site` does): for tests whose subject comes after the same
    intake, each free to change or break its own copy."""
    if name not in _TEMPLATES:
        root = tmp_path_factory.mktemp(f"template-{name}")
        home = root / "home"
        write_default_config(home)
        build(home, root)
        _TEMPLATES[name] = home
    copy = tmp_path / "home"
    shutil.copytree(_TEMPLATES[name], copy, symlinks=True)
    return copy


@pytest.fixture(scope="session")
def site_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web tests' workspace (two compartments, a user per role, two packages), built
    once per session (per worker) and copied for each test by `site`."""
    from tests.webfixtures import build_site, save_template

    root = tmp_path_factory.mktemp("web-template")
    s = build_site(root)
    save_template(s, root)
    s.ws.close()
    return root


@pytest.fixture
def site(site_template: Path, tmp_path: Path) -> Iterator[Site]:
    """A private copy of the web tests' workspace, served by its own app."""
    from tests.webfixtures import copy_site

    s = copy_site(site_template, tmp_path)
    yield s
    # What the app's shutdown does (a TestClient outside `with` runs no lifespan).
    s.app.state.sandboxes.close()  # type: ignore[attr-defined]
    s.ws.close()


# -- longest test files first (tests/schedule.py says why) -------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    from tests import schedule

    schedule.addoption(parser)


def pytest_configure(config: pytest.Config) -> None:
    from tests import schedule

    schedule.configure(config)


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures start a browser or a server
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        for what in mark.args:
            need(what)


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle, whose order it keeps
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests import schedule

    schedule.longest_first(config, items)


def amanah_here(
    home: Path, *args: str, check: bool = False, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The same command line as `amanah`, run in this process by Click's test runner, with the
    command's own umask: for the steps of a story whose subject is not the process. Each
    `python -m amanah.cli` costs 2 to 3 s of CPU before it does anything (its imports), and
    a story of 30 steps pays that 30 times. An unexpected exception is raised, not hidden.
    Click's runner is given the command tree built once (`amanah.cli.command()`); typer's
    runner builds it again on every call (0.13 s of CPU against 0.02 s for the whole call)."""
    from click.testing import CliRunner

    from amanah.cli import command
    from amanah.system import private_files

    argv = ["--home", str(home), *args]
    with private_files():
        result = CliRunner().invoke(command(), argv, input=input, env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    proc = subprocess.CompletedProcess(argv, result.exit_code, result.stdout, result.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"amanah {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc
