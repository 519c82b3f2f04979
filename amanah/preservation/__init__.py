"""Keeping evidence provably unchanged: fixity audits and whole-installation verification."""
