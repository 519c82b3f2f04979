"""What every `amanah` command shares: the workspace it opens, how it fails, how it prints.

Exit status: 0 success; 1 the work ran but something needs attention; 2 the request itself
is wrong (bad option, missing file, no such item).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from amanah.blobs import BlobError
from amanah.config import ConfigError
from amanah.errors import message
from amanah.intake.hashlist import HashListError
from amanah.rfa import RequestError
from amanah.sharing import SharingError

if TYPE_CHECKING:
    from amanah.workspace import Workspace

T = TypeVar("T")
# Markup off by default: file names and reasons come from evidence and may hold "[...]".
err = Console(stderr=True, soft_wrap=True, markup=False)
out = Console(highlight=False, soft_wrap=True, markup=False)
#: The ledger names the OS account (from the system, not the environment); this adds a name.
ACTOR_HELP = "Amanah user you act as; recorded after your OS account, never instead of it."
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def expected_errors(*more: type[Exception]) -> tuple[type[Exception], ...]:
    """What opening and using a workspace fails with for a reason a user can act on (and
    `more`, a command's own).

    A function, not a constant: the database, key and registry modules it names import the
    ORM, which `amanah --help` and every command that fails early need not pay for. An
    `except expected_errors():` clause calls it only when something was raised."""
    from amanah.custody.checkpoint_log import CheckpointLogError
    from amanah.custody.keys import KeyError_
    from amanah.custody.signed import LedgerRefused
    from amanah.db import DatabaseError
    from amanah.intake.registry import RegistryError

    return (
        *more,
        LedgerRefused,
        ConfigError,
        DatabaseError,
        KeyError_,
        HashListError,
        RegistryError,
        BlobError,
        CheckpointLogError,
    )


def request_errors() -> tuple[type[Exception], ...]:
    """What a request, its review, consent and packages refuse with: a reason, never a
    traceback (a function for the same reason as `expected_errors`)."""
    from amanah.access import AccessDenied, NotVisible

    return (RequestError, SharingError, NotVisible, AccessDenied)


class State:
    home: str | None = None


state = State()


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    raise typer.Exit(code)


def new_file(path: Path) -> Path:
    """Check that `path` names a new file a command may write (before its work is done and
    recorded): never an existing file (nothing is overwritten), a folder, a file in a folder
    that does not exist, or `-` (no command writes a file to standard output this way)."""
    if str(path) == "-":
        fail("-: give a file name to write (this command does not write to standard output)")
    if path.is_dir():
        fail(f"{path}: is a folder; give the name of a new file")
    if path.exists() or path.is_symlink():
        fail(f"{path}: already exists; choose another name (nothing was overwritten)")
    if not path.parent.is_dir():
        fail(f"{path}: folder {path.parent} does not exist")
    return path


def write_new_file(path: Path, data: bytes | str) -> None:
    """Write `data` to the new file `path` (checked by `new_file`), refusing to replace one
    that appeared since: exit 2 naming the path and the reason, never a traceback."""
    new_file(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(path, "xb") as f:
            f.write(raw)
    except FileExistsError:
        fail(f"{path}: already exists; choose another name (nothing was overwritten)")
    except OSError as exc:
        fail(f"{path}: cannot write ({exc.strerror or exc})", 1)


def new_folder(path: Path) -> Path:
    """Check that `path` may become a new folder a command writes into: not a file, not `-`."""
    if str(path) == "-":
        fail("-: give the name of a new folder to write")
    if path.exists() and not path.is_dir():
        fail(f"{path}: is a file, not a folder; give the name of a new folder")
    return path


def workspace(create: bool = False) -> Workspace:
    """Open the chosen home. Only `init` and `demo` make one (create=True): any other command
    on a folder with no Amanah home says so, exit 2, rather than quietly start an empty home
    (a mistyped --home, where `verify` would pass after making a new signing key)."""
    from amanah.config import CONFIG_NAME, resolve_home
    from amanah.workspace import open_workspace

    path = resolve_home(state.home)
    if not create and not (path / CONFIG_NAME).is_file():
        fail(f"no Amanah home at {path} (run `amanah init {path}` to make one, or give --home)")
    try:
        ws = open_workspace(path, create=create)
    except expected_errors() as exc:
        fail(str(exc))
    if ws.settings.runner == "procrastinate":
        from amanah.processing.scaleout import attach

        attach(ws)  # new jobs are deferred to procrastinate in the same transaction
    return ws


def with_workspace(action: Callable[[Workspace], T], *errors: type[Exception]) -> T:
    """Open the workspace, run one action, close it; expected errors end in a clear message."""
    ws = workspace()
    try:
        return action(ws)
    except expected_errors(*errors) as exc:
        fail(message(exc), exit_code(exc))
    finally:
        ws.close()


def exit_code(exc: Exception) -> int:
    """1 where the machine failed (the checkpoint log or the search journal could not be
    written: a full disk), which the same command run again completes; 2 for a wrong request."""
    from amanah.custody.checkpoint_log import CheckpointLogError
    from amanah.custody.signed import LedgerRefused
    from amanah.search.searchlog import SearchJournalError

    failed = (CheckpointLogError, SearchJournalError, LedgerRefused)
    return 1 if isinstance(exc, failed) else 2


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def counts(found: dict[str, Any]) -> str:
    """A dict of counts as a person reads it ("relevant 3, pending 1"), not a Python dict."""
    return ", ".join(f"{k} {v}" for k, v in found.items())


def parse_date(value: str | None, option: str, *, past: bool = False) -> date | None:
    """A YYYY-MM-DD option; `past`: a day that has happened (collected, received, given on),
    refused when in the future as `rfa add --received-on` is."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: expected a date as YYYY-MM-DD")
    if past and day > date.today():
        fail(f"{option} {value}: that date is in the future")
    return day


