"""Sharing packages on the web: listed, shown and downloaded as one ZIP (the API under
/api/v1 and the pages). A package holding an item the caller may not see answers 404; a
recipient sees its own jurisdiction's packages and nothing else (amanah.access decides)."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as Path_
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select

from amanah.access import Caller, NotVisible, Permission, require_package_deliverable
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import PackageItem
from amanah.rfa import requests
from amanah.sharing import package
from amanah.web.auth import workspace
from amanah.web.pages import render
from amanah.web.requests import who

log = logging.getLogger("amanah.web")
api = APIRouter(prefix="/api/v1")
pages = APIRouter(include_in_schema=False)
PackageId = Annotated[str, Path_(pattern=r"^PKG-[0-9]{8}-[0-9A-F]{8}$")]
CHUNK = 1 << 20


@api.get("/packages")
def list_packages(
    request: Request, caller: Annotated[Caller, who(Permission.VIEW_PACKAGES)]
) -> list[dict[str, Any]]:
    """Packages: for staff, those whose every item they may see; a recipient's own
    jurisdiction's only."""
    with workspace(request).db.reader() as s:
        return package.list_packages(s, caller)


@api.get("/packages/{package_id}")
def get_package(
    request: Request,
    package_id: PackageId,
    caller: Annotated[Caller, who(Permission.VIEW_PACKAGES)],
) -> dict[str, Any]:
    """One package and its files."""
    with workspace(request).db.reader() as s:
        return _package(s, caller, package_id)


def _package(s: Any, caller: Caller, package_id: str) -> dict[str, Any]:
    """A package the caller may see (404 otherwise) with what it holds, file by file."""
    listed = package.list_packages(s, caller, package_id)
    if not listed:
        raise NotVisible(f"no package {package_id}")
    files = [
        {
            "number": f.number,
            "file": f.path,
            "sha256": f.sha256,
            "size": f.size,
            "variant": f.variant,
        }
        for f in s.execute(
            select(PackageItem)
            .where(PackageItem.package_id == package_id)
            .order_by(PackageItem.number)
        ).scalars()
    ]
    return {**listed[0], "files": files}


class PackageUnavailable(NotVisible):
    """A package the caller may see whose folder is gone from the server (404)."""


class _Sink:
    """A write-only file for zipfile whose bytes are handed out as they are written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _zip(folder: Path, root: str) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:  # type: ignore[arg-type]
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = f"{root}/{path.relative_to(folder).as_posix()}"
            with path.open("rb") as src, zf.open(name, "w", force_zip64=True) as dst:
                while data := src.read(CHUNK):
                    dst.write(data)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def _download(request: Request, caller: Caller, package_id: str) -> Response:
    ws = workspace(request)
    with ws.db.reader() as s:
        p = package.get_package(s, caller, package_id)
        require_package_deliverable(s, caller, package_id)
        folder = Path(p.path)
    if not (folder / "bagit.txt").is_file():
        # The server's path is for the staff who keep the folders (the log), never for the
        # caller, who may be a recipient outside the mechanism.
        log.warning("package %s: no bag at %s (asked for by %s)", package_id, folder, caller.actor)
        raise PackageUnavailable(f"package {package_id} is not available; ask the mechanism")

    def record(s: Any) -> None:
        ledger.append(
            s,
            EventType.DOWNLOAD,
            actor=caller.actor,
            object_type="package",
            object_id=package_id,
            details={"action": "download package", **caller.audit()},
        )

    ws.db.write_soon(record)
    return StreamingResponse(
        _zip(folder, package_id),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{package_id}.zip"'},
    )


@api.get("/packages/{package_id}/download", response_class=StreamingResponse)
def download_package(
    request: Request,
    package_id: PackageId,
    caller: Annotated[Caller, who(Permission.VIEW_PACKAGES)],
) -> Response:
    """The whole bag as one ZIP (stored, not compressed); the download is recorded."""
    return _download(request, caller, package_id)


@pages.get("/packages")
def packages_page(
    request: Request, caller: Annotated[Caller, who(Permission.VIEW_PACKAGES)]
) -> Response:
    with workspace(request).db.reader() as s:
        rows = package.list_packages(s, caller)
    return render(request, "packages.html", rows=rows)


@pages.get("/packages/{package_id}")
def package_page(
    request: Request,
    package_id: PackageId,
    caller: Annotated[Caller, who(Permission.VIEW_PACKAGES)],
    built: Annotated[bool, Query()] = False,
) -> Response:
    """What one package holds: its files, their digests and variants (a recipient sees its
    own jurisdiction's packages only)."""
    with workspace(request).db.reader() as s:
        found = _package(s, caller, package_id)
        from amanah.sharing import person_consent  # a withdrawal after the build is shown

        withdrawn = person_consent.withdrawn_since(s, caller, package_id)
        state = None
        if built and caller.can(Permission.VIEW_REQUESTS):  # the message after a build
            try:
                state = requests.visible(s, caller, found["request"]).state
            except NotVisible:
                state = None
    return render(
        request,
        "package.html",
        p=found,
        built=built,
        request_state=state,
        withdrawn=withdrawn,
        staff=caller.can(Permission.VIEW_REQUESTS),
    )


@pages.get("/packages/{package_id}/download")
def package_download_page(
    request: Request,
    package_id: PackageId,
    caller: Annotated[Caller, who(Permission.VIEW_PACKAGES)],
) -> Response:
    return _download(request, caller, package_id)
