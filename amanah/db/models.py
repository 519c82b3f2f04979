"""The preservation data model: who gave what, the exact bytes, and the custody record.

Changes to these classes go with an Alembic migration in db/migrations/versions, so that an
installation holding years of evidence upgrades in place.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Provider(Base):
    """Who hands evidence over: a CSO, a state, a UN body, a person, an open source."""

    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(400), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Framework(Base):
    """A cooperation framework (MoU, protocol, letter) with a provider, and its terms as data.

    The terms decide, item by item, whether a request may receive the provider's material:
    see sharing/terms.py. Collections link to their framework; items inherit its terms.
    """

    __tablename__ = "frameworks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    title: Mapped[str] = mapped_column(String(400))
    signed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    terms: Mapped[str] = mapped_column(Text, default="")  # the agreement's words, as notes
    kind: Mapped[str] = mapped_column(String(20), default="mou")
    parties: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of names
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    # any (competent jurisdiction) | consent (each disclosure) | named (jurisdictions) | never
    disclosure: Mapped[str] = mapped_column(String(20), default="consent")
    attribution_required: Mapped[bool] = mapped_column(default=False)
    confidentiality: Mapped[str] = mapped_column(String(40), default="confidential")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FrameworkJurisdiction(Base):
    """A jurisdiction named in a framework whose terms allow disclosure only to named ones."""

    __tablename__ = "framework_jurisdictions"
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), primary_key=True)


class Collection(Base):
    """What one collection activity brought in; it sits in one compartment."""

    __tablename__ = "collections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(400), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("frameworks.id"), nullable=True)
    method: Mapped[str] = mapped_column(Text, default="")
    collected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    place: Mapped[str] = mapped_column(Text, default="")
    collector: Mapped[str] = mapped_column(Text, default="")
    compartment: Mapped[str] = mapped_column(String(200), default="default")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Tesseract languages for this collection's scans, e.g. "ara+eng" or "ara+kur+eng".
    ocr_languages: Mapped[str] = mapped_column(String(100), default="ara+eng")


class Blob(Base):
    """Stored bytes, addressed by SHA-256; many items may share one."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Item(Base):
    """One preserved file with its provenance. The path is kept as raw bytes, losslessly."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("collection_id", "path_key", name="uq_items_path_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True, index=True)
    # SHA-256 of (parent, original path): finds an earlier intake of the same path quickly.
    path_hash: Mapped[str] = mapped_column(String(64), index=True)
    # SHA-256 of (parent, original path, content): makes intake idempotent.
    path_key: Mapped[str] = mapped_column(String(64))
    original_path: Mapped[str] = mapped_column(Text)
    original_path_raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    atime_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ctime_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    intake_run_id: Mapped[int | None] = mapped_column(ForeignKey("intake_runs.id"), nullable=True)
    intake_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    intake_actor: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="preserved")
    # JSON list of {"code": ..., "message": ...}: why an analyst should look twice.
    flags: Mapped[str] = mapped_column(Text, default="[]")
    # What processing found (all derived: can be recomputed from the bytes).
    media_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pronom: Mapped[str | None] = mapped_column(String(40), nullable=True)
    format_name: Mapped[str | None] = mapped_column(String(400), nullable=True)
    languages: Mapped[str] = mapped_column(Text, default="[]")
    doc_metadata: Mapped[str] = mapped_column(Text, default="{}")
    processing: Mapped[str] = mapped_column(String(20), default="pending")
    processing_error: Mapped[str] = mapped_column(Text, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # Its content inventory: "none" (not taken yet), "complete" or "incomplete" (JSON reasons).
    inventory: Mapped[str] = mapped_column(String(20), default="none")
    inventory_reasons: Mapped[str] = mapped_column(Text, default="[]")


class IntakeRun(Base):
    """One `ingest` invocation: its sources, its counts, and whether it finished."""

    __tablename__ = "intake_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"))
    actor: Mapped[str] = mapped_column(String(200))
    sources: Mapped[str] = mapped_column(Text)  # JSON list of the paths given
    hash_list: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[str] = mapped_column(Text, default="{}")
    # Where the run's process lives, so a run left "running" by a crash can be told apart.
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)


class IntakeEntry(Base):
    """One line of an intake report: anything that was not simply ingested, and why."""

    __tablename__ = "intake_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("intake_runs.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    path_raw: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True)


class CustodyEvent(Base):
    """One line of the append-only, hash-linked custody ledger."""

    __tablename__ = "custody_events"
    __table_args__ = (
        Index("ix_custody_object", "object_type", "object_id"),
        Index(
            "ix_custody_key_rotation",
            "seq",
            sqlite_where=text("event_type = 'key rotation'"),
            postgresql_where=text("event_type = 'key rotation'"),
        ),
    )
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[str] = mapped_column(String(40))  # RFC 3339 UTC, exactly as hashed
    actor: Mapped[str] = mapped_column(String(200))
    agent: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    """A single row locked by every appender, so the chain has exactly one tip."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    # JSON list of [size, hex] complete subtrees: the Merkle root in O(log n) at any time.
    frontier: Mapped[str] = mapped_column(Text, default="[]")


