"""Open the installation's database and bring its schema up to date.

SQLite runs in WAL mode with full synchronous commits (an evidence record that was reported
saved must survive a power cut) and takes its write lock at BEGIN, so that two writers never
deadlock upgrading a read lock. PostgreSQL needs nothing special.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


_REVISION = re.compile(r'^revision(?:\s*:[^=]*)?\s*=\s*["\']([^"\']+)["\']', re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=]*)?\s*=\s*(.+)$", re.M)
_NEWEST: list[str | None] = []


def newest_migration() -> str | None:
    """The one migration no other follows, read from the files' `revision`/`down_revision`
    lines; None when that is not exactly one (then alembic decides). Only ever used to skip
    alembic when the database already names it."""
    if not _NEWEST:
        revisions: set[str] = set()
        followed: set[str] = set()
        for path in (MIGRATIONS / "versions").glob("*.py"):
            source = path.read_text(encoding="utf-8")
            found = _REVISION.search(source)
            down = _DOWN.search(source)
            if found is None or down is None:
                _NEWEST.append(None)
                return None
            revisions.add(found.group(1))
            followed.update(re.findall(r'["\']([^"\']+)["\']', down.group(1)))
        heads = revisions - followed
        _NEWEST.append(heads.pop() if len(heads) == 1 else None)
    return _NEWEST[0]


class DatabaseError(Exception):
    """The database cannot be reached or is not an Amanah database."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level; SQLAlchemy's begin event below issues BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    # Search reads a large FTS5 index: a bigger page cache and memory-mapped reads make its
    # queries about a third faster at a million documents (docs/benchmarks.md).
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA mmap_size=4294967296")
    cur.close()


def _sqlite_begin_write(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_read(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, read_only: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_read if read_only else _sqlite_begin_write)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def alembic_config(engine: Engine, attributes: dict[str, object] | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes.update(attributes or {})
    cfg.attributes["engine"] = engine
    return cfg


class _GroupCommit:
    """Small writes from many threads share one transaction and one commit (group commit).

    The first thread to arrive commits, for itself and for whoever queued meanwhile, until the
    queue is empty; the others wait for their own result. Each caller returns only once its
    write is durable, as with `session()`; a batch that fails is retried one write at a time,
    so one bad write fails alone.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.lock = threading.Lock()
        self.queue: list[tuple[Callable[[Session], Any], Future[Any]]] = []
        self.leading = False

    def submit(self, work: Callable[[Session], T]) -> T:
        done: Future[T] = Future()
        with self.lock:
            self.queue.append((work, done))
            lead = not self.leading
            self.leading = True
        if lead:
            self._lead()
        return done.result()

    def _lead(self) -> None:
        while True:
            with self.lock:
                batch, self.queue = self.queue, []
                if not batch:
                    self.leading = False
                    return
            try:
                with self.db.session() as s:
                    results = [work(s) for work, _ in batch]
            except BaseException:
                for work, done in batch:
                    try:
                        with self.db.session() as s:
                            done.set_result(work(s))
                    except BaseException as exc:  # each caller gets its own failure
                        done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                done.set_result(result)


class Database:
    """One engine and session factory; `session()` is one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        #: Put into every write session's info (the custody ledger's signing key).
        self.session_info: dict[str, object] = {}
        #: Given to migrations (e.g. where the home's names key lives, for 0009).
        self.migration_attributes: dict[str, object] = {}
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite readers must not take the write lock; PostgreSQL needs no second engine.
        self.read_engine = make_engine(url, read_only=True) if url.startswith("sqlite") else None
        self._readers = sessionmaker(self.read_engine or self.engine, expire_on_commit=False)
        self._write_lock = threading.RLock()
        self._group = _GroupCommit(self)
        #: Run before a transaction or a snapshot opens (not inside one): records written
        #: behind (the search journal) are in the database before anyone reads it.
        self.barriers: list[Callable[[], None]] = []
        #: Run by `dispose()` first (the search journal applies what it holds).
        self.on_dispose: list[Callable[[], None]] = []
        self._inside = threading.local()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Apply pending migrations; safe to call on every start. A home already at the newest
        migration is told by one query, without loading alembic (about a third of a command's
        start-up); any other answer goes to alembic, which decides."""
        try:
            if self._stamped() == newest_migration():
                return
            from alembic import command
            from alembic.runtime.migration import MigrationContext
            from alembic.script import ScriptDirectory

            with self.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()
            if current != head:
                command.upgrade(alembic_config(self.engine, self.migration_attributes), "head")
                self._scrub()
        except OperationalError as exc:
            raise DatabaseError(f"cannot open database {self.safe_url}: {exc.orig}") from exc

    def _stamped(self) -> str | None:
        """The migration the database says it is at, or None (no table yet, or not one row)."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError):
            return None
        return rows[0][0] if len(rows) == 1 else None

    def _scrub(self) -> None:
        """After migrations that erase values (0009: protected names), leave no old copy:
        SQLite's WAL is checkpointed into the file and emptied; PostgreSQL rewrites the table
        so that no dead row version remains on disk."""
        if self.dialect == "sqlite":
            raw = self.engine.raw_connection()  # outside a transaction, as a checkpoint must be
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
            finally:
                raw.close()
        elif self.dialect == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM FULL protected_persons")

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error."""
        # SQLite has one writer at a time; threads of this process queue here instead of
        # in SQLite's busy handler, which sleeps in growing steps of up to 100 ms.
        guard = self._write_lock if self.read_engine is not None else contextlib.nullcontext()
        self._barrier()
        self._inside.depth = getattr(self._inside, "depth", 0) + 1
        try:
            with guard, self._sessions(info=dict(self.session_info)) as s, s.begin():
                yield s
        finally:
            self._inside.depth -= 1

    def _barrier(self) -> None:
        # Never from inside this thread's own transaction: applying would wait for its lock.
        if not getattr(self._inside, "depth", 0):
            for barrier in self.barriers:
                barrier()

    def write_soon(self, work: Callable[[Session], T]) -> T:
        """Run a small write (an audit record) in a transaction shared with other threads'.

        Under load, many readers' audit records then cost one commit instead of one each."""
        return self._group.submit(work)

    @contextmanager
    def reader(self, barrier: bool = True) -> Iterator[Session]:
        """A read-only snapshot that does not block writers.

        `barrier=False`: without first applying records written behind (the search's own
        reads, which do not read the search log)."""
        if barrier:
            self._barrier()
        with self._readers(info=dict(self.session_info)) as s, s.begin():
            yield s

    def dispose(self) -> None:
        for hook in self.on_dispose:
            hook()
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()
