"""`amanah framework|jurisdiction|rfa|consent|protected|package`: a whole request for
assistance, from the provider's terms to a verified package, scriptable without a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from amanah.access import AccessDenied, NotVisible, local_administrator
from amanah.cli.util import emit_json, err, fail, out, parse_date, with_workspace
from amanah.rfa import RequestError
from amanah.sharing import SharingError
from amanah.workspace import Workspace

ERRORS = (RequestError, SharingError, NotVisible, AccessDenied)

framework_app = typer.Typer(
    help="Cooperation frameworks with providers, and their terms.", no_args_is_help=True
)
jurisdiction_app = typer.Typer(
    help="Competent jurisdictions that send requests.", no_args_is_help=True
)
rfa_app = typer.Typer(
    help="Requests for assistance: lifecycle, searches, review, metrics.", no_args_is_help=True
)
consent_app = typer.Typer(help="Providers' consent for a request.", no_args_is_help=True)
protected_app = typer.Typer(
    help="Protected persons (witnesses, sources) whose names never leave.", no_args_is_help=True
)
package_app = typer.Typer(
    help="Redaction, sharing packages (BagIt) and their verification.", no_args_is_help=True
)
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(framework_app, name="framework")
    app.add_typer(jurisdiction_app, name="jurisdiction")
    app.add_typer(rfa_app, name="rfa")
    app.add_typer(consent_app, name="consent")
    app.add_typer(protected_app, name="protected")
    app.add_typer(package_app, name="package")


def _in_session(work: Any) -> Any:
    """Run `work(session, caller)` in one transaction as the local administrator."""

    def act(ws: Workspace) -> Any:
        caller = local_administrator(ws)
        with ws.db.session() as s:
            return work(s, caller)

    return with_workspace(act, *ERRORS)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    t = Table(*columns)
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    out.print(t)


# -- frameworks ------------------------------------------------------------------------------


@framework_app.command("add")
def framework_add(
    provider: Annotated[str, typer.Option(help="Provider name (created if new).")],
    title: Annotated[str, typer.Option(help="Title of the agreement.")],
    disclosure: Annotated[
        str,
        typer.Option(
            help="any (to competent jurisdictions), consent (each time), named, or never."
        ),
    ] = "consent",
    kind: Annotated[str, typer.Option(help="mou, protocol, letter or other.")] = "mou",
    jurisdiction: Annotated[
        list[str] | None, typer.Option(help="With --disclosure named: a jurisdiction code.")
    ] = None,
    party: Annotated[list[str] | None, typer.Option(help="Another party (repeatable).")] = None,
    signed_on: Annotated[str | None, typer.Option(help="Date signed, YYYY-MM-DD.")] = None,
    expires_on: Annotated[str | None, typer.Option(help="Date it ends, YYYY-MM-DD.")] = None,
    scope: Annotated[str, typer.Option(help="What material it covers.")] = "",
    attribution: Annotated[
        bool, typer.Option("--attribution", help="Packages must name the provider.")
    ] = False,
    confidentiality: Annotated[
        str, typer.Option(help="public, restricted, confidential, strictly_confidential.")
    ] = "confidential",
    terms: Annotated[str, typer.Option(help="The agreement's own words, as notes.")] = "",
) -> None:
    """Record a cooperation framework with a provider, with its terms as data.

    Examples:
      amanah framework add --provider "Detainees Association" --title "MoU 2023"
        --disclosure consent --signed-on 2023-03-01 --attribution
      amanah framework add --provider SJAC --title "Protocol 2" --disclosure named
        --jurisdiction DE-GBA --jurisdiction SE-NOA
    """
    from amanah.intake.registry import add_framework

    signed, expires = parse_date(signed_on, "--signed-on"), parse_date(expires_on, "--expires-on")

    def work(s: Any, _caller: Any) -> Any:
        fw = add_framework(
            s,
            provider,
            title,
            signed,
            terms,
            kind=kind,
            parties=party,
            expires_on=expires,
            scope=scope,
            disclosure=disclosure,
            jurisdictions=jurisdiction,
            attribution_required=attribution,
            confidentiality=confidentiality,
        )
        return fw.id, fw.title

    fid, ftitle = _in_session(work)
    out.print(f"framework {fid}: {ftitle} ({provider}), disclosure: {disclosure}")


@framework_app.command("list")
def framework_list(as_json: JSON = False) -> None:
    """List cooperation frameworks and their terms."""
    from amanah.intake.registry import list_frameworks

    rows = _in_session(lambda s, _c: list_frameworks(s))
    if as_json:
        emit_json(rows)
        return
    _table(
        [{**r, "jurisdictions": " ".join(r["jurisdictions"])} for r in rows],
        ["id", "provider", "title", "kind", "disclosure", "jurisdictions", "expires_on"],
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

    _in_session(
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

    rows = _in_session(lambda s, _c: jurisdictions.list_all(s))
    if as_json:
        emit_json(rows)
    else:
        _table(rows, ["code", "state", "authority", "unit"])


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
    _in_session(
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

    rows = _in_session(lambda s, c: requests.list_requests(s, c, state))
    if as_json:
        emit_json(rows)
    else:
        _table(
            [{**r, "compartments": " ".join(r["compartments"])} for r in rows],
            ["reference", "jurisdiction", "received_on", "urgency", "state", "compartments"],
        )


@rfa_app.command("show")
def rfa_show(reference: str, as_json: JSON = False) -> None:
    """A request: record, history, searches run for it, review counts, packages."""
    from amanah.rfa import requests

    found = _in_session(lambda s, c: requests.describe(s, c, reference))
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
    out.print(f"review: {found['review'] or 'nothing yet'}")
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
    _in_session(
        lambda s, c: requests.move(s, reference, state, c.actor, reason=reason, note=note, on=day)
    )
    out.print(f"request {reference} is {state}")


@rfa_app.command("assign")
def rfa_assign(reference: str, assignee: str) -> None:
    """Give a request to someone.

    Example: amanah rfa assign RFA-2026-014 rania
    """
    from amanah.rfa import requests

    _in_session(lambda s, c: requests.assign(s, reference, assignee, c.actor))
    out.print(f"request {reference} is assigned to {assignee}")


@rfa_app.command("note")
def rfa_note(reference: str, note: str) -> None:
    """Add a dated note to a request.

    Example: amanah rfa note RFA-2026-014 "Called the unit; scope agreed"
    """
    from amanah.rfa import requests

    _in_session(lambda s, c: requests.add_note(s, reference, note, c.actor))
    out.print(f"note added to {reference}")


@rfa_app.command("search")
def rfa_search(
    reference: str,
    query: Annotated[str, typer.Argument(help="The search (same language as `amanah search`).")],
) -> None:
    """Search for a request: logged with it; every hit becomes a candidate for review.

    Example: amanah rfa search RFA-2026-014 'مخابرات جوية OR "air force intelligence"'
    """
    from amanah.rfa import review

    def act(ws: Workspace) -> dict[str, Any]:
        return review.candidates_from_search(ws, local_administrator(ws), reference, query)

    found = with_workspace(act, *ERRORS, ValueError)
    out.print(
        f"search {found['search_id']}: {found['hits']} hits, {found['added']} new candidates"
        f" for {reference}"
    )


@rfa_app.command("attach-search")
def rfa_attach_search(reference: str, search_id: int) -> None:
    """Count a search already run (see `amanah searches`) as run for this request."""
    from amanah.rfa import requests

    _in_session(lambda s, c: requests.attach_search(s, c, reference, search_id))
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

    n = _in_session(lambda s, c: review.decide(s, c, reference, items, decision, note))
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

    rows = _in_session(work)
    if as_json:
        emit_json(rows)
    else:
        _table(rows, ["item_id", "path", "provider", "decision", "disclosure", "reason"])


@rfa_app.command("metrics")
def rfa_metrics(as_json: JSON = False) -> None:
    """Response metrics: days to respond, open by age, by jurisdiction, declined."""
    from amanah.rfa import metrics

    m = _in_session(lambda s, c: metrics.compute(s, c))
    if as_json:
        emit_json(m)
        return
    d = m["days_to_respond"]
    out.print(
        f"{m['requests']} requests, {m['open']} open; answered {d['answered']},"
        f" median {d['median_days']} days, mean {d['mean_days']}, longest {d['max_days']}"
    )
    out.print("open by age (days): " + ", ".join(f"{k}: {v}" for k, v in m["open_by_age"].items()))
    _table(
        m["by_jurisdiction_and_urgency"],
        ["jurisdiction", "urgency", "requests", "open", "declined", "answered", "median_days"],
    )
    if m["declined_by_reason"]:
        out.print("declined: " + ", ".join(f"{k} {v}" for k, v in m["declined_by_reason"].items()))


# -- consent ---------------------------------------------------------------------------------


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

    _in_session(
        lambda s, c: consent.record(
            s, c, reference, provider, status, items=item, given_by=by, note=note
        )
    )
    out.print(f"consent {status} by {provider} for {reference}")


@consent_app.command("list")
def consent_list(reference: str, as_json: JSON = False) -> None:
    """Consent records of a request."""
    from amanah.sharing import consent

    rows = _in_session(lambda s, c: consent.history(s, c, reference))
    if as_json:
        emit_json(rows)
    else:
        _table(rows, ["provider", "status", "items", "by", "at"])


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

    pdf = _in_session(lambda s, c: consent.letter(s, c, reference, provider))
    out_path.write_bytes(pdf)
    out.print(f"wrote {out_path} ({len(pdf):,} bytes)")


# -- protected persons -----------------------------------------------------------------------


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
    _in_session(lambda s, c: protected.add(s, c, pseudonym, name, role, notes))
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
    _in_session(lambda s, c: protected.add_spelling(s, c, pseudonym, spelling))
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

    rows = _in_session(lambda s, c: protected.list_all(s, c))
    if names:
        err.print(protected.NAMES_NOT_KEPT)
    if as_json:
        emit_json(rows)
    else:
        _table(rows, ["pseudonym", "role", "spellings"])


# -- packages --------------------------------------------------------------------------------


def _region(value: str) -> tuple[int, float, float, float, float]:
    try:
        page, rest = value.split(":", 1)
        x0, y0, x1, y1 = (float(v) for v in rest.split(","))
        number = int(page)
    except ValueError:
        fail(f"--region {value!r}: expected PAGE:X0,Y0,X1,Y1 (e.g. 1:100,200,300,260)")
    if number < 1 or x1 <= x0 or y1 <= y0 or min(x0, y0) < 0:
        fail(f"--region {value!r}: pages count from 1, and X0 < X1, Y0 < Y1, none negative")
    return number, x0, y0, x1, y1


@package_app.command("redact")
def package_redact(
    item_id: int,
    region: Annotated[
        list[str] | None,
        typer.Option(
            help="Extra area to remove, PAGE:X0,Y0,X1,Y1 (PDF points; pixels and page 1 for"
            " an image). Repeatable."
        ),
    ] = None,
) -> None:
    """Make the redacted derivative of an item (the original is untouched).

    Every protected person's name is removed from its text layer and, through OCR word
    boxes, from its images; its metadata is scrubbed.

    Example: amanah package redact 42 --region 1:72,600,300,640
    """
    from amanah.sharing import redaction

    regions = [_region(r) for r in region or []]

    def act(ws: Workspace) -> dict[str, Any]:
        return redaction.redact(ws, local_administrator(ws), item_id, regions)

    r = with_workspace(act, *ERRORS)
    out.print(
        f"item {item_id}: redacted {r['regions']} area(s)"
        f" ({', '.join(r['protected']) or 'no protected name found'}); derivative {r['sha256']}"
    )


@package_app.command("build")
def package_build(
    reference: str,
    out_dir: Annotated[Path, typer.Argument(help="A new folder for the bag.")],
    as_json: JSON = False,
) -> None:
    """Build the sharing package of a request (a BagIt bag).

    It holds the items marked relevant (redacted where a protected name appears), manifests,
    an item index, custody excerpts with inclusion proofs, the public key and a cover
    letter. It refuses, listing each item and why,
    anything blocked by its terms, lacking consent, or still naming a protected person.

    Example: amanah package build RFA-2026-014 /media/out/RFA-2026-014
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from amanah.sharing import package

    def act(ws: Workspace) -> dict[str, Any]:
        caller = local_administrator(ws)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("package", total=None)
            try:
                return package.build(ws, caller, reference, out_dir, lambda n: bar.advance(task, n))
            except package.PackageRefused as exc:
                bar.stop()
                out.print(str(exc))
                raise typer.Exit(1) from None

    r = with_workspace(act, *ERRORS)
    if as_json:
        emit_json(r)
        return
    out.print(
        f"package {r['package']} for {r['request']} ({r['recipient']}): {r['items']} items"
        f" ({r['redacted']} redacted), {r['payload_bytes']:,} bytes in {r['path']}"
    )
    out.print(f"manifest-sha256.txt SHA-256: {r['manifest_sha256']}")


