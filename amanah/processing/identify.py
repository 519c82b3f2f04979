"""Format identification: libmagic's media type and PRONOM's PUID (via fido), from content.

The extension a provider gave a file is evidence too, but not of its format: a `.pdf` that is
a Windows executable must be seen as one. A disagreement is recorded, never silently resolved.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

import magic
from fido import fido as fido_module
from fido.versions import get_local_versions

_MAGIC = magic.Magic(mime=True)
_MAGIC_DESC = magic.Magic()


_VERSIONS = get_local_versions(fido_module.CONFIG_DIR)
# fido's own command line sets these module defaults before it builds its matcher; so do we.
fido_module.defaults["containersignature_file"] = _VERSIONS.pronom_container_signature
SIGNATURES = f"PRONOM {_VERSIONS.pronom_signature}, fido {fido_module.__version__}"


class _Fido(fido_module.Fido):
    """fido reports matches through a callback; keep them instead of printing."""

    def __init__(self) -> None:
        super().__init__(
            quiet=True,
            handle_matches=self._keep,
            format_files=[_VERSIONS.pronom_signature, _VERSIONS.fido_extension_signature],
        )
        self.matches: list[tuple[Any, Any]] = []
        self.matchtype = ""

    def _keep(self, _name: str, matches: list[tuple[Any, Any]], _t: float, kind: str = "") -> None:
        self.matches = matches
        self.matchtype = kind

    def identify(self, path: str) -> tuple[str | None, str | None, str]:
        self.matches = []
        self.identify_file(path, extension=False)
        if not self.matches:
            return None, None, ""
        fmt = self.matches[0][0]
        puid = self.get_puid(fmt)
        name = fmt.find("name")
        return puid, (name.text if name is not None else None), self.matchtype


def _warm(fido: _Fido) -> _Fido:
    """Compile all of fido's signature patterns now, so that forked children inherit them.

    fido passes pattern strings to `re`, whose cache is per process; without this, every
    sandboxed child recompiled about 2,000 patterns (~0.35 s a file).
    """
    patterns = {
        fido.get_regex(pat)
        for fmt in fido.formats
        for sig in fido.get_signatures(fmt)
        for pat in fido.get_patterns(sig)
    }
    re._MAXCACHE = max(re._MAXCACHE, 2 * len(patterns))  # type: ignore[attr-defined]
    for pattern in patterns:
        re.compile(pattern)
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(b"%PDF-1.4\n" + bytes(range(256)) * 4)
        f.flush()
        fido.identify(f.name)
    return fido


@functools.cache
def _fido() -> _Fido:
    """Built on first use: a process that never identifies (the command line, a runner's
    parent) does not pay for it. The sandbox's zygote builds it before any fork (`warm`)."""
    return _warm(_Fido())


def warm() -> None:
    """Build the matcher now, so that children forked after this inherit it ready."""
    _fido()


# Broad families: a difference between the extension's family and the content's is flagged.
_FAMILIES = {
    "application/pdf": "pdf",
    "application/x-dosexec": "executable",
    "application/x-executable": "executable",
    "application/x-sharedlib": "executable",
    "application/x-pie-executable": "executable",
    "application/x-mach-binary": "executable",
    "application/zip": "archive",
    "application/x-7z-compressed": "archive",
    "application/x-rar": "archive",
    "application/vnd.rar": "archive",
    "application/x-tar": "archive",
    "application/gzip": "archive",
    "message/rfc822": "email",
    "application/vnd.ms-outlook": "email",
    "text/html": "html",
    "application/msword": "document",
    "application/rtf": "document",
    "text/rtf": "document",
}


def family(media_type: str | None) -> str | None:
    if not media_type:
        return None
    if media_type in _FAMILIES:
        return _FAMILIES[media_type]
    major = media_type.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    if "officedocument" in media_type or "opendocument" in media_type or "ms-excel" in media_type:
        return "document"
    return None


@dataclass
class Identity:
    media_type: str
    description: str
    puid: str | None
    format_name: str | None
    basis: str
    flags: list[dict[str, str]] = field(default_factory=list)


def identify(path: str, name: str) -> Identity:
    media_type = _MAGIC.from_file(path)
    description = _MAGIC_DESC.from_file(path)
    # fido reports empty files on stderr and matches nothing; nothing to identify anyway.
    puid, format_name, basis = _fido().identify(path) if os.path.getsize(path) else (None, None, "")
    ident = Identity(media_type, description, puid, format_name, basis or "none")
    guessed, _ = mimetypes.guess_type(name, strict=False)
    said, found = family(guessed), family(media_type)
    if said and found and said != found:
        ext = name.rsplit(".", 1)[-1] if "." in name else ""
        ident.flags.append(
            {
                "code": "extension_mismatch",
                "message": f"named .{ext} ({guessed}) but the content is {media_type}"
                f" ({description[:120]})",
            }
        )
    return ident
