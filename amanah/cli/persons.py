"""`amanah persons`: lists of the detained, the disappeared and the dead, kept as evidence.
A thin layer over amanah.persons.lists: import a list's file (preserved as an item first),
see the lists with their import reports, read a list's records (an audited access).

Exit status: 0 all rows imported; 1 some row could not be read (reported by line) or the file
is not a table; 2 the request is wrong (no such file, an unknown field or column in --map, a
list you may not see)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from amanah.cli.util import (
    ACTOR_HELP,
    JSON,
    Bar,
    emit_json,
    out,
    parse_date,
    print_table,
    request_errors,
    with_workspace,
)
from amanah.persons.vocab import FIELDS
from amanah.system import default_actor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from amanah.access import Caller
    from amanah.workspace import Workspace

persons_app = typer.Typer(
    help="Person lists (missing, detained, dead) as evidence: import, list, show, records.",
    no_args_is_help=True,
)
USER = Annotated[
    str | None,
    typer.Option("--user", help="See only what this Amanah user may see (their grants)."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(persons_app, name="persons")


def errors() -> tuple[type[Exception], ...]:
    """What a `persons` command refuses with: a reason and exit status 2, never a traceback."""
    from amanah.access.users import AccountError
    from amanah.blobs.durable import StorageError
    from amanah.persons.lists import PersonsError

    return (*request_errors(), PersonsError, AccountError, StorageError)


def _caller(ws: Workspace, s: Session, user: str | None, actor: str | None = None) -> Caller:
    """The local administrator, or, with --user, that user's need-to-know (never more than
    theirs), recorded as that user (`user:NAME`), as a review on the web would be."""
    from amanah.access import local_administrator
    from amanah.access.users import account_of, caller_for, user_named

    if user is None:
        return local_administrator(ws, default_actor(actor))
    return caller_for(s, account_of(user_named(s, user)))


def _overrides(pairs: list[str]) -> dict[str, str]:
    from amanah.persons.lists import PersonsError

    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise PersonsError(f"--map {pair!r}: expected FIELD=COLUMN")
        found[name.strip()] = column.strip()
    return found


def _columns(no_header: bool, columns: str | None) -> list[str] | None:
    """The names --columns gives a file without a header row (exit 2 when asked wrongly)."""
    if columns is not None and not no_header:
        out.print("error: --columns names the columns of a file without a header (--no-header)")
        raise typer.Exit(2)
    if not no_header:
        return None
    names = [c.strip() for c in (columns or "").split(",")]
    if not columns or not all(names):
        out.print(
            "error: --no-header needs --columns: a name for every column, in order"
            " (e.g. --columns id,full_name,sex,age)"
        )
        raise typer.Exit(2)
    if len(set(names)) != len(names):
        out.print("error: --columns names a column twice")
        raise typer.Exit(2)
    return names


@persons_app.command("import")
def persons_import(
    file: Annotated[Path, typer.Argument(help="The list's file: CSV (any encoding) or XLSX.")],
    list_name: Annotated[str, typer.Option("--list", help="The person list's name.")],
    key: Annotated[
        str | None, typer.Option(help="Column holding the list's own id of a row.")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN, read COLUMN as FIELD (repeatable)."),
    ] = None,
    compartment: Annotated[
        str | None, typer.Option(help="Need-to-know compartment of a new list.")
    ] = None,
    collection: Annotated[
        str | None, typer.Option(help="Collection the file is preserved in (default: the list).")
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="Who handed the list over (for a new collection).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The date the list's ages refer to.")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first).")] = None,
    no_header: Annotated[
        bool,
        typer.Option("--no-header", help="The file has no header row: its first row is a record."),
    ] = False,
    columns: Annotated[
        str | None,
        typer.Option(
            help="With --no-header: the columns in order, comma-separated: a field's name"
            " (full_name, sex, age …) or any name for a column kept unmapped."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
    as_json: JSON = False,
) -> None:
    """Preserve a list's file as an item, then read every row into the list.

    Example: amanah persons import families-2024.csv --list "Families 2024" --key رقم
    --provider "Families association" --as-of 2024-06-30

    A file without a header row: amanah persons import bare.csv --list "Bare" --no-header
    --columns id,full_name,sex,age --key id
    """
    from amanah.persons.lists import import_list

    day = parse_date(as_of, "--as-of")
    named = _columns(no_header, columns)
    overrides = _overrides(mapping or [])
    if named is not None:  # a column named after a field is read as that field
        overrides = {**{c: c for c in named if c in FIELDS}, **overrides}

    def run(ws: Workspace) -> Any:
        with ws.db.reader() as s:
            caller = _caller(ws, s, None, actor)
        if compartment:  # the local administrator holds every compartment, a new one too
            caller = replace(caller, compartments=caller.compartments | {compartment})
        with Bar("reading rows", "items", quiet=quiet or as_json) as bar:
            return import_list(
                ws,
                caller,
                file,
                list_name,
                key=key,
                overrides=overrides,
                compartment=compartment,
                collection=collection,
                provider=provider,
                as_of=day,
                sheet=sheet,
                progress=bar,
                columns=named,
            )

    report = with_workspace(run, *errors())
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_report(report.as_dict())
    raise typer.Exit(0 if report.ok else 1)


def _print_report(r: dict[str, Any]) -> None:
    if r.get("error"):
        out.print(f"error: {r['error']}")
    out.print(
        f"person list {r['list']!r} from item {r['item']} (sha256 {r['sha256']}):"
        f" {r['rows']} rows, {r['imported']} imported, {r['already_present']} already present,"
        f" {r['blank']} blank, {r['bad']} not readable"
    )
    if r.get("encoding"):
        out.print(f"read as {r['kind']} in {r['encoding']}")
    for note in r.get("notes", []):
        out.print(f"note: {note}")
    for p in r.get("problems", []):
        what = "warning" if p["imported"] else "not imported"
        out.print(f"line {p['line']}: {what}: {p['reason']}")


@persons_app.command("list")
def persons_list(user: USER = None, as_json: JSON = False) -> None:
    """The person lists you may see, with their record counts and import reports."""
    from amanah.persons.reading import lists

    def run(ws: Workspace) -> list[dict[str, Any]]:
        with ws.db.reader() as s:
            return lists(s, _caller(ws, s, user))

    found = with_workspace(run, *errors())
    if as_json:
        emit_json(found)
        return
    rows = [
        {
            **x,
            "rows": x["report"].get("rows"),
            "bad": x["report"].get("bad"),
            "imported_at": x["imported_at"][:19],
        }
        for x in found
    ]
    print_table(rows, ["name", "compartment", "item", "records", "rows", "bad", "imported_at"])


@persons_app.command("show")
def persons_show(
    list_name: Annotated[str, typer.Argument(help="The person list's name.")],
    user: USER = None,
    as_json: JSON = False,
) -> None:
    """One person list: its file, compartment, columns and the report of its last import."""
    from amanah.persons.reading import show

    def run(ws: Workspace) -> dict[str, Any]:
        with ws.db.reader() as s:
            return show(s, _caller(ws, s, user), list_name)

    found = with_workspace(run, *errors())
    if as_json:
        emit_json(found)
        return
    out.print(
        f"person list {found['name']!r} ({found['compartment']}): {found['records']} records"
        f" from item {found['item']}"
    )
    for i in found["items"]:
        out.print(f"item {i['item']} sha256 {i['sha256']}: {i['records']} records")
    for f, c in found["mapping"].items():
        out.print(f"{f} ← {c}")
    _print_report({**found["report"], "list": found["name"]})


@persons_app.command("records")
def persons_records(
    list_name: Annotated[str, typer.Argument(help="The person list's name.")],
    full: Annotated[
        bool, typer.Option("--full", help="Every field, the item and line, unmapped columns.")
    ] = False,
    user: USER = None,
    as_json: JSON = False,
) -> None:
    """A list's records, one JSON line each (the shape linkage reads; --full for all they
    hold). Reading them is recorded in the custody ledger."""
    from amanah.persons.reading import record_rows, records_of

    def run(ws: Workspace) -> int:
        with ws.db.session() as s:
            caller = _caller(ws, s, user)
            rows = record_rows(s, caller, list_name) if full else records_of(s, caller, list_name)
            n = 0
            for r in rows:
                obj = r if full else asdict(r)
                if as_json or full:
                    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
                else:
                    out.print(
                        f"{obj['key']}\t{obj['full_name']}\t{obj['sex'] or '-'}"
                        f"\t{obj['birth_year'] or '-'}\t{obj['governorate'] or '-'}"
                    )
                n += 1
            return n

    with_workspace(run, *errors())
