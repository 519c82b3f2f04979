"""Run an analysis in a child process with CPU-time, memory, file-size and wall-clock limits.

A small zygote process (one per worker) imports the extraction libraries once, then forks a
fresh child for every file: each file costs a fork, not an interpreter start, and a hostile
file can exhaust or crash only its own child. The worker gets the manifest back, or a clear
reason why there is none.

Protocol: one JSON request per line on the zygote's stdin, one JSON reply per line on its
stdout. The child writes its manifest to a file in the job's own folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class SandboxError(Exception):
    """The analysis did not finish: the message says which limit or crash stopped it."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 300
    memory_bytes: int = 3 << 30
    wall_seconds: int = 3600  # a long scanned file is OCR'd page by page within this
    file_bytes: int = 16 << 30  # largest single file the analysis may write


_SIGNALS = {
    signal.SIGXCPU: "used more than its CPU-time limit",
    signal.SIGKILL: "was killed (memory exhausted, or stopped at its time limit)",
    signal.SIGSEGV: "crashed (segmentation fault in a parser)",
    signal.SIGABRT: "aborted (a parser gave up)",
    signal.SIGXFSZ: "tried to write more than its file-size limit",
    signal.SIGBUS: "crashed (bus error in a parser)",
}

MANIFEST = ".manifest.json"
#: Tasks of other layers the child may run: name -> "module:function(path, out_dir)".
TASKS = {
    "redact": "amanah.sharing.redaction:redact_file",
    "inventory": "amanah.processing.inventory:inventory_task",
}


class Sandbox:
    """One zygote, used by one worker thread at a time; restarted if it ever dies."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _zygote(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "amanah.processing.sandbox"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
            )
        return self._proc

    def analyze(
        self,
        path: str,
        name: str,
        out_dir: str,
        limits: Limits | None = None,
        ocr_languages: str | None = None,
        task: str = "analyze",
    ) -> dict[str, Any]:
        limits = limits or Limits()
        request = {
            "task": task,
            "path": path,
            "name": name,
            "out_dir": out_dir,
            "limits": asdict(limits),
            "ocr_languages": ocr_languages,
        }
        with self._lock:
            proc = self._zygote()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                proc.stdin.flush()
            except BrokenPipeError as exc:
                self.close()
                raise SandboxError(
                    "the sandbox stopped unexpectedly; the job will be retried"
                ) from exc
            ready, _, _ = select.select([proc.stdout], [], [], limits.wall_seconds + 60)
            line = proc.stdout.readline() if ready else b""
            if not line:
                self.close()
                raise SandboxError("the sandbox stopped answering; the job will be retried")
        reply = json.loads(line)
        if reply["status"] != "ok":
            raise SandboxError(reply["error"])
        return json.loads(Path(out_dir, MANIFEST).read_text(encoding="utf-8"))

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None


_default: Sandbox | None = None


def run_analysis(
    path: str,
    name: str,
    out_dir: str,
    limits: Limits | None = None,
    ocr_languages: str | None = None,
) -> dict[str, Any]:
    """Convenience for one-off use (tests, benchmarks); workers keep their own Sandbox."""
    global _default
    if _default is None:
        _default = Sandbox()
    return _default.analyze(path, name, out_dir, limits, ocr_languages)


# -- the zygote and its children (run as `python -m amanah.processing.sandbox`) --------------


def _child(request: dict[str, Any]) -> None:
    """In the forked child: limits, then the analysis; never returns."""
    import importlib
    import resource
    import warnings

    code = 0
    try:
        os.setpgrp()  # helper tools it starts (antiword, …) die with it on a timeout
        lim = request["limits"]
        resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_seconds"], lim["cpu_seconds"] + 5))
        resource.setrlimit(resource.RLIMIT_AS, (lim["memory_bytes"], lim["memory_bytes"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        from PIL import Image

        from amanah.processing.analyze import analyze

        Image.MAX_IMAGE_PIXELS = 180_000_000
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            if request.get("task") == "embed":
                from amanah.search.semantic import embed_file

                result = {"ok": embed_file(request["path"], request["out_dir"])}
            elif request.get("task") in TASKS:
                # Named by module path: higher layers (e.g. redaction for sharing) run their
                # parsing of evidence here without this module importing them.
                module, function = TASKS[request["task"]].split(":")
                run = getattr(importlib.import_module(module), function)
                result = {"ok": run(request["path"], request["out_dir"])}
            elif request.get("task") == "pages":
                from amanah.processing.previews import pages

                result: dict[str, Any] = {
                    "ok": pages(Path(request["path"]), Path(request["out_dir"]))
                }
            else:
                result = {
                    "ok": analyze(
                        request["path"],
                        request["name"],
                        request["out_dir"],
                        ocr_languages=request.get("ocr_languages") or "ara+eng",
                    )
                }
        except MemoryError:
            result = {"error": f"ran out of memory (limit {lim['memory_bytes'] >> 20} MiB)"}
        except BaseException as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
        Path(request["out_dir"], MANIFEST).write_text(json.dumps(result), encoding="utf-8")
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _serve() -> None:
    import gc
    import importlib

    import PIL.Image  # noqa: F401

    from amanah.processing.analyze import PRELOAD  # loads its own libraries and signatures

    for name in PRELOAD:
        importlib.import_module(name)

    gc.collect()
    gc.freeze()  # children then never walk (and so copy) the inherited objects
    for line in sys.stdin.buffer:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        reply = _wait(pid, request)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def _wait(pid: int, request: dict[str, Any]) -> dict[str, Any]:
    wall = request["limits"]["wall_seconds"]
    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], wall)
    finally:
        os.close(fd)
    if not ready:
        _killpg(pid)
        os.waitpid(pid, 0)
        return {"status": "error", "error": f"analysis took longer than {wall} s and was stopped"}
    _, status = os.waitpid(pid, 0)
    _killpg(pid)  # anything the child left running
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        what = _SIGNALS.get(signal.Signals(sig), f"died of signal {sig}")
        return {"status": "error", "error": f"the analysis {what}"}
    manifest = Path(request["out_dir"], MANIFEST)
    try:
        result = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {
            "status": "error",
            "error": f"the analysis ended without an answer (exit {os.WEXITSTATUS(status)})",
        }
    if "ok" in result:
        manifest.write_text(json.dumps(result["ok"]), encoding="utf-8")
        return {"status": "ok"}
    return {"status": "error", "error": result["error"]}


def _killpg(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    _serve()
