"""A small, entirely fictional demo workspace a newcomer can explore.

Nothing here is about real people or events: every name and place is invented, and every
file says so, so a demo workspace can never be mistaken for evidence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from amanah.db.models import Framework
from amanah.intake.ingest import IntakeReport, IntakeRequest, ingest
from amanah.intake.registry import add_framework
from amanah.workspace import Workspace

PROVIDER = "Demo Documentation Centre (fictional)"
COLLECTION = "demo-handover-2026"

FILES: dict[str, bytes] = {
    "statements/شهادة-001.txt": (
        "التاريخ: ١٥ آذار ٢٠١٣\n"
        "وثيقة تجريبية — الأسماء والأماكن كلها خيالية.\n"
        "أفاد الشاهد (س-١) بأنه احتُجز في فرع أمني في مدينة خيالية تُدعى «النخيل» عام ٢٠١٢.\n"
    ).encode(),
    "statements/statement-002.txt": (
        b"20 May 2013\n"
        b"DEMO DOCUMENT - every name and place is invented.\n"
        b"Witness W-2 describes a checkpoint near the fictional village of Al-Nakhil in 2013.\n"
    ),
    "scans/README.txt": b"Scanned pages arrive here in real handovers (demo placeholder).\n",
    "lists/detainees-demo.csv": (
        "id,name,place,year\n1,اسم خيالي,النخيل,2012\n2,Fictional Name,Al-Nakhil,2013\n"
    ).encode(),
    "legacy/windows-1256.txt": "نص بترميز ويندوز 1256 (تجريبي)\n".encode("cp1256"),
}
# An exact duplicate: the same statement handed over twice, under another name.
FILES["copies/statement-002 (copy).txt"] = FILES["statements/statement-002.txt"]


def build_handover(folder: Path) -> Path:
    """Write the demo files (the made ones once: a PDF made again differs in its dates, and
    the same intake must stay idempotent) and the provider's SHA256SUMS; return its path."""
    from amanah import demo_files

    written: dict[str, bytes] = {}
    for rel, data in FILES.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written[rel] = data
    for rel, make in demo_files.MADE.items():
        path = folder / rel
        if not path.exists():
            data = make()
            if data is None:  # its maker is not installed here (chromium): left out
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        written[rel] = path.read_bytes()
    listing = folder.parent / "demo-SHA256SUMS"
    listing.write_text(
        "".join(f"{hashlib.sha256(d).hexdigest()}  ./{rel}\n" for rel, d in written.items()),
        encoding="utf-8",
    )
    return listing


def create_demo(ws: Workspace, actor: str) -> IntakeReport:
    folder = ws.home / "demo-handover" / "handover"
    listing = build_handover(folder)
    with ws.db.session() as s:
        framework = s.execute(
            select(Framework).where(Framework.title == "Demo MoU (fictional)")
        ).scalar_one_or_none()
        if framework is None:
            framework = add_framework(
                s,
                PROVIDER,
                "Demo MoU (fictional)",
                None,
                "Demo terms: disclosure to competent jurisdictions with the provider's consent.",
            )
        framework_id = framework.id
    req = IntakeRequest(
        sources=[str(folder)],
        collection=COLLECTION,
        provider=PROVIDER,
        framework_id=framework_id,
        method="USB handover (demo)",
        place="Demo office",
        hash_list=listing,
        actor=actor,
    )
    return ingest(ws, req)


#: Accounts that let a newcomer see need-to-know at work: an analyst and the provider's uploader.
DEMO_ACCOUNTS = (
    ("demo-analyst", "analyst", None),
    ("demo-uploader", "provider", PROVIDER),
    ("demo-legal", "legal", None),
    ("demo-recipient", "recipient", None),
)
JURISDICTION = "DEMO-PROS"
REQUEST = "DEMO-RFA-001"


