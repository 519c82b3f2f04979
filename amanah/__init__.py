"""Amanah: an evidence repository for accountability mechanisms."""

__version__ = "0.1.0"

#: How Amanah names itself as the software agent in custody events.
AGENT = f"amanah/{__version__}"
