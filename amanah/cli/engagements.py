"""`amanah engagement`: meetings, consultations and interviews with victims and survivors."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from amanah.cli.util import JSON, counts, emit_json, in_session, out, parse_date, print_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from amanah.access import Caller

engagement_app = typer.Typer(
    help="Engagements with victims, survivors and CSOs (meetings, consultations, interviews).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(engagement_app, name="engagement")


def _date(value: str, option: str) -> date:
    found = parse_date(value, option)
    assert found is not None
    return found


@engagement_app.command("add")
def engagement_add(
    kind: Annotated[str, typer.Argument(help="meeting, consultation or interview.")],
    on: Annotated[str, typer.Option("--on", help="When it was held (YYYY-MM-DD).")],
    place: Annotated[str, typer.Option(help="Where (text).")] = "",
    pcode: Annotated[str, typer.Option(help="Where, as a P-code (e.g. SY01).")] = "",
    compartment: Annotated[str, typer.Option(help="Its compartment (need-to-know).")] = "default",
    organisation: Annotated[
        list[str] | None, typer.Option(help="An organisation taking part (repeatable).")
    ] = None,
    topic: Annotated[list[str] | None, typer.Option(help="A topic (repeatable).")] = None,
    participants: Annotated[
        list[str] | None,
        typer.Option(help="SEX:AGE=COUNT, e.g. f:18-59=3 (sex f/m/x; age 0-17/18-59/60+)."),
    ] = None,
    person: Annotated[
        list[str] | None, typer.Option(help="A person it concerns: pseudonym or record:ID.")
    ] = None,
    task: Annotated[
        list[str] | None, typer.Option(help="A follow-up: 'TASK|OWNER|YYYY-MM-DD' (repeatable).")
    ] = None,
    notes: Annotated[str, typer.Option(help="Notes (protected names become pseudonyms).")] = "",
    as_json: JSON = False,
) -> None:
    """Record an engagement: participants as counts, persons by pseudonym, never names.

    Example: amanah engagement add consultation --on 2026-11-02 --pcode SY01
      --organisation "Caesar Families Association" --topic "detainee lists"
      --participants f:18-59=6 --participants m:60+=2 --person "Witness A"
      --task "Send the list extract|legal-1|2026-11-20"
    """
    from amanah.persons import engagements as eng

    held = _date(on, "--on")

    def act(s: Session, c: Caller) -> int:
        row = eng.add(
            s,
            c,
            kind=kind,
            held_on=held,
            place=place,
            pcode=pcode,
            compartment=compartment,
            organisations=organisation or [],
            topics=topic or [],
            participants=eng.parse_participants(participants or []),
            persons=person or [],
            tasks=[eng.parse_task(t) for t in task or []],
            notes=notes,
        )
        return row.id

    new_id = in_session(act)
    if as_json:
        emit_json({"id": new_id})
    else:
        out.print(f"engagement {new_id} recorded")


@engagement_app.command("list")
def engagement_list(as_json: JSON = False) -> None:
    """Engagements you may see, newest first, with open follow-up tasks."""
    from amanah.persons import engagements as eng

    rows = in_session(lambda s, c: eng.list_all(s, c))
    if as_json:
        emit_json(rows)
    else:
        print_table(
            rows,
            ["id", "kind", "held_on", "place", "pcode", "participants", "open_tasks"],
        )


@engagement_app.command("show")
def engagement_show(engagement_id: int, as_json: JSON = False) -> None:
    """One engagement: persons (with protective measures), tasks, what families were told."""
    from amanah.persons import engagements as eng

    found = in_session(lambda s, c: eng.show(s, c, engagement_id))
    if as_json:
        emit_json(found)
        return
    out.print(f"engagement {found['id']}: {found['kind']} on {found['held_on']}")
    out.print(f"place: {found['place'] or found['pcode'] or '-'}")
    by_group = counts(found["participants"])
    out.print(
        f"participants: {found['participants_total']}" + (f" ({by_group})" if by_group else "")
    )
    out.print(f"organisations: {', '.join(found['organisations']) or '-'}")
    out.print(f"topics: {', '.join(found['topics']) or '-'}")
    print_table(found["persons"], ["person", "no_contact", "relocation"])
    print_table(found["tasks"], ["id", "task", "owner", "due_on", "done", "overdue"])
    if found["contacts"]:
        print_table(found["contacts"], ["person", "contact", "relation", "told_on", "told"])


@engagement_app.command("task-done")
def engagement_task_done(task_id: int) -> None:
    """Mark a follow-up task done.

    Example: amanah engagement task-done 4
    """
    from amanah.persons import engagements as eng

    in_session(lambda s, c: eng.task_done(s, c, task_id))
    out.print(f"task {task_id} done")


@engagement_app.command("told")
def engagement_told(
    engagement_id: int,
    person: Annotated[str, typer.Argument(help="The person: pseudonym or record:ID.")],
    contact: Annotated[str, typer.Option(help="The family's point of contact, a pseudonym.")],
    told: Annotated[str, typer.Option(help="What they were told.")],
    on: Annotated[str, typer.Option("--on", help="When (YYYY-MM-DD).")],
    relation: Annotated[str, typer.Option(help="e.g. mother, brother.")] = "",
) -> None:
    """Record what a person's family was told, when, through their point of contact.

    Example: amanah engagement told 3 record:17 --contact "Contact 17-A" --relation mother
      --told "Record found in a detention register; verification under way" --on 2026-11-05
    """
    from amanah.persons import engagements as eng

    when = _date(on, "--on")
    in_session(
        lambda s, c: eng.add_contact(s, c, engagement_id, person, contact, told, when, relation)
    )
    out.print(f"recorded what {contact} was told on {when.isoformat()}")


@engagement_app.command("measures")
def engagement_measures(
    pseudonym: Annotated[str, typer.Argument(help="The protected person's pseudonym.")],
    no_contact: Annotated[bool, typer.Option("--no-contact/--contact-allowed")] = False,
    relocation: Annotated[bool, typer.Option("--relocation/--no-relocation")] = False,
    note: Annotated[str, typer.Option(help="A note.")] = "",
) -> None:
    """Record a protected person's protective measures (no contact, relocation).

    Example: amanah engagement measures "Witness A" --no-contact --relocation
    """
    from amanah.persons import engagements as eng

    in_session(
        lambda s, c: eng.set_measures(
            s, c, pseudonym, no_contact=no_contact, relocation=relocation, note=note
        )
    )
    out.print(f"measures for {pseudonym}: no contact {no_contact}, relocation {relocation}")
