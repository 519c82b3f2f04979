"""`amanah jurisdiction` and `amanah rfa`: requests for assistance from competent
jurisdictions, from receipt through search and review to metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from amanah.cli.util import (
    JSON,
    counts,
    emit_json,
    in_session,
    out,
    parse_date,
    print_table,
    request_errors,
    with_workspace,
)

if TYPE_CHECKING:
    from amanah.workspace import Workspace

jurisdiction_app = typer.Typer(
    help="Competent jurisdictions that send requests.", no_args_is_help=True
)
rfa_app = typer.Typer(
    help="Requests for assistance: lifecycle, searches, review, metrics.", no_args_is_help=True
)


# -- jurisdictions ---------------------------------------------------------------------------


@jurisdiction_app.command("add")
def jurisdiction_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. DE-GBA.")],
    state: Annotated[str, typer.Option(help="The state, e.g. Germany.")],
    authority: Annotated[str, typer.Option(help="The authority, e.g. the prosecutor's office.")],
    unit: Annotated[str, typer.Option(help="The unit, e.g. its war-crimes unit.")] = "",
    legal_basis: Annotated[str, typer.Option(help="Legal basis for cooperation.")] = "",
    contacts: Annotated[str, typer.Option(help="Contacts (names, addresses).")] = "",
) -> None:
    """Record a competent jurisdiction.

    Example: amanah jurisdiction add DE-GBA --state Germany
      --authority "Federal Public Prosecutor General" --unit "War crimes unit (S4)"
      --legal-basis "Universal jurisdiction, VStGB"
    """
    from amanah.rfa import jurisdictions

    in_session(
        lambda s, _c: jurisdictions.add(
            s,
            code,
            state=state,
            authority=authority,
            unit=unit,
            legal_basis=legal_basis,
            contacts=contacts,
        )
    )
    out.print(f"jurisdiction {code}: {authority} ({state})")


@jurisdiction_app.command("list")
def jurisdiction_list(as_json: JSON = False) -> None:
    """List jurisdictions."""
    from amanah.rfa import jurisdictions

    rows = in_session(lambda s, _c: jurisdictions.list_all(s))
    if as_json:
        emit_json(rows)
    else:
        print_table(rows, ["code", "state", "authority", "unit"])


# -- requests --------------------------------------------------------------------------------


@rfa_app.command("add")
def rfa_add(
    reference: Annotated[str, typer.Argument(help="The request's reference.")],
    jurisdiction: Annotated[str, typer.Option(help="Jurisdiction code (it must exist).")],
    received_on: Annotated[str, typer.Option(help="Date received, YYYY-MM-DD.")],
    subject: Annotated[str, typer.Option(help="The subject in free text.")] = "",
    urgency: Annotated[str, typer.Option(help="urgent or normal.")] = "normal",
    deadline: Annotated[str | None, typer.Option(help="Deadline, YYYY-MM-DD.")] = None,
    person: Annotated[list[str] | None, typer.Option(help="A person named (repeatable).")] = None,
    organisation: Annotated[
        list[str] | None, typer.Option(help="An organisation or unit (repeatable).")
    ] = None,
    place: Annotated[list[str] | None, typer.Option(help="A place (repeatable).")] = None,
    crime: Annotated[list[str] | None, typer.Option(help="A crime (repeatable).")] = None,
    period_from: Annotated[str | None, typer.Option(help="Period start, YYYY-MM-DD.")] = None,
    period_to: Annotated[str | None, typer.Option(help="Period end, YYYY-MM-DD.")] = None,
    assignee: Annotated[str, typer.Option(help="Who handles it.")] = "",
    compartment: Annotated[
        list[str] | None,
        typer.Option(
            help="A compartment of the request (repeatable; default: default). Only people"
            " holding all of them see it, and it sees items of these compartments only."
        ),
    ] = None,
) -> None:
    """Record a request for assistance as received.

    Example: amanah rfa add RFA-2026-014 --jurisdiction DE-GBA --received-on 2026-10-01
      --subject "Detentions at the air force intelligence branch, Mezzeh, 2012-2013"
      --organisation "Air Force Intelligence" --place Mezzeh --crime torture
      --period-from 2012-01-01 --period-to 2013-12-31 --urgency urgent --compartment mezzeh
    """
    from amanah.access import choose_request_compartments
    from amanah.rfa import requests

    received = parse_date(received_on, "--received-on")
    assert received is not None
    due = parse_date(deadline, "--deadline")
    fields = {
        "persons": person or [],
        "organisations": organisation or [],
        "places": place or [],
        "crimes": crime or [],
        "period_from": period_from,
        "period_to": period_to,
    }
    in_session(
        lambda s, c: requests.create(
            s,
            reference,
            jurisdiction,
            received_on=received,
            actor=c.actor,
            urgency=urgency,
            deadline=due,
            subject=subject,
            fields=fields,
            assignee=assignee,
            compartments=choose_request_compartments(c, compartment or ["default"]),
            caller=c,
        )
    )
    shown = ", ".join(sorted(set(compartment or ["default"])))
    out.print(
        f"request {reference} received on {received} from {jurisdiction} (compartments: {shown})"
    )


@rfa_app.command("list")
def rfa_list(
    state: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
    as_json: JSON = False,
) -> None:
    """List requests, newest first."""
    from amanah.rfa import requests

    rows = in_session(lambda s, c: requests.list_requests(s, c, state))
    if as_json:
        emit_json(rows)
    else:
        print_table(
            [{**r, "compartments": " ".join(r["compartments"])} for r in rows],
            ["reference", "jurisdiction", "received_on", "urgency", "state", "compartments"],
        )


@rfa_app.command("show")
def rfa_show(reference: str, as_json: JSON = False) -> None:
    """A request: record, history, searches run for it, review counts, packages."""
    from amanah.rfa import requests

    found = in_session(lambda s, c: requests.describe(s, c, reference))
    if as_json:
        emit_json(found)
        return
    for key in ("reference", "jurisdiction_name", "received_on", "urgency", "deadline", "state"):
        out.print(f"{key.replace('_', ' ')}: {found[key] or '—'}")
    out.print(f"compartments: {', '.join(found['compartments'])}")
    out.print(f"subject: {found['subject']}")
    out.print("history:")
    for e in found["events"]:
        out.print(f"  {e['at'][:19]} {e['actor']}: {e['from'] or '—'} → {e['to']} {e['note']}")
    out.print(f"searches: {len(found['searches'])}")
    for q in found["searches"]:
        out.print(f"  #{q['id']} {q['at'][:19]} {q['query']!r}: {q['hits']} hits")
    out.print(f"review: {counts(found['review']) or 'nothing yet'}")
    for p in found["packages"]:
        out.print(f"package {p['id']}: {p['items']} items, {p['created_at'][:19]}")


@rfa_app.command("move")
def rfa_move(
    reference: str,
    state: Annotated[str, typer.Argument(help="The new state.")],
    reason: Annotated[str, typer.Option(help="When declining: why (see --help).")] = "",
    note: Annotated[str, typer.Option(help="A note kept with the change.")] = "",
    on: Annotated[str | None, typer.Option(help="Date of a response, YYYY-MM-DD.")] = None,
) -> None:
    """Move a request along its lifecycle (each change dated and attributed).

    received → acknowledged → in_progress → in_review → responded | partially_met → closed;
    or declined (--reason out_of_mandate,
    insufficient_resources, no_relevant_material, not_competent, provider_terms, withdrawn,
    other).

    Example: amanah rfa move RFA-2026-014 declined --reason out_of_mandate
    """
    from amanah.rfa import requests

    day = parse_date(on, "--on")
    in_session(
        lambda s, c: requests.move(s, reference, state, c.actor, reason=reason, note=note, on=day)
    )
    out.print(f"request {reference} is {state}")


@rfa_app.command("assign")
def rfa_assign(reference: str, assignee: str) -> None:
    """Give a request to someone.

    Example: amanah rfa assign RFA-2026-014 rania
    """
    from amanah.rfa import requests

    in_session(lambda s, c: requests.assign(s, reference, assignee, c.actor, c))
    out.print(f"request {reference} is assigned to {assignee}")


@rfa_app.command("note")
def rfa_note(reference: str, note: str) -> None:
    """Add a dated note to a request.

    Example: amanah rfa note RFA-2026-014 "Called the unit; scope agreed"
    """
    from amanah.rfa import requests

    in_session(lambda s, c: requests.add_note(s, reference, note, c.actor))
    out.print(f"note added to {reference}")


@rfa_app.command("search")
def rfa_search(
    reference: str,
    query: Annotated[str, typer.Argument(help="The search (same language as `amanah search`).")],
) -> None:
    """Search for a request: logged with it; every hit becomes a candidate for review.

    Example: amanah rfa search RFA-2026-014 'مخابرات جوية OR "air force intelligence"'
    """
    from amanah.access import local_administrator
    from amanah.rfa import review

    def act(ws: Workspace) -> dict[str, Any]:
        return review.candidates_from_search(ws, local_administrator(ws), reference, query)

    found = with_workspace(act, *request_errors(), ValueError)
    out.print(
        f"search {found['search_id']}: {found['hits']} hits, {found['added']} new candidates"
        f" for {reference}"
    )


@rfa_app.command("attach-search")
def rfa_attach_search(reference: str, search_id: int) -> None:
    """Count a search already run (see `amanah searches`) as run for this request."""
    from amanah.rfa import requests

    in_session(lambda s, c: requests.attach_search(s, c, reference, search_id))
    out.print(f"search {search_id} is attached to {reference}")


@rfa_app.command("review")
def rfa_review(
    reference: str,
    decision: Annotated[str, typer.Argument(help="relevant, not_relevant or pending.")],
    items: Annotated[list[int], typer.Argument(help="Item ids.")],
    note: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Decide on items for a request (items not yet candidates are added by hand).

    Example: amanah rfa review RFA-2026-014 relevant 12 15 19
    """
    from amanah.rfa import review

    n = in_session(lambda s, c: review.decide(s, c, reference, items, decision, note))
    out.print(f"{n} item(s) marked {decision} for {reference}")


