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
from amanah.custody.checkpoint_log import CHECKPOINT_LOG, LOG_NAME
from amanah.custody.keys import SigningKey, open_signing_key
from amanah.custody.ledger import SIGNING_KEY
from amanah.db import Database


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
    load_settings(path)
    return path  # the key is made by open_workspace, once the ledger is known to be empty


def open_workspace(
    home: str | os.PathLike[str] | None,
    create: bool = True,
    initializing: bool = False,
    passphrase: bytes | None = None,
) -> Workspace:
    """Open (and on first use, set up) the installation in `home`."""
    path = resolve_home(home)
    if create:
        init_home(path)
    settings = load_settings(path)
    db = Database(settings.database_url)
    db.upgrade()
    blobs = open_store(settings.blob_store, path, settings.s3_endpoint, settings.s3_region)
    ensure = getattr(blobs, "ensure_bucket", None)
    if ensure is not None:
        ensure()
    try:
        with db.reader() as s:
            key = open_signing_key(
                settings.key_path, settings.public_key_path, s, initializing, passphrase
            )
    except Exception:
        db.dispose()
        raise
    db.session_info[SIGNING_KEY] = key
    db.session_info[CHECKPOINT_LOG] = path / LOG_NAME
    return Workspace(settings=settings, db=db, blobs=blobs, key=key)
