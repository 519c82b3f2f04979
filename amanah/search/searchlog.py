"""The search log written behind: a durable append per search, the database batch by batch.

Every search is recorded twice: a row of the search log (staff only, the words with protected
names pseudonymised) and an ACCESS custody event (a keyed digest of the words). Committing both
per search cost a synced SQLite commit and a signed, fsynced checkpoint on every query, more
than the search itself (docs/benchmarks.md). Instead:

1. Before a search returns, its complete record (with its search id, allocated here) is
   appended to the home's search journal and fdatasync'ed: one small write and one flush. A
   crash after that (kill -9, power cut) loses nothing the user has seen results for.
2. A drainer thread applies the journal to the database a few milliseconds later, many
   searches in one transaction (one commit, one signed checkpoint), idempotently by search id.
3. Whoever reads the database first applies what the journal holds (`Database.barriers`): a
   reader in this process, any process opening the home after a crash, `dispose()`. So the log
   and the ledger read back exactly as if each search had committed on its own.

Only the search's own reads skip the barrier (they do not read the log). The journal holds the
same words as the search log (pseudonymised) and never the clear query's digest key.

The journal is a file of the home, not of the database: whoever can write a file there could
add lines to it. Each line is sealed (an HMAC under a key derived from the names key, kept in
keys/ beside the ledger's key), and only sealed lines are applied: a line this home's
processes did not write is set aside (search-journal.rejected), never recorded as a search.
The journal is written and read without following a symbolic link. A database that cannot
take a batch (a full disk, a lost server) keeps the journal for the next reader: only a record
that fails on its own is set aside.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import hmac
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from amanah.access import Caller
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.engine import Database, DatabaseError
from amanah.db.models import SearchLog
from amanah.sharing.names_key import SESSION_KEY as NAMES_KEY
from amanah.system import file_state

if TYPE_CHECKING:
    from amanah.search.engine import Results
    from amanah.workspace import Workspace

JOURNAL = "search-journal.jsonl"
DRAINING = "search-journal.draining"
REJECTED = "search-journal.rejected"
_LOCK = "search-journal.lock"
_DRAIN_LOCK = "search-journal.drain-lock"
#: How long the drainer waits for more searches to share its commit. Each drain costs about
#: 3 ms of the interpreter whatever it applies (a transaction, a signed checkpoint) and 0.1 ms
#: a search; every search it overlaps waits for it. A quarter of a second lets a busy server
#: pay that a few times a second, not twenty; no reader waits for it (the barrier applies
#: the journal first) and nothing is at risk meanwhile (each record is flushed to the journal).
DELAY_SECONDS = 0.25
_TAIL = 65536

#: What a database raises when it, not a record, failed (a full disk, a lock, a lost server):
#: the batch stays in the journal for the next reader, nothing is set aside.
_NOT_THE_RECORD = (sa_exc.OperationalError, sa_exc.InterfaceError, OSError)
_NOFOLLOW = os.O_NOFOLLOW

log = logging.getLogger(__name__)


class SearchJournalError(DatabaseError):
    """The search journal cannot be written or applied: the search is not shown (or the
    searches it holds stay in it for the next reader)."""


def journal_key(names_key: bytes) -> bytes:
    """The key sealing the journal's lines, derived from the names key (never stored)."""
    return hmac.new(names_key, b"amanah search journal seal", hashlib.sha256).digest()


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def seal(key: bytes, record: dict[str, Any]) -> dict[str, Any]:
    """The record with its seal: an HMAC of its canonical form."""
    unsealed = {k: v for k, v in record.items() if k != "seal"}
    return {**unsealed, "seal": hmac.new(key, _canonical(unsealed), hashlib.sha256).hexdigest()}


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    """Exclusive between processes (threads of one process hold a mutex first)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _lines(
    data: bytes, key: bytes, foreign: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Complete records sealed by this home; a line torn by a crash was never acknowledged:
    skipped. A complete line without a true seal was not written by Amanah: it goes to
    `foreign` (when given), never to the database."""
    out = []
    for line in data.split(b"\n"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        given = record.get("seal")
        unsealed = {k: v for k, v in record.items() if k != "seal"}
        expected = hmac.new(key, _canonical(unsealed), hashlib.sha256).hexdigest()
        if (
            isinstance(given, str)
            and hmac.compare_digest(given, expected)
            and type(record.get("id")) is int
        ):
            out.append(unsealed)
        elif foreign is not None:
            foreign.append(record)
    return out


def _open_regular(path: Path, flags: int, mode: int = 0o600) -> int:
    """An fd of `path`, never through a symbolic link, and only of a regular file. Opened to
    write, the file is made `mode` if it was wider: one put back from an older copy (or a
    restore) readable to others would take every later search's words."""
    fd = os.open(path, flags | _NOFOLLOW, mode)
    try:
        found = os.fstat(fd).st_mode
        if not stat.S_ISREG(found):
            raise IsADirectoryError(f"{path}: not a regular file")
        if flags & (os.O_WRONLY | os.O_RDWR) and stat.S_IMODE(found) & ~mode:
            os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_regular(path: Path) -> bytes:
    fd = _open_regular(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _last_id(path: Path, key: bytes) -> int | None:
    """The id of the last sealed record (the tail is read first; all of it if need be)."""
    try:
        fd = _open_regular(path, os.O_RDONLY)
    except (FileNotFoundError, OSError):
        return None  # not the journal (a link, a folder): set aside by the next drain
    with os.fdopen(fd, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        tail = _TAIL
        while True:
            f.seek(max(0, size - tail))
            records = _lines(f.read(), key)
            if records or tail >= size:
                return records[-1]["id"] if records else None
            tail *= 4  # a record longer than the tail (a very long query)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Written(NamedTuple):
    """A record written to the journal and not yet flushed (`SearchJournal.write`)."""

    search_id: int
    fd: int
    created: bool


class SearchJournal:
    """The home's search journal; one per open workspace (see `attach`)."""

    def __init__(self, db: Database, home: Path) -> None:
        self.db = db
        self.journal = home / JOURNAL
        self.draining = home / DRAINING
        self.rejected = home / REJECTED
        self._lock = home / _LOCK
        self._drain_lock = home / _DRAIN_LOCK
        self._append_mutex = threading.Lock()
        self._drain_mutex = threading.Lock()
        #: The journal as this process left it after its last write, and that record's id.
        self._issued: tuple[tuple[int, ...], int] | None = None
        self._local = threading.local()
        self._start = threading.Lock()
        self._due = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        names_key = db.session_info.get(NAMES_KEY)
        if not isinstance(names_key, bytes):
            raise SearchJournalError(f"{self.journal}: the names key is not loaded")
        self._key = journal_key(names_key)

    # -- writing

    def append(self, entry: dict[str, Any]) -> int:
        """Make one search's record durable and give it its search id."""
        return self.flush(self.write(entry))

    def write(self, entry: dict[str, Any]) -> Written:
        """Give the record its search id and write it to the journal, not yet flushed: the
        search it records must not be shown before `flush` returns."""
        with self._append_mutex, _flock(self._lock):
            search_id = self._next_id()
            record = seal(self._key, {"id": search_id, **entry})
            line = json.dumps(record, ensure_ascii=False).encode() + b"\n"
            created = not os.path.lexists(self.journal)
            try:
                fd = _open_regular(self.journal, os.O_RDWR | os.O_APPEND | os.O_CREAT)
            except OSError as exc:
                raise self._unwritable(exc) from exc
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # a line torn by a crash stays alone on its line
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                self._issued = (file_state(os.fstat(fd)), search_id)
            except OSError as exc:
                os.close(fd)
                raise self._unwritable(exc) from exc
            except BaseException:
                os.close(fd)
                raise
        # Ids stay in order without the lock: a flush of this file flushes whatever was
        # written before it, and the drainer takes only what was written.
        return Written(search_id, fd, created)

    def flush(self, written: Written) -> int:
        """The written record on disk (and a new journal's name in its folder)."""
        try:
            os.fdatasync(written.fd)
            if written.created:
                _fsync_dir(self.journal.parent)  # the new file's name survives a power cut
        except OSError as exc:
            raise self._unwritable(exc) from exc
        finally:
            os.close(written.fd)
        self._signal()
        return written.search_id

    def _unwritable(self, exc: OSError) -> SearchJournalError:
        why = exc.strerror or str(exc)
        if exc.errno == errno.ELOOP:
            why = "it is a symbolic link, not the journal Amanah writes"
        return SearchJournalError(
            f"{self.journal.name}: the search could not be recorded ({why}), so its results are"
            " not shown"
        )

    def _next_id(self) -> int:
        if self.db.dialect == "postgresql":  # one sequence for every home sharing the server
            with self.db.reader(barrier=False) as s:
                seq = "select nextval(pg_get_serial_sequence('search_log', 'id'))"
                return int(s.execute(text(seq)).scalar_one())
        # The journal exactly as this process's last write left it (same file, size and time,
        # looked at under the append lock): nothing was written, drained or put back since,
        # so the next id follows that record's. Reading the journal's tail, checking its
        # seals and asking the database cost most of a search's record.
        issued = self._issued
        if issued is not None:
            try:
                if file_state(os.lstat(self.journal)) == issued[0]:
                    return issued[1] + 1
            except OSError:
                pass
        # Past the journal, the batch being applied and the database alike: a journal put back
        # from an older copy (its lines truly sealed, long applied) must not hand out the id of
        # a search already recorded, whose drain would then skip the new one as present.
        found = [_last_id(self.journal, self._key), _last_id(self.draining, self._key)]
        with self.db.reader(barrier=False) as s:  # a seek of the primary key
            found.append(s.execute(select(func.max(SearchLog.id))).scalar_one())
        return max(int(i) for i in found if i is not None) + 1 if any(found) else 1

    # -- applying

    def pending(self) -> bool:
        # The journal first: a drain renames it to `draining` and removes that only after
        # its commit, so in this order no record is ever between the two looks.
        for path in (self.journal, self.draining):
            try:
                found = path.lstat()  # a link or a folder in its place is pending: set aside
            except FileNotFoundError:
                continue
            if found.st_size or not stat.S_ISREG(found.st_mode):
                return True
        return False

    def barrier(self) -> None:
        """Before a read or a write: the database holds every journaled search. When it
        cannot (a full disk), the searches stay in the journal and the reader is told."""
        if not getattr(self._local, "draining", False) and self.pending():
            try:
                self.drain()
            except _NOT_THE_RECORD as exc:
                said = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:200]
                raise SearchJournalError(
                    f"{self.journal.name}: the searches it holds cannot be recorded in the database"
                    f" yet ({said}); they stay in the journal until they can"
                ) from exc

    def drain(self) -> int:
        """Apply the journal to the database; returns how many searches were added."""
        added = 0
        with self._drain_mutex, _flock(self._drain_lock):
            self._local.draining = True
            try:
                while True:
                    if not self.draining.exists():
                        with self._append_mutex, _flock(self._lock):
                            if not self.pending():
                                return added
                            # New searches go to a fresh journal while this batch commits.
                            # It is made here, its name flushed to the directory, so that a
                            # search's append pays for its own record only (not for a new
                            # file's name: a second flush, on the hot path, every batch).
                            os.replace(self.journal, self.draining)
                            os.close(_open_regular(self.journal, os.O_RDWR | os.O_CREAT))
                            _fsync_dir(self.journal.parent)
                    try:
                        data = _read_regular(self.draining)
                    except OSError as exc:
                        if isinstance(exc, FileNotFoundError):
                            raise
                        self._set_aside(exc)  # not a file this home wrote: read nothing
                        continue
                    foreign: list[dict[str, Any]] = []
                    records = _lines(data, self._key, foreign)
                    for record in foreign:
                        self._reject(record, "not sealed by this home: not applied")
                    added += self._apply(records)
                    self.draining.unlink()  # committed first: a crash here re-applies nothing
            finally:
                self._local.draining = False

    def _set_aside(self, exc: OSError) -> None:
        """The draining name is not a regular file (a link, a folder put there): it is moved
        aside, its target untouched, and the journal goes on."""
        aside = self.draining.with_name(f"{DRAINING}.not-a-journal-{time.time_ns()}")
        os.replace(self.draining, aside)
        log.error("%s: not the search journal (%s): moved to %s, not read", self.draining,
                  exc.strerror or exc, aside.name)  # fmt: skip

    def _apply(self, records: list[dict[str, Any]]) -> int:
        if not records:
            return 0
        try:
            with self.db.session() as s:
                return _write(s, records)
        except _NOT_THE_RECORD:
            raise  # the database failed, not a record: kept for the next reader
        except Exception:  # one bad record must not hold back the others
            added = 0
            for record in records:
                try:
                    with self.db.session() as s:
                        added += _write(s, [record])
                except _NOT_THE_RECORD:
                    raise
                except Exception as exc:
                    self._reject(record, exc)
            return added

    def _reject(self, record: dict[str, Any], exc: Exception | str) -> None:
        if isinstance(exc, str):
            reason = exc
        else:
            said = str(exc).splitlines()[0][:200] if str(exc) else ""
            reason = f"{type(exc).__name__}: {said}"
        log.error(
            "%s: search %r could not be recorded (%s)", self.rejected, record.get("id"), reason
        )
        line = json.dumps({"record": record, "reason": reason}, ensure_ascii=False) + "\n"
        fd = _open_regular(self.rejected, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- the drainer thread

    def _signal(self) -> None:
        with self._start:
            if self._stop.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="search-journal", daemon=True
                )
                self._thread.start()
        self._due.set()

    def _run(self) -> None:
        while True:
            self._due.wait()
            # Let more searches share the commit; an append meanwhile does not cut it short.
            if self._stop.wait(DELAY_SECONDS):
                return
            self._due.clear()  # an append from now on is seen by the next round
            if self._stop.is_set():
                # `close` ran between the wait above and the clear: the wake-up it set is
                # gone, so waiting again would wait for ever (and `close` joins this thread).
                return
            try:
                self.drain()
            except Exception as exc:  # the journal keeps it; the next reader applies it
                log.warning("the search journal could not be applied yet: %s", type(exc).__name__)

    def close(self) -> None:
        """Stop the drainer and apply what is left (the workspace closes)."""
        with self._start:
            self._stop.set()
            self._due.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        try:
            self.barrier()
        except Exception as exc:  # kept in the journal: the next opening of the home applies it
            log.warning("the search journal could not be applied yet: %s", type(exc).__name__)


def _write(s: Session, records: list[dict[str, Any]]) -> int:
    ids = [r["id"] for r in records]
    present = set(s.execute(select(SearchLog.id).where(SearchLog.id.in_(ids))).scalars())
    fresh = [r for r in records if r["id"] not in present]
    if not fresh:
        return 0
    s.execute(
        insert(SearchLog.__table__),
        [
            {
                "id": r["id"],
                "actor": r["actor"],
                "at": datetime.fromisoformat(r["at"]),
                "query": r["query"],
                "options": json.dumps(r["options"], ensure_ascii=False),
                "hit_count": r["hits"],
                "top_ids": json.dumps(r["shown"]),
                "duration_ms": r["duration_ms"],
                "request_id": r["request_id"],
                "address": r["address"],
            }
            for r in fresh
        ],
    )
    for r in fresh:
        ledger.append(
            s,
            EventType.ACCESS,
            actor=r["actor"],
            object_type="search",
            object_id=r["id"],
            details={
                "action": "search",
                "query_hmac": r["query_hmac"],
                "query_length": r["query_length"],
                "options": r["options"],
                "hits": r["hits"],
                "shown": r["shown"],
                "searched_at": r["at"],
                **r["audit"],
            },
        )
    return len(fresh)


def attach(db: Database, home: Path) -> SearchJournal:
    """Give an opened home its journal; first apply anything a crash left in it."""
    journal = SearchJournal(db, home)
    db.barriers.append(journal.barrier)
    db.on_dispose.append(journal.close)
    journal.barrier()
    return journal


def _journal(ws: Workspace) -> SearchJournal:
    for barrier in ws.db.barriers:
        owner = getattr(barrier, "__self__", None)
        if isinstance(owner, SearchJournal):
            return owner
    return attach(ws.db, ws.home)  # a workspace put together by hand (tests)


def record(
    ws: Workspace,
    caller: Caller,
    results: Results,
    options: dict[str, Any],
    request_id: int | None,
) -> int:
    """Record a search (who, when, what, how many, which shown); returns its search id.

    The words of a query stay out of the custody ledger (permanent, exported, shown to
    providers and recipients): it holds a keyed digest of the query and its length. The search
    log (staff only) keeps the words, with any protected person's name replaced by a pseudonym."""
    shown = [h.item_id for h in results.hits]
    return _journal(ws).append(_entry(ws, caller, results, shown, options, request_id))


_flusher: ThreadPoolExecutor | None = None
_flusher_lock = threading.Lock()


def record_behind(
    ws: Workspace,
    caller: Caller,
    results: Results,
    shown: list[int],
    options: dict[str, Any],
    request_id: int | None,
) -> Future[int]:
    """`record`, its flush to disk waited for on another thread, so that the caller makes the
    hits' snippets meanwhile. The caller takes `.result()` (the search id, or the flush's
    error) before anything of the search is shown.

    The record is made and written here; the other thread only waits on the device. It is
    seen to be waiting before this returns: a thread that still needed the interpreter lock
    to start its flush would wait for the snippets to give it up, and overlap nothing."""
    global _flusher
    journal = _journal(ws)
    written = journal.write(_entry(ws, caller, results, shown, options, request_id))
    started = threading.Event()

    def flush() -> int:
        started.set()
        return journal.flush(written)

    with _flusher_lock:
        if _flusher is None:
            _flusher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-flush")
        future = _flusher.submit(flush)
    started.wait()
    return future


def _entry(
    ws: Workspace,
    caller: Caller,
    results: Results,
    top: list[int],
    options: dict[str, Any],
    request_id: int | None,
) -> dict[str, Any]:
    from amanah.sharing import protected

    opts = {"mode": results.mode, "sort": results.sort, **options}
    with ws.db.reader(barrier=False) as s:
        logged, _ = protected.Matcher.load(s).pseudonymise(results.query)
        digest = protected.query_digest(s, results.query)
    return {
        "actor": caller.actor,
        "at": datetime.now(UTC).isoformat(),
        "query": logged,
        "options": opts,
        "hits": results.total,
        "shown": top,
        "duration_ms": results.took_ms,
        "request_id": request_id,
        "address": caller.address or "",
        "query_hmac": digest,
        "query_length": len(results.query),
        "audit": caller.audit(),
    }
