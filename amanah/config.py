"""Settings of one installation, read from its home folder.

A home holds everything one installation owns: the configuration file, the SQLite database
(by default), the blob folder (by default) and the Ed25519 key that signs the custody ledger.
Keeping it all in one folder is what lets a newcomer run Amanah with zero set-up.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_NAME = "amanah.toml"
DEFAULT_HOME = "amanah-home"

_TEMPLATE = """\
# Amanah installation settings. Paths are relative to this folder unless absolute.
#
# database_url: SQLAlchemy URL. Default: SQLite in this folder.
#   PostgreSQL: "postgresql+psycopg://user:password@host:5432/amanah"
database_url = "{database_url}"

# blob_store: where evidence bytes live, addressed by SHA-256.
#   A folder: "file:blobs"   S3 (SeaweedFS, Ceph RGW, AWS): "s3://bucket/prefix"
blob_store = "{blob_store}"

# For S3 only: endpoint URL and region; credentials come from the usual AWS_* variables.
s3_endpoint = "{s3_endpoint}"
s3_region = "us-east-1"

# runner: "embedded" (a job pool inside `amanah process` / `amanah serve`), or "procrastinate"
#   (PostgreSQL only: jobs are also deferred to procrastinate; run `amanah worker` anywhere).
runner = "embedded"

# semantic: also embed each item's text (multilingual-e5-small, on this machine's CPU) so that
#   `amanah search --semantic` finds Arabic documents for an English question. It costs CPU
#   time for every passage of 1,000 characters; set to false to save it on very large handovers.
semantic = true

# search_backend: where word searches run. "default": tantivy on a SQLite home (an embedded index
#   in this folder, index/tantivy, fed from the database and rebuilt from it by `amanah reindex`),
#   the database's own full-text index (tsvector + GIN) on PostgreSQL. "fts5" keeps SQLite's
#   FTS5 (the default before; run `amanah reindex` after changing this), "tantivy" and
#   "postgresql" name theirs. "database" (what older homes say) means the default.
search_backend = "default"

# linkage_engine: where `amanah persons link` runs the record-linkage model. "duckdb" (embedded,
#   in memory, spilling to a private folder) or "postgresql" (PostgreSQL homes only: the same
#   model in a private schema of this database, dropped after each run; see docs/linkage.md).
#   `amanah persons link --engine` chooses for one run.
linkage_engine = "duckdb"

# trusted_proxies: addresses or networks (CIDR) of reverse proxies in front of `amanah serve`.
#   Only a request from one of these has its X-Forwarded-For header read (the right-most
#   address that is not itself a trusted proxy); any other request is known by its own peer
#   address. Empty (the default): the header is never believed.
#   Example: trusted_proxies = ["127.0.0.1", "10.0.0.0/24"]
trusted_proxies = []

# token_expiry_days: how long a new API token works unless `amanah token create
#   --expires-in DAYS` says otherwise.
token_expiry_days = 90

# installation_name: how letters and packages name this installation to those who receive them,
#   e.g. "Evidence Unit, Example Mechanism". Empty: "Amanah installation" and its key id.
installation_name = ""

# sandbox: evidence is parsed in a cage (bubblewrap: no network, no view of this folder's keys,
#   database or blobs; seccomp; Landlock). Processing refuses to start where the cage cannot be
#   had, unless this says "limits-only" (resource limits alone: the parsers then run as you).
# sandbox = "isolated"

