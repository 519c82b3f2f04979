"""One installation opened for work: settings, database, blob store and signing key together.

Every command starts here, so that a first command on a fresh machine sets up a complete home
(configuration, schema, key) and later ones find it as they left it.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from amanah.blobs import BlobStore, open_store
from amanah.config import Settings, load_settings, resolve_home, write_default_config
from amanah.custody.keys import SigningKey, create_key, load_key
from amanah.custody.ledger import SIGNING_KEY
from amanah.db import Database
from amanah.sharing.names_key import SESSION_KEY as NAMES_KEY
from amanah.sharing.names_key import key_path as names_key_path
from amanah.sharing.names_key import load_or_create_key


def default_actor() -> str:
    """Who is acting, when no signed-in user exists yet: the local account."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = str(os.getuid())
    return f"local:{name}"


@dataclass
class Workspace:
    settings: Settings
    db: Database
    blobs: BlobStore
    key: SigningKey

    @property
    def home(self) -> Path:
        return self.settings.home

    def close(self) -> None:
        self.db.dispose()


def init_home(
    home: str | os.PathLike[str] | None,
    database_url: str | None = None,
    blob_store: str | None = None,
    s3_endpoint: str = "",
) -> Path:
    path = resolve_home(home)
    write_default_config(path, database_url, blob_store, s3_endpoint)
    settings = load_settings(path)
    create_key(settings.key_path, settings.public_key_path)
    return path


def open_workspace(home: str | os.PathLike[str] | None, create: bool = True) -> Workspace:
    """Open (and on first use, set up) the installation in `home`."""
    path = resolve_home(home)
    if create:
        init_home(path)
    settings = load_settings(path)
    db = Database(settings.database_url)
    db.migration_attributes["names_key_path"] = str(names_key_path(path))
    db.upgrade()
    blobs = open_store(settings.blob_store, path, settings.s3_endpoint, settings.s3_region)
    ensure = getattr(blobs, "ensure_bucket", None)
    if ensure is not None:
        ensure()
    key = (
        load_key(settings.key_path)
        if settings.key_path.exists()
        else create_key(settings.key_path, settings.public_key_path)
    )
    db.session_info[SIGNING_KEY] = key
    db.session_info[NAMES_KEY] = load_or_create_key(names_key_path(path))
    return Workspace(settings=settings, db=db, blobs=blobs, key=key)
