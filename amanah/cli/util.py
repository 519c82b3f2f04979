"""What every `amanah` command shares: the workspace it opens, how it fails, how it prints.

Exit status: 0 success; 1 the work ran but something needs attention; 2 the request itself
is wrong (bad option, missing file, no such item).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from amanah.blobs import BlobError
from amanah.config import ConfigError
from amanah.custody.checkpoint_log import CheckpointLogError
from amanah.custody.keys import KeyError_
from amanah.db import DatabaseError
from amanah.errors import message
from amanah.intake.hashlist import HashListError
from amanah.intake.registry import RegistryError
from amanah.workspace import Workspace, open_workspace

T = TypeVar("T")
# Markup off by default: file names and reasons come from evidence and may hold "[...]".
err = Console(stderr=True, soft_wrap=True, markup=False)
out = Console(highlight=False, soft_wrap=True, markup=False)
EXPECTED_ERRORS = (
    ConfigError,
    DatabaseError,
    KeyError_,
    HashListError,
    RegistryError,
    BlobError,
    CheckpointLogError,
)


class State:
    home: str | None = None


state = State()


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    raise typer.Exit(code)


def workspace() -> Workspace:
    try:
        ws = open_workspace(state.home)
    except EXPECTED_ERRORS as exc:
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
    except (*errors, *EXPECTED_ERRORS) as exc:
        fail(message(exc))
    finally:
        ws.close()


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: expected a date as YYYY-MM-DD")
