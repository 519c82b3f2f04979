"""`amanah persons link`: which records of person lists are the same person.

Reads lists as PersonRecord JSON lines (`--from-jsonl FILE`, once per list) and prints one JSON
line per candidate pair: {"a", "b" (the records' keys), "a_list", "b_list", "score",
"match", "review", "explanation"}; with `--clusters`, one line per cluster of linked records
instead. A thin layer over amanah.persons.linkage.

`register(app)` attaches `link` to the `persons` group, or makes that group when no module has
(call it after the group's own registration); `app` runs it on its own:
`python -m amanah.cli.linkage link --from-jsonl a.jsonl ...`.

Exit status: 0 done; 1 done, but some lines could not be read (each reported with its file and
line, and left out); 2 the request was wrong (no such file, a bad threshold).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from amanah.cli.util import fail
from amanah.persons.record import SEXES, PersonRecord

_FIELDS = {f.name: f for f in dataclasses.fields(PersonRecord)}
_INTS = {"birth_year", "birth_year_spread"}


class BadLine(ValueError):
    """A line that is not a person record (the reason, without the line's content)."""


def record_from_json(obj: Any, default_list: str) -> PersonRecord:
    """A PersonRecord from one decoded JSON line, checked field by field."""
    if not isinstance(obj, dict):
        raise BadLine("not a JSON object")
    unknown = sorted(set(obj) - set(_FIELDS))
    if unknown:
        raise BadLine(f"unknown fields: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in obj.items():
        if name in _INTS:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadLine(f"{name} must be a whole number")
            values[name] = value if value is not None or name == "birth_year" else 0
        else:
            if value is None:
                value = ""
            if name == "key" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise BadLine(f"{name} must be text")
            values[name] = value
    key = values.get("key")
    if key is None or (isinstance(key, str) and not key.strip()):
        raise BadLine("no key")
    if values.get("sex", "") not in SEXES:
        raise BadLine("sex must be one of m, f or empty")
    values.setdefault("list_name", default_list)
    values["list_name"] = values["list_name"] or default_list
    return PersonRecord(**values)


def read_jsonl(path: Path) -> tuple[list[PersonRecord], list[str]]:
    """The records of one JSON-lines file, and a problem per line that could not be read."""
    records: list[PersonRecord] = []
    problems: list[str] = []
    seen: set[str] = set()
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
                record = record_from_json(obj, path.stem)
                if record.key in seen:
                    raise BadLine("a key already given on an earlier line")
            except UnicodeDecodeError:
                problems.append(f"{path}:{number}: not UTF-8")
                continue
            except json.JSONDecodeError as e:
                problems.append(f"{path}:{number}: not JSON ({e.msg})")
                continue
            except BadLine as e:
                problems.append(f"{path}:{number}: {e}")
                continue
            seen.add(record.key)
            records.append(record)
    return records, problems


def _home_lists(names: list[str], user: str | None) -> list[list[PersonRecord]]:
    """The records of person lists kept in the home, read as the caller may link them (an
    audited read per list; a list the caller may not see is "no such list"; a record whose
    person withdrew consent for investigation is not read, `reading.records_to_link`)."""
    from amanah.cli.persons import _caller, errors
    from amanah.cli.util import with_workspace
    from amanah.persons.reading import records_to_link

    def act(ws: Any) -> list[list[PersonRecord]]:
        with ws.db.session() as s:
            caller = _caller(ws, s, user)
            return [list(records_to_link(s, caller, name)) for name in names]

    return with_workspace(act, *errors())


def choose_engine(option: str | None) -> tuple[str, str | None]:
    """The linkage engine of a run and the database it needs: `--engine`, else the home's
    `linkage_engine`, else DuckDB (no home: lists given as files)."""
    from amanah.cli.util import state
    from amanah.config import ConfigError, load_settings, resolve_home
    from amanah.persons.engines import ENGINES

    if option is not None and option not in ENGINES:
        fail(f"--engine {option}: expected one of {', '.join(ENGINES)}")
    try:
        settings = load_settings(resolve_home(state.home))
    except ConfigError as e:
        if option == "postgresql":
            fail(f"--engine postgresql runs in the home's PostgreSQL database: {e}")
        return "duckdb", None
    chosen = option or settings.linkage_engine
    if chosen == "postgresql" and not settings.database_url.startswith("postgresql"):
        fail("--engine postgresql runs in the home's database, and this home's is not PostgreSQL")
    return chosen, settings.database_url if chosen == "postgresql" else None


def link(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Person lists of this home, by name (one list: de-duplicate it)."),
    ] = None,
    from_jsonl: Annotated[
        list[Path] | None,
        typer.Option(
            "--from-jsonl",
            help="A list as PersonRecord JSON lines; once per list (one list: de-duplicate it).",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Read the home's lists as this Amanah user may."),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="A pair at or above this probability is a link.")
    ] = 0.9,
    review_margin: Annotated[
        float, typer.Option(help="Pairs within this many bits of the threshold need review.")
    ] = 4.0,
    floor: Annotated[float, typer.Option(help="Pairs below this probability are left out.")] = 0.01,
    clusters: Annotated[
        bool, typer.Option("--clusters", help="Print clusters of linked records, not pairs.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (the only output).")] = True,
    store: Annotated[
        bool,
        typer.Option(
            "--store", help="Keep the run and its pairs for review (`amanah persons review`)."
        ),
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Where the model runs: duckdb (embedded) or postgresql (the home's PostgreSQL"
            " database, in a private schema dropped afterwards). Default: the home's"
            " linkage_engine, else duckdb.",
        ),
    ] = None,
) -> None:
    """Link person lists, or de-duplicate one: one JSON line per candidate pair.

    Examples: amanah persons link "Families 2023" "Families 2024";
    amanah persons link --from-jsonl list-2023.jsonl --from-jsonl list-2024.jsonl
    """
    from amanah.persons import linkage

    if not 0 < threshold < 1:
        fail(f"--threshold {threshold}: expected a probability between 0 and 1")
    if not 0 <= floor < 1:
        fail(f"--floor {floor}: expected a probability between 0 and 1")
    if not names and not from_jsonl:
        fail("name the person lists to link (or give --from-jsonl FILE)")
    engine_name, database_url = choose_engine(engine)
    if store:
        if from_jsonl or not names:
            fail("--store keeps runs of the home's person lists only: name them, not --from-jsonl")
        from amanah.cli.persons_review import link_and_store

        link_and_store(
            list(names),
            user,
            threshold,
            review_margin,
            floor,
            clusters,
            engine=(engine_name, database_url),
        )
        return
    lists: list[list[PersonRecord]] = _home_lists(list(names), user) if names else []
    problems: list[str] = []
    for path in from_jsonl or []:
        if not path.is_file():
            fail(f"{path}: no such file")
        try:
            records, bad = read_jsonl(path)
        except OSError as e:
            fail(f"{path}: cannot be read ({e.strerror})")
        lists.append(records)
        problems.extend(bad)
    for p in problems:
        typer.echo(f"not linked: {p}", err=True)
    pairs = linkage.link_lists(
        lists, threshold, review_margin, floor, engine=engine_name, database_url=database_url
    )
    write = sys.stdout.write
    if clusters:
        for group in linkage.clusters(pairs):
            write(json.dumps({"cluster": sorted(map(list, group))}, ensure_ascii=False) + "\n")
    else:
        for pair in pairs:
            write(json.dumps(pair.as_json(), ensure_ascii=False) + "\n")
    if problems:
        raise typer.Exit(1)


_HELP = "Person lists of the missing, detained and dead: record linkage."


def register(app: typer.Typer) -> None:
    """Attach `link` to the `amanah persons` group, making the group if none is registered."""
    for info in app.registered_groups:
        if info.name == "persons" and info.typer_instance is not None:
            info.typer_instance.command("link")(link)
            return
    persons = typer.Typer(help=_HELP, no_args_is_help=True)
    persons.command("link")(link)
    app.add_typer(persons, name="persons")


app = typer.Typer(help=_HELP, no_args_is_help=True)


@app.callback()
def _persons() -> None:
    """Person lists (a group of its own, so that `link` keeps its name when run alone)."""


app.command("link")(link)


if __name__ == "__main__":
    app()
