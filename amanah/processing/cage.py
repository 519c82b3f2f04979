"""The cage around the sandbox's zygote: no network, no home, no keys, one folder per child.

The zygote starts inside bubblewrap (Debian's `bubblewrap`): new user, mount, PID, IPC, UTS,
cgroup and network namespaces (no interface but its own loopback), the system folders and
Python read-only, an empty root, its own /tmp, one scratch folder bound read-write, a clean
environment, no capabilities, no new user namespaces, and a seccomp filter (compiled here with
libseccomp) that refuses sockets other than Unix ones and the calls a parser never needs
(ptrace, mount, keyctl, bpf, …). Each forked child then narrows itself with Landlock, where
the kernel offers it: it may write only in its own job folder, read the system folders, and
execute only the external readers the extractors run (no shell).

Where bubblewrap or user namespaces are missing, `probe()` says why; processing then refuses
to start unless the configuration says `sandbox = "limits-only"`.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from amanah.processing import cage_coverage

#: Where the scratch root appears inside the cage.
SCRATCH = "/scratch"
#: Readers the extractors run; the only programs a child may execute under Landlock.
TOOLS = (
    "antiword",
    "catdoc",
    "catppt",
    "exiftool",
    "perl",
    "ffprobe",
    "ffmpeg",
    "tesseract",
    "pdftoppm",
    "pffexport",
    "djvutxt",
    "djvused",
    "ddjvu",
)
#: Files of /etc the system libraries read (the dynamic linker's cache, fonts, MIME types).
ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "fonts",
    "localtime",
    "mime.types",
    "magic",
    "perl",
    "ImageMagick-6",
)
#: Environment the zygote gets: nothing of the worker's (no credentials, no passphrase).
KEEP_ENV = ("LANG", "LC_ALL", "TESSDATA_PREFIX", "OMP_THREAD_LIMIT", "AMANAH_SANDBOX_TEST_TASKS")
#: Calls a parser never needs; each fails with EPERM inside the cage.
DENIED_CALLS = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "open_by_handle_at",
    "name_to_handle_at",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "fanotify_init",
    "quotactl",
    "syslog",
)


class Unavailable(Exception):
    """Isolation cannot be had on this machine; the message says what is missing."""


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 where Landlock is absent or disabled."""
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


@functools.cache
def probe() -> str:
    """The isolation this machine gives (e.g. "bwrap+seccomp+landlock"); raises Unavailable."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise Unavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    try:
        seccomp_filter()
    except Exception as exc:  # libseccomp missing or too old
        raise Unavailable(f"no seccomp filter can be compiled here: {exc}") from exc
    scratch = Path(tempfile.gettempdir())
    with _seccomp_fd() as fd:
        argv = [*command(scratch, [], fd), "true"]
        try:
            proc = subprocess.run(
                argv, capture_output=True, timeout=30, check=False, pass_fds=(fd,), env=_env()
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"bubblewrap could not be started: {exc}") from exc
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip()[:300]
        raise Unavailable(
            f"bubblewrap cannot make namespaces here (user namespaces disabled?): {why}"
        )
    return "bwrap+seccomp" + ("+landlock" if landlock_abi() >= 1 else "")


def command(scratch: Path, hide: list[Path], seccomp_fd: int) -> list[str]:
    """bwrap's arguments: the cage, with `scratch` as its only writable folder."""
    argv = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "sandbox",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",  # noqa: S108 - the cage's own, empty and private
    ]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", top)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ETC:
        if Path("/etc", name).exists():
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for path in python_folders():
        argv += ["--ro-bind", str(path), str(path)]
    package = Path(__file__).resolve().parent.parent
    argv += ["--ro-bind", str(package), f"/opt/amanah/{package.name}"]
    argv += ["--bind", str(scratch), SCRATCH, "--chdir", SCRATCH]
    bound = [Path(argv[i + 1]) for i, a in enumerate(argv) if a in ("--ro-bind", "--bind")]
    for path in hide:  # a home that happens to lie under a bound folder disappears
        if any(b == path or b in path.parents for b in bound):
            argv += ["--tmpfs", str(path)]
    argv += ["--remount-ro", "/", "--seccomp", str(seccomp_fd), "--"]
    return argv


