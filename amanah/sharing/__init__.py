"""Sharing with a requesting jurisdiction: what the providers' terms allow, their consent,
protected persons and redaction, and the verifiable BagIt package that is sent."""


class SharingError(Exception):
    """A sharing step cannot be done as asked; the message says why and what to do."""
