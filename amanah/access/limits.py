"""Sign-in limits that hold under parallel guessing: reserve a place before the password check.

Each key (a user name, a network address) has one row counting failures in a window that
opens with its first failure. An attempt takes its place with one conditional UPDATE
(`... WHERE failures < limit`) before its password is checked: PostgreSQL re-checks the
condition on the row it waited for, SQLite's writers are serialised (BEGIN IMMEDIATE), so
thirty parallel guesses can never get more than `limit` password checks. A success gives its
place back; a failure keeps it until the window passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from amanah.db.models import SignInLimit


def name_key(name: str) -> str:
    return "name:" + name[:300]


def address_key(address: str) -> str:
    return "address:" + address[:300]


def reserve(s: Session, key: str, limit: int, window: timedelta, at: datetime) -> bool:
    """Take one of `limit` places of `key`'s current window; False when none is left.

    A window that has passed starts again at `at` with this attempt as its first."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    s.execute(
        insert(SignInLimit)
        .values(key=key, window_start=at, failures=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    expired = SignInLimit.window_start < at - window
    result = s.execute(
        update(SignInLimit)
        .where(SignInLimit.key == key, (SignInLimit.failures < limit) | expired)
        .values(
            failures=case((expired, 1), else_=SignInLimit.failures + 1),
            window_start=case((expired, at), else_=SignInLimit.window_start),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release(s: Session, key: str, *, all_of_them: bool = False) -> None:
    """Give back one place (a correct password), or every place (the name's owner is back)."""
    values = {"failures": 0} if all_of_them else {"failures": SignInLimit.failures - 1}
    s.execute(
        update(SignInLimit)
        .where(SignInLimit.key == key, SignInLimit.failures > 0)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
