"""Custody: the signed, hash-linked ledger of every action on evidence."""
