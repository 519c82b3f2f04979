"""The `amanah` command: everything Amanah does, reachable from one place.

This module holds the group and its registrations only, in the order `--help` lists them;
each concept's commands live in their own module beside it.

Exit status: 0 success; 1 the work ran but something needs attention (a file not ingested, a
verification failure); 2 the request itself is wrong (bad option, missing file, no such item).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core

from amanah import __version__
from amanah.cli import (
    collections,
    consent,
    frameworks,
    home,
    intake,
    items,
    jurisdictions,
    preservation,
    processing,
    protected,
    requests,
    search,
    serve,
    sharing,
)
from amanah.cli.accounts import register as register_accounts
from amanah.cli.analyst import register as register_analyst
from amanah.cli.backup import register as register_backup
from amanah.cli.custody import register as register_custody
from amanah.cli.engagements import register as register_engagements
from amanah.cli.entities import register as register_entities
from amanah.cli.linkage import register as register_linkage
from amanah.cli.persons import register as register_persons
from amanah.cli.persons_evidence import register as register_persons_evidence
from amanah.cli.persons_review import register as register_persons_review
from amanah.cli.reprocess import register as register_reprocess
from amanah.cli.upgrade import register as register_upgrade
from amanah.cli.util import out, state
from amanah.logs import to_stderr
from amanah.system import private_umask

app = typer.Typer(
    help="Amanah: preserve, process, search and share evidence, with a signed chain of custody.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(asked: bool) -> None:
    """`amanah --version` alone: eager, so that it answers before a command is required."""
    if asked:
        out.print(f"amanah {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    home: Annotated[
        str | None,
        typer.Option(help="Installation folder (default: $AMANAH_HOME or ./amanah-home)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    state.home = home


app.command()(home.init)
app.command()(intake.ingest)
app.command("items")(items.items_cmd)
app.command()(processing.process)
app.command()(processing.worker)
app.command()(processing.jobs)
app.command()(search.search)
app.command()(search.searches)
app.command()(search.reindex)
app.command()(preservation.fixity)
app.command()(preservation.verify)
app.command()(home.demo)
app.command()(serve.serve)
app.add_typer(collections.collection_app, name="collection")
app.add_typer(items.item_app, name="item")
app.add_typer(intake.intake_app, name="intake")
app.add_typer(collections.framework_app, name="framework")
app.add_typer(requests.jurisdiction_app, name="jurisdiction")
app.add_typer(requests.rfa_app, name="rfa")
app.add_typer(consent.consent_app, name="consent")
app.add_typer(protected.protected_app, name="protected")
app.add_typer(sharing.package_app, name="package")
register_backup(app)
register_custody(app)
register_accounts(app)
register_reprocess(app)
register_entities(app)
register_persons(app)
register_linkage(app)  # after any `persons` group: it attaches `link` to it
register_engagements(app)
register_persons_review(app)  # after the `persons` group: review, clusters
register_persons_evidence(app)  # after the `persons` group: link-evidence
register_analyst(app)
register_upgrade(app)
import_edits = (frameworks, jurisdictions)  # each adds `edit` to its group above


@functools.cache
def command() -> typer.core.TyperGroup:
    """The Click command that typer builds from `app`: built once per process. Building it
    reads the signature of every one of the 114 commands (about 0.15 s of CPU, a good part of
    a short command's start); a process that forks commands (the tests' host) builds it first."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)  # a callback and subcommands: a group
    _bound_integers(group)
    return group


#: The largest integer any argument or option takes (the web caps ids alike): an id or count
#: past what the database stores (2**63) is refused as a wrong request, not an OverflowError.
INT_LIMIT = 2**62


def _is_int(annotation: object) -> bool:
    """int, int | None, list[int], tuple[int, ...]: any annotation that parses integers."""
    if annotation is int:
        return True
    return any(_is_int(a) for a in typing.get_args(annotation) if a is not type(None))


def _bound_integers(cmd: typer.core.TyperCommand | typer.core.TyperGroup) -> None:
    """Give every integer argument and option of the tree the bounds ±INT_LIMIT (after the
    command's own, e.g. `min=1`): refused as a wrong request (exit 2), never an OverflowError
    from the database."""
    for param in cmd.params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and _is_int(descriptor.annotation):
            param.callback = _bounded(param.callback)
    for sub in getattr(cmd, "commands", {}).values():
        _bound_integers(sub)


def _bounded(then: Callable[..., Any] | None) -> Callable[..., Any]:
    def check(ctx: Any, param: Any, value: Any) -> Any:
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, int) and not -INT_LIMIT <= v <= INT_LIMIT:
                raise typer.BadParameter(f"{v} is out of range (at most {INT_LIMIT})")
        return then(ctx, param, value) if then is not None else value

    return check


def main() -> None:
    private_umask()  # evidence, keys and exports made by this process are the owner's alone
    to_stderr()
    try:
        command()()  # what `app()` does, with `pretty_exceptions_enable=False`
    except Exception as exc:
        last_resort(exc)


def last_resort(exc: Exception) -> NoReturn:
    """What no command caught: one line `error: <what>: <reason>` (the path, when there is
    one) and exit 1; the traceback goes to the home's errors.log when there is a home."""
    import traceback

    from amanah.cli.util import err

    if isinstance(exc, OSError) and exc.filename is not None:
        line = f"{exc.filename}: {exc.strerror or exc}"
    elif isinstance(exc, UnicodeError):
        line = f"text is not in the expected encoding: {exc}"
    else:
        line = f"{type(exc).__name__}: {exc}"
    logged = _log_traceback("".join(traceback.format_exception(exc)))
    where = f" (traceback in {logged})" if logged else ""
    err.print(f"error: {line}{where}")
    raise SystemExit(1)


def _log_traceback(text: str) -> Path | None:
    """Append `text` to errors.log of the home, if the chosen home is an Amanah home."""
    import contextlib
    from datetime import UTC, datetime

    from amanah.config import resolve_home

    with contextlib.suppress(Exception):
        home = resolve_home(state.home)
        if (home / "amanah.toml").is_file():
            log = home / "errors.log"
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"--- {datetime.now(UTC).isoformat()}\n{text}")
            return log
    return None


if __name__ == "__main__":
    main()
