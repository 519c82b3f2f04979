"""Entities: persons, organisations and units, facilities and places; their names in every
script, their relations over time with doubt, and the evidence links behind each assertion.

Need-to-know for all of it is decided in `amanah.access` (entities_visible, relations_visible,
names_visible, evidence_links_visible); every change is a custody event.
"""

from amanah.entities.vocab import EntityError

__all__ = ["EntityError"]