@package_app.command("verify")
def package_verify(
    path: Annotated[Path, typer.Argument(help="The package folder.")],
    key_id: Annotated[str | None, typer.Option(help="The key id you expect.")] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The sender's public key (PEM) to verify against.")
    ] = None,
) -> None:
    """Verify a package as its recipient would (the code of tools/verify_package.py).

    Checks bag completeness and hashes, the sealed file set, custody proofs and the
    checkpoint's signature against the key given; with neither --key-id nor --public-key,
    against this installation's own key (a package built here).

    Example: amanah package verify /media/out/RFA-2026-014 --key-id e2365abd86c06c56
    """
    from amanah.sharing import verify_package

    if not path.is_dir():
        fail(f"{path}: not a folder")
    pinned = None
    try:
        if public_key is not None:
            pinned = public_key.read_bytes()
        elif key_id is None:
            pinned = with_workspace(lambda ws: ws.key.public_pem)
        problems = verify_package.verify(path, key_id, pinned)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"cannot read package {path}: {exc}")
    for p in problems:
        out.print(f"FAIL {p}")
    if problems:
        out.print(f"package {path}: {len(problems)} problem(s)")
        raise typer.Exit(1)
    out.print(f"package {path}: verified")


@package_app.command("list")
def package_list(as_json: JSON = False) -> None:
    """Packages built, newest first."""
    from amanah.sharing import package

    rows = _in_session(lambda s, c: package.list_packages(s, c))
    if as_json:
        emit_json(rows)
    else:
        _table(rows, ["id", "request", "recipient", "created_at", "items", "payload_bytes"])


