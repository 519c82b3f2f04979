"""`amanah consent`: providers' consent for a request, recorded and asked for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from amanah.cli.util import (
    JSON,
    emit_json,
    in_session,
    new_file,
    out,
    print_table,
    write_new_file,
)

consent_app = typer.Typer(help="Providers' consent for a request.", no_args_is_help=True)


@consent_app.command("record")
def consent_record(
    reference: str,
    provider: str,
    status: Annotated[str, typer.Argument(help="requested, given or withheld.")],
    by: Annotated[str, typer.Option(help="Who gave or withheld it, at the provider.")] = "",
    item: Annotated[
        list[int] | None, typer.Option(help="Only this item (repeatable); default all.")
    ] = None,
    note: Annotated[str, typer.Option(help="A note, e.g. the letter's reference.")] = "",
) -> None:
    """Record a provider's consent for a request (the latest record covering an item counts).

    Example: amanah consent record RFA-2026-014 "Detainees Association" given
      --by "Director, by letter of 2026-11-02"
    """
    from amanah.sharing import consent

    in_session(
        lambda s, c: consent.record(
            s, c, reference, provider, status, items=item, given_by=by, note=note
        )
    )
    out.print(f"consent {status} by {provider} for {reference}")


@consent_app.command("list")
def consent_list(reference: str, as_json: JSON = False) -> None:
    """Consent records of a request."""
    from amanah.sharing import consent

    rows = in_session(lambda s, c: consent.history(s, c, reference))
    if as_json:
        emit_json(rows)
    else:
        print_table(rows, ["provider", "status", "items", "by", "at"])


@consent_app.command("letter")
def consent_letter(
    reference: str,
    provider: str,
    out_path: Annotated[Path, typer.Argument(help="A new file to write the PDF to.")],
) -> None:
    """Write the consent-request letter to a provider (PDF, English and Arabic).

    Example: amanah consent letter RFA-2026-014 "Detainees Association" consent.pdf
    """
    from amanah.sharing import consent

    new_file(out_path)
    pdf = in_session(lambda s, c: consent.letter(s, c, reference, provider))
    write_new_file(out_path, pdf)
    out.print(f"wrote {out_path} ({len(pdf):,} bytes)")


# -- victims' and survivors' consent, per person (amanah.sharing.person_consent) ------------

person_app = typer.Typer(
    help="Victims' and survivors' consent, per person (pseudonym or record:ID).",
    no_args_is_help=True,
)
consent_app.add_typer(person_app, name="person")
USE = Annotated[
    list[str] | None,
    typer.Option("--use", help="investigation, sharing, publication or contact (repeatable)."),
]
RECIPIENT = Annotated[
    list[str] | None,
    typer.Option("--recipient", help="A jurisdiction code (repeatable); default all."),
]
TOLD = Annotated[str, typer.Option(help="What the person was told (names become pseudonyms).")]
ON = Annotated[str | None, typer.Option("--on", help="When (YYYY-MM-DD).")]


@person_app.command("give")
def person_give(
    person: Annotated[str, typer.Argument(help="A pseudonym, or record:ID of a person list.")],
    use: USE = None,
    recipient: RECIPIENT = None,
    told: TOLD = "",
    on: ON = None,
) -> None:
    """Record a person's consent: the uses and recipients it covers from now on.

    Example: amanah consent person give "Witness A" --use investigation --use sharing
      --recipient DE-GBA --told "Explained the German case and the package" --on 2026-11-03
    """
    from amanah.cli.util import parse_date
    from amanah.sharing import person_consent

    when = parse_date(on, "--on")
    row = in_session(
        lambda s, c: person_consent.give(
            s, c, person, use or [], recipient or [], told=told, given_on=when
        )
    )
    out.print(f"consent given by {person} for {', '.join(json.loads(row.uses))}")


@person_app.command("withdraw")
def person_withdraw(
    person: Annotated[str, typer.Argument(help="A pseudonym, or record:ID of a person list.")],
    use: USE = None,
    recipient: RECIPIENT = None,
    told: TOLD = "",
    on: ON = None,
) -> None:
    """Record a withdrawal: of the uses or recipients named, or of everything.

    Items linked to the person are then left out of every package the scope no longer
    covers, and out of search when investigation is withdrawn.

    Example: amanah consent person withdraw "Witness A" --use sharing --on 2026-12-01
    """
    from amanah.cli.util import parse_date
    from amanah.sharing import person_consent

    when = parse_date(on, "--on")
    row = in_session(
        lambda s, c: person_consent.withdraw(
            s, c, person, use or [], recipient or [], told=told, given_on=when
        )
    )
    left = json.loads(row.uses)
    out.print(f"consent withdrawn for {person}; still covers: {', '.join(left) or 'nothing'}")


@person_app.command("link")
def person_link(
    person: Annotated[str, typer.Argument(help="A pseudonym, or record:ID of a person list.")],
    item: Annotated[list[int], typer.Argument(help="Items about the person (their statement).")],
) -> None:
    """Say items are about a person: their consent then governs those items.

    Example: amanah consent person link "Witness A" 12 13
    """
    from amanah.sharing import person_consent

    in_session(lambda s, c: [person_consent.link_item(s, c, person, i) for i in item])
    out.print(f"{len(item)} item(s) linked to {person}")


@person_app.command("not-same")
def person_not_same(
    item: Annotated[int, typer.Argument(help="An item withheld as a near-duplicate.")],
    of: Annotated[int, typer.Argument(help="The item it was called a near-duplicate of.")],
) -> None:
    """Decide two near-duplicate items are not the same document: the consent link derived
    from one to the other is lifted (recorded, a custody event) and not derived again.

    Example: amanah consent person not-same 14 12
    """
    from amanah.sharing import near_duplicate_links

    done = in_session(lambda s, c: near_duplicate_links.not_same_document(s, c, item, of))
    out.print(f"items {item} and {of}: not the same document; {done['lifted']} link(s) lifted")


@person_app.command("list")
def person_list(
    person: Annotated[str | None, typer.Argument(help="One person: their history.")] = None,
    as_json: JSON = False,
) -> None:
    """Persons with consent records or linked items; or one person's consent history."""
    from amanah.sharing import person_consent

    if person is None:
        rows = in_session(lambda s, c: person_consent.list_all(s, c))
        if as_json:
            emit_json(rows)
        else:
            print_table(rows, ["person", "status", "uses", "recipients", "items", "recorded_at"])
        return
    found = in_session(lambda s, c: person_consent.history(s, c, person))
    if as_json:
        emit_json(found)
        return
    print_table(
        found["history"], ["status", "uses", "recipients", "given_on", "recorded_at", "told"]
    )
    out.print(f"items: {', '.join(map(str, found['items'])) or 'none'}")
