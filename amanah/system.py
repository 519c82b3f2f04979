"""Small facts about the operating system that several layers need: whether a process lives,
which account acts (what the ledger records), the umask that keeps a home private, and
whether a file is still the one seen before.

Light on purpose (the standard library only): every command imports it before it knows
whether it will open a workspace."""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from contextlib import contextmanager


def file_state(found: os.stat_result) -> tuple[int, ...]:
    """Which file, and as it was: a write, a rename in its place, or a copy put back changes
    at least one of these (its device and inode, size, modification and change times)."""
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a crashed writer's does not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


PRIVATE_UMASK = 0o077


def os_account() -> str:
    """The operating-system account running this process, from the system's user database.

    Never from LOGNAME, USER or any other variable: those are set by whoever starts the
    process, and a custody record must name who acted, not who they said they were."""
    uid, euid = os.getuid(), os.geteuid()
    account = f"os:{_account_name(uid)}({uid})"
    if euid != uid:
        account += f" euid {_account_name(euid)}({euid})"
    return account


def _account_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # an account without an entry (some containers): the number alone
        return f"uid{uid}"


def default_actor(as_user: str | None = None) -> str:
    """Who acts on the command line: the OS account, plus the Amanah user it acts as, if given.

    `os:alice(1000)`, or `os:alice(1000) as amanah:demo-legal` with `--actor demo-legal`."""
    account = os_account()
    claimed = " ".join((as_user or "").split())  # one line, whatever was typed
    return f"{account} as amanah:{claimed}" if claimed else account


def person_of(actor: str) -> str:
    """The person an actor string names, for letters a recipient reads: `user:demo-legal` and
    `os:alice(1000) as amanah:demo-legal` are demo-legal, `os:alice(1000)` is alice; the
    ledger keeps the whole string."""
    if " as amanah:" in actor:
        return actor.rsplit(" as amanah:", 1)[1].strip() or actor
    kind, sep, rest = actor.partition(":")
    if not sep or not rest:
        return actor
    return rest.split("(", 1)[0].strip() or actor if kind == "os" else rest.strip()


def private_umask() -> None:
    """Everything this process creates from now on is its owner's alone (the CLI's process)."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


@contextmanager
def private_files() -> Iterator[None]:
    """What is created inside is its owner's alone; a host process (the web server, tests)
    gets its own umask back after."""
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)