# web_sandboxes: sandboxes each web process keeps warm for redaction and its previews (a cold
#   one costs 3-4 s per request); a request waits up to a minute for a free one, then is told to
#   try again (503). web_sandbox_seconds: the longest one such task may run (CPU and wall time).
# web_sandboxes = 2
# web_sandbox_seconds = 600
"""


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the file and the setting."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    blob_store: str
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    runner: str = "embedded"
    semantic: bool = True
    #: Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks).
    trusted_proxies: tuple[str, ...] = ()
    token_expiry_days: int = 90
    #: Resolved: "tantivy", or "database" (FTS5 or tsvector, whichever the database is).
    search_backend: str = "database"
    #: How letters and packages name this installation ("" : by its key id).
    installation_name: str = ""
    #: Where record linkage runs: "duckdb" or "postgresql" (amanah.persons.engines).
    linkage_engine: str = "duckdb"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def key_path(self) -> Path:
        return self.home / "keys" / "ledger-ed25519.pem"

    @property
    def public_key_path(self) -> Path:
        return self.home / "keys" / "ledger-ed25519.pub.pem"


def resolve_home(home: str | os.PathLike[str] | None) -> Path:
    """--home wins over AMANAH_HOME, which wins over ./amanah-home."""
    chosen = home or os.environ.get("AMANAH_HOME") or DEFAULT_HOME
    return Path(chosen).expanduser().absolute()


def write_default_config(
    home: Path,
    database_url: str | None = None,
    blob_store: str | None = None,
    s3_endpoint: str = "",
) -> Path:
    """Create the home folder and its configuration file if there is none yet."""
    path = home / CONFIG_NAME
    try:
        if home.exists() and not home.is_dir():
            raise ConfigError(f"{home}: is a file, not a folder; choose another home")
        home.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            text = _TEMPLATE.format(
                database_url=database_url or "sqlite:///amanah.db",
                blob_store=blob_store or "file:blobs",
                s3_endpoint=s3_endpoint,
            )
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
    except OSError as exc:  # a read-only parent, a file where a folder goes
        raise ConfigError(
            f"{exc.filename or home}: cannot make the home ({exc.strerror})"
        ) from None
    return path


def load_settings(home: Path) -> Settings:
    path = home / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"{path}: no configuration file; run `amanah init` first")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:  # a folder named amanah.toml, a file that cannot be read
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    for key in ("database_url", "blob_store"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ConfigError(f"{path}: setting {key!r} is missing or empty")
    try:
        from sqlalchemy.engine import make_url

        db_url = _relative_sqlite(data["database_url"], home)
        make_url(db_url)
    except Exception as exc:  # sqlalchemy's ArgumentError: not a URL
        raise ConfigError(f"{path}: database_url is not a database URL ({exc})") from None
    runner = str(data.get("runner", "embedded"))
    if runner not in ("embedded", "procrastinate"):
        raise ConfigError(f'{path}: runner must be "embedded" or "procrastinate", not {runner!r}')
    if runner == "procrastinate" and not db_url.startswith("postgresql"):
        raise ConfigError(f'{path}: runner "procrastinate" needs a PostgreSQL database_url')
    semantic = data.get("semantic", True)
    if not isinstance(semantic, bool):
        raise ConfigError(f"{path}: semantic must be true or false, not {semantic!r}")
    proxies = _trusted_proxies(data.get("trusted_proxies", []), path)
    days = data.get("token_expiry_days", 90)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        raise ConfigError(
            f"{path}: token_expiry_days must be a whole number of days from 1 to 3650"
        )
    search_backend = _search_backend(data.get("search_backend", "default"), db_url, path)
    linkage_engine = data.get("linkage_engine", "duckdb")
    if linkage_engine not in ("duckdb", "postgresql"):
        raise ConfigError(
            f'{path}: linkage_engine must be "duckdb" or "postgresql", not {linkage_engine!r}'
        )
    if linkage_engine == "postgresql" and not db_url.startswith("postgresql"):
        raise ConfigError(f'{path}: linkage_engine "postgresql" needs a PostgreSQL database_url')
    installation_name = data.get("installation_name", "")
    if not isinstance(installation_name, str) or len(installation_name) > 200:
        raise ConfigError(f"{path}: installation_name must be text of at most 200 characters")
    known = {
        "linkage_engine",
        "installation_name",
        "search_backend",
        "database_url",
        "blob_store",
        "s3_endpoint",
        "s3_region",
        "runner",
        "semantic",
        "trusted_proxies",
        "token_expiry_days",
    }
    return Settings(
        home=home,
        database_url=db_url,
        blob_store=data["blob_store"],
        s3_endpoint=str(data.get("s3_endpoint", "")),
        s3_region=str(data.get("s3_region", "us-east-1")),
        runner=runner,
        semantic=semantic,
        trusted_proxies=proxies,
        token_expiry_days=days,
        search_backend=search_backend,
        installation_name=installation_name.strip(),
        linkage_engine=linkage_engine,
        extra={k: v for k, v in data.items() if k not in known},
    )


SEARCH_BACKENDS = ("default", "database", "fts5", "postgresql", "tantivy")


def _search_backend(value: object, db_url: str, path: Path) -> str:
    """tantivy, or "database" (FTS5 or tsvector). The default, and "database" that older homes
    wrote as theirs, is tantivy on SQLite and PostgreSQL's own index on PostgreSQL; "fts5" and
    "postgresql" name the database's own index, so each needs that database."""
    if value not in SEARCH_BACKENDS:
        raise ConfigError(
            f"{path}: search_backend must be one of {', '.join(map(repr, SEARCH_BACKENDS))},"
            f" not {value!r}"
        )
    on_pg = db_url.startswith("postgresql")
    if (value == "fts5" and on_pg) or (value == "postgresql" and not on_pg):
        raise ConfigError(f"{path}: search_backend {value!r} needs a {value} database_url")
    if value in ("default", "database"):
        return "database" if on_pg else "tantivy"
    return "tantivy" if value == "tantivy" else "database"


def _trusted_proxies(value: object, path: Path) -> tuple[str, ...]:
    """Each entry must be an IP address or network; a typo must not silently trust nobody (or
    everybody), so a bad entry stops the start with its value named."""
    if not isinstance(value, list):
        raise ConfigError(f"{path}: trusted_proxies must be a list of addresses or networks")
    found = []
    for entry in value:
        try:
            found.append(str(ipaddress.ip_network(str(entry).strip(), strict=False)))
        except ValueError:
            raise ConfigError(
                f"{path}: trusted_proxies: {entry!r} is not an IP address or CIDR network"
            ) from None
    return tuple(found)


def _relative_sqlite(url: str, home: Path) -> str:
    """sqlite:///name.db in the config means a file in the home, not in the working folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str(home / url[len(prefix) :])
    return url
