"""An S3 store that cannot be reached, or that breaks a stream, fails as a BlobError naming
the store (a one-line error for a command), never as botocore's traceback.

Real clients against a port where nothing listens, and a real HTTP server that cuts an
object's bytes short; SeaweedFS serves the commands' home before its endpoint goes away.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from amanah.blobs import BlobError, StorageError, verify_blob
from amanah.blobs.s3 import S3Store
from tests.conftest import amanah, ingest_cli, make_home
from tests.servers import free_port

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
    config = home / "amanah.toml"
    gone = f"http://127.0.0.1:{free_port()}"
    config.write_text(re.sub(r'(?m)^s3_endpoint = ".*"$', f's3_endpoint = "{gone}"',
                             config.read_text()))  # fmt: skip
    assert gone in config.read_text()
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