def python_folders() -> list[Path]:
    """The interpreter and its libraries: the prefixes, and site-packages outside them."""
    roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots.add(Path(sys.executable).resolve().parent.parent)
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.name == "site-packages" and not any(r in path.parents for r in roots):
            roots.add(path)
    return sorted(r for r in roots if r.is_dir() and r != Path("/"))


def env() -> dict[str, str]:
    return _env()


def _env() -> dict[str, str]:
    kept = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": SCRATCH,
        "TMPDIR": SCRATCH,
        "PYTHONPATH": "/opt/amanah",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        **kept,
        **cage_coverage.cage_env(),  # only when the worker itself is measured (tests)
    }


@functools.cache
def seccomp_filter() -> bytes:
    """The BPF program bwrap installs: unknown calls allowed, the dangerous ones refused."""
    import socket

    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    for call in DENIED_CALLS:
        try:
            f.add_rule(sc.ERRNO(errno.EPERM), call)
        except (OSError, ValueError, RuntimeError):
            continue  # not a call on this architecture
    # Sockets: Unix ones only (a child has no network; the namespace has none either).
    f.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    # New namespaces through clone; clone3's flags cannot be inspected, so glibc falls back.
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, 0x10000000, 0x10000000))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()


class _seccomp_fd:
    """A memory file holding the filter, readable by bwrap as `--seccomp FD`."""

    def __enter__(self) -> int:
        self.fd = os.memfd_create("amanah-seccomp", 0)
        os.write(self.fd, seccomp_filter())
        os.lseek(self.fd, 0, os.SEEK_SET)
        return self.fd

    def __exit__(self, *_: object) -> None:
        os.close(self.fd)


def seccomp_fd() -> _seccomp_fd:
    return _seccomp_fd()


# -- Landlock, in each forked child --------------------------------------------------------

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1, 2, 4, 8
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)
_NET_TCP = 1 | 2  # bind, connect (ABI 4)
_SCOPES = 1 | 2  # abstract Unix sockets, signals (ABI 6)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def executables() -> list[str]:
    """The readers' programs (real paths) and the dynamic linker that execve opens."""
    found = {os.path.realpath(p) for t in TOOLS if (p := shutil.which(t))}
    for pattern in ("/lib64/ld-linux*.so*", "/usr/lib/*/ld-linux*.so*", "/lib/ld-linux*.so*"):
        found.update(os.path.realpath(p) for p in glob.glob(pattern))
    return sorted(found)


def confine(folder: str, abi: int, programs: list[str]) -> None:
    """Landlock this process: write in `folder` only, execute only `programs`.

    Called in a forked child before it reads any evidence; cannot be undone by it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fs = _FS_BY_ABI[max(k for k in _FS_BY_ABI if k <= abi)]
    attr = _RulesetAttr(fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    read = _READ_FILE | _READ_DIR
    try:
        for top in sorted(os.listdir("/")):
            if top not in (SCRATCH.strip("/"), "tmp"):
                _allow(libc, ruleset, f"/{top}", read)
        for program in programs:
            _allow(libc, ruleset, program, _EXECUTE | _READ_FILE)
        for device in ("/dev/null", "/dev/zero", "/dev/full"):
            _allow(libc, ruleset, device, _READ_FILE | _WRITE_FILE)
        _allow(libc, ruleset, folder, fs & ~_EXECUTE)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "no_new_privs failed")
        if libc.syscall(_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # absent here: nothing to allow
    try:
        if not os.path.isdir(path):
            access &= _FILE_RIGHTS
        rule = _PathBeneath(access, fd)
        if libc.syscall(_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)
