"""Intake: providers, frameworks, collections, and ingest of files and folders."""
