"""Requests, terms and names, in detail: the lifecycle, every disclosure rule, consent, the
name matcher's spellings, the metrics, and the demo workspace's request."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from amanah.access import local_administrator
from amanah.intake import registry
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.rfa import RequestError, jurisdictions, metrics, requests, review
from amanah.sharing import SharingError, consent, terms
from amanah.sharing.protected import Matcher
from amanah.workspace import Workspace, open_workspace
from tests.conftest import REPO


@pytest.fixture
def ws(sqlite_home: Path, tmp_path: Path) -> Workspace:
    w = open_workspace(sqlite_home)
    with w.db.session() as s:
        jurisdictions.add(s, "DE-GBA", state="Germany", authority="GBA")
        jurisdictions.add(s, "SE-NOA", state="Sweden", authority="NOA")
    return w


def _collection(ws: Workspace, tmp: Path, name: str, **terms_: object) -> int:
    """A collection of one file under a framework with the given terms; its item's id."""
    folder = tmp / name
    folder.mkdir()
    (folder / "doc.txt").write_text(f"document of {name}\n")
    with ws.db.session() as s:
        fw_id = None
        if terms_:
            fw_id = registry.add_framework(s, f"P-{name}", f"MoU {name}", None, **terms_).id  # type: ignore[arg-type]
        registry.collection(s, name, f"P-{name}", framework_id=fw_id)
    ingest(
        ws,
        IntakeRequest(
            sources=[str(folder)], collection=name, provider=f"P-{name}", actor="local:test"
        ),
    )
    with ws.db.reader() as s:
        from sqlalchemy import select

        from amanah.db.models import Collection, Item

        return s.execute(
            select(Item.id).join(Collection).where(Collection.name == name)
        ).scalar_one()


def test_the_lifecycle_allows_only_its_moves_and_dates_each(ws: Workspace) -> None:
    with ws.db.session() as s:
        requests.create(s, "R-1", "DE-GBA", received_on=date(2026, 1, 10), actor="a")
    with (
        ws.db.session() as s,
        pytest.raises(RequestError, match="can move to acknowledged, declined, not to responded"),
    ):
        requests.move(s, "R-1", "responded", "a")
    with ws.db.session() as s, pytest.raises(RequestError, match="declining needs --reason"):
        requests.move(s, "R-1", "declined", "a")
    with ws.db.session() as s:
        requests.move(s, "R-1", "declined", "legal:b", reason="out_of_mandate")
    with ws.db.session() as s:
        requests.move(s, "R-1", "closed", "a")
    with ws.db.session() as s, pytest.raises(RequestError, match="it is closed"):
        requests.move(s, "R-1", "received", "a")
    with ws.db.reader() as s:
        shown = requests.describe(s, local_administrator(ws), "R-1")
    assert [(e["from"], e["to"], e["actor"]) for e in shown["events"]] == [
        ("", "received", "a"),
        ("received", "declined", "legal:b"),
        ("declined", "closed", "a"),
    ]
    with ws.db.session() as s, pytest.raises(RequestError, match="in the future"):
        requests.create(s, "R-2", "DE-GBA", received_on=date.today() + timedelta(days=1), actor="a")
    with ws.db.session() as s, pytest.raises(RequestError, match="no jurisdiction 'XX'"):
        requests.create(s, "R-3", "XX", received_on=date(2026, 1, 1), actor="a")


def test_each_disclosure_rule_gives_its_status_and_reason(ws: Workspace, tmp_path: Path) -> None:
    items = {
        "any": _collection(ws, tmp_path, "any", disclosure="any"),
        "never": _collection(ws, tmp_path, "never", disclosure="never"),
        "named-de": _collection(
            ws, tmp_path, "named-de", disclosure="named", jurisdictions=["DE-GBA"]
        ),
        "named-se": _collection(
            ws, tmp_path, "named-se", disclosure="named", jurisdictions=["SE-NOA"]
        ),
        "consent": _collection(ws, tmp_path, "consent", disclosure="consent"),
        "expired": _collection(
            ws, tmp_path, "expired", disclosure="any", expires_on=date(2020, 1, 1)
        ),
        "none": _collection(ws, tmp_path, "none"),
    }
    admin = local_administrator(ws)
    with ws.db.session() as s:
        req = requests.create(s, "R-T", "DE-GBA", received_on=date(2026, 1, 1), actor="a")
        got = {k: terms.statuses(s, req, [i])[i] for k, i in items.items()}
    status = {k: v.status.value for k, v in got.items()}
    assert status == {
        "any": "disclosable",
        "never": "blocked",
        "named-de": "disclosable",
        "named-se": "blocked",
        "consent": "needs_consent",
        "expired": "needs_consent",
        "none": "blocked",
    }
    assert "only to named jurisdictions, not DE-GBA" in got["named-se"].reason
    assert "expired on 2020-01-01" in got["expired"].reason
    assert "no cooperation framework" in got["none"].reason
    # Consent: asked, then given for all, then withheld for the one item: latest wins.
    with ws.db.session() as s:
        consent.record(s, admin, "R-T", "P-consent", "requested")
        req = requests.get(s, "R-T")
        assert (
            "asked, no answer yet"
            in terms.statuses(s, req, [items["consent"]])[items["consent"]].reason
        )
        consent.record(s, admin, "R-T", "P-consent", "given", given_by="Director")
        assert (
            terms.statuses(s, req, [items["consent"]])[items["consent"]].status.value
            == "disclosable"
        )
        consent.record(
            s, admin, "R-T", "P-consent", "withheld", items=[items["consent"]], given_by="Director"
        )
        assert (
            terms.statuses(s, req, [items["consent"]])[items["consent"]].status.value == "blocked"
        )
    with ws.db.session() as s, pytest.raises(SharingError, match="not 'P-any''s material"):
        consent.record(s, admin, "R-T", "P-any", "given", items=[items["never"]], given_by="x")
    with ws.db.session() as s, pytest.raises(SharingError, match="say who given consent"):
        consent.record(s, admin, "R-T", "P-consent", "given")