def in_session(work: Any) -> Any:
    """Run `work(session, caller)` in one transaction as the local administrator."""

    from amanah.access import local_administrator

    def act(ws: Workspace) -> Any:
        caller = local_administrator(ws)
        with ws.db.session() as s:
            return work(s, caller)

    return with_workspace(act, *request_errors())


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    t = Table(*columns)
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    out.print(t)


#: What a bar counts: bytes (with speed), queued jobs, or items of a known number.
Unit = Literal["bytes", "jobs", "items"]


class Bar:
    """The one progress bar of every long command: on stderr, so output stays clean to pipe,
    and off with --quiet or --json. Use it as a context manager; the callbacks that
    processing, fixity and packaging take are its methods."""

    def __init__(self, label: str, unit: Unit, *, quiet: bool, transient: bool = False) -> None:
        counts: tuple[ProgressColumn, ...] = {
            "bytes": (DownloadColumn(), TransferSpeedColumn()),
            "jobs": (TextColumn("{task.completed}/{task.total} jobs"),),
            "items": (MofNCompleteColumn(),),
        }[unit]
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            *counts,
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
            transient=transient,
        )
        self.task = self.progress.add_task(label, total=None, note="")

    def __enter__(self) -> Bar:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.progress.stop()

    @property
    def completed(self) -> int:
        return int(self.progress.tasks[0].completed)

    def expect(self, total: int) -> None:
        """The amount of work is known (or has grown)."""
        self.progress.update(self.task, total=total)

    def advance(self, amount: int = 1) -> None:
        self.progress.update(self.task, advance=amount)

    def describe(self, description: str) -> None:
        self.progress.update(self.task, description=description)

    def set(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)

    def job_done(self, pending: int, note: str = "") -> None:
        """One job ended; the total grows with the jobs it queued (children, pages)."""
        done = self.completed + 1
        total = self.progress.tasks[0].total or 0
        self.progress.update(self.task, completed=done, total=max(total, pending + done), note=note)
