"""Person lists (the detained, the disappeared, the dead) kept as evidence, and the linkage of
their records to each other and to persons named in evidence."""
