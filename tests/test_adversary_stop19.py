"""Adversary tests of stop 19's new surfaces: protected names typed where intake did not look
(a compartment, a token's label, a review decision's note, an error that repeats what was
typed), consent following a document into parts whose `parent_id` chain was forged into a
loop, and hostile emails (nesting, parts) read to a bound. Each finding's test failed on the
code before its fix; the tests of what held are kept as guards, each with a negative control.

The site is the web tests' workspace (tests/webfixtures.py): built once per worker, copied per
test, with "Witness Z" a protected person whose name is "Zaid Nobody-Here"."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from amanah.access import local_administrator
from amanah.db.models import ApiToken, Collection, CustodyEvent, Grant, Item, Review
from amanah.sharing import protected
from amanah.web import i18n
from tests.conftest import amanah
from tests.webfixtures import Site

NAME = "Zaid Nobody-Here"
SPELLINGS = (NAME, "Zaid", "Nobody")


def _no_name(text: str) -> None:
    for spelling in SPELLINGS:
        assert spelling.lower() not in text.lower(), text[:400]


def _ledger_has_no_name(site: Site) -> None:
    with site.ws.db.reader() as s:
        details = " ".join(s.execute(select(CustodyEvent.details)).scalars())
    _no_name(json.loads(json.dumps(details)))


# -- protected names typed where intake did not look ----------------------------------------


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "statement.txt").write_text("a statement\n", encoding="utf-8")
    return folder


def test_a_compartment_naming_a_protected_person_is_refused_where_it_is_typed(
    site: Site, tmp_path: Path
) -> None:
    """A compartment's name is kept and shown in clear (grants, collection lists, the search
    index, every need-to-know custody event): a new collection's, a moved collection's and a
    user's grant were stored as typed. Real processes: exit 2, the reason, no name echoed,
    nothing recorded."""
    home = site.ws.home
    with site.ws.db.reader() as s:
        before = (
            s.execute(select(func.count()).select_from(Collection)).scalar_one(),
            s.execute(select(func.count()).select_from(Grant)).scalar_one(),
            s.execute(select(func.count()).select_from(CustodyEvent)).scalar_one(),
        )
    typed = f"statements of {NAME}"
    attempts = [
        ("ingest", str(_folder(tmp_path)), "--collection", "new batch", "--provider", "Blue CSO",
         "--compartment", typed, "--quiet"),
        ("collection", "set", "blue-collection", "--compartment", typed),
        ("user", "grant", "analyst", typed),
    ]  # fmt: skip
    for args in attempts:
        proc = amanah(home, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        said = " ".join(proc.stderr.split())
        assert protected.COMPARTMENT_NAMES_PROTECTED.split(":")[0] in said, said
        _no_name(proc.stdout + proc.stderr)
    with site.ws.db.reader() as s:
        after = (
            s.execute(select(func.count()).select_from(Collection)).scalar_one(),
            s.execute(select(func.count()).select_from(Grant)).scalar_one(),
            s.execute(select(func.count()).select_from(CustodyEvent)).scalar_one(),
        )
        compartments = set(s.execute(select(Collection.compartment)).scalars())
        compartments |= set(s.execute(select(Grant.compartment)).scalars())
    assert after == before
    _no_name(" ".join(compartments))
    _ledger_has_no_name(site)
    # Negative control: an ordinary compartment passes every one of them.
    for args in (
        ("ingest", str(tmp_path / "in"), "--collection", "new batch", "--provider", "Blue CSO",
         "--compartment", "green", "--quiet"),
        ("collection", "set", "new batch", "--compartment", "green-2"),
        ("user", "grant", "analyst", "green-2"),
    ):  # fmt: skip
        proc = amanah(home, *args)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)


def test_a_compartment_naming_a_protected_person_is_refused_by_the_web_forms_in_both_languages(
    site: Site,
) -> None:
    for lang in ("en", "ar"):
        c, csrf = site.browser("admin")
        if lang == "ar":
            c.get("/lang/ar?next=/")
        said = i18n.translations(lang).gettext(protected.COMPARTMENT_NAMES_PROTECTED)
        assert said != protected.COMPARTMENT_NAMES_PROTECTED or lang == "en"
        for path, data in (
            ("/collections", {"name": "web batch", "provider": "Blue CSO", "compartment": NAME}),
            ("/users/grants", {"name": "analyst", "compartment": NAME}),
        ):
            r = c.post(path, data={"csrf": csrf, **data}, follow_redirects=False)
            assert r.status_code == 400, (path, r.status_code, r.text[:300])
            assert said in html.unescape(r.text), (lang, path)
            _no_name(html.unescape(r.text))
    with site.ws.db.reader() as s:
        assert s.execute(select(Grant).where(Grant.compartment == NAME)).first() is None
    c, csrf = site.browser("admin")  # negative control
    ok = c.post(
        "/users/grants",
        data={"csrf": csrf, "name": "analyst", "compartment": "green"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text[:300]


def test_a_token_label_naming_a_protected_person_is_refused(site: Site) -> None:
    """A token's label is listed to its user and the administrators and written to the ledger
    in clear ("token created", label)."""
    home = site.ws.home
    with site.ws.db.reader() as s:
        tokens = s.execute(select(func.count()).select_from(ApiToken)).scalar_one()
    proc = amanah(home, "token", "create", "analyst", "--label", f"laptop of {NAME}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert protected.LABEL_NAMES_PROTECTED.split(":")[0] in " ".join(proc.stderr.split())
    _no_name(proc.stdout + proc.stderr)
    with site.ws.db.reader() as s:
        assert s.execute(select(func.count()).select_from(ApiToken)).scalar_one() == tokens
    _ledger_has_no_name(site)
    ok = amanah(home, "token", "create", "analyst", "--label", "field laptop")  # control
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_a_review_note_is_kept_with_the_pseudonym_never_the_name(site: Site) -> None:
    """A decision on a request's candidates may carry a note (`rfa review --note`, the API's
    review): it was kept as typed, while a request's own notes are kept pseudonymised."""
    request_id = site.requests["RFA-XB-PROS"]
    item = site.item("statement-b.txt")
    r = site.api("legal").post(
        f"/api/v1/requests/{request_id}/review",
        json={"items": [item], "decision": "relevant", "note": f"{NAME} confirmed it"},
    )
    assert r.status_code == 200, r.text
    proc = amanah(
        site.ws.home, "rfa", "review", "RFA-XR-PROS", "relevant", str(item),
        "--note", f"asked {NAME} again",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _no_name(proc.stdout + proc.stderr)
    with site.ws.db.reader() as s:
        notes = list(s.execute(select(Review.note).where(Review.item_id == item)).scalars())
    assert "[Witness Z] confirmed it" in notes and "asked [Witness Z] again" in notes, notes
    _no_name(" ".join(notes))
    # Negative control: a note naming nobody protected is kept as written.
    r = site.api("legal").post(
        f"/api/v1/requests/{request_id}/review",
        json={"items": [item], "decision": "relevant", "note": "checked against the log"},
    )
    assert r.status_code == 200, r.text
    with site.ws.db.reader() as s:
        assert "checked against the log" in s.execute(select(Review.note)).scalars().all()


def test_a_requests_structured_subject_is_kept_with_the_pseudonym_never_the_name(
    site: Site,
) -> None:
    """A request's subject is kept pseudonymised, but its structured subject (`--person`,
    `--organisation`, `--place`, `--crime`; the API's `fields`) was kept and shown as typed."""
    from amanah.db.models import Request

    proc = amanah(
        site.ws.home, "rfa", "add", "RFA-NAMED", "--jurisdiction", "XB-PROS",
        "--received-on", "2026-01-06", "--subject", "detention", "--person", NAME,
        "--person", "Umar Ordinary", "--place", f"house of {NAME}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = site.api("legal").post(
        "/api/v1/requests",
        json={
            "reference": "RFA-NAMED-2",
            "jurisdiction": "XB-PROS",
            "received_on": "2026-01-06",
            "fields": {"persons": [NAME], "organisations": [f"{NAME} family"]},
        },
    )
    assert r.status_code in (200, 201), r.text
    with site.ws.db.reader() as s:
        kept = {
            ref: json.loads(fields)
            for ref, fields in s.execute(
                select(Request.reference, Request.subject_fields).where(
                    Request.reference.in_(["RFA-NAMED", "RFA-NAMED-2"])
                )
            ).all()
        }
    _no_name(json.dumps(kept, ensure_ascii=False))
    assert kept["RFA-NAMED"]["persons"] == ["[Witness Z]", "Umar Ordinary"]  # control kept
    assert kept["RFA-NAMED"]["places"] == ["house of [Witness Z]"]
    assert kept["RFA-NAMED-2"]["organisations"] == ["[Witness Z] family"]
    _no_name(site.api("legal").get(f"/api/v1/requests/{r.json()['id']}").text)


def test_an_unknown_provider_error_never_repeats_a_protected_name(
    site: Site, tmp_path: Path
) -> None:
    """`ingest` into an existing collection looks its --provider up without creating it; the
    "no provider named …" error repeated what was typed, a protected name included."""
    proc = amanah(
        site.ws.home, "ingest", str(_folder(tmp_path)), "--collection", "blue-collection",
        "--provider", NAME, "--quiet",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _no_name(proc.stdout + proc.stderr)
    other = amanah(  # control: an unknown provider of no protected name is still named
        site.ws.home, "ingest", str(tmp_path / "in"), "--collection", "blue-collection",
        "--provider", "Green CSO", "--quiet",
    )  # fmt: skip
    assert other.returncode == 2 and "Green CSO" in other.stdout + other.stderr


# -- consent follows a document into its parts: a forged parent chain ----------------------


def test_a_parent_chain_forged_into_a_loop_hangs_nothing_and_hides_the_loop(site: Site) -> None:
    """`parent_id` rewritten in SQL into a loop (a restored or hand-edited home): the consent
    rule walks up and down the chain a bounded number of times, so a page, a search, a text
    read and a package's refusals still answer, and the withdrawal withholds the whole loop."""
    from amanah.sharing import person_consent

    a, b = site.item("statement-b.txt"), site.item("blank.png")
    with site.ws.db.session() as s:
        s.execute(update(Item).where(Item.id == a).values(parent_id=b))
        s.execute(update(Item).where(Item.id == b).values(parent_id=a))
    api = site.api("analyst")
    assert api.get(f"/api/v1/items/{a}/text").status_code == 200  # control: nothing withheld
    legal = local_administrator(site.ws, "legal:test")
    with site.ws.db.session() as s:
        person_consent.link_item(s, legal, "Witness Z", a)
        person_consent.withdraw(s, legal, "Witness Z", ["investigation"])
    for item in (a, b):
        assert api.get(f"/api/v1/items/{item}/text").status_code == 404
        page = site.browser("analyst")[0].get(f"/items/{item}")
        assert page.status_code == 200
        assert "Withheld: consent for investigation withdrawn." in page.text
    assert api.get("/api/v1/search", params={"q": "statement"}).status_code == 200
    with site.ws.db.reader() as s:
        assert {a, b} <= person_consent.hidden_from_investigation(s)
        assert set(
            person_consent.refusals(s, local_administrator(site.ws), {a: [b]}, "sharing", None)
        ) == {a}


# -- hostile and large emails: read to a bound, never lost ----------------------------------

EMAIL_CHILD = r"""
import resource, sys
from pathlib import Path
from amanah.processing import inventory, inventory_markup, unpack  # before the limit is set

vm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize"))
room = vm * 1024 + (int(sys.argv[3]) << 20)
resource.setrlimit(resource.RLIMIT_AS, (room, room))
try:
    out = unpack.eml(Path(sys.argv[1]), Path(sys.argv[2]), unpack.Limits())
    inv = inventory.Inventory("message/rfc822")
    inventory_markup.eml(inv, Path(sys.argv[1]))
except MemoryError:
    print("MemoryError")
    sys.exit(3)
print(len(out.children), out.children[0]["size"] if out.children else 0)
"""


def _email_with_attachment(path: Path, megabytes: int) -> int:
    """An email whose attachment (a video, say) is `megabytes` MiB, base64 as mailers send it;
    returns the attachment's size."""
    import base64

    block = bytes(range(256)) * (3 << 12)  # a multiple of 3 bytes: no padding inside
    with path.open("wb") as f:
        f.write(
            b"From: field team <a@example.org>\nTo: desk <b@example.org>\nSubject: video\n"
            b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="XX"\n\n'
            b"--XX\nContent-Type: text/plain\n\nthe video of the checkpoint is attached\n"
            b'--XX\nContent-Type: video/mp4\nContent-Disposition: attachment; filename="v.mp4"\n'
            b"Content-Transfer-Encoding: base64\n\n"
        )
        written = 0
        while written < megabytes << 20:
            f.write(base64.encodebytes(block))
            written += len(block)
        f.write(b"--XX--\n")
    return written


def test_a_large_email_is_read_in_the_memory_a_reader_has(tmp_path: Path) -> None:
    """An email of 100 MB (a 75 MB attachment) read and inventoried in a process allowed
    400 MB more than it has at the start. The parser was handed the whole file, which it
    decodes to one string first, and the attachment was decoded at once (the stdlib holds its
    text split in lines, joined, then decoded): it needed 800 to 1,000 MB and died, so the
    attachment never became an item; a 300 MB email failed so in the real sandbox. Now the
    parser is fed a chunk at a time and well-formed base64 decoded a piece at a time: 300 MB.
    """
    import subprocess
    import sys

    path = tmp_path / "video.eml"
    size = _email_with_attachment(path, 75)
    proc = subprocess.run(
        [sys.executable, "-c", EMAIL_CHILD, str(path), str(tmp_path / "out"), "400"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.split() == ["1", str(size)]


def _nested_email(levels: int) -> bytes:
    """An email whose text sits `levels` multipart containers deep."""
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(levels)
    )
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(levels)))
    return (
        b"From: a@example.org\nSubject: layers\nMIME-Version: 1.0\n"
        + opening
        + b"Content-Type: text/plain\n\nthe orchard gate at night\n"
        + closing
    )


def test_an_email_nested_a_thousand_deep_is_flagged_as_such_and_inventoried_raw(
    tmp_path: Path,
) -> None:
    """A thousand nested multiparts reach Python's recursion limit in the email parser: the
    item was flagged "RecursionError: maximum recursion depth exceeded while getting the str
    of an object". It now says what the file is; its raw bytes are still inventoried and the
    inventory is incomplete, so it is held back from any package unexamined."""
    from amanah.processing.analyze import analyze
    from amanah.processing.unpack import TOO_DEEP

    deep = tmp_path / "layers.eml"
    deep.write_bytes(_nested_email(1000))
    manifest = analyze(str(deep), deep.name, str(tmp_path / "deep"))
    said = " ".join(f["message"] for f in manifest["flags"])
    assert TOO_DEEP in said and "RecursionError" not in said, said
    record = json.loads((tmp_path / "deep" / manifest["inventory"]["file"]).read_text())
    assert record["complete"] is False
    assert any(TOO_DEEP in r for r in record["reasons"]), record["reasons"]
    assert "orchard gate" in " ".join(p["text"] for p in record["parts"])  # the raw bytes
    # Negative control: fifty levels are read, the text found, nothing flagged.
    shallow = tmp_path / "fifty.eml"
    shallow.write_bytes(_nested_email(50))
    manifest = analyze(str(shallow), shallow.name, str(tmp_path / "shallow"))
    assert manifest["flags"] == [] and manifest["inventory"]["complete"] is True
    assert "orchard gate" in (tmp_path / "shallow" / manifest["text_file"]).read_text()


def test_an_attachment_decoded_a_piece_at_a_time_is_the_bytes_the_stdlib_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`unpack.decoded_pieces` decodes well-formed base64 a piece at a time and leaves the rest
    to the stdlib: the bytes must be those of `get_payload(decode=True)` in every case (pieces
    of 7 characters, so that every boundary falls everywhere), or the same email would give
    other child items than before. Damaged payloads are the negative control: they take the
    stdlib's way (a list of one), and well-formed ones the pieces (a generator)."""
    import base64
    import email
    import email.policy
    import random

    from amanah.processing import unpack

    monkeypatch.setattr(unpack, "FEED_BYTES", 7)
    rnd = random.Random(5)
    pieces = damaged = 0
    for n in [*range(20), 100, 1000, 4097]:
        enc = base64.b64encode(rnd.randbytes(n)).decode()
        lines = "\r\n".join(enc[i : i + 5] for i in range(0, len(enc), 5))
        for text in (
            enc, enc.rstrip("="), enc + "\n", lines, enc[:-1], enc + "A", enc + "==",
            "=" + enc, enc[:3] + "=" + enc[3:], enc.replace("A", "-"), enc + " ",
            "QQ=", "QQ", "Q", "QQQ", "QQQ=", "QQ=\n=", "QQ==\n=",
        ):  # fmt: skip
            raw = b"Content-Transfer-Encoding: base64\n\n" + text.encode()
            for policy in (email.policy.default, email.policy.compat32):
                part = email.message_from_bytes(raw, policy=policy)
                got = unpack.decoded_pieces(part)
                assert b"".join(got) == (part.get_payload(decode=True) or b""), text
                pieces += not isinstance(got, list)
                damaged += isinstance(got, list)
    assert pieces > 200 and damaged > 200


@pytest.mark.parametrize("encoding", ["8bit", "base64", "quoted-printable"])
def test_an_email_body_past_the_text_budget_is_cut_flagged_and_held_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """A 300 MB body failed its job three times at the sandbox's memory limit (the whole body
    decoded, then joined to the headers and cleaned: copies of all of it). It is now read to
    the item's text budget from a head of its encoded text, flagged as cut, and the content
    inventory is incomplete, so nothing past the cut ships unread. The headers and the body
    together keep to the budget (the page is not cut, nor flagged, twice). Budgets made small
    here; a short body is the control (read whole, no flag, inventory complete)."""
    from email.message import EmailMessage

    from amanah.processing import inventory, inventory_markup, textfile, unpack

    # budgets a character apart: the cut falls at every place in a group of base64 letters
    for limit, words, cut in ((997, 5000, True), (998, 5000, True), (999, 5000, True),
                              (1000, 5000, True), (1000, 20, False)):  # fmt: skip
        monkeypatch.setattr(unpack, "MAX_TEXT_CHARS", limit)
        monkeypatch.setattr(textfile, "MAX_MARKUP_CHARS", 2 * limit)
        msg = EmailMessage()
        msg["From"], msg["Subject"] = "a@example.org", "long"
        msg.set_content("الشاهد the orchard gate. " * words, cte=encoding)
        path = tmp_path / f"{encoding}-{limit}-{words}.eml"
        path.write_bytes(msg.as_bytes())
        out = unpack.eml(path, tmp_path / f"out-{limit}-{words}", unpack.Limits())
        flags = [f["code"] for f in out.flags]
        assert flags == (["text_truncated"] if cut else []), out.flags
        assert "الشاهد the orchard gate." in out.pages[0]
        assert len(out.pages[0]) <= limit if cut else out.pages[0].count("orchard") == words
        inv = inventory.Inventory("message/rfc822")
        inventory_markup.eml(inv, path)
        assert inv.complete is not cut, inv.reasons
