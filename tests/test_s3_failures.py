"""An S3 store that cannot be reached, or that breaks a stream, fails as a BlobError naming
the store (a one-line error for a command), never as botocore's traceback.

Real clients against a port where nothing listens, and a real HTTP server that cuts an
object's bytes short; SeaweedFS serves the commands' home before its endpoint goes away.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from amanah.blobs import BlobError, StorageError, verify_blob
from amanah.blobs.s3 import S3Store
from tests.conftest import amanah, ingest_cli, make_home, set_setting
from tests.servers import free_port, start_serve, stop_process

SHA = hashlib.sha256(b"evidence").hexdigest()


def _store(endpoint: str) -> S3Store:
    store = S3Store("s3://evidence/p", endpoint)
    # One attempt: the refusal is the subject, not botocore's five retries with back-off.
    store.client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )  # fmt: skip
    return store


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "amanah-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "amanah-test")


@pytest.mark.usefixtures("keys")
def test_every_call_to_an_unreachable_store_is_a_blob_error_naming_it() -> None:
    store = _store(f"http://127.0.0.1:{free_port()}")
    calls = {
        "ensure bucket": store.ensure_bucket,
        "open": lambda: store.open(SHA),
        "exists": lambda: store.exists(SHA),
        "confirm": lambda: store.confirm(SHA, 8),
        "iter sha256": lambda: list(store.iter_sha256()),
        "cleanup temporary": store.cleanup_temporary,
    }
    for what, call in calls.items():
        with pytest.raises(BlobError) as got:
            call()
        assert str(got.value).startswith(f"s3://evidence/p: S3 {what} failed: "), got.value
        assert "Could not connect to the endpoint URL" in str(got.value)
    with pytest.raises(StorageError) as put:
        store.put(io.BytesIO(b"evidence"))
    assert "S3 write failed" in str(put.value) and "s3://evidence/p" in str(put.value)


class _CutShort(http.server.BaseHTTPRequestHandler):
    """Answers every GET with an object of 1000 bytes and sends 10 of them."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cut_short() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutShort)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.usefixtures("keys")
def test_a_stream_cut_short_is_an_io_error_of_the_blob(cut_short: str) -> None:
    store = _store(cut_short)
    with store.open(SHA) as f, pytest.raises(OSError) as got:
        f.read()
    assert re.match(rf"\[Errno 5\] s3://evidence/p \({SHA}\): S3 read failed: ", str(got.value))
    said = verify_blob(store, SHA, 1000)
    assert said is not None and said.startswith(f"blob {SHA} cannot be read: "), said


