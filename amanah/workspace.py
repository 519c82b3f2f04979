"""One installation opened for work: settings, database, blob store and signing key together.

Every command starts here, so that a first command on a fresh machine sets up a complete home
(configuration, schema, key) and later ones find it as they left it.

A home is private to the account that runs Amanah: it is created under umask 077 (home and
folders 0700, database, keys and configuration 0600; blobs are created 0400 by the store, and
the `amanah` command runs under umask 077 throughout), and opening an existing home tightens
what an older version left wider.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from amanah.blobs import BlobStore, open_store
from amanah.config import (
    CONFIG_NAME,
    ConfigError,
    Settings,
    load_settings,
    resolve_home,
    write_default_config,
)
from amanah.custody.checkpoint_log import CHECKPOINT_LOG, LOG_NAME
from amanah.custody.keys import SigningKey, open_signing_key
from amanah.custody.ledger import SIGNING_KEY
from amanah.db import Database, DatabaseError
from amanah.sharing.names_key import SESSION_KEY as NAMES_KEY
from amanah.sharing.names_key import key_path as names_key_path
from amanah.sharing.names_key import load_or_create_key
from amanah.system import private_files


def _tighten(path: Path, private: int) -> None:
    """Remove group and other access from an existing file or folder (never add any)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & private)


def tighten_home(settings: Settings) -> None:
    """An existing home made by an older version (0755 folders, 0644 files) made private."""
    home = settings.home
    _tighten(home, 0o700)
    _tighten(home / CONFIG_NAME, 0o600)
    _tighten(settings.key_path.parent, 0o700)
    for key in settings.key_path.parent.glob("*"):
        _tighten(key, 0o600)
    for folder in ("uploads",):
        _tighten(home / folder, 0o700)
    db_file = sqlite_file(settings.database_url)
    if db_file is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            _tighten(db_file.with_name(db_file.name + suffix), 0o600)


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite database file of a URL, or None for a server database."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


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
        try:
            from amanah.search.index import settle

            settle(self)  # what this command changed is in the search index before it returns
        except Exception as exc:  # committed and queued: the next search applies it
            logging.getLogger(__name__).warning("search index not brought up to date: %s", exc)
        self.db.dispose()


def init_home(
    home: str | os.PathLike[str] | None,
    database_url: str | None = None,
    blob_store: str | None = None,
    s3_endpoint: str = "",
) -> Path:
    with private_files():
        path = resolve_home(home)
        write_default_config(path, database_url, blob_store, s3_endpoint)
        load_settings(path)
    return path  # the key is made by open_workspace, once the ledger is known to be empty


def _database(url: str, home: Path) -> Database:
    """The home's database, brought to the current schema; what cannot be opened is said in
    one line naming the configuration or the database (never the URL: it may hold a
    password): a database_url that is no URL or names a driver not installed, a file that is
    not a database, a schema newer than this version of Amanah."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import ArgumentError, OperationalError
    from sqlalchemy.exc import DatabaseError as SQLError

    config = home / CONFIG_NAME
    try:
        db = Database(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise ConfigError(f"{config}: database_url cannot be used ({exc})") from None
    db.migration_attributes["names_key_path"] = str(names_key_path(home))
    where = sqlite_file(url) or config
    try:
        db.upgrade()  # creates the SQLite file (and its -wal, -shm with its mode) 0600
    except (ArgumentError, ImportError) as exc:
        db.dispose()
        raise ConfigError(f"{config}: database_url cannot be used ({exc})") from None
    except OperationalError as exc:  # a server down, a file locked or unreadable: not its kind
        db.dispose()
        raise DatabaseError(f"{where}: the database cannot be used now ({exc.orig})") from None
    except SQLError as exc:
        db.dispose()
        raise DatabaseError(f"{where}: not an Amanah database ({exc.orig})") from None
    except CommandError as exc:
        db.dispose()
        raise DatabaseError(
            f"{where}: its schema is not one this version of Amanah knows ({exc}); upgrade"
            " Amanah, or restore the home from a backup"
        ) from None
    return db


def open_workspace(
    home: str | os.PathLike[str] | None,
    create: bool = True,
    initializing: bool = False,
    passphrase: bytes | None = None,
) -> Workspace:
    """Open (and on first use, set up) the installation in `home`."""
    with private_files():
        path = resolve_home(home)
        if create:
            init_home(path)
        settings = load_settings(path)
        tighten_home(settings)
        db = _database(settings.database_url, path)
        blobs = open_store(settings.blob_store, path, settings.s3_endpoint, settings.s3_region)
        ensure = getattr(blobs, "ensure_bucket", None)
        if ensure is not None:
            ensure()
        try:
            with db.reader() as s:
                key = open_signing_key(
                    settings.key_path, settings.public_key_path, s, initializing, passphrase
                )
            names_key = load_or_create_key(names_key_path(path))
        except Exception:
            db.dispose()
            raise
    db.session_info[SIGNING_KEY] = key
    db.session_info[CHECKPOINT_LOG] = path / LOG_NAME
    db.session_info[NAMES_KEY] = names_key
    from amanah.search import searchlog  # applies searches a crash left in its journal

    searchlog.attach(db, path)
    return Workspace(settings=settings, db=db, blobs=blobs, key=key)
