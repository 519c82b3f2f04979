"""`amanah protected`: protected persons (witnesses, sources) whose names never leave."""

from __future__ import annotations

from typing import Annotated

import typer

from amanah.cli.util import JSON, emit_json, err, in_session, out, print_table

protected_app = typer.Typer(
    help="Protected persons (witnesses, sources) whose names never leave.", no_args_is_help=True
)


@protected_app.command("add")
def protected_add(
    pseudonym: Annotated[str, typer.Argument(help="How packages name them, e.g. 'Witness A'.")],
    name: Annotated[list[str], typer.Option(help="A spelling of the name (repeatable).")],
    role: Annotated[str, typer.Option(help="witness, source, victim or other.")] = "witness",
    notes: Annotated[str, typer.Option(help="Notes.")] = "",
) -> None:
    """Record a protected person with every spelling of their name (Arabic and Latin).

    Names are kept only as keyed digests. `--name -` reads spellings from standard input, one a
    line, so that they stay out of the shell's history and the process list.

    Example: amanah protected add "Witness A" --name "أحمد الخطيب" --name "Ahmad al-Khatib"
      --name "Ahmed Alkhatib";  amanah protected add "Witness B" --name - < spellings.txt
    """
    from amanah.sharing import protected

    name = _spellings(name)
    in_session(lambda s, c: protected.add(s, c, pseudonym, name, role, notes))
    out.print(f"protected person {pseudonym!r} recorded with {len(name)} spelling(s)")


def _spellings(given: list[str]) -> list[str]:
    """The spellings given, with `-` replaced by the lines of standard input."""
    import sys

    out: list[str] = []
    for n in given:
        if n == "-":
            out.extend(line.strip() for line in sys.stdin.read().splitlines() if line.strip())
        else:
            out.append(n)
    return out


@protected_app.command("spelling")
def protected_spelling(pseudonym: str, name: str) -> None:
    """Add a spelling of a protected person's name (`-`: read it from standard input).

    Example: amanah protected spelling "Witness A" "احمد خطيب"
    """
    from amanah.sharing import protected

    spelling = (_spellings([name]) or [""])[0]
    in_session(lambda s, c: protected.add_spelling(s, c, pseudonym, spelling))
    out.print(f"spelling added to {pseudonym!r}")


@protected_app.command("list")
def protected_list(
    names: Annotated[
        bool, typer.Option("--names", help="Names cannot be shown: they are kept as digests.")
    ] = False,
    as_json: JSON = False,
) -> None:
    """List protected persons: pseudonyms, roles and how many spellings each has.

    Names are never stored in clear (only keyed digests), so `--names` cannot show them.
    """
    from amanah.sharing import protected

    rows = in_session(lambda s, c: protected.list_all(s, c))
    if names:
        err.print(protected.NAMES_NOT_KEPT)
    if as_json:
        emit_json(rows)
    else:
        print_table(rows, ["pseudonym", "role", "spellings"])