def test_commands_on_a_store_that_went_away_say_so_in_one_line(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    home = make_home(request, tmp_path, "sqlite-s3")
    (tmp_path / "handover").mkdir()
    (tmp_path / "handover" / "a.txt").write_text("a statement\n")
    ingest_cli(home, tmp_path / "handover")
    gone = f"http://127.0.0.1:{free_port()}"
    set_setting(home, "s3_endpoint", gone)
    for args in (["verify", "--quiet"], ["item", "get", "1", str(tmp_path / "out")]):
        done = amanah(home, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        message = done.stderr.strip()
        assert message.count("\n") == 0 and message.startswith("error: s3://"), message
        assert "S3 ensure bucket failed: Could not connect to the endpoint URL" in message


def test_init_with_an_unreachable_endpoint_says_so_in_one_line(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    done = amanah(tmp_path / "home", "init", "--blob-store", "s3://evidence/p",
                  "--s3-endpoint", endpoint)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == (
        f"error: s3://evidence/p: S3 ensure bucket failed: Could not connect to the endpoint URL: "
        f'"{endpoint}/evidence"'
    )


class _Relay:
    """A TCP relay to SeaweedFS that can be cut: the store "goes away" for a running server
    (every connection closed, the port refused) while the test's SeaweedFS runs on."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accept (a close alone leaves it listening)
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self.open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def test_a_page_whose_store_went_away_answers_500_and_the_servers_log_names_the_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The error page says only "internal error (reference …)"; the administrator it sends to
    the log finds that reference there, with the store and the failed call, in every one of
    `amanah serve`'s web processes (two here, each spawned, not the command's own)."""
    from amanah.access.tokens import create_token
    from amanah.access.users import add_user
    from amanah.workspace import open_workspace

    home = make_home(request, tmp_path, "sqlite-s3")
    relay = _Relay(set_setting(home, "s3_endpoint", ""))
    set_setting(home, "s3_endpoint", relay.url)
    (tmp_path / "handover").mkdir()
    (tmp_path / "handover" / "a.txt").write_text("a statement\n")
    ingest_cli(home, tmp_path / "handover")
    ws = open_workspace(home, create=False)
    try:
        add_user(ws, "ana", "admin", None, by="local:test")
        token = create_token(ws, "ana")
    finally:
        ws.close()
    log = tmp_path / "serve.log"
    proc, base = start_serve(home, "--web-workers", "2", log_path=log)
    try:
        import httpx

        auth = {"Authorization": f"Bearer {token}"}
        url = f"{base}/api/v1/items/1/content"
        assert httpx.get(url, headers=auth, timeout=60).content == b"a statement\n"
        relay.cut()
        answers = [httpx.get(url, headers=auth, timeout=120) for _ in range(2)]
    finally:
        stop_process(proc)
    said = log.read_text(errors="replace")
    for r in answers:
        assert r.status_code == 500, r.text
        found = re.fullmatch(
            r"internal error \(reference ([0-9a-f]{8})\); the administrator can find it in the log",
            r.json()["error"],
        )
        assert found and "s3" not in r.text.lower(), r.text
        at = said.index(f"error: error {found.group(1)} on GET /api/v1/items/1/content\n")
        after = said[at:]
        assert after.split("\n")[1] == "Traceback (most recent call last):", after[:300]
        assert "S3 open failed: Could not connect to the endpoint URL" in after, after[-600:]


@pytest.mark.usefixtures("keys")
def test_a_store_outage_is_not_recorded_as_a_fault_of_the_evidence(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """An adversary stopped SeaweedFS while `amanah process` ran: every item it was reading
    ended `failed` and `flagged`, each with a failed validation in its custody, though
    nothing was wrong with the bytes. A job that gives up on a store outage (here a real S3
    client's error against a port where nothing listens) leaves the item unflagged, its
    custody without a failure, and the reason naming the store; any other failure is still
    the item's."""
    from sqlalchemy import select

    from amanah import queue
    from amanah.db.models import CustodyEvent, Item, Job
    from amanah.processing.pipeline import record_failure
    from amanah.workspace import open_workspace

    (tmp_path / "handover").mkdir()
    for name in ("a.txt", "b.txt"):
        (tmp_path / "handover" / name).write_text(f"statement {name}\n")
    ingest_cli(sqlite_home, tmp_path / "handover")
    dead = _store(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(BlobError) as outage:
        dead.open(SHA)
    ws = open_workspace(sqlite_home)
    try:
        with ws.db.session() as s:
            jobs = {j.item_id: j.id for j in s.execute(select(Job)).scalars()}
            s.execute(Job.__table__.update().values(attempts=queue.MAX_ATTEMPTS))
        record_failure(ws, queue.Claimed(jobs[1], 1, queue.MAX_ATTEMPTS), outage.value)
        record_failure(ws, queue.Claimed(jobs[2], 2, queue.MAX_ATTEMPTS), ValueError("bad"))
        with ws.db.reader() as s:
            items = {i.id: i for i in s.execute(select(Item)).scalars()}
            failures = {
                int(e.object_id)
                for e in s.execute(
                    select(CustodyEvent).where(
                        CustodyEvent.event_type == "validation", CustodyEvent.outcome == "failure"
                    )
                ).scalars()
            }
        assert (items[1].processing, items[1].status, items[1].flags) == (
            "failed",
            "preserved",
            "[]",
        )
        assert items[1].processing_error.startswith("the blob store was unavailable: ")
        assert (items[2].processing, items[2].status) == ("failed", "flagged")
        assert failures == {2}
    finally:
        ws.close()
