"""Reproducible benchmarks; figures are recorded in docs/benchmarks.md."""
