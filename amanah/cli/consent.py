"""`amanah consent`: providers' consent for a request, recorded and asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amanah.cli.util import JSON, emit_json, in_session, out, print_table

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
    out_path: Annotated[Path, typer.Argument(help="Where to write the PDF.")],
) -> None:
    """Write the consent-request letter to a provider (PDF, English and Arabic).

    Example: amanah consent letter RFA-2026-014 "Detainees Association" consent.pdf
    """
    from amanah.sharing import consent

    pdf = in_session(lambda s, c: consent.letter(s, c, reference, provider))
    out_path.write_bytes(pdf)
    out.print(f"wrote {out_path} ({len(pdf):,} bytes)")
