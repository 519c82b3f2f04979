"""Database access: engines for SQLite (default) and PostgreSQL, and schema migrations."""

from amanah.db.engine import Database, DatabaseError

__all__ = ["Database", "DatabaseError"]
