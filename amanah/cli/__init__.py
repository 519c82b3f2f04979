"""The `amanah` command: everything Amanah does, reachable from one place.

This module holds the group and its registrations only, in the order `--help` lists them;
each concept's commands live in their own module beside it.

Exit status: 0 success; 1 the work ran but something needs attention (a file not ingested, a
verification failure); 2 the request itself is wrong (bad option, missing file, no such item).
"""

from __future__ import annotations

import functools
from typing import Annotated

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
    return group


def main() -> None:
    private_umask()  # evidence, keys and exports made by this process are the owner's alone
    to_stderr()
    command()()  # what `app()` does, with `pretty_exceptions_enable=False`


if __name__ == "__main__":
    main()