def test_names_are_found_in_every_written_form_of_each_recorded_spelling() -> None:
    m = Matcher.of([("Witness A", ["أحمد الخطيب", "Ahmad al-Khatib"])])
    for text in (
        "قال احمد الخطيب",
        "قال أَحْمَد الْخَطِيب",
        "وأحمد الخطيب",
        "AHMAD AL KHATIB",
        "ahmad al-khatib.",
        "بيطخلا دمحأ",
    ):  # the last: a text layer in visual order
        assert m.find(text) == {"Witness A"}, text
    for text in ("أحمد", "الخطيب وحده", "Mahmoud Alkhatib", "محمد الخطيب"):
        assert m.find(text) == set(), text
    assert m.pseudonymise("شهادة أحمد الخطيب، ثم Ahmad al-Khatib.") == (
        "شهادة [Witness A]، ثم [Witness A].",
        2,
    )
    assert m.in_words(["إفادة", "أحمد", "الخطيب", "عن"]) == [(1, "Witness A"), (2, "Witness A")]


def test_metrics_count_days_ages_groups_and_reasons(ws: Workspace) -> None:
    today = date(2026, 11, 22)
    with ws.db.session() as s:
        for ref, code, urgency, received in (
            ("A", "DE-GBA", "urgent", date(2026, 1, 1)),
            ("B", "DE-GBA", "normal", date(2026, 2, 1)),
            ("C", "SE-NOA", "normal", date(2026, 11, 1)),
            ("D", "SE-NOA", "normal", date(2025, 1, 1)),
        ):
            requests.create(s, ref, code, received_on=received, actor="a", urgency=urgency)
        for ref, day in (("A", date(2026, 1, 31)), ("B", date(2026, 4, 1))):
            for state in ("acknowledged", "in_progress", "in_review"):
                requests.move(s, ref, state, "a")
            requests.move(s, ref, "responded", "a", on=day)
        requests.move(s, "D", "declined", "a", reason="insufficient_resources")
        m = metrics.compute(s, local_administrator(ws), today)
    assert m["days_to_respond"] == {
        "answered": 2,
        "median_days": 44.5,
        "mean_days": 44.5,
        "max_days": 59,
    }
    assert m["open"] == 1 and m["open_by_age"]["0-30"] == 1
    assert m["declined_by_reason"] == {"insufficient_resources": 1}
    groups = {(g["jurisdiction"], g["urgency"]): g for g in m["by_jurisdiction_and_urgency"]}
    assert groups[("DE-GBA", "urgent")]["median_days"] == 30
    assert groups[("SE-NOA", "normal")]["requests"] == 2


def test_a_search_for_a_request_makes_its_hits_candidates_and_unknown_items_are_refused(
    ws: Workspace, tmp_path: Path
) -> None:
    from amanah.processing.runner import run

    _collection(ws, tmp_path, "open-one", disclosure="any")
    run(ws)
    admin = local_administrator(ws)
    with ws.db.session() as s:
        requests.create(s, "R-S", "DE-GBA", received_on=date(2026, 1, 1), actor="a")
    found = review.candidates_from_search(ws, admin, "R-S", "document")
    assert found["hits"] == 1 and found["added"] == 1
    with ws.db.session() as s, pytest.raises(RequestError, match="no item with id 999"):
        review.decide(s, admin, "R-S", [999], "relevant")


def test_the_demo_answers_a_request_with_a_package_that_verifies(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.test_demo import demo_copy

    home, out = demo_copy(tmp_path_factory)  # what `amanah demo` made and printed
    assert "request for assistance DEMO-RFA-001 answered with package PKG-" in out
    assert "demo-recipient" in out and "demo-legal" in out
    bag = home / "packages" / "DEMO-RFA-001"
    ws = open_workspace(home)
    key_id = ws.key.key_id
    ws.close()
    checked = subprocess.run(
        [sys.executable, str(REPO / "tools" / "verify_package.py"), str(bag), "--key-id", key_id],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
