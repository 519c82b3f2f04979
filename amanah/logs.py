"""What reaches stderr of log records: Amanah's warnings, and other libraries' errors.

A command's failure is one line naming the file and the reason. Without a handler, Python
prints every library's warning raw beside it (psycopg's "error ignored terminating
<Pipeline …>" when the database fills mid-commit), which says nothing the line does not and
names internals. Records of `amanah.*` at WARNING and of any library at ERROR reach stderr,
each as "warning: …" or "error: …" like the command's own messages. The command line and each
of `amanah serve`'s web processes install the same handler, so the server's log reads alike
with one web process or several.
"""

from __future__ import annotations

import logging
import sys


class _Shown(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == "amanah" or record.name.startswith("amanah.")
        return record.levelno >= (logging.WARNING if ours else logging.ERROR)


class _Lowercase(logging.Formatter):
    """The level in lower case before the message; a record's traceback still follows it
    (`amanah serve` logs each internal error with its reference and traceback, for the
    administrator the error page sends to the log)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


class _Terminal(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the stderr of the moment (the command host and tests replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.addFilter(_Shown())
        self.setFormatter(_Lowercase())

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def to_stderr() -> None:
    """Install the handler once, on the root logger."""
    root = logging.getLogger()
    if not any(isinstance(h, _Terminal) for h in root.handlers):
        root.addHandler(_Terminal())
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
