"""Text handling shared by search and, later, names: Arabic/English normalisation and stemming."""
