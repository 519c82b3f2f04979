"""Requests for assistance: jurisdictions, requests and their lifecycle, searches run for them,
review decisions and response metrics. Sharing (terms, consent, redaction, packages) builds on
this and lives in amanah.sharing."""

from typing import Any


class RequestError(Exception):
    """A request, jurisdiction or decision is missing, or the step asked for does not fit.

    `code` names the reason (empty for most) so that a page can say it in the reader's
    language with its own words; `params` are the values the reason names."""

    def __init__(self, message: str = "", *, code: str = "", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params
