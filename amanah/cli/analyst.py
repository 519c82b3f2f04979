"""`amanah tag`, `amanah note` and `amanah saved`: the analyst's own layer from the command
line (tags and notes on items, saved searches). A thin layer over amanah.analyst; adding or
removing a tag and adding a note are custody events naming who."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from amanah.analyst import AnalystError
from amanah.cli.util import ACTOR_HELP, emit_json, out, with_workspace
from amanah.system import default_actor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from amanah.access import Caller
    from amanah.workspace import Workspace

T = TypeVar("T")
tag_app = typer.Typer(help="Analysts' tags on items (work product, never shared).")
note_app = typer.Typer(help="Analysts' notes on items (work product, never shared).")
saved_app = typer.Typer(help="Saved searches: a query under a name, run again at will.")
for _group in (tag_app, note_app, saved_app):
    _group.info.no_args_is_help = True
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ACTOR = Annotated[str | None, typer.Option(help=ACTOR_HELP)]


def register(app: typer.Typer) -> None:
    app.add_typer(tag_app, name="tag")
    app.add_typer(note_app, name="note")
    app.add_typer(saved_app, name="saved")


def _errors() -> tuple[type[Exception], ...]:
    """What an analyst's command refuses with (imported when a command runs, not at start)."""
    from amanah.access import AccessDenied, NotVisible
    from amanah.search.query import QueryError

    return (AnalystError, AccessDenied, NotVisible, QueryError)


def _write(actor: str | None, action: Callable[[Session, Caller], T]) -> T:
    """One change in one transaction, as the local administrator under the actor's name."""
    from amanah.access import local_administrator

    def run(ws: Workspace) -> T:
        caller = local_administrator(ws, default_actor(actor))
        with ws.db.session() as s:
            return action(s, caller)

    return with_workspace(run, *_errors())


def _read(action: Callable[[Session, Caller], T]) -> T:
    from amanah.access import local_administrator

    def run(ws: Workspace) -> T:
        caller = local_administrator(ws, default_actor())
        with ws.db.reader() as s:
            return action(s, caller)

    return with_workspace(run, *_errors())


@tag_app.command("add")
def tag_add(
    label: Annotated[str, typer.Argument(help="The tag, in any script (case does not matter).")],
    item_ids: Annotated[list[int], typer.Argument(help="Item ids.")],
    actor: ACTOR = None,
) -> None:
    """Tag items; every item must exist, or none is tagged.

    Example: amanah tag add torture 12 13 14
    """
    from amanah.access import NotVisible, visible_item_ids
    from amanah.analyst import tags

    def act(s: Session, caller: Caller) -> dict[str, int]:
        missing = sorted(set(item_ids) - visible_item_ids(s, caller, item_ids))
        if missing:
            raise NotVisible(f"no item with id {', '.join(map(str, missing[:10]))}")
        return tags.add_many(s, caller, item_ids, label)

    done = _write(actor, act)
    already = done["items"] - done["tagged"]
    out.print(
        f"{done['tagged']} item{'s' if done['tagged'] != 1 else ''} tagged"
        + (f" ({already} already had the tag)" if already else "")
    )


@tag_app.command("remove")
def tag_remove(
    label: Annotated[str, typer.Argument(help="The tag.")],
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    actor: ACTOR = None,
) -> None:
    """Take a tag off an item (exit 1 when the item did not have it).

    Example: amanah tag remove torture 12
    """
    from amanah.analyst import tags

    if not _write(actor, lambda s, c: tags.remove(s, c, item_id, label)):
        out.print(f"item {item_id} has no tag {label!r}")
        raise typer.Exit(1)
    out.print(f"tag removed from item {item_id}")


@tag_app.command("list")
def tag_list(
    item: Annotated[int | None, typer.Option(help="The tags of this item only.")] = None,
    as_json: JSON = False,
) -> None:
    """Every tag with its number of items, or one item's tags with who added them when.

    Example: amanah tag list --item 12
    """
    from amanah.access import visible_item
    from amanah.analyst import tags

    def act(s: Session, c: Caller) -> list[dict[str, Any]]:
        if item is None:
            return tags.counts(s, c)
        visible_item(s, c, item)
        return tags.of_item(s, c, item)

    rows = _read(act)
    if as_json:
        emit_json(rows)
        return
    if item is None:
        table = Table("tag", "items")
        for r in rows:
            table.add_row(r["tag"], str(r["items"]))
    else:
        table = Table("tag", "by", "at")
        for r in rows:
            table.add_row(r["tag"], r["by"], r["at"])
    out.print(table)


@note_app.command("add")
def note_add(
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    text: Annotated[str, typer.Argument(help="The note.")],
    actor: ACTOR = None,
) -> None:
    """Add a note to an item (a protected person's name is kept as the pseudonym).

    Example: amanah note add 12 "Same checkpoint as in item 9; ask the provider for the date."
    """
    from amanah.analyst import notes

    note_id = _write(actor, lambda s, c: notes.add(s, c, item_id, text).id)
    out.print(f"note {note_id} added to item {item_id}")


@note_app.command("list")
def note_list(
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    as_json: JSON = False,
) -> None:
    """The notes on an item, oldest first, with who wrote them when.

    Example: amanah note list 12
    """
    from amanah.access import visible_item
    from amanah.analyst import notes

    def act(s: Session, c: Caller) -> list[dict[str, Any]]:
        visible_item(s, c, item_id)
        return notes.of_item(s, c, item_id)

    rows = _read(act)
    if as_json:
        emit_json(rows)
        return
    for n in rows:
        out.print(f"note {n['id']} by {n['by']} at {n['at']}")
        out.print(f"  {n['text']}", markup=False, highlight=False)


@saved_app.command("add")
def saved_add(
    name: Annotated[str, typer.Argument(help="A name for the search.")],
    query: Annotated[str, typer.Argument(help="The query, as for `amanah search`.")],
    share: Annotated[str, typer.Option(help="Share with the holders of this compartment.")] = "",
    actor: ACTOR = None,
) -> None:
    """Save a query under a name.

    Example: amanah saved add "Branch 215" '"branch 215" OR "فرع 215"' --share blue
    """
    from amanah.analyst import saved_searches

    saved_id = _write(
        actor, lambda s, c: saved_searches.save(s, c, name, query, shared_with=share).id
    )
    out.print(f"saved search {saved_id} added")


@saved_app.command("list")
def saved_list(as_json: JSON = False) -> None:
    """Your saved searches and those shared with your teams.

    Example: amanah saved list
    """
    from amanah.analyst import saved_searches

    rows = _read(lambda s, c: saved_searches.listing(s, c))
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "name", "query", "shared with", "owner")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["query"], r["shared_with"], r["owner"])
    out.print(table)


@saved_app.command("delete")
def saved_delete(
    saved_id: Annotated[int, typer.Argument(help="Saved search id.")], actor: ACTOR = None
) -> None:
    """Delete one of your saved searches.

    Example: amanah saved delete 3
    """
    from amanah.analyst import saved_searches

    _write(actor, lambda s, c: saved_searches.delete(s, c, saved_id))
    out.print(f"saved search {saved_id} deleted")
