"""`amanah serve`: the web application, with the embedded job runner beside it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from amanah.cli.util import out, workspace
from amanah.orphans import SERVE_PID, end_with_parent


def _runner_child() -> None:
    """In the runner started by `serve`: yield the CPU to people waiting for a page, and end
    with the server even when it is killed outright."""
    import os

    os.nice(10)
    end_with_parent()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    web_workers: Annotated[
        int | None, typer.Option(help="Web server processes (default: one per core, up to 4).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Processing jobs at once (default: half the cores, at least one)."),
    ] = None,
    runner: Annotated[
        bool, typer.Option(help="Run the embedded job runner beside the web server.")
    ] = True,
) -> None:
    """Run the web application (pages and /api/v1) with the embedded job runner.

    On the first run it creates the user `admin` and prints its password once.

    Example: amanah serve --port 8000   (then open http://127.0.0.1:8000)
    """
    import os
    import subprocess

    import uvicorn

    from amanah.access.users import ensure_administrator

    ws = workspace()
    password = ensure_administrator(ws)
    home = str(ws.home)
    embedded = ws.settings.runner == "embedded"
    ws.close()
    if password:
        out.print(f"first run: user admin, password (shown once): {password}")
    child = None
    if runner and embedded:
        # Half the cores process; the rest answer the people waiting for pages.
        jobs_at_once = workers or max(1, (os.cpu_count() or 1) // 2)
        cmd = [sys.executable, "-m", "amanah.cli", "--home", home, "process", "--follow"]
        cmd += ["--workers", str(jobs_at_once)]
        child = subprocess.Popen(cmd, preexec_fn=_runner_child)
    elif runner:
        out.print("runner = procrastinate: start workers with `amanah worker`")
    procs = web_workers or min(4, os.cpu_count() or 1)
    out.print(f"Amanah on http://{host}:{port}/ ({procs} web processes; Ctrl-C stops)")
    os.environ["AMANAH_HOME"] = home
    os.environ[SERVE_PID] = str(os.getpid())  # its web processes end with it (app_from_env)
    try:
        uvicorn.run(
            "amanah.web.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=procs,
            timeout_graceful_shutdown=10,
            # Browsers keep connections open for a minute or more; uvicorn's 5 s default
            # makes a reused connection race its own closing under load.
            timeout_keep_alive=65,
            log_level="warning",
            access_log=False,
            # The address of a caller is decided by amanah.web.auth (trusted_proxies), never
            # by uvicorn, which believes X-Forwarded-For from 127.0.0.1 by default.
            proxy_headers=False,
        )
    finally:
        if child is not None:
            # The runner ends its current job if it can; one still running after 10 s is
            # killed and put back in the queue by the next runner (as after a crash).
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
