"""A full disk is known by its error number and the index library's typed report, never by
words a file can write (review of stop 54): an archive member named "No space left on device"
or a parser's message holding "StorageFull" made `storage_full` call the machine's disk full,
so the job went back to the queue uncounted and every later `process` stopped at it."""

from __future__ import annotations

import errno

from amanah.blobs.durable import storage_full
from amanah.processing.sandbox import SandboxError

TANTIVY = (
    "Failed to open file for write: 'IoError { io_error: Os { code: 28, kind: StorageFull,"
    ' message: "No space left on device" }, filepath: "meta.json" }\''
)


def _raised_in_handling(first: BaseException, then: BaseException) -> BaseException:
    try:
        try:
            raise first
        except BaseException:
            raise then  # noqa: B904 - the context is the point
    except BaseException as exc:
        return exc
    raise AssertionError


def test_a_full_disk_is_known_by_its_number_and_the_index_librarys_report() -> None:
    assert storage_full(OSError(errno.ENOSPC, "No space left on device", "/h/work/x"))
    assert storage_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert storage_full(ValueError(TANTIVY))
    assert storage_full(_raised_in_handling(OSError(errno.ENOSPC, "full"), KeyError("x")))


def test_words_a_file_can_write_are_not_a_full_disk() -> None:
    member = FileNotFoundError(errno.ENOENT, "No such file", "/h/work/out/No space left on device")
    assert storage_full(member) is None
    assert storage_full(ValueError("cell 'StorageFull' kind: StorageFull IoError {")) is None
    crafted = "member: IoError { io_error: Os { code: 28, kind: StorageFull,"
    assert storage_full(ValueError(crafted)) is None
    assert storage_full(RuntimeError(TANTIVY)) is None
    told = SandboxError("the reader failed: No space left on device")
    assert storage_full(_raised_in_handling(told, KeyError("x"))) is None
    assert storage_full(_raised_in_handling(told, OSError(errno.ENOSPC, "full"))) is None
