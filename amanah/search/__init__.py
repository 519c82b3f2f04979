"""Search: the query language, the index and its two backends, ranking, the search log."""