def create_demo_request(ws: Workspace) -> str | None:
    """A fictional request answered with a package, so that the requests, packages and
    metrics pages have something to show; returns the package id (None if already there)."""
    from datetime import date, timedelta

    from amanah.access import local_administrator
    from amanah.db.models import Jurisdiction
    from amanah.rfa import jurisdictions, requests, review
    from amanah.sharing import consent, package

    admin = local_administrator(ws, "amanah demo")
    with ws.db.session() as s:
        if s.execute(select(Jurisdiction.id).where(Jurisdiction.code == JURISDICTION)).first():
            return None
        jurisdictions.add(
            s,
            JURISDICTION,
            state="Demoland (fictional)",
            authority="Demo War Crimes Prosecutor (fictional)",
        )
        received = date.today() - timedelta(days=40)
        requests.create(
            s,
            REQUEST,
            JURISDICTION,
            received_on=received,
            actor=admin.actor,
            subject="Detentions near the fictional village of Al-Nakhil, 2012-2013 (demo)",
            fields={"places": ["Al-Nakhil (fictional)"], "crimes": ["arbitrary detention"]},
        )
        # The witness named in one statement: recorded before anything is shared, so that the
        # leak check keeps that statement out of every package.
        from amanah.demo_files import WITNESS, WITNESS_SPELLINGS
        from amanah.sharing import protected

        protected.add(s, admin, WITNESS, list(WITNESS_SPELLINGS), "witness", "demo (fictional)")
        requests.move(s, REQUEST, "acknowledged", admin.actor)
        requests.move(s, REQUEST, "in_progress", admin.actor)
    review.candidates_from_search(ws, admin, REQUEST, "checkpoint OR النخيل")
    with ws.db.session() as s:
        from amanah.db.models import Item

        ids = [r["item_id"] for r in review.rows(s, admin, REQUEST)]
        # The exact duplicate is sent once: the same bytes twice would tell the recipient
        # nothing more (the other stays a candidate, pending).
        first: dict[str, int] = {}
        rows = s.execute(select(Item.id, Item.sha256, Item.original_path).where(Item.id.in_(ids)))
        # the copy after the original (a later row overwrites): the original is the one sent
        for item_id, sha, _path in sorted(rows, key=lambda r: ("/copies/" not in r[2], -r[0])):
            first[sha] = item_id
        review.decide(s, admin, REQUEST, sorted(first.values()), "relevant")
        consent.record(s, admin, REQUEST, PROVIDER, "given", given_by="Demo director (fictional)")
    built = package.build(ws, admin, REQUEST, ws.home / "packages" / REQUEST)
    with ws.db.session() as s:
        requests.move(s, REQUEST, "responded", admin.actor)  # the build moved it to in review
    return str(built["package"])


#: The example searches the demo prints and the README shows, each with exactly the demo files
#: (paths inside the handover) it finds; tests/test_demo.py holds the demo to every one.
QUERIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "الشاهد",
        "Arabic, with the article: both statements",
        ("statements/شهادة-001.txt", "statements/شهادة-003.txt"),
    ),
    (
        "حاجز",
        "Arabic without the article: the PDFs, the email and the scanned memo (OCR)",
        (
            "mail/checkpoint-report.eml",
            "reports/checkpoint-report-chromium.pdf",
            "reports/تقرير-الحاجز.pdf",
            "scans/memo-scan.pdf",
        ),
    ),
    ("مذكرة", "a word only the scan's OCR text holds", ("scans/memo-scan.pdf",)),
    (
        "checkpoint",
        "English: a statement and its exact duplicate, the email, the PDFs",
        (
            "copies/statement-002 (copy).txt",
            "mail/checkpoint-report.eml",
            "reports/checkpoint-report-chromium.pdf",
            "reports/تقرير-الحاجز.pdf",
            "statements/statement-002.txt",
        ),
    ),
    ("DEMO-111", "inside the email's attachment", ("vehicles-demo.csv",)),
    (
        "date:2013 type:text",
        "the date each statement states, whenever its file was copied",
        (
            "copies/statement-002 (copy).txt",
            "statements/statement-002.txt",
            "statements/شهادة-001.txt",
            "statements/شهادة-003.txt",
        ),
    ),
)


def demo_accounts(ws: Workspace) -> list[tuple[str, str, str]]:
    """Create the demo accounts once, each with a random password (returned to show once)."""
    import secrets

    from amanah.access.users import add_user, list_users

    existing = {u["name"] for u in list_users(ws)}
    made = []
    for name, role, provider in DEMO_ACCOUNTS:
        if name in existing:
            continue
        password = secrets.token_urlsafe(9)
        add_user(
            ws,
            name,
            role,
            password,
            compartments=("default",) if role in ("analyst", "legal") else (),
            provider=provider,
            jurisdiction=JURISDICTION if role == "recipient" else None,
            by="amanah demo",
        )
        made.append((name, role, password))
    return made