@package_app.command("attest")
def package_attest(
    item_ids: Annotated[list[int] | None, typer.Argument(help="Item ids.")] = None,
    note: Annotated[str, typer.Option(help="How the item was examined by hand.")] = "",
    request: Annotated[
        str | None,
        typer.Option(help="Every relevant item of this request whose inventory is incomplete."),
    ] = None,
) -> None:
    """Attest that items whose content inventory is not complete were examined by hand.

    The package build then lets them through (its index says who attested each and when); a
    protected name found in one still stops it. Each item is its own custody event.

    Example: amanah package attest 42 --note "opened with the provider's password; read all"
    Example: amanah package attest --request RFA-2026-001 --note "watched every video"
    """
    from amanah.sharing import attestation

    if not item_ids and not request:
        out.print("give item ids, or --request REF")
        raise typer.Exit(2)

    def act(ws: Workspace) -> list[dict[str, Any]]:
        caller = local_administrator(ws)
        ids = list(item_ids or [])
        if request:
            ids += [i for i in attestation.request_items(ws, caller, request) if i not in ids]
        return attestation.attest_many(ws, caller, ids, note)

    for r in with_workspace(act, *ERRORS):
        out.print(
            f"item {r['item']}: content inventory {r['inventory']}; attested by"
            f" {r['attested_by']} on {r['attested_at'][:10]}"
        )
