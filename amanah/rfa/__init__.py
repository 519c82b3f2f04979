"""Requests for assistance: jurisdictions, requests and their lifecycle, searches run for them,
review decisions and response metrics. Sharing (terms, consent, redaction, packages) builds on
this and lives in amanah.sharing."""


class RequestError(Exception):
    """A request, jurisdiction or decision is missing, or the step asked for does not fit."""