@rfa_app.command("candidates")
def rfa_candidates(
    reference: str,
    decision: Annotated[str | None, typer.Option(help="Only this decision.")] = None,
    as_json: JSON = False,
) -> None:
    """The review: each candidate, its decision and its disclosure status.

    The status follows the provider's terms and consent records: disclosable, needs_consent
    or blocked, with the reason.
    """
    from amanah.sharing import terms

    def work(s: Any, c: Any) -> list[dict[str, Any]]:
        return terms.review_with_status(s, c, reference, decision)

    rows = in_session(work)
    if as_json:
        emit_json(rows)
    else:
        print_table(rows, ["item_id", "path", "provider", "decision", "disclosure", "reason"])


@rfa_app.command("metrics")
def rfa_metrics(as_json: JSON = False) -> None:
    """Response metrics: days to respond, open by age, by jurisdiction, declined."""
    from amanah.rfa import metrics

    m = in_session(lambda s, c: metrics.compute(s, c))
    if as_json:
        emit_json(m)
        return
    d = m["days_to_respond"]
    out.print(
        f"{m['requests']} requests, {m['open']} open; answered {d['answered']},"
        f" median {d['median_days']} days, mean {d['mean_days']}, longest {d['max_days']}"
    )
    out.print("open by age (days): " + ", ".join(f"{k}: {v}" for k, v in m["open_by_age"].items()))
    print_table(
        m["by_jurisdiction_and_urgency"],
        ["jurisdiction", "urgency", "requests", "open", "declined", "answered", "median_days"],
    )
    if m["declined_by_reason"]:
        out.print("declined: " + ", ".join(f"{k} {v}" for k, v in m["declined_by_reason"].items()))
