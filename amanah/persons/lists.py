"""Person lists as evidence: a list's file preserved as an item first (custody, SHA-256,
provider), then read from the preserved bytes, one record per row, each pointing to the item
and its line; rows that cannot be read are reported by line and stored with the list's
report, never dropped silently. Importing the same file into the same list again adds
nothing. Who sees a list is decided in `amanah.access` (`person_lists_visible`); reading its
records is an audited access."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from amanah.access import (
    AccessDenied,
    Caller,
    Permission,
    entities_visible,
    visible_collection,
    visible_person_list,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Collection,
    Entity,
    EntityName,
    Item,
    PersonList,
    PersonListRecord,
)
from amanah.entities.nameparts import parts_of
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.intake.preserve import path_key
from amanah.persons import importer
from amanah.persons.importer import MappingError, RowError, TableError
from amanah.persons.reading import records_of
from amanah.processing.pipeline import local_copy
from amanah.processing.sandbox import Limits, Sandbox, SandboxError
from amanah.sharing.protected import refuse_names
from amanah.text import name_match as nm
from amanah.text import names as nk
from amanah.workspace import Workspace

BATCH = 1000
__all__ = ["ImportReport", "PersonsError", "import_list", "records_of"]
#: The provider recorded for a list's new collection when the importer names none.
UNRECORDED_PROVIDER = "provider not recorded"
_PCODE_ADMIN1 = 4  # SY01: a governorate


LIST_NAMES_PROTECTED = (
    "a person list's name must not name a protected person (it is kept and shown in clear):"
    " write the pseudonym"
)


class PersonsError(Exception):
    """The request is wrong: no such file, an unknown field or column, a list's compartment
    contradicted (exit status 2)."""


class Progress(Protocol):
    def expect(self, total: int) -> None: ...
    def advance(self, amount: int = 1) -> None: ...


@dataclass
class ImportReport:
    """What one import did: rows read, records added, rows already there, and every row that
    could not be read (or was read with a warning), by line, with the reason."""

    list_name: str
    item_id: int
    sha256: str
    kind: str = ""
    encoding: str = ""
    sheet: str = ""
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    blank: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    key_column: str = ""
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def bad(self) -> int:
        return sum(1 for p in self.problems if not p["imported"])

    @property
    def ok(self) -> bool:
        return not self.error and self.bad == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "item": self.item_id,
            "sha256": self.sha256,
            "kind": self.kind,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "rows": self.rows,
            "imported": self.imported,
            "already_present": self.already_present,
            "blank": self.blank,
            "bad": self.bad,
            "ok": self.ok,
            "error": self.error,
            "key_column": self.key_column,
            "mapping": self.mapping,
            "notes": self.notes,
            "problems": self.problems,
        }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def preserve(
    ws: Workspace,
    caller: Caller,
    path: Path,
    collection: str,
    provider: str | None,
    compartment: str | None,
) -> Item:
    """The list's file as an item, through the ordinary intake (custody, SHA-256, provider):
    the item already there when the same bytes came from the same path before."""
    if not path.is_file():
        raise PersonsError(f"{path}: no such file")
    digest = _sha256(path)
    with ws.db.reader() as s:
        known = s.execute(select(Collection.id).where(Collection.name == collection)).first()
    req = IntakeRequest(
        sources=[str(path)],
        collection=collection,
        provider=provider if provider or known else UNRECORDED_PROVIDER,
        compartment=compartment,
        actor=caller.actor,
    )
    report = ingest(ws, req)
    if report.problems and not report.ok:
        raise PersonsError(f"{path}: not preserved: {report.problems[0].reason}")
    wanted = path_key(None, os.fsencode(path.name), digest)
    with ws.db.reader() as s:
        coll = visible_collection(s, caller, collection)
        item = s.execute(
            select(Item).where(Item.collection_id == coll.id, Item.path_key == wanted)
        ).scalar_one_or_none()
        if item is None:
            raise PersonsError(f"{path}: the file changed while it was preserved; import again")
        s.expunge(item)
    return item


def _places(s: Session) -> dict[str, str]:
    """Governorate names (both scripts, every variant) → P-code, from the gazetteer."""
    rows = s.execute(
        select(EntityName.full_name, Entity.pcode)
        .join(Entity, Entity.id == EntityName.entity_id)
        .where(Entity.kind == "place", func.length(Entity.pcode) == _PCODE_ADMIN1)
    )
    found: dict[str, str] = {}
    for name, pcode in rows:
        found[importer.header_key(name)] = pcode
        found[importer.header_key(pcode)] = pcode
    return found


_GOVERNORATE_WORDS = tuple(
    importer.header_key(w) for w in ("محافظة", "محافظه", "governorate", "province", "gov")
)


def governorate_code(places: dict[str, str], text: str) -> str:
    key = importer.header_key(text)
    for word in _GOVERNORATE_WORDS:
        key = key.removeprefix(word + " ").removesuffix(" " + word)
    return places.get(key, "")


def _facilities(s: Session, caller: Caller) -> dict[str, int | None]:
    """Facility names → entity id (None where two facilities share a name: no guess)."""
    rows = s.execute(
        select(EntityName.full_name, Entity.id)
        .join(Entity, Entity.id == EntityName.entity_id)
        .where(Entity.kind == "facility", entities_visible(caller))
    )
    found: dict[str, int | None] = {}
    for name, entity_id in rows:
        key = importer.header_key(name)
        found[key] = entity_id if found.get(key, entity_id) == entity_id else None
    return found


def _list_for(
    s: Session, caller: Caller, name: str, item: Item, compartment: str | None
) -> PersonList:
    existing = s.execute(select(PersonList).where(PersonList.name == name)).scalar_one_or_none()
    coll = s.get(Collection, item.collection_id)
    assert coll is not None
    if existing is None:
        now = datetime.now(UTC)
        plist = PersonList(
            name=name,
            compartment=compartment or coll.compartment,
            item_id=item.id,
            created_at=now,
            created_by=caller.actor,
            imported_at=now,
        )
        s.add(plist)
        s.flush()
        return plist
    visible_person_list(s, caller, name)  # another's list in a compartment you lack: refused
    if compartment and compartment != existing.compartment:
        raise PersonsError(
            f"person list {name!r} is in compartment {existing.compartment!r}, not {compartment!r}"
        )
    first = s.get(Item, existing.item_id)
    home = s.get(Collection, first.collection_id) if first else None
    if home is not None and coll.compartment != home.compartment:
        # Whoever reads the list reads every release's names: a release from a collection
        # of another compartment would hand them to people who may not see that file.
        raise PersonsError(
            f"collection {coll.name!r} is in compartment {coll.compartment!r}; person list"
            f" {name!r} is read from compartment {home.compartment!r}: preserve its new"
            f" release in a collection of that compartment (--collection)"
        )
    return existing


def import_list(
    ws: Workspace,
    caller: Caller,
    path: Path,
    list_name: str,
    *,
    key: str | None = None,
    overrides: dict[str, str] | None = None,
    compartment: str | None = None,
    collection: str | None = None,
    provider: str | None = None,
    as_of: date | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    columns: list[str] | None = None,
) -> ImportReport:
    """Preserve the file, then read it into the list; the report says what happened to every
    row. PersonsError for a wrong request (nothing is recorded in the list then)."""
    caller.require(Permission.UPLOAD)
    caller.require(Permission.MANAGE_ENTITIES)
    list_name = " ".join(list_name.split())
    if not list_name:
        raise PersonsError("a person list needs a name (--list)")
    with ws.db.reader() as s:
        refuse_names(s, PersonsError(LIST_NAMES_PROTECTED), list_name)
    if compartment and not caller.may_see(compartment):
        raise AccessDenied(f"you do not hold compartment {compartment!r}")
    _refuse_protected_names(ws, list_name, collection, provider, *(columns or []))
    item = preserve(ws, caller, Path(path), collection or list_name, provider, compartment)
    work = _work_folder(ws)
    try:
        return _import(
            ws,
            caller,
            path,
            list_name,
            item,
            work,
            key,
            overrides,
            compartment,
            as_of,
            sheet,
            progress,
            columns=columns,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


NAMES_A_PROTECTED_PERSON = (
    "a person list's name, its collection's and provider's names and the names --columns"
    " gives are kept and shown in clear: none may name a protected person (write the"
    " pseudonym)"
)


def _refuse_protected_names(ws: Workspace, *words: str | None) -> None:
    """The words an import types (not the file's): refused before anything is preserved when
    any names a protected person, in any reading (`sharing.protected.named_in`); the reason
    does not say which."""
    from amanah.sharing.protected import named_in

    with ws.db.reader() as s:
        if any(named_in(s, w) for w in words if w):
            raise PersonsError(NAMES_A_PROTECTED_PERSON)


def _work_folder(ws: Workspace) -> Path:
    base = ws.settings.home / "work"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="person-list-", dir=base))


def read_in_sandbox(
    ws: Workspace, item: Item, sheet: str | None, work: Path, columns: list[str] | None = None
) -> importer.Table:
    """The preserved file read as a table in the sandbox (rule 10: a hostile workbook is
    parsed in the cage); its rows come back as JSON. TableError with the reason otherwise."""
    source = local_copy(ws, item.sha256, work)
    if _sha256(source) != item.sha256:
        raise TableError(f"item {item.id}: the stored bytes do not match their SHA-256")
    out = work / "out"
    out.mkdir()
    spec = {"sheet": sheet, "columns": columns}  # columns: a file without a header row
    (out / importer.SPEC).write_text(json.dumps(spec), encoding="utf-8")
    box = Sandbox.for_settings(ws.settings)
    try:
        found = box.analyze(
            str(source),
            item.original_path,
            str(out),
            Limits(cpu_seconds=1800),
            task="person_list",
        )
    except SandboxError as exc:
        raise TableError(f"not readable: {exc}") from None
    finally:
        box.close()
    if isinstance(found.get("ok"), dict):
        found = found["ok"]
    if found.get("error"):
        raise TableError(f"not readable: {found['error']}")
    if found.get("table_error"):
        raise TableError(str(found["table_error"]))
    return importer.Table(
        kind=found["kind"],
        encoding=found["encoding"],
        headers=[str(h) for h in found["headers"]],
        rows=importer.rows_written(out),
        sheet=found.get("sheet", ""),
        delimiter=found.get("delimiter", ""),
        total=found.get("rows"),
        notes=[str(n) for n in found.get("notes", [])],
    )


def _import(
    ws: Workspace,
    caller: Caller,
    path: Path,
    list_name: str,
    item: Item,
    work: Path,
    key: str | None,
    overrides: dict[str, str] | None,
    compartment: str | None,
    as_of: date | None,
    sheet: str | None,
    progress: Progress | None,
    columns: list[str] | None = None,
) -> ImportReport:
    report = ImportReport(list_name, item.id, item.sha256, key_column=key or "")
    table: importer.Table | None
    try:
        table = read_in_sandbox(ws, item, sheet, work, columns)
    except TableError as exc:
        report.error = f"{Path(path).name}: {exc}"
        table = None
    how = None
    if table is not None:
        report.kind, report.encoding, report.sheet = table.kind, table.encoding, table.sheet
        try:
            how = importer.reading(table.headers, key, overrides or {})
        except MappingError as exc:
            raise PersonsError(str(exc)) from None
        if not any(f in how.fields for f in ("full_name", *importer.NAME_FIELDS)):
            columns = (
                f"its columns are {table.headers[:40]}"
                + (f" and {len(table.headers) - 40} more" if len(table.headers) > 40 else "")
                if how.header_row
                else (
                    f"none of its {len(table.headers)} columns has a header this reader knows"
                    " (is there a header row?)"
                )
            )
            raise PersonsError(
                f"{Path(path).name}: no column reads as a name; {columns}:"
                " name one with --map full_name=COLUMN (a header or a number from 1)"
            )
        report.mapping = {f: how.shown(i) for f, i in how.fields.items()}
        report.notes = [*table.notes, *how.notes]
    with ws.db.session() as s:
        plist = _list_for(s, caller, list_name, item, compartment)
        if table is not None and how is not None:
            _read_rows(s, caller, plist, item, table, how, report, as_of, progress)
        plist.key_column = key or ""
        plist.mapping = json.dumps(report.mapping, ensure_ascii=False)
        plist.as_of = as_of
        plist.report = json.dumps(report.as_dict(), ensure_ascii=False)
        plist.imported_at = datetime.now(UTC)
        ledger.append(
            s,
            EventType.METADATA_EXTRACTION,
            actor=caller.actor,
            object_type="item",
            object_id=item.id,
            outcome="success" if report.ok else "warning",
            details={
                "action": "person list import",
                "list": list_name,
                "list_id": plist.id,
                "rows": report.rows,
                "imported": report.imported,
                "already_present": report.already_present,
                "bad": report.bad,
                # The reason may quote the file (a sheet's name, a header): the ledger, which
                # leaves with packages, gets only that there was one and its digest.
                "error": "the file could not be read as a table" if report.error else None,
                "error_sha256": (
                    hashlib.sha256(report.error.encode()).hexdigest() if report.error else None
                ),
                **caller.audit(),
            },
        )
    return report


def _read_rows(
    s: Session,
    caller: Caller,
    plist: PersonList,
    item: Item,
    table: importer.Table,
    how: importer.Reading,
    report: ImportReport,
    as_of: date | None,
    progress: Progress | None,
) -> None:
    have = set(
        s.execute(
            select(PersonListRecord.row).where(
                PersonListRecord.list_id == plist.id, PersonListRecord.item_id == item.id
            )
        ).scalars()
    )
    if progress is not None and table.total is not None:
        progress.expect(table.total)
    places, facilities = _places(s), _facilities(s, caller)
    today = datetime.now(UTC).date()
    keys_seen: dict[str, int] = {}
    batch: list[importer.Row] = []
    shown = 0

    def flush() -> None:
        nonlocal shown
        _store(s, plist, item, batch, places, facilities, report)
        if progress is not None:
            progress.advance(report.rows - shown)  # rows read, stored or not
            shown = report.rows
        batch.clear()

    for line, cells in table.rows:
        report.rows += 1
        if line in have:
            report.already_present += 1
            continue
        try:
            if isinstance(cells, RowError):
                raise cells
            row = importer.read_row(line, cells, table.headers, how, as_of=as_of, today=today)
        except RowError as exc:
            report.problems.append({"line": line, "reason": str(exc), "imported": False})
            continue
        if row is None:
            report.blank += 1
            continue
        if how.key is not None and not row.values["key"]:
            row.warnings.append("empty key: the line number stands for it")
        key = row.values["key"] = row.values["key"] or str(line)
        if how.key is not None and key in keys_seen:
            row.warnings.append(f"key already used on line {keys_seen[key]}")
        keys_seen.setdefault(key, line)
        for warning in row.warnings:
            report.problems.append({"line": line, "reason": warning, "imported": True})
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()


def _store(
    s: Session,
    plist: PersonList,
    item: Item,
    rows: list[importer.Row],
    places: dict[str, str],
    facilities: dict[str, int | None],
    report: ImportReport,
) -> None:
    """One batch of rows: names parsed into parts where the list gave none (romanised in
    one batch), governorate and facility resolved, inserted at once."""
    for r in rows:
        _own_name(r.values)
    whole = [r.values["full_name"] for r in rows if _needs_parts(r.values)]
    if whole:
        nm.prepare_many(whole)
    records = []
    for r in rows:
        v = r.values
        if _needs_parts(v):
            parts = parts_of(v["full_name"])
            for part in importer.NAME_FIELDS:
                v[part] = v[part] or as_written(v["full_name"], parts[part])
        v["governorate"] = governorate_code(places, v["governorate_text"]) if places else ""
        facility = v["detention_facility"]
        v["detention_facility_id"] = (
            facilities.get(importer.header_key(facility)) if facility else None
        )
        v["extra"] = json.dumps(v["extra"], ensure_ascii=False)
        records.append({**v, "list_id": plist.id, "item_id": item.id, "row": r.line})
    if records:
        s.execute(insert(PersonListRecord), records)
        report.imported += len(records)


def as_written(full_name: str, part: str) -> str:
    """A part the parser gives folded (احمد, فاطمه), as the list wrote it (أحمد, فاطمة): the
    span of the name from the part's first word to its last; the folded part when its words
    are not found in order."""
    shown = part.split()
    if not shown:
        return ""
    found = nk.words(full_name)
    for i, w in enumerate(found):
        if w.folded != shown[0]:
            continue
        j, k = i, 1
        while k < len(shown) and j + 1 < len(found):
            j += 1
            if found[j].folded == shown[k]:
                k += 1
        if k == len(shown):
            return full_name[w.start : found[j].end]
    return part


def _own_name(v: dict[str, Any]) -> None:
    """A "name" column beside the father's and the family's columns that holds none of them
    is the person's own name (الاسم, Name): the full name is then made of the parts."""
    given = [v[p] for p in importer.NAME_FIELDS if v[p]]
    if v["full_name"] and given and not v["ism"]:
        folded = nk.fold(v["full_name"])
        if not any(nk.fold(p) in folded for p in given):
            v["ism"], v["full_name"] = v["full_name"], ""
    if not v["full_name"]:
        v["full_name"] = " ".join(v[p] for p in importer.NAME_FIELDS if v[p])


def _needs_parts(v: dict[str, Any]) -> bool:
    """A full name with some part unknown: the parser fills the unknown parts only."""
    return bool(v["full_name"]) and not all(v[p] for p in importer.NAME_FIELDS)
