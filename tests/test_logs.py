"""What the command line shows of log records (amanah/logs.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_amanahs_warnings_and_any_librarys_errors_reach_the_terminal_as_one_line_each() -> None:
    """A library's warning (psycopg's "error ignored terminating <Pipeline …>" when the
    database fills mid-commit) would otherwise print raw beside the command's one-line error."""
    script = textwrap.dedent(
        """
        import logging
        from amanah.logs import to_stderr
        to_stderr()
        to_stderr()  # a second call adds no second handler
        logging.getLogger("psycopg").warning("error ignored terminating %s", "<Pipeline>")
        logging.getLogger("amanah.processing.scratch").info("not shown")
        logging.getLogger("amanah.processing.scratch").warning("removed %d folder(s)", 2)
        logging.getLogger("psycopg.pool").error("the pool is gone")
        logging.getLogger("amanahx").warning("another library whose name starts alike")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr == "warning: removed 2 folder(s)\nerror: the pool is gone\n"
    assert done.stdout == ""


def test_a_logged_internal_error_keeps_its_traceback_for_the_administrator() -> None:
    script = textwrap.dedent(
        """
        import logging
        from amanah.logs import to_stderr
        to_stderr()
        try:
            raise RuntimeError("the store went away")
        except RuntimeError:
            logging.getLogger("amanah.web").exception("error %s on GET /items/1", "0a1b2c3d")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lines = done.stderr.splitlines()
    assert lines[0] == "error: error 0a1b2c3d on GET /items/1"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: the store went away"