class MerkleNode(Base):
    """A complete subtree of the ledger's Merkle tree, 2**level leaves from idx * 2**level:
    kept from 16 leaves upward so proofs need no pass over the ledger."""

    __tablename__ = "merkle_nodes"
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    idx: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    hash: Mapped[str] = mapped_column(String(64))


class Checkpoint(Base):
    """A signed Merkle root over the first `tree_size` ledger entries."""

    __tablename__ = "checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)


class Derivative(Base):
    """Something made from an item (text, OCR text, page image, thumbnail); never replaces it."""

    __tablename__ = "derivatives"
    __table_args__ = (UniqueConstraint("item_id", "kind", "page", name="uq_derivative"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    page: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupersededDerivative(Base):
    """A derivative made again: the earlier row, kept with its blob (`derivatives` is newest)."""

    __tablename__ = "superseded_derivatives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    page: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The SHA-256 of the derivative that replaced it.
    superseded_by: Mapped[str] = mapped_column(String(64))


class Job(Base):
    """A durable unit of processing work for one item; survives crashes of its worker."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("item_id", "kind", name="uq_job_item_kind"),
        Index("ix_jobs_state_run_after", "state", "run_after"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    kind: Mapped[str] = mapped_column(String(40), default="process")
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str] = mapped_column(String(300), default="")
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OcrPart(Base):
    """Some pages of a long scanned item, OCR'd by one page job; joined when all are done."""

    __tablename__ = "ocr_parts"
    __table_args__ = (UniqueConstraint("item_id", "first_page", name="uq_ocr_part_item_page"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    first_page: Mapped[int] = mapped_column(Integer)
    pages: Mapped[str] = mapped_column(Text)  # JSON list of 1-based page (or frame) numbers
    languages: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the part's reading
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class VectorPart(Base):
    """Some passages of an item's text, embedded by one job; stored as the item's vectors
    (`search_vectors`) when every share of the same text is (processing/vectorjobs.py)."""

    __tablename__ = "vector_parts"
    __table_args__ = (
        UniqueConstraint("item_id", "first_passage", name="uq_vector_part_item_passage"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    first_passage: Mapped[int] = mapped_column(Integer)  # 0-based, in the text's passages
    passages: Mapped[int] = mapped_column(Integer)
    #: SHA-256 of the text's passages the share was cut from: shares of two texts never mix.
    digest: Mapped[str] = mapped_column(String(64))
    vectors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # float32 rows
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Relation(Base):
    """A relation between two items an analyst should see: exact or near duplicates."""

    __tablename__ = "relations"
    __table_args__ = (UniqueConstraint("item_a", "item_b", "kind", name="uq_relation"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_a: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    item_b: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(default=1.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Fingerprint(Base):
    """A perceptual hash or MinHash of one item, for finding near-duplicates."""

    __tablename__ = "fingerprints"
    __table_args__ = (UniqueConstraint("item_id", "kind", name="uq_fingerprint"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)  # JSON


class FingerprintBand(Base):
    """One band of a fingerprint (locality-sensitive hashing): the index near-duplicates use."""

    __tablename__ = "fingerprint_bands"
    __table_args__ = (Index("ix_fingerprint_bands_key", "kind", "band"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    band: Mapped[str] = mapped_column(String(400))


class SearchDoc(Base):
    """One item as the search index sees it: derived, rebuilt by `amanah reindex`.

    Filter and facet fields are copied from the item, its collection and provider so that a
    search filters (need-to-know first) inside one query. The full-text terms live beside it
    in the backend's own structure (an FTS5 table, or tsvector columns on PostgreSQL); the
    text itself in search_texts.
    """

    __tablename__ = "search_docs"
    __table_args__ = (
        Index("ix_search_docs_date", "doc_date", "item_id"),
        Index("ix_search_docs_compartment", "compartment"),
    )
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    collection_id: Mapped[int] = mapped_column(Integer)
    provider_id: Mapped[int] = mapped_column(Integer)
    compartment: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(200), default="")
    langs: Mapped[str] = mapped_column(String(100), default=",")  # ",ar,en,"
    doc_date: Mapped[str] = mapped_column(String(10), default="")  # YYYY-MM-DD or ""
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    has_ocr: Mapped[bool] = mapped_column(default=False)
    has_text: Mapped[bool] = mapped_column(default=False)
    has_gps: Mapped[bool] = mapped_column(default=False)
    path: Mapped[str] = mapped_column(Text, default="")
    truncated: Mapped[bool] = mapped_column(default=False)
    analyzer: Mapped[int] = mapped_column(Integer)


class SearchText(Base):
    """The indexed text as written, for snippets; apart so that search_docs rows stay small."""

    __tablename__ = "search_texts"
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text, default="")


class SearchOutbox(Base):
    """A change to search_docs not yet applied to an index outside the database (tantivy):
    written by a trigger in the same transaction as the change (migration 0014)."""

    __tablename__ = "search_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(Integer)


class SearchFeed(Base):
    """An index fed from search_outbox; while none is registered, the triggers write nothing."""

    __tablename__ = "search_feeds"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)


class SearchVector(Base):
    """Embeddings of an item's text (passages), for the semantic mode: derived like the index."""

    __tablename__ = "search_vectors"
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    model: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class SearchLog(Base):
    """Every search run: the record of what was searched, e.g. for a request for assistance."""

    __tablename__ = "search_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    query: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON: mode, sort, filters, page
    hit_count: Mapped[int] = mapped_column(BigInteger)
    top_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of item ids shown
    duration_ms: Mapped[float] = mapped_column(default=0.0)
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    address: Mapped[str] = mapped_column(String(100), default="")  # network address, web only


class User(Base):
    """A person or a script that signs in; what they may do follows from role and grants."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text, default="")
    # A provider uploader acts for one provider; a recipient for one jurisdiction.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), nullable=True)
    jurisdiction_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id"), nullable=True
    )
    language: Mapped[str] = mapped_column(String(10), default="en")
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    # Raised by a password reset or a disable: every session and token made under an earlier
    # epoch stops working at once, even one being opened while the change commits.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)


class Grant(Base):
    """A user's need-to-know: one compartment they may see."""

    __tablename__ = "grants"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    compartment: Mapped[str] = mapped_column(String(200), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str] = mapped_column(String(200))


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(200), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)  # the user's, when made


class WebSession(Base):
    """A signed-in browser; the cookie holds a random id, the table only its SHA-256."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(100), default="")
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)  # the user's, when opened


class SignInLimit(Base):
    """Sign-in failures counted per key (a user name or a network address) in a window.

    An attempt reserves its place here (one conditional UPDATE) before its password is
    checked, so parallel guesses cannot all slip past the limit."""

    __tablename__ = "sign_in_limits"
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class SignInAttempt(Base):
    """Failed sign-ins, kept so that guessing is slowed for a name and for an address."""

    __tablename__ = "sign_in_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Upload(Base):
    """A resumable upload in progress: bytes land in a spool file, hashed as they arrive."""

    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"))
    filename: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, done
    item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(100), default="")
    # The file's last modification as the uploader's browser reported it (ms since 1970).
    modified_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Jurisdiction(Base):
    """A competent authority that may ask for and receive evidence."""

    __tablename__ = "jurisdictions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # short name, e.g. DE-GBA
    state: Mapped[str] = mapped_column(String(200))
    authority: Mapped[str] = mapped_column(String(400))
    unit: Mapped[str] = mapped_column(String(400), default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    contacts: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Request(Base):
    """A request for assistance from a jurisdiction, with its subject and lifecycle state."""

    __tablename__ = "requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    urgency: Mapped[str] = mapped_column(String(20), default="normal")
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    # JSON: persons, organisations, places, crimes (lists), period_from, period_to
    subject_fields: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(20), default="received")
    decline_reason: Mapped[str] = mapped_column(String(60), default="")
    assignee: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    responded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class RequestCompartment(Base):
    """A compartment a request belongs to: only callers holding all of a request's
    compartments see it, and the request sees (as candidates, in its searches and letters)
    only items of its compartments."""

    __tablename__ = "request_compartments"
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    compartment: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class RequestEvent(Base):
    """One dated, attributed change of a request (state, assignee, note)."""

    __tablename__ = "request_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class Review(Base):
    """One candidate item of a request and the reviewer's decision on it."""

    __tablename__ = "reviews"
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    decision: Mapped[str] = mapped_column(String(20), default="pending")  # relevant, not relevant
    source: Mapped[str] = mapped_column(String(100), default="")  # "search 12" or "by hand"
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Consent(Base):
    """A provider's consent asked, given or withheld for one request (all or some items)."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    status: Mapped[str] = mapped_column(String(20))  # requested, given, withheld
    items: Mapped[str] = mapped_column(Text, default="[]")  # JSON item ids; [] = all of them
    given_by: Mapped[str] = mapped_column(String(400), default="")  # who, at the provider
    recorded_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


class ProtectedPerson(Base):
    """A witness or source whose name must never leave in a package, in any spelling."""

    __tablename__ = "protected_persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(100), unique=True)  # e.g. "Witness A"
    role: Mapped[str] = mapped_column(String(40), default="witness")
    # Emptied ("[]") by migration 0009: names are never stored in clear.
    spellings: Mapped[str] = mapped_column(Text, default="[]")
    # JSON: per spelling, per word, keyed digests of the word's keys (sharing.protected.seal).
    name_digests: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class Package(Base):
    """A sharing package built for a request: a BagIt bag, identified by its manifest's hash."""

    __tablename__ = "packages"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    item_count: Mapped[int] = mapped_column(Integer)
    payload_bytes: Mapped[int] = mapped_column(BigInteger)
    manifest_sha256: Mapped[str] = mapped_column(String(64))


class PackageItem(Base):
    """One file of a package: which item, which bytes (original or redacted)."""

    __tablename__ = "package_items"
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    path: Mapped[str] = mapped_column(Text)  # inside the bag, e.g. data/0001-statement.pdf
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    variant: Mapped[str] = mapped_column(String(20))  # original, redacted


class InventoryAttestation(Base):
    """A legal officer's word that an item whose inventory is not complete was examined by
    hand (pinned to the item's bytes); it never overrides a protected name that is found."""

    __tablename__ = "inventory_attestations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)  # pseudonymised: names never at rest in clear
    attested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Entity(Base):
    """A person, organisation or unit, facility or place (migration 0020). Names, relations
    and evidence links are rows of their own; fields a kind does not use stay empty."""

    __tablename__ = "entities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # person, organisation, ...
    # An organisation's kind (army formation, security branch ...), a facility's (prison ...).
    subkind: Mapped[str] = mapped_column(String(60), default="")
    sex: Mapped[str] = mapped_column(String(10), default="")
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    birth_date_precision: Mapped[str] = mapped_column(String(12), default="")
    birth_place: Mapped[str] = mapped_column(Text, default="")
    nationality: Mapped[str] = mapped_column(String(100), default="")
    rank: Mapped[str] = mapped_column(String(100), default="")
    father_name: Mapped[str] = mapped_column(Text, default="")
    mother_name: Mapped[str] = mapped_column(Text, default="")
    identifiers: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{"scheme","value"}]
    photo_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True)
    pcode: Mapped[str] = mapped_column(String(20), default="")  # a place's P-code
    latitude: Mapped[float | None] = mapped_column(nullable=True)
    longitude: Mapped[float | None] = mapped_column(nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Where it came from: "" (an analyst) or "ftm:<dataset>"; ftm_id keeps FtM round trips.
    origin: Mapped[str] = mapped_column(String(100), default="")
    ftm_id: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    # Set when merged into another entity (migration 0024): kept, so its id still resolves.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), nullable=True)


class EntityMerge(Base):
    """One merge of `other` into `keep` (migration 0024), with exactly what moved (JSON ids
    of names, relation ends, evidence links, mentions), so an unmerge moves those back."""

    __tablename__ = "entity_merges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    keep_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    moved: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    undone_by: Mapped[str] = mapped_column(String(200), default="")


class EntityName(Base):
    """One name of an entity, in one script and language, of one kind (official, alias ...);
    the parts are filled by the name parser when there is one."""

    __tablename__ = "entity_names"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    full_name: Mapped[str] = mapped_column(Text)
    script: Mapped[str] = mapped_column(String(4))  # ISO 15924: Arab, Latn, Cyrl ...
    language: Mapped[str] = mapped_column(String(10), default="")
    kind: Mapped[str] = mapped_column(String(20), default="official")
    ism: Mapped[str] = mapped_column(Text, default="")
    father: Mapped[str] = mapped_column(Text, default="")
    grandfather: Mapped[str] = mapped_column(Text, default="")
    family: Mapped[str] = mapped_column(Text, default="")
    kunya: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class EntityNameKey(Base):
    """A blocking key of one entity name (`name_match.keys`), so that candidate search for
    `entity match` is an index lookup; derived from the name, rebuilt at will."""

    __tablename__ = "entity_name_keys"
    __table_args__ = (
        Index("ix_entity_name_keys_key", "key", "name_id"),
        Index("ix_entity_name_keys_entity", "entity_id"),
    )
    name_id: Mapped[int] = mapped_column(ForeignKey("entity_names.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))


class EntityNamePair(Base):
    """A pair key of one entity name (`entities.candidates`: two of its parts' keys hashed
    to 64 bits), so that candidate search reads short posting lists; derived from the name,
    rebuilt at will. Keyed by name only: a merge moves names, not their keys."""

    __tablename__ = "entity_name_pairs"
    __table_args__ = (
        Index("ix_entity_name_pairs_name", "name_id"),
        {"sqlite_with_rowid": False},
    )
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name_id: Mapped[int] = mapped_column(
        ForeignKey("entity_names.id"), primary_key=True, autoincrement=False
    )


class EntityRelation(Base):
    """subject --kind--> object over a time interval, with its doubt: confidence and status.
    Dates are the first day (valid_from) and last day (valid_to) the stated precision covers."""

    __tablename__ = "entity_relations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")  # a post's rank or title, a kinship
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_from_precision: Mapped[str] = mapped_column(String(12), default="")
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to_precision: Mapped[str] = mapped_column(String(12), default="")
    confidence: Mapped[str] = mapped_column(String(10), default="medium")
    status: Mapped[str] = mapped_column(String(12), default="alleged")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class EvidenceLink(Base):
    """An assertion (an entity, one of its names, a relation) tied to an item pinned by its
    SHA-256 and a locator: page + rectangles, a character span of a named text derivative,
    or a time range in milliseconds. Who linked it when is also a custody event."""

    __tablename__ = "evidence_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int | None] = mapped_column(
        ForeignKey("entities.id"), nullable=True, index=True
    )
    name_id: Mapped[int | None] = mapped_column(
        ForeignKey("entity_names.id"), nullable=True, index=True
    )
    relation_id: Mapped[int | None] = mapped_column(
        ForeignKey("entity_relations.id"), nullable=True, index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    item_sha256: Mapped[str] = mapped_column(String(64))
    locator_kind: Mapped[str] = mapped_column(String(10))  # page, span, time
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rects: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[x0, y0, x1, y1], ...]
    derivative: Mapped[str] = mapped_column(String(40), default="")  # text, ocr
    start: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    quotation: Mapped[str] = mapped_column(Text, default="")
    translation: Mapped[str] = mapped_column(Text, default="")
    stance: Mapped[str] = mapped_column(String(12), default="supports")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class EntityMention(Base):
    """A place where one of an entity's names (any spelling, either script) was found in an
    item's text derivative (migration 0021): a suggestion an analyst accepts (it becomes an
    evidence link with the same span) or rejects. The text found is not copied here: it is
    read from the derivative, pinned by its SHA-256, when shown."""

    __tablename__ = "entity_mentions"
    __table_args__ = (
        UniqueConstraint(
            "entity_id", "item_id", "derivative", "start", "end", name="uq_entity_mention"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    name_id: Mapped[int] = mapped_column(ForeignKey("entity_names.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    item_sha256: Mapped[str] = mapped_column(String(64))
    derivative: Mapped[str] = mapped_column(String(40))  # text, ocr
    derivative_sha256: Mapped[str] = mapped_column(String(64))
    page: Mapped[int] = mapped_column(Integer)  # 1-based; form feeds separate pages
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column(default=0.0)  # the name matcher's, text vs name
    state: Mapped[str] = mapped_column(String(12), default="suggested", index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_links.id"), nullable=True)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(200), default="")


class PersonList(Base):
    """A list of the detained, the disappeared or the dead, kept as evidence (migration 0023):
    the preserved file it was read from (an item), the compartment it is kept in, how its
    columns were read and the report of its last import (rows read, rows that could not be)."""

    __tablename__ = "person_lists"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    compartment: Mapped[str] = mapped_column(String(100), default="default", index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    key_column: Mapped[str] = mapped_column(Text, default="")
    #: JSON {field: column} of the last import.
    mapping: Mapped[str] = mapped_column(Text, default="{}")
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: JSON: the last import's report (counts, problems by line, encoding, sheet).
    report: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonListRecord(Base):
    """One row of a person list as read (migration 0023): where it stands in which preserved
    file, its key, the fields linkage compares, the person's status with its dates and places,
    who reported it, and every column not mapped to a field (JSON), so nothing is lost."""

    __tablename__ = "person_records"
    __table_args__ = (
        UniqueConstraint("list_id", "item_id", "row", name="uq_person_record_row"),
        Index("ix_person_records_list_key", "list_id", "key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("person_lists.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    #: The line of a CSV file (its first line, for a record over several) or an XLSX row.
    row: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(Text, default="")
    ism: Mapped[str] = mapped_column(Text, default="")
    father: Mapped[str] = mapped_column(Text, default="")
    grandfather: Mapped[str] = mapped_column(Text, default="")
    family: Mapped[str] = mapped_column(Text, default="")
    mother: Mapped[str] = mapped_column(Text, default="")
    sex: Mapped[str] = mapped_column(String(1), default="")
    birth_date: Mapped[str] = mapped_column(String(10), default="")  # YYYY[-MM[-DD]]
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    birth_year_spread: Mapped[int] = mapped_column(Integer, default=0)
    age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    age_as_of: Mapped[str] = mapped_column(String(10), default="")
    place_of_birth: Mapped[str] = mapped_column(Text, default="")
    governorate: Mapped[str] = mapped_column(String(20), default="")  # P-code
    governorate_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="")  # missing, detained, ...
    status_text: Mapped[str] = mapped_column(Text, default="")
    status_date: Mapped[str] = mapped_column(String(10), default="")
    disappeared_on: Mapped[str] = mapped_column(String(10), default="")
    last_seen_on: Mapped[str] = mapped_column(String(10), default="")
    last_seen_place: Mapped[str] = mapped_column(Text, default="")
    detention_facility_id: Mapped[int | None] = mapped_column(
        ForeignKey("entities.id"), nullable=True
    )
    detention_facility: Mapped[str] = mapped_column(Text, default="")
    detention_seen_on: Mapped[str] = mapped_column(String(10), default="")
    released_on: Mapped[str] = mapped_column(String(10), default="")
    died_on: Mapped[str] = mapped_column(String(10), default="")
    found_on: Mapped[str] = mapped_column(String(10), default="")
    reporter: Mapped[str] = mapped_column(Text, default="")
    reporter_relation: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    #: JSON {column: value} of every column no field took.
    extra: Mapped[str] = mapped_column(Text, default="{}")


# -- victims and survivors (migration 0026) --------------------------------------------------
# A person known to the home is a protected person (by pseudonym) or a person-list record (by
# id): every row below points at exactly one of them. No name is stored here in clear.


class PersonItem(Base):
    """An item that is about a person (their statement, an interview recording): the person's
    consent governs it (amanah.sharing.person_consent)."""

    __tablename__ = "person_items"
    __table_args__ = (Index("ix_person_items_person", "protected_person_id", "person_record_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protected_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("protected_persons.id"), nullable=True
    )
    person_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_records.id"), nullable=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    # "by hand", "spelling match", or "near-duplicate text/image/video" (a derived link)
    source: Mapped[str] = mapped_column(String(40), default="by hand")
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A derived link: the item (directly governed by the person) this one is a near-duplicate
    # of, and how similar processing found them (amanah.sharing.near_duplicate_links).
    derived_from: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True)
    similarity: Mapped[float | None] = mapped_column(nullable=True)


class DistinctDocument(Base):
    """The legal officer's decision that two near-duplicate documents (by SHA-256, sorted) are
    not the same document: consent no longer follows from one to the other."""

    __tablename__ = "distinct_documents"
    __table_args__ = (UniqueConstraint("sha_a", "sha_b", name="uq_distinct_documents"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha_a: Mapped[str] = mapped_column(String(64))
    sha_b: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonConsent(Base):
    """One consent record of a victim or survivor (given or withdrawn), for some uses and
    recipients; the latest record of a person is the one that counts, the rest is history."""

    __tablename__ = "person_consents"
    __table_args__ = (
        Index("ix_person_consents_person", "protected_person_id", "person_record_id"),
        # a record's latest consent, read on every item read (`withheld_condition`)
        Index("ix_person_consents_record", "person_record_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protected_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("protected_persons.id"), nullable=True
    )
    person_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_records.id"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(20))  # given, withdrawn
    uses: Mapped[str] = mapped_column(Text, default="[]")  # JSON: investigation, sharing, ...
    recipients: Mapped[str] = mapped_column(Text, default='["all"]')  # JSON: codes, or "all"
    told: Mapped[str] = mapped_column(Text, default="")  # what the person was told (pseudonymised)
    given_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProtectiveMeasure(Base):
    """Protective measures for a protected person: no contact, relocation (latest row counts)."""

    __tablename__ = "protective_measures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protected_person_id: Mapped[int] = mapped_column(ForeignKey("protected_persons.id"), index=True)
    no_contact: Mapped[bool] = mapped_column(default=False)
    relocation: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Engagement(Base):
    """A meeting, consultation or interview with victims, survivors or CSOs; it sits in a
    compartment (amanah.access.engagements_visible)."""

    __tablename__ = "engagements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # meeting, consultation, interview
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(Text, default="")
    pcode: Mapped[str] = mapped_column(String(20), default="")
    compartment: Mapped[str] = mapped_column(String(200), default="default", index=True)
    organisations: Mapped[str] = mapped_column(Text, default="[]")  # JSON
    topics: Mapped[str] = mapped_column(Text, default="[]")  # JSON
    participants: Mapped[str] = mapped_column(Text, default="{}")  # JSON {"f:18-59": 3, ...}
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EngagementPerson(Base):
    """A person an engagement concerns (pseudonym or record id, never a name)."""

    __tablename__ = "engagement_persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    protected_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("protected_persons.id"), nullable=True
    )
    person_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_records.id"), nullable=True
    )


class EngagementTask(Base):
    """A follow-up task of an engagement, with its owner and due date."""

    __tablename__ = "engagement_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    task: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_by: Mapped[str] = mapped_column(String(200), default="")


class FamilyContact(Base):
    """What a person's family was told, when, through which point of contact (a pseudonym:
    the contact's name is never stored)."""

    __tablename__ = "family_contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id"), nullable=True, index=True
    )
    protected_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("protected_persons.id"), nullable=True
    )
    person_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_records.id"), nullable=True
    )
    contact: Mapped[str] = mapped_column(String(200))  # the point of contact's pseudonym
    relation: Mapped[str] = mapped_column(String(100), default="")
    told: Mapped[str] = mapped_column(Text, default="")
    told_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LinkageRun(Base):
    """One linkage run of person lists kept (migration 0025): the model's settings, the
    threshold and margin it was run with, who ran it and when, and its counts."""

    __tablename__ = "linkage_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_type: Mapped[str] = mapped_column(String(20))  # link_only | dedupe_only
    threshold: Mapped[float] = mapped_column(Float)
    review_margin: Mapped[float] = mapped_column(Float)
    floor: Mapped[float] = mapped_column(Float)
    #: JSON: the comparisons used, whether the model was trained, labels from reviews.
    settings: Mapped[str] = mapped_column(Text, default="{}")
    pairs: Mapped[int] = mapped_column(Integer, default=0)
    links: Mapped[int] = mapped_column(Integer, default=0)
    to_review: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class LinkageRunList(Base):
    """A person list a linkage run read (migration 0025)."""

    __tablename__ = "linkage_run_lists"
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_runs.id"), primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("person_lists.id"), primary_key=True, index=True
    )


class LinkagePair(Base):
    """A candidate pair of a kept run (migration 0025): the two person records by id (their
    names stay in the records), the probability, the explanation (JSON, levels and weights, no
    names), whether it is a link and whether it needs review; the last review's decision."""

    __tablename__ = "linkage_pairs"
    __table_args__ = (
        UniqueConstraint("run_id", "record_a_id", "record_b_id", name="uq_linkage_pair"),
        Index("ix_linkage_pairs_run_review", "run_id", "review"),
        Index("ix_linkage_pairs_record_a", "record_a_id"),
        Index("ix_linkage_pairs_record_b", "record_b_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_runs.id"))
    record_a_id: Mapped[int] = mapped_column(ForeignKey("person_records.id"))
    #: The second record; empty for a pair of a record and evidence (migration 0030).
    record_b_id: Mapped[int | None] = mapped_column(ForeignKey("person_records.id"), nullable=True)
    #: Or the entity (a person named in evidence) the record is paired with (0030).
    entity_id: Mapped[int | None] = mapped_column(
        ForeignKey("entities.id", name="fk_linkage_pairs_entity"), nullable=True, index=True
    )
    #: Or the mention found in an item the record is paired with (0030).
    mention_id: Mapped[int | None] = mapped_column(
        ForeignKey("entity_mentions.id", name="fk_linkage_pairs_mention"), nullable=True, index=True
    )
    score: Mapped[float] = mapped_column(Float)
    match: Mapped[bool] = mapped_column(Boolean)
    review: Mapped[bool] = mapped_column(Boolean)
    explanation: Mapped[str] = mapped_column(Text, default="{}")
    #: "" (not reviewed), accepted, rejected or unsure.
    decision: Mapped[str] = mapped_column(String(10), default="")
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LinkageReview(Base):
    """One review of a pair, kept in order (migration 0025): who decided what, when, why."""

    __tablename__ = "linkage_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("linkage_pairs.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonRecordLink(Base):
    """A person record linked to evidence by an accepted review (migration 0030): to an entity
    (with the evidence link pinned to the list's item and row) or to a mention (the item pinned
    by SHA-256, the mention's derivative, page and span as locator, JSON)."""

    __tablename__ = "person_record_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("person_records.id"), index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_pairs.id"), nullable=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), nullable=True)
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("entity_mentions.id"), nullable=True)
    evidence_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_links.id"), nullable=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    item_sha256: Mapped[str] = mapped_column(String(64))
    locator: Mapped[str] = mapped_column(Text, default="{}")
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ItemTag(Base):
    """An analyst's tag on an item (migration 0027): work product, never evidence. `key` is the
    label folded as search folds words (case, spacing, Arabic letter forms), so "Torture" and
    "torture " are one tag; `label` is the first spelling used, shown as written."""

    __tablename__ = "item_tags"
    __table_args__ = (UniqueConstraint("item_id", "key", name="uq_item_tag"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class ItemNote(Base):
    """An analyst's note on an item (migration 0027): work product, never evidence. The text is
    kept as the search log keeps words: any protected person's name replaced by a pseudonym."""

    __tablename__ = "item_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class SavedSearch(Base):
    """A query and its options saved under a name by one user (migration 0027), optionally
    shared with a team: the holders of one compartment. It runs with the need-to-know of
    whoever runs it, never of whoever saved it."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_search_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON: mode, sort
    shared_with: Mapped[str] = mapped_column(String(200), default="")  # a compartment, or ""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
